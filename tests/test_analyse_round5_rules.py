"""The analyser's fifth round (issue 16): what the blind sets' pair recall still missed, by kind, on
texts written here (the PDF tables' padding is tests/test_analyse_pdf_padding.py):

1. bases stated only by a verb, words of the taxonomy's synonyms ("because you consented", "nous y
   sommes tenus par la loi", "è necessario per eseguire il contratto");
2. three bases or more tied to one use: a hedge (every basis the text ties stays on that purpose,
   GA006 is raised), not the lawful bases listed in general (which tie nothing);
3. a section whose paragraphs each state a use and its basis, under a heading that names no
   purposes: a purpose per paragraph, not one named by the heading.
"""

from __future__ import annotations

import pytest

from garde.analyse.document import from_text
from garde.analyse.findings import alternative_bases
from garde.analyse.report import analyse
from garde.analyse.subjects import hedged_use
from tests.test_analyse_round4_rules import Cases, check, pairs

VERBS: Cases = {
    "en": ("# Privacy notice\n\nFernhill Books Ltd is the controller.\n\n## How we use your information\n\n"
           "We process your email address to send you our newsletter because you consented to it.\n\n"
           "We keep your invoices for six years because we are required to do so by law.\n\n"
           "We check card payments to comply with our obligations under the Proceeds of Crime Act 2002.\n",
           {("We process your email address to send you our newsletter because you consented to it.",
             ("consent",)),
            ("We keep your invoices for six years because we are required to do so by law.",
             ("legal_obligation",)),
            ("We check card payments to comply with our obligations under the Proceeds of Crime Act 2002.",
             ("legal_obligation",))}),
    "fr": ("# Politique de confidentialité\n\nLa mairie de Saint-Orens est responsable du traitement.\n\n"
           "## Pourquoi nous utilisons vos données\n\n"
           "Nous conservons vos factures dix ans car nous y sommes tenus par la loi.\n\n"
           "Nous vous envoyons la lettre municipale parce que vous y avez consenti.\n",
           {("Nous conservons vos factures dix ans car nous y sommes tenus par la loi.",
             ("legal_obligation",)),
            ("Nous vous envoyons la lettre municipale parce que vous y avez consenti.", ("consent",))}),
    "it": ("# Informativa\n\nIl Comune di Valdarno è titolare del trattamento.\n\n"
           "## Come utilizziamo i dati\n\n"
           "Trattiamo i dati della fornitura perché è necessario per eseguire il contratto con lei.\n\n"
           "Conserviamo le ricevute per dieci anni perché siamo tenuti per legge.\n",
           # "è necessario per" states the basis with what comes before it as its subject
           {("Trattiamo i dati della fornitura perché", ("contract",)),
            ("Conserviamo le ricevute per dieci anni perché siamo tenuti per legge.",
             ("legal_obligation",))}),
}


@pytest.mark.parametrize("language", sorted(VERBS))
def test_a_basis_stated_by_a_verb_is_tied(language: str) -> None:
    check(VERBS, language, "notice.md")


HEDGE = ("# Privacy notice\n\n## How we use your data\n\nWe use your contact details to manage your "
         "account, on the basis of consent, contract or legitimate interest.\n\n## Legal bases\n\n"
         "The law allows us to process personal data on these bases: consent, contract, legal obligation "
         "and legitimate interests.\n")


def test_three_bases_tied_to_one_use_are_a_hedge_not_a_general_list() -> None:
    assert pairs(HEDGE, "en", "n.md") == {(
        "We use your contact details to manage your account, on the basis of consent, contract or "
        "legitimate interest.", ("consent", "contract", "legitimate_interests"))}
    codes = [f.code for f in analyse(from_text(HEDGE, "n.md"), "en").findings]
    assert codes.count("GA006") == 1


@pytest.mark.parametrize(("sentence", "language", "hedge"), [
    ("We use your contact details to manage your account, on the basis of consent, contract and "
     "legitimate interests.", "en", True),
    ("Nous utilisons vos coordonnées pour gérer votre compte, sur la base de votre consentement, de "
     "l'exécution du contrat ou de notre intérêt légitime.", "fr", True),
    ("Utilizziamo i suoi dati per gestire l'iscrizione, sulla base del consenso, del contratto o del "
     "legittimo interesse.", "it", True),
    # the bases the law allows, in general: a colon, the whole page, or a use that names nothing
    ("The law allows us to process your data on these bases: consent, contract, legal obligation and "
     "legitimate interests.", "en", False),
    ("The processing described in this notice relies on consent, contract or legitimate interests.",
     "en", False),
    ("We may process personal data on the basis of consent, contract, legal obligation or legitimate "
     "interests.", "en", False),
    ("Nous traitons vos données personnelles sur la base du consentement, du contrat ou de l'intérêt "
     "légitime.", "fr", False),
    # two bases are a hedge of their own (GA006 with "or"), not this rule's
    ("We use your address to deliver, on the basis of our contract or your consent.", "en", False),
])
def test_a_hedge_needs_three_bases_and_a_use_of_its_own(sentence: str, language: str, hedge: bool) -> None:
    assert hedged_use(sentence, language) is hedge
    if hedge:
        assert alternative_bases(sentence, language) is not None


SECTION = ("# Privacy notice\n\nTallyhour Ltd is the controller.\n\n## When we are the controller\n\n"
           "We use the names of our customers' contacts to manage our contract with each customer; this "
           "is necessary to perform our contract.\n\n"
           "We keep our own invoices for six years because we are required by law to keep accounting "
           "records.\n\n"
           "## Newsletter\n\nWe send the newsletter only with your consent.\n")


def test_paragraphs_each_stating_a_use_and_its_basis_are_a_purpose_each() -> None:
    found = pairs(SECTION, "en", "n.md")
    assert {bases for _, bases in found} == {("contract",), ("legal_obligation",), ("consent",)}
    assert ("Newsletter", ("consent",)) in found  # one paragraph alone: its heading names the purpose
    assert not any(purpose == "When we are the controller" for purpose, _ in found)


CONDITIONAL: Cases = {
    "en": ("# Privacy notice\n\n## Purposes and legal bases\n\n- Sending our newsletter, with your consent.\n"
           "- Where we rely on legitimate interests, you have the right to object.\n\n"
           "Where we rely on your consent to send you offers, you can withdraw it at any time.\n",
           {("Sending our newsletter, with your consent.", ("consent",)),
            ("Where we rely on your consent to send you offers, you can withdraw it at any time.",
             ("consent",))}),
    "fr": ("# Politique\n\n## Finalités et bases légales\n\nEnvoi de la lettre d'information : sur la "
           "base de votre consentement.\n\nLorsque le traitement est fondé sur notre intérêt légitime, "
           "vous pouvez vous y opposer.\n",
           {("Envoi de la lettre d'information", ("consent",))}),
    "it": ("# Informativa\n\n## Finalità e basi giuridiche\n\n- Invio della newsletter, sulla base del tuo "
           "consenso.\n- Qualora il trattamento si basi sul legittimo interesse, puoi opporti.\n",
           {("Invio della newsletter, sulla base del tuo consenso.", ("consent",))}),
}


@pytest.mark.parametrize("language", sorted(CONDITIONAL))
def test_a_basis_named_as_a_condition_states_no_purpose(language: str) -> None:
    """Saw fail before: "Where we rely on legitimate interests, you have the right to object" was a
    purpose with legitimate interests as its basis."""
    check(CONDITIONAL, language, "notice.md")
