"""Tables of activities in PDF notices (issue 16): rebuilt from pypdf's layout-mode text.

The PDFs are written here with reportlab, in French, English and Italian: prose, then a table of
activities (purpose | data | legal basis | retention) whose cells wrap over two lines, long enough to
run over a page break, then prose again. Each (purpose, basis) pair of the table is read, and every
excerpt the analyser quotes occurs in the page's text (whitespace squashed).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.readers import read
from garde.analyse.readers.pdf_tables import find_tables
from garde.analyse.report import analyse_file

# language: (prose before, header, rows (purpose, data, basis, retention) with the basis's id, prose after)
NOTICES = {
    "fr": (
        ("Qui sommes-nous", "La société Valbrune SAS, 12 rue des Lilas à Lyon, est responsable du traitement "
         "de vos données personnelles. Vous pouvez nous écrire à dpo@valbrune.example."),
        ("Finalité", "Données", "Base légale", "Durée de conservation"),
        [("Gestion des commandes et des livraisons de nos clients", "nom, adresse, téléphone",
          "Exécution du contrat", "5 ans après la dernière commande", "contract"),
         ("Envoi de la lettre d'information", "adresse électronique", "Consentement",
          "jusqu'au désabonnement", "consent"),
         ("Tenue de la comptabilité et conservation des factures", "factures",
          "Obligation légale", "10 ans", "legal_obligation"),
         ("Prévention de la fraude aux paiements par carte bancaire", "données de paiement",
          "Intérêt légitime", "13 mois", "legitimate_interests")],
        ("Vos droits", "Vous disposez d'un droit d'accès, de rectification et d'effacement de vos données. "
         "Vous pouvez introduire une réclamation auprès de la CNIL."),
    ),
    "en": (
        ("Who we are", "Hollowmere Outdoor Ltd, 4 Mill Lane, Leeds, is the controller of your personal "
         "data. You can write to privacy@hollowmere.example."),
        ("Purpose", "Data", "Legal basis", "Retention"),
        [("Processing your orders and delivering them to your address", "name, address, phone",
          "Performance of a contract", "6 years after the order", "contract"),
         ("Sending our newsletter", "email address", "Consent", "until you unsubscribe", "consent"),
         ("Keeping our accounts and invoices as the tax rules require", "invoices",
          "Legal obligation", "6 years", "legal_obligation"),
         ("Preventing payment fraud on card transactions", "payment data",
          "Legitimate interests", "13 months", "legitimate_interests")],
        ("Your rights", "You have the right of access, to rectification and to erasure. You may lodge a "
         "complaint with the Information Commissioner's Office."),
    ),
    "it": (
        ("Chi siamo", "Quieta Salute S.r.l., via Roma 3, Milano, è titolare del trattamento dei suoi dati "
         "personali. Può scriverci a privacy@quieta.example."),
        ("Finalità", "Dati", "Base giuridica", "Conservazione"),
        [("Gestione degli ordini e consegna dei prodotti acquistati", "nome, indirizzo, telefono",
          "Esecuzione del contratto", "10 anni dall'ordine", "contract"),
         ("Invio della newsletter", "indirizzo email", "Consenso", "fino alla revoca", "consent"),
         ("Adempimento degli obblighi contabili e fiscali", "fatture",
          "Obbligo legale", "10 anni", "legal_obligation"),
         ("Prevenzione delle frodi nei pagamenti con carta", "dati di pagamento",
          "Legittimo interesse", "13 mesi", "legitimate_interests")],
        ("I suoi diritti", "Lei ha il diritto di accesso, di rettifica e di cancellazione dei dati. Può "
         "proporre reclamo al Garante per la protezione dei dati personali."),
    ),
}
REPEAT = 6  # the table's rows, repeated with their number: long enough to run over a page break


def _furniture(canvas: Canvas, document: SimpleDocTemplate) -> None:
    """A running header and a page number, as an exported register has."""
    canvas.setFont("Helvetica", 8)
    canvas.drawString(72, A4[1] - 40, "Registre des traitements - version 2")
    canvas.drawCentredString(A4[0] / 2, 30, f"Page {document.page}")


def write_notice(path: Path, language: str, valign: str = "TOP", repeat_header: bool = False,
                 furniture: bool = False) -> Path:
    before, header, rows, after = NOTICES[language]
    styles = getSampleStyleSheet()

    def cell(text: str) -> Paragraph:
        return Paragraph(text, styles["BodyText"])

    data: list[list[object]] = [[cell(h) for h in header]]
    for n in range(REPEAT):
        for purpose, *others, _basis in rows:
            data.append([cell(f"{purpose} ({n + 1})"), *(cell(text) for text in others)])
    table = Table(data, colWidths=[150, 110, 110, 90], repeatRows=1 if repeat_header else 0)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), valign)]))
    story: list[object] = []
    for heading, text in (before,):
        story += [Paragraph(heading, styles["Heading2"]), Paragraph(text, styles["BodyText"]), Spacer(1, 12)]
    story += [table, Paragraph(after[0], styles["Heading2"]), Paragraph(after[1], styles["BodyText"])]
    decorate = {"onFirstPage": _furniture, "onLaterPages": _furniture} if furniture else {}
    SimpleDocTemplate(str(path), pagesize=A4).build(story, **decorate)
    return path


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _page_text(path: Path) -> str:
    """The PDF's text as pypdf reads it plainly and in layout mode, whitespace squashed."""
    pages = PdfReader(str(path)).pages
    return _squash(" ".join(p.extract_text() for p in pages)) + "\n" + _squash(
        " ".join(p.extract_text(extraction_mode="layout") for p in pages))


@pytest.mark.parametrize(("valign", "furniture"), [("TOP", False), ("BOTTOM", False), ("TOP", True)])
@pytest.mark.parametrize("language", sorted(NOTICES))
def test_a_pdf_table_of_activities_gives_its_purpose_basis_pairs(
        tmp_path: Path, language: str, valign: str, furniture: bool) -> None:
    """Cells wrapped over two lines, top- or bottom-aligned; the table runs over a page break without
    its header repeated, with or without a running header and a page number between its parts."""
    path = write_notice(tmp_path / f"notice-{language}.pdf", language, valign, furniture=furniture)
    assert len(PdfReader(str(path)).pages) >= 2  # the table runs over a page break
    document = read(path)
    activities = extract_activities(document, language)
    pairs = {(_squash(a.purpose), a.legal_bases) for a in activities}
    _, _, rows, _ = NOTICES[language]
    for n in range(REPEAT):
        for purpose, *_, basis in rows:
            assert (f"{purpose} ({n + 1})", (basis,)) in pairs, (purpose, n, sorted(pairs))
    # the prose around the table is read as prose
    before, _, _, after = NOTICES[language]
    headings = [b.text for b in document.headings]
    assert before[0] in headings and after[0] in headings
    assert any(b.kind == "paragraph" and b.text == _squash(after[1]) for b in document.blocks)


@pytest.mark.parametrize("language", sorted(NOTICES))
def test_every_excerpt_from_a_pdf_table_occurs_in_the_pdf_text(tmp_path: Path, language: str) -> None:
    path = write_notice(tmp_path / "notice.pdf", language, repeat_header=True)
    analysis = analyse_file(path, language)
    text = _page_text(path)
    excerpts = [e["excerpt"] for a in analysis.activities for e in a.get("evidence", [])]
    assert len(analysis.activities) >= len(NOTICES[language][2]) * REPEAT
    assert excerpts and all(_squash(excerpt) in text for excerpt in excerpts)


def test_layout_lines_make_a_table_only_with_a_header_and_rows_in_columns() -> None:
    table = ["Purpose        Legal basis", "Orders         Contract", "Newsletter     Consent"]
    assert [t.rows for t in find_tables(table)] == [
        [["Purpose", "Legal basis"], ["Orders", "Contract"], ["Newsletter", "Consent"]]]
    # a wrapped cell (its second line going on in lower case) joins its row
    wrapped = ["Purpose           Legal basis", "Taking orders     Performance of a",
               "and delivering    contract", "Newsletter        Consent"]
    assert find_tables(wrapped)[0].rows[1:] == [["Taking orders and delivering", "Performance of a contract"],
                                                ["Newsletter", "Consent"]]
    # prose, one header-like line alone, or lines whose text crosses the columns are not tables
    assert find_tables(["We keep your data.", "For six years."]) == []
    assert find_tables(["Purpose        Legal basis", "Orders         Contract"]) == []
    assert find_tables(["Purpose        Legal basis", "Our orders are kept for a long time by law.",
                        "Newsletter     Consent"]) == []


def test_a_short_table_under_a_header_is_rows_not_one_record() -> None:
    """A table's second half (after a page break, its header repeated) whose first cells read as
    labels ("... conservation des factures") is still rows of activities, not one activity's record."""
    text = ("| Finalité | Base légale |\n|---|---|\n"
            "| Tenue de la comptabilité et conservation des factures | Obligation légale |\n"
            "| Prévention de la fraude | Intérêt légitime |\n")
    pairs = {(a.purpose, a.legal_bases) for a in extract_activities(from_text(text), "fr")}
    assert pairs == {("Tenue de la comptabilité et conservation des factures", ("legal_obligation",)),
                     ("Prévention de la fraude", ("legitimate_interests",))}


_WORD = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
_CELL = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 4).flatmap(lambda width: st.lists(
    st.lists(_CELL, min_size=width, max_size=width), min_size=3, max_size=6)))
def test_rows_laid_out_in_columns_are_read_back_cell_for_cell(rows: list[list[str]]) -> None:
    rows = [[row[0].capitalize(), *row[1:]] for row in rows]  # a row opens with a capital
    widths = [max(len(row[i]) for row in rows) + 3 for i in range(len(rows[0]))]
    lines = ["".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    tables = find_tables(["Some prose before the table.", "", *lines, "", "Prose after it."])
    assert [t.rows for t in tables] == [rows]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab C.", max_size=40), max_size=8))
def test_a_cell_only_ever_holds_the_page_words_in_their_order(lines: list[str]) -> None:
    words = " ".join(lines).split()
    for table in find_tables(lines):
        for row in table.rows:
            for cell in row:
                assert " ".join(cell.split()) == cell  # one space between words
                # the page's letters in order, spaces aside: a word broken across a cell's lines
                # ("Recruitmen" / "t", "contrac-" / "tuelle") is made whole, nothing else is added
                found = iter("".join(words))
                assert all(letter in found for letter in cell.replace(" ", ""))
