"""The analyser's sixth round (issue 16), rule by rule on texts of their own (the development
documents are tests/test_analyse_dev6.py's):

1. a processor's document (its title says so, Art. 28(3)): every processing it describes is done on
   the controller's behalf, whatever its rows say, and its annex's columns (nature of the
   operations, subject-matter, duration, sub-processors) are read;
2. bases in plain words, the taxonomy's synonyms ("because you asked us to", "perché ce lo chiedi",
   "la legge ci obbliga"), and "we only do this if ..." taking the use stated just before;
3. a duration written in words ("dix ans") is a retention period;
4. a PDF cell whose word is hyphenated across lines ("contrac-" / "tuelle"), or whose last letter a
   narrow column carried alone onto the next line, is read whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.readers import read
from garde.analyse.readers.pdf_tables import joined
from garde.analyse.report import analyse
from garde.analyse.wording import column_role
from tests.test_analyse_round4_rules import Cases, check

ANNEX = """# Schedule 1 – Details of the processing

Tidewell Ltd processes the data below for the Customer, the controller.

| Subject matter | Purpose of the processing | Types of personal data | Duration |
|---|---|---|---|
| Hosting the booking site | Taking bookings for the Customer's guests | Name, email | Term of the agreement |
| Reconciliation | Matching guests' payments with bookings under our contract | Reference | 6 months |
"""


def test_a_processors_annex_is_all_on_behalf_with_no_basis() -> None:
    """Before this round the rows were the controller's: the annex's title did not reach them (seen
    failing: roles ['controller', 'controller'])."""
    result = analyse(from_text(ANNEX, "annex.md"), "en")
    assert [(a["purpose"], a["role"], a["legal_bases"]) for a in result.activities] == [
        ("Taking bookings for the Customer's guests", "processor", []),
        ("Matching guests' payments with bookings under our contract", "processor", []),
    ]
    assert not result.art13["legal_basis_per_purpose"].present


@pytest.mark.parametrize(("header", "language", "role"), [
    ("Nature des opérations", "fr", "name"), ("Opérations effectuées", "fr", "name"),
    ("Nature of the processing", "en", "name"), ("Subject-matter of the processing", "en", "name"),
    ("Operazioni effettuate", "it", "name"), ("Duration of the processing", "en", "retention"),
    ("Period for which the personal data will be retained", "en", "retention"),
    ("Sous-traitants ultérieurs", "fr", "recipients"), ("Sub-processors", "en", "recipients"),
    ("Service", "en", None),  # a list of sub-processors' services is no list of activities
])
def test_an_annexs_columns(header: str, language: str, role: str | None) -> None:
    assert column_role(header, language) == role


PLAIN: Cases = {
    "en": ("Privacy at Holt's Garage\n\nHolt's Garage is run by Sam Holt, a sole trader.\n\n"
           "What we do with your details\n\n"
           "We note your registration number to book your car in. We use it because you asked us to.\n\n"
           "If you tick the box, we text you when your MOT is due. We only do this if you have said yes.\n",
           {("We note your registration number to book your car in. We use it because you asked us to.",
             ("contract",)),
            ("If you tick the box, we text you when your MOT is due.", ("consent",))}),
    "fr": ("Vos données chez Optique Ravel\n\nOptique Ravel, entreprise individuelle.\n\n"
           "Ce que nous faisons de vos données\n\n"
           "Nous gardons vos ordonnances pendant trois ans parce que la loi nous y oblige.\n\n"
           "Nous vous envoyons un SMS quand vos lunettes sont prêtes. "
           "Nous ne le faisons que si vous avez dit oui.\n",
           {("Nous gardons vos ordonnances pendant trois ans parce que la loi nous y oblige.",
             ("legal_obligation",)),
            ("Nous vous envoyons un SMS quand vos lunettes sont prêtes.", ("consent",))}),
    "it": ("Privacy – Ciclofficina Bruni\n\nLa ciclofficina è di Marco Bruni, ditta individuale.\n\n"
           "Come usiamo i tuoi dati\n\n"
           "Conserviamo le fatture per dieci anni perché la legge ci obbliga a farlo.\n\n"
           "Ti mandiamo un SMS quando la bici è pronta. Lo facciamo solo se ci hai detto di sì.\n",
           {("Conserviamo le fatture per dieci anni perché la legge ci obbliga a farlo.",
             ("legal_obligation",)),
            ("Ti mandiamo un SMS quando la bici è pronta.", ("consent",))}),
}


@pytest.mark.parametrize("language", sorted(PLAIN))
def test_bases_in_plain_words(language: str) -> None:
    """Before this round none of these pairs was read (seen failing: empty or the heading's)."""
    check(PLAIN, language, "notice.txt")


def test_a_basis_named_in_passing_ties_nothing() -> None:
    """"Unless the law requires it" names no basis of the deletion (the synonym was tried, dropped)."""
    text = ("# Schedule\n\n## Return and deletion\n\nAt the end we return the data and delete our copies "
            "within 30 days, unless the law requires it to keep them.\n")
    assert [a.legal_bases for a in extract_activities(from_text(text, "s.md"), "en")] == []


@pytest.mark.parametrize(("text", "language"), [
    ("Nous gardons les factures pendant dix ans.", "fr"),
    ("We keep the receipts for six years.", "en"),
])
def test_a_duration_in_words_is_a_retention(text: str, language: str) -> None:
    result = analyse(from_text(f"# Notice\n\nAcme Ltd is the controller.\n\n{text}\n", "n.md"), language)
    assert result.art13["retention"].evidence == text


@pytest.mark.parametrize(("lines", "text"), [
    (["Exécution contrac-", "tuelle"], "Exécution contractuelle"),
    (["Intérêt légi-", "time"], "Intérêt légitime"),
    (["Recruitmen", "t"], "Recruitment"),
    (["Right-to-", "Work checks"], "Right-to- Work checks"),  # a capital after the hyphen: two words
    (["Nous y", "a"], "Nous y a"),  # a vowel alone may be a word
])
def test_lines_joined(lines: list[str], text: str) -> None:
    assert joined(lines) == text


def test_a_pdf_cell_hyphenated_across_lines(tmp_path: Path) -> None:
    """Before this round the cell read "Exécutio n contrac- tuelle" and gave no basis (seen failing)."""
    style = getSampleStyleSheet()["BodyText"].clone("cell", fontSize=8, leading=9.5)
    rows = [["Activité", "Finalité", "Base légale", "Durée"],
            ["Facturation", "Établir les factures", "Exécution contrac-<br/>tuelle", "10 ans"],
            ["Prospection", "Envoyer des offres commerciales", "Intérêt légi-<br/>time", "3 ans"]]
    table = Table([[Paragraph(cell, style) for cell in row] for row in rows],
                  colWidths=[3 * cm, 5 * cm, 1.6 * cm, 2 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    path = tmp_path / "registre.pdf"
    SimpleDocTemplate(str(path), pagesize=A4, invariant=True).build([Paragraph("Registre", style), table])
    activities = extract_activities(read(path), "fr")
    assert [(a.purpose, a.legal_bases) for a in activities] == [
        ("Établir les factures", ("contract",)),
        ("Envoyer des offres commerciales", ("legitimate_interests",)),
    ]


HEADERLESS = """# Déclaration de confidentialité / Privacy statement

Banque Ardenne S.A., 3 rue Neuve, L-2550 Luxembourg, est responsable du traitement.

## Finalités et bases juridiques / Purposes and legal bases

| Gestion de votre compte / Managing your account | Exécution du contrat / Performance of a contract |
|---|---|
| Lutte contre le blanchiment / Anti-money laundering | Obligation légale / Legal obligation |
| Envoi d'offres / Sending offers | Consentement / Consent |
"""


def test_a_headerless_table_of_purposes_and_bases() -> None:
    """A bilingual table with no header row, one column nothing but bases: a purpose per row, not
    the section's bilingual heading with every basis (seen failing: no activity at all)."""
    pairs = [(a.purpose, a.legal_bases) for a in extract_activities(from_text(HEADERLESS, "n.md"), "fr")]
    assert pairs == [("Gestion de votre compte / Managing your account", ("contract",)),
                     ("Lutte contre le blanchiment / Anti-money laundering", ("legal_obligation",)),
                     ("Envoi d'offres / Sending offers", ("consent",))]


def test_a_headerless_table_without_a_column_of_bases_gives_nothing() -> None:
    text = ("# Sub-processors\n\n| Cloudhold Ltd | Hosting | United Kingdom |\n|---|---|---|\n"
            "| Mailrelay GmbH | Emails sent on our behalf | Germany |\n| Paylink SA | Payments | Belgium |\n")
    assert extract_activities(from_text(text, "s.md"), "en") == []


INTERLEAVED = """# Déclaration de confidentialité / Privacy statement

Banque Ardenne S.A. est responsable du traitement.

## Finalités / Purposes

Nous conservons vos relevés pour respecter nos obligations légales.

We keep your statements to comply with our legal obligations.

Nous vous envoyons nos offres avec votre consentement.

We send you our offers with your consent.
"""


def test_a_paragraph_and_its_translation_are_one_purpose() -> None:
    """Seen failing before: the English translation was a second purpose (a false pair when scored)."""
    activities = extract_activities(from_text(INTERLEAVED, "n.md"), "fr")
    assert [(a.purpose, a.legal_bases) for a in activities] == [
        ("Nous conservons vos relevés pour respecter nos obligations légales.", ("legal_obligation",)),
        ("Nous vous envoyons nos offres avec votre consentement.", ("consent",)),
    ]
    assert [e.excerpt for e in activities[0].evidence if e.field == "purpose"] == [
        "Nous conservons vos relevés pour respecter nos obligations légales.",
        "We keep your statements to comply with our legal obligations."]


RESTATED = INTERLEAVED + """
## Bases juridiques / Legal bases

| Relevés / Statements | Obligation légale / Legal obligation | 10 ans / 10 years |
|---|---|---|
| Offres / Offers | Consentement / Consent | Jusqu'au retrait / Until withdrawn |
| Cartes de crédit / Credit cards | Exécution du contrat / Performance of a contract | 10 ans / 10 years |
"""


def test_a_table_restating_the_prose_purposes_adds_none() -> None:
    """A headerless summary table after the prose: its rows are the prose's purposes again (seen
    failing: three purposes more); a row the prose does not state stays a purpose of its own."""
    activities = extract_activities(from_text(RESTATED, "n.md"), "fr")
    assert [(a.purpose, a.legal_bases) for a in activities] == [
        ("Nous conservons vos relevés pour respecter nos obligations légales.", ("legal_obligation",)),
        ("Nous vous envoyons nos offres avec votre consentement.", ("consent",)),
        ("Cartes de crédit / Credit cards", ("contract",)),
    ]
    assert "Relevés / Statements" in [e.excerpt for e in activities[0].evidence]


@pytest.mark.parametrize(("text", "language"), [
    ("Nous transmettons vos feuilles de soins à la Caisse nationale de santé.", "fr"),
    ("We pass on your details to the courier who delivers your parcel.", "en"),
    ("Comunichiamo i tuoi dati al corriere che consegna il pacco.", "it"),
])
def test_recipients_named_by_a_verb_of_passing_on(text: str, language: str) -> None:
    """Seen failing before (the dev6 practice's recipients were missed)."""
    result = analyse(from_text(f"# Notice\n\n{text}\n", "n.md"), language)
    assert result.art13["recipients"].evidence == text


def test_a_pdf_basis_cell_whose_words_a_narrow_column_broke(tmp_path: Path) -> None:
    """reportlab breaks a word too long for its column wherever the line ends ("Legitim" / "ate
    inte" / "rests"): the whole cell, spaces aside, is still the basis's label (seen failing: no
    basis), quoted as the cell reads."""
    style = getSampleStyleSheet()["BodyText"].clone("cell", fontSize=8, leading=9.5)
    rows = [["Ref", "Activity", "Purpose", "Lawful basis", "Retention"],
            ["1", "Recruitment", "Managing applications from candidates", "Legitimate interests", "2 years"],
            ["2", "Payroll", "Paying our employees", "Contractual necessity", "6 years"]]
    table = Table([[Paragraph(cell, style) for cell in row] for row in rows],
                  colWidths=[1 * cm, 1.4 * cm, 4 * cm, 1.4 * cm, 2 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    path = tmp_path / "register.pdf"
    SimpleDocTemplate(str(path), pagesize=A4, invariant=True).build([Paragraph("Register", style), table])
    document = read(path)
    activities = extract_activities(document, "en")
    assert [a.legal_bases for a in activities] == [("legitimate_interests",), ("contract",)]
    for evidence in (e for a in activities for e in a.evidence):
        assert document.text[evidence.start:evidence.start + len(evidence.excerpt)] == evidence.excerpt
