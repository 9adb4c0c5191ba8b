"""Issue 16, round 20: (purpose, basis) pairs per item, without cross-products (docs/analyse.md,
"Round 20"). Texts of our own, written from GDPR Art. 6(1) and 9(2) in their fr/en/it texts and the
layouts of the ICO's, the CNIL's and the Garante's model notices; none from a blind set."""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.analyse.activities import extract_activities
from garde.analyse.document import Document, from_text
from garde.analyse.readers import read
from garde.analyse.readers.html_reader import read_html
from tests.heldout6_documents import build


def pairs_of(document: Document, language: str) -> set[tuple[str, str]]:
    return {(a.purpose, basis) for a in extract_activities(document, language) for basis in a.legal_bases}


def pairs(text: str, language: str, name: str = "notice.md") -> set[tuple[str, str]]:
    return pairs_of(from_text(text, name), language)


# -- a PDF's bullets drawn apart from their text, and its wrapped title ------------------------------

SCHOOL = """# Harbourside Community Primary School – Privacy notice for parents and carers

Harbourside Community Primary School, 2 Dock Road, Whitby YO21 1AA, is the controller of the \
information we hold about parents and carers. Contact: office@harbourside.example.

## Why we use your information

We use parents' and carers' information to:

- tell you about your child's attendance and learning;
- arrange cover when your child is taken ill at school;
- take payments for breakfast club and school trips;
- send you the school's weekly bulletin.

## Our lawful basis

We process it under Article 6(1)(e) UK GDPR, a task in the public interest, to tell you about \
your child's attendance and learning and to take payments for breakfast club and school trips.

We send you the weekly bulletin only with your consent under Article 6(1)(a).

## Your rights

You can ask for a copy of your information and complain to the Information Commissioner's Office.
"""


def test_a_pdf_s_bullets_are_a_list_its_basis_section_names_them(tmp_path: Path) -> None:
    (tmp_path / "school.pdf.source").write_text(SCHOOL, encoding="utf-8")
    path, _ = build(tmp_path, "school.pdf", tmp_path)
    document = read(path)
    assert [b.text for b in document.blocks if b.kind == "item"] == [
        "tell you about your child's attendance and learning;",
        "arrange cover when your child is taken ill at school;",
        "take payments for breakfast club and school trips;", "send you the school's weekly bulletin."]
    # the title, wrapped over two lines in its large font, is one heading
    assert document.blocks[0].kind == "heading" and document.blocks[0].text.endswith("parents and carers")
    assert pairs_of(document, "en") == {
        ("tell you about your child's attendance and learning;", "public_task"),
        ("take payments for breakfast club and school trips;", "public_task"),
        ("send you the school's weekly bulletin.", "consent")}


def test_listed_purposes_named_outside_a_section_on_the_bases_take_no_basis() -> None:
    text = SCHOOL.replace("## Our lawful basis", "## More about what we do")
    found = pairs(text, "en")
    assert ("tell you about your child's attendance and learning;", "public_task") not in found


# -- a sentence pointing back to the list or the uses just before it -----------------------------------

CHORALE = """# Confidentialité

## Ce que nous faisons de vos données

Nous traitons les données des choristes pour :

- l'inscription aux répétitions ;
- la facturation des cotisations.

Ces traitements sont fondés sur l'exécution du contrat d'adhésion.

Nous utilisons aussi vos données pour la tenue de la comptabilité et la conservation des reçus \
fiscaux. Ces traitements répondent à nos obligations légales.
"""


def test_these_processing_operations_point_back_to_the_list_and_to_the_uses_before() -> None:
    assert pairs(CHORALE, "fr") == {
        ("l'inscription aux répétitions ;", "contract"), ("la facturation des cotisations.", "contract"),
        ("la tenue de la comptabilité", "legal_obligation"),
        ("la conservation des reçus fiscaux", "legal_obligation")}


def test_uses_enumerated_then_a_basis_for_the_whole_page_are_no_one_s() -> None:
    text = ("# Confidentialité\n\nNous utilisons vos données pour la tenue de la comptabilité "
            "et la conservation "
            "des reçus. Les traitements décrits sur cette page reposent sur nos obligations légales.\n")
    assert ("la tenue de la comptabilité", "legal_obligation") not in pairs(text, "fr")


# -- bold-led items stating no basis, then a closing sentence naming them ------------------------------

BROCANTE = """# Confidentialité

## Pourquoi nous utilisons vos données

**Création de votre compte :** nous enregistrons votre pseudonyme et votre adresse électronique.

**Publication de vos annonces :** nous publions les photos et la description de chaque objet.

**Lutte contre les annonces frauduleuses :** nous analysons les annonces signalées.

La création du compte et la publication des annonces sont nécessaires à l'exécution des conditions \
générales. La lutte contre la fraude repose sur notre intérêt légitime à protéger les membres.
"""


def test_bold_led_items_named_again_by_a_closing_sentence_take_its_bases() -> None:
    found = {(a.purpose.split(":")[0].strip("* "), a.legal_bases)
             for a in extract_activities(from_text(BROCANTE, "b.md"), "fr")}
    assert found == {("Création de votre compte", ("contract",)),
                     ("Publication de vos annonces", ("contract",)),
                     ("Lutte contre les annonces frauduleuses", ("legitimate_interests",))}


# -- lettered purposes: read by reference once --------------------------------------------------------

NEGOZIO = """# Informativa

## Finalità

a) gestione degli ordini e delle spedizioni;
b) adempimento degli obblighi fiscali e contabili;
c) invio della newsletter.

## Base giuridica

Il trattamento per la finalità di cui alla lettera a) è necessario all'esecuzione del \
contratto. Il trattamento per la finalità di cui alla lettera b) è necessario per adempiere un \
obbligo legale. Il trattamento per la finalità di cui alla lettera c) si basa sul suo consenso.
"""


def test_a_lettered_purpose_whose_words_name_a_basis_is_read_once() -> None:
    activities = extract_activities(from_text(NEGOZIO, "i.md"), "it")
    found = [(a.purpose, b) for a in activities for b in a.legal_bases]
    assert sorted(b for _, b in found) == ["consent", "contract", "legal_obligation"]


# -- a section on security is no purpose ----------------------------------------------------------------

def test_a_security_panel_naming_bases_is_no_purpose() -> None:
    html = """<html><body><h1>Privacy</h1><h2>Why we use your data</h2>
<p>We send you our newsletter with your consent.</p>
<h2>Keeping your data secure</h2>
<p>We encrypt your data and test our systems, relying on our legitimate interests in protecting them.</p>
</body></html>"""
    assert {basis for _, basis in pairs_of(read_html(html, "p.html"), "en")} == {"consent"}


# -- plain words ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sentence", "language", "basis"), [
    ("We post bereavement leaflets to families who ask for them, with their consent.", "en", "consent"),
    ("We complete the statutory forms for the registrar, because the law requires them.", "en",
     "legal_obligation"),
    ("Ricordiamo la camera preferita solo se lei ci dà il consenso.", "it", "consent"),
    ("Nous envoyons les reçus aux donateurs avec leur consentement.", "fr", "consent"),
])
def test_bases_in_plain_words(sentence: str, language: str, basis: str) -> None:
    text = f"# Notice\n\n## Purposes\n\n### Item\n\n{sentence}\n"
    assert {b for _, b in pairs(text, language)} == {basis}
