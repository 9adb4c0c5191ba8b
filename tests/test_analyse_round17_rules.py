"""Issue 16, round 17: (purpose, basis) pairs the analyser lost (docs/analyse.md, "Round 17"). Texts of
our own, written from GDPR Art. 6(1), 9(2), 22(2) and 49(1) in their fr/en/it texts and the layouts of
the ICO's, the CNIL's and the Garante's model notices; none from a blind set."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.analyse.activities import extract_activities
from garde.analyse.basis_first import listed_uses
from garde.analyse.document import from_text
from garde.analyse.wording import tied_bases


def pairs(text: str, language: str, name: str = "notice.md") -> set[tuple[str, str]]:
    document = from_text(text, name)
    return {(a.purpose, basis) for a in extract_activities(document, language) for basis in a.legal_bases}


# -- a Markdown bullet wrapped onto indented lines is one bullet ---------------------------------------

WRAPPED = """# Privacy notice

## How we use your information

### Keeping in touch

- We send you news of our events by email only when you have given
  your consent, which you can withdraw at any time.
- We post our magazine to supporters, relying on our legitimate
  interests in raising funds.
"""


def test_a_wrapped_bullet_keeps_the_basis_on_its_second_line() -> None:
    found = pairs(WRAPPED, "en")
    assert {basis for _, basis in found} == {"consent", "legitimate_interests"}
    assert all(purpose.startswith("We ") for purpose, _ in found)


def test_a_plain_text_bullet_wrapped_at_its_width_continues_in_lower_case() -> None:
    text = ("Finalités\n\n- la gestion des adhésions et l'envoi des convocations aux assemblées, sur la\n"
            "base de votre contrat d'adhésion ;\n- la lettre d'information, avec votre consentement.\n")
    document = from_text(text, "notice.txt")
    items = [b.text for b in document.blocks if b.kind == "item"]
    assert len(items) == 2 and items[0].endswith("d'adhésion ;")


def test_a_line_after_a_finished_bullet_is_a_paragraph() -> None:
    document = from_text("- Newsletter: consent.\nWe never sell your data.\n", "notice.txt")
    assert [b.kind for b in document.blocks] == ["item", "paragraph"]


# -- a basis label in parentheses, glossed after a comma --------------------------------------------------

@pytest.mark.parametrize(("language", "sentence", "basis"), [
    ("fr", "la diffusion de photos des spectacles (consentement, recueilli à l'inscription) ;", "consent"),
    ("it", "la pubblicazione delle foto (consenso, revocabile in ogni momento);", "consent"),
    ("en", "posting photos of the race (consent, asked for at sign-up);", "consent"),
])
def test_a_glossed_label_in_parentheses_is_the_items_basis(language: str, sentence: str, basis: str) -> None:
    assert [m.term for m in tied_bases(sentence, language)] == [basis]


def test_a_gloss_naming_another_basis_is_a_hedge_not_a_label() -> None:
    assert tied_bases("offers (consent, or legitimate interests for customers)", "en") == []


# -- Art. 49(1) derogations and Art. 22(2) exceptions are no Art. 6 basis ---------------------------------

@pytest.mark.parametrize(("language", "sentence"), [
    ("en", "This transfer is necessary for the performance of the contract with you (Article 49(1)(b))."),
    ("en", "This decision is necessary for entering into the contract with you (Article 22(2)(a))."),
    ("fr", "Ce transfert est nécessaire à l'exécution du contrat conclu avec vous."),
    ("fr", "Cette décision automatisée est nécessaire à la conclusion du contrat (article 22)."),
    ("it", "Il trasferimento è necessario all'esecuzione del contratto (art. 49, par. 1, lett. b)."),
    ("it", "La decisione automatizzata è necessaria per la conclusione del contratto con lei."),
])
def test_a_derogation_or_an_automated_decisions_exception_ties_no_basis(language: str, sentence: str) -> None:
    assert tied_bases(sentence, language) == []


def test_art_6_named_beside_art_49_still_ties() -> None:
    sentence = "Deliveries rely on Article 6(1)(b), the contract; the transfer is necessary under Article 49."
    assert "contract" in {m.term for m in tied_bases(sentence, "en")}


@pytest.mark.parametrize(("language", "sentence"), [
    ("en", "For health data we rely on Article 9(2)(g), reasons of substantial public interest."),
    ("it", "I dati sanitari sono trattati per motivi di interesse pubblico rilevante (art. 9)."),
])
def test_art_9_substantial_public_interest_is_no_public_task(language: str, sentence: str) -> None:
    assert "public_task" not in {m.term for m in tied_bases(sentence, language)}


# -- question headings name no purpose ----------------------------------------------------------------

QUESTIONS = """# Privacy policy

## What do we use your data for?

- **Orders**: delivering what you bought is necessary for the performance of our contract with you.

## Can I tell you to stop?

Yes. You can withdraw your consent at any time and object to processing based on our legitimate interests.

## Do we send your data abroad?

When you ship abroad we send your address to the local carrier. This transfer is necessary for the
performance of the contract with you.
"""


def test_question_headings_over_rights_and_transfers_give_no_pair() -> None:
    found = pairs(QUESTIONS, "en")
    assert {basis for _, basis in found} == {"contract"}
    assert not any("?" in purpose for purpose, _ in found)


# -- one basis, then the uses it covers (ICO schools' and GP practices' layout) --------------------------

@pytest.mark.parametrize(("language", "sentence", "uses"), [
    ("en", "We need it to perform an official task in the public interest: to support pupils' learning, "
           "to monitor and report on pupil progress and to provide appropriate pastoral care.",
     ["to support pupils' learning", "to monitor and report on pupil progress",
      "to provide appropriate pastoral care"]),
    ("en", "For providing your direct care, referrals and clinical audit, we rely on Article 6(1)(e).",
     ["providing your direct care", "referrals", "clinical audit"]),
    ("en", "For the screening programmes and for reporting notifiable diseases, we rely on Article 6(1)(c).",
     ["the screening programmes", "reporting notifiable diseases"]),
    ("fr", "Nous nous fondons sur notre mission d'intérêt public : pour gérer les inscriptions, pour "
           "calculer le quotient familial et pour facturer les repas.",
     ["pour gérer les inscriptions", "pour calculer le quotient familial", "pour facturer les repas"]),
    ("it", "Per la gestione delle iscrizioni e per la valutazione degli alunni, il trattamento si basa "
           "sull'esecuzione di un compito di interesse pubblico.",
     ["la gestione delle iscrizioni", "la valutazione degli alunni"]),
])
def test_a_basis_then_its_uses(language: str, sentence: str, uses: list[str]) -> None:
    assert [sentence[a:b] for a, b in listed_uses(sentence, language)] == uses


@pytest.mark.parametrize("sentence", [
    "We use your address to deliver your orders, on the basis of our contract.",
    "We rely on our legitimate interests: to keep our shop safe.",
    "For your orders, we rely on the contract and, for invoices, on our legal obligations.",
])
def test_one_use_or_several_bases_is_left_to_the_usual_reading(sentence: str) -> None:
    assert listed_uses(sentence, "en") == []


SCHOOL = """# Privacy notice for pupils

## Our lawful basis for using this data

- We need to comply with a legal obligation: to meet our statutory duties to the Department for
  Education and to report attendance to the local authority.
- We need it to perform an official task in the public interest: to support pupils' learning and to
  provide pastoral care.
"""


def test_a_schools_lawful_basis_section_gives_a_pair_per_use() -> None:
    assert {(" ".join(purpose.split()), basis) for purpose, basis in pairs(SCHOOL, "en")} == {
        ("to meet our statutory duties to the Department for Education", "legal_obligation"),
        ("to report attendance to the local authority", "legal_obligation"),
        ("to support pupils' learning", "public_task"),
        ("to provide pastoral care", "public_task"),
    }


# -- a sentence after the list naming its items again, clause by clause ---------------------------------

DENTIST = """Finalità del trattamento

I suoi dati sono trattati per:
- gestire gli appuntamenti e i promemoria;
- emettere le fatture elettroniche;
- difendere lo studio in caso di contestazioni.

Il trattamento per la gestione degli appuntamenti si basa sul contratto; quello per le fatture
elettroniche sull'adempimento di un obbligo di legge; la difesa in caso di contestazioni sul legittimo
interesse dello studio.
"""


def test_clauses_naming_listed_items_give_each_its_basis() -> None:
    assert pairs(DENTIST, "it", "informativa.txt") == {
        ("gestire gli appuntamenti e i promemoria;", "contract"),
        ("emettere le fatture elettroniche;", "legal_obligation"),
        ("difendere lo studio in caso di contestazioni.", "legitimate_interests"),
    }


@given(st.lists(st.sampled_from(["to keep records", "to send reminders", "to plan visits", "to audit care"]),
                min_size=2, max_size=4, unique=True))
def test_every_use_listed_after_the_basis_is_its_own_pair(uses: list[str]) -> None:
    listed = ", ".join(uses[:-1]) + " and " + uses[-1]
    sentence = f"We rely on our public task: {listed}."
    assert [sentence[a:b] for a, b in listed_uses(sentence, "en")] == uses


# -- a heading over several sentences, each with its own basis -----------------------------------------

HEADED = """# Privacy notice

## Keeping in touch

We send you our newsletter by email only with your consent. We post our printed catalogue to customers
on the basis of our legitimate interests.

## Legal and governance

We collect your address to deliver your orders. This is necessary for our contract with you. We keep our
accounts for six years because the law requires it (legal obligation).
"""


def test_sentences_under_a_heading_each_with_its_basis_are_a_purpose_each() -> None:
    document = from_text(HEADED, "notice.md")
    found = {(" ".join(a.purpose.split()), a.name, a.legal_bases) for a in extract_activities(document, "en")}
    assert found == {
        ("We send you our newsletter by email only with your consent.", "Keeping in touch", ("consent",)),
        ("We post our printed catalogue to customers on the basis of our legitimate interests.",
         "Keeping in touch", ("legitimate_interests",)),
        ("We collect your address to deliver your orders. This is necessary for our contract with you.",
         "Legal and governance", ("contract",)),
        ("We keep our accounts for six years because the law requires it (legal obligation).",
         "Legal and governance", ("legal_obligation",)),
    }


def test_sentences_restating_one_basis_stay_one_purpose_named_by_the_heading() -> None:
    text = ("# Notice\n\n## Newsletter\n\nWe send it with your consent. You gave your consent when you "
            "signed up, on the basis of consent.\n")
    found = [(a.purpose, a.legal_bases) for a in extract_activities(from_text(text, "n.md"), "en")]
    assert found == [("Newsletter", ("consent",))]
