"""Issue 16, round 18: (purpose, basis) pairs the analyser lost (docs/analyse.md, "Round 18"). Texts of
our own, written from GDPR Art. 6(1) and 9(2) in their fr/en/it texts, national laws granting public
tasks, and the layouts of the ICO's, the CNIL's and the Garante's model notices; none from a blind set."""

from __future__ import annotations

import pytest

from garde.analyse.activities import extract_activities
from garde.analyse.document import Document, from_text
from garde.analyse.readers.html_reader import read_html


def pairs_of(document: Document, language: str) -> set[tuple[str, str]]:
    return {(a.purpose, basis) for a in extract_activities(document, language) for basis in a.legal_bases}


def pairs(text: str, language: str, name: str = "notice.md") -> set[tuple[str, str]]:
    return pairs_of(from_text(text, name), language)


# -- a purpose | basis | retention table whose first header is plain words ----------------------------

def table(header: str, rows: list[tuple[str, str]]) -> str:
    lines = [f"| {header} | Our lawful basis | How long |", "|---|---|---|"]
    lines += [f"| {purpose} | {basis} | 1 year |" for purpose, basis in rows]
    return "# Privacy notice\n\n" + "\n".join(lines) + "\n"


EXPLAINED = [("Take and deliver your orders", "Contract (the terms you accept when you order)"),
             ("Email you our seasonal menu", "Consent: only if you ticked the box"),
             ("Record CCTV inside the shop", "Legitimate interests: keeping our staff safe")]


@pytest.mark.parametrize("header", ["What we do", "What happens", "Activity we carry out",
                                    "Ce que nous faisons"])
def test_a_table_s_first_column_of_plain_words_holds_the_purposes(header: str) -> None:
    assert pairs(table(header, EXPLAINED), "en") == {
        ("Take and deliver your orders", "contract"), ("Email you our seasonal menu", "consent"),
        ("Record CCTV inside the shop", "legitimate_interests")}


def test_a_cookie_table_s_names_are_no_purposes() -> None:
    assert pairs(table("Cookie", [("_session", "Contract"), ("_analytics", "Consent")]), "en") == set()


# -- a basis sentence naming no purpose: the basis of the list or the sentences just before it -------

BOTTEGA = """# Informativa

## Perché trattiamo i suoi dati

Trattiamo i suoi dati per:

- realizzare i mobili su misura che ci ordina;
- gestire le riparazioni in garanzia.

La base giuridica è l'esecuzione del contratto di vendita.
"""


def test_a_basis_sentence_after_a_list_is_its_items_basis() -> None:
    assert pairs(BOTTEGA, "it") == {("realizzare i mobili su misura che ci ordina;", "contract"),
                                    ("gestire le riparazioni in garanzia.", "contract")}


def test_only_the_list_just_above_takes_it() -> None:
    text = ("Finalités\n\n1. Licence fédérale\n\nNous transmettons vos nom et adresse à la fédération ; "
            "le code du sport nous impose de licencier les pratiquants.\n\n2. Photos des sorties\n\n"
            "Les photos ne sont publiées que si vous nous y autorisez.\n")
    assert ("Licence fédérale", "consent") not in pairs(text, "fr", "notice.txt")
    assert ("Photos des sorties", "consent") in pairs(text, "fr", "notice.txt")


# -- purposes listed after a colon, separated by ";", each with its own basis -----------------------

COMUNE = ("## Finalità e base giuridica\n\nI dati forniti sono trattati per le seguenti finalità: "
          "iscrizione al servizio di refezione scolastica, per l'esecuzione di un compito di interesse "
          "pubblico (art. 6, par. 1, lett. e) del Regolamento); predisposizione delle diete speciali, sulla "
          "base dell'art. 9, par. 2, lett. g) del Regolamento; comunicazioni urgenti alle famiglie tramite "
          "SMS, previo consenso (art. 6, par. 1, lett. a) del Regolamento).\n")


def test_a_list_run_into_one_paragraph_is_a_purpose_per_item() -> None:
    found = pairs(COMUNE, "it")
    assert {basis for _, basis in found} == {"public_task", "consent"}
    assert all(purpose.startswith(("iscrizione", "comunicazioni")) for purpose, _ in found)


def test_one_purpose_s_clauses_after_its_label_stay_one() -> None:
    text = ("Suggerimenti su libri simili: ai clienti che hanno già acquistato inviamo consigli per email "
            "sulla base del legittimo interesse; il trattamento si fonda sul nostro legittimo interesse e "
            "può opporsi in ogni momento.\n")
    assert len(pairs(text, "it", "notice.txt")) <= 1


# -- accordions -----------------------------------------------------------------------------------------

ACCORDION = """<h1>Privacy policy</h1>
<details><summary>How do we use your information?</summary>
<h3>Preventing fraud</h3><p>We screen orders to detect payment fraud. We rely on our legitimate interests.</p>
</details>
<details><summary>Our legal bases, at a glance</summary>
<ul><li>Fraud prevention: legitimate interests.</li></ul></details>
<details><summary>Who do we share your information with?</summary>
<h3>Couriers</h3><p>Our couriers receive your address to deliver your order, as part of our contract
with you.</p>
</details>
"""


def test_an_accordion_s_recipients_and_summary_add_no_purpose() -> None:
    found = pairs_of(read_html(ACCORDION, "notice.html"), "en")
    assert found == {("Preventing fraud", "legitimate_interests")}


def test_a_button_classed_as_an_accordion_s_title_is_a_heading() -> None:
    page = ('<h1>Informativa</h1><button class="accordion">Destinatari</button><div class="panel"><p>I dati '
            "sono comunicati al corriere, come parte del contratto con lei.</p></div>")
    document = read_html(page, "notice.html")
    assert [b.text for b in document.blocks if b.kind == "heading"] == ["Informativa", "Destinatari"]
    assert pairs_of(document, "it") == set()
