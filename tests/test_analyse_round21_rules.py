"""Issue 16, round 21: (purpose, basis) pairs from tables and from lists a sentence introduces
(docs/analyse.md, "Round 21"). Texts of our own, written from GDPR Art. 6(1) and 9(2) in their
fr/en/it texts and the layouts of the ICO's, the CNIL's and the Garante's model registers and
notices, and from how office suites merge cells; none from a blind set."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from garde.analyse.activities import extract_activities
from garde.analyse.document import Document, from_text
from garde.analyse.readers import read, read_bytes
from garde.analyse.readers.html_reader import read_html
from garde.analyse.table_header import article_letter
from tests.heldout6_documents import build


def pairs_of(document: Document, language: str) -> set[tuple[str, str]]:
    return {(a.purpose, basis) for a in extract_activities(document, language) for basis in a.legal_bases}


# -- a header on two rows, basis cells an article's letter alone spanning rows -------------------

GYM = """<html lang="en"><body><h1>Privacy notice</h1>
<p>Northgate Leisure Ltd is the controller. Contact: privacy@northgate.example.</p>
<table>
<tr><th rowspan="2">Purpose</th><th colspan="2">Lawful basis</th><th rowspan="2">Retention</th></tr>
<tr><th>Article 6</th><th>Details/condition</th></tr>
<tr><td>Managing your membership</td><td>6(1)(b)</td><td>Our contract with you</td><td>2 years</td></tr>
<tr><td>Recording accidents in the gym</td><td rowspan="4">(f)</td>
    <td rowspan="4">Keeping members safe and handling claims</td><td>3 years</td></tr>
<tr><td>CCTV in the car park</td><td>30 days</td></tr>
<tr><td>Checking class attendance</td><td>1 year</td></tr>
<tr><td>Asking for feedback</td><td>1 year</td></tr>
<tr><td>Sending offers by email</td><td>Art. 6.1.a</td><td>Your consent</td><td>Until withdrawn</td></tr>
</table></body></html>"""


def test_an_html_header_on_two_rows_and_letters_spanning_rows() -> None:
    assert pairs_of(read_html(GYM, "gym.html"), "en") == {
        ("Managing your membership", "contract"),
        ("Recording accidents in the gym", "legitimate_interests"),
        ("CCTV in the car park", "legitimate_interests"),
        ("Checking class attendance", "legitimate_interests"),
        ("Asking for feedback", "legitimate_interests"),
        ("Sending offers by email", "consent"),
    }


def test_a_cell_spanning_columns_keeps_the_columns_after_it_in_place() -> None:
    page = ("<table><tr><th>Finalité</th><th colspan='2'>Base légale</th><th>Durée</th></tr>"
            "<tr><td>Prêts</td><td colspan='2'>Mission d'intérêt public</td><td>4 mois</td></tr></table>")
    table = read_html(page, "t.html").tables[0]
    assert [line.split("\t") for line in read_html(page, "t.html").text.split("\n")] == [
        ["Finalité", "Base légale", "", "Durée"], ["Prêts", "Mission d'intérêt public", "", "4 mois"]]
    assert len(table.rows) == 2


def test_a_docx_header_merged_across_and_cells_merged_down() -> None:
    word = docx.Document()
    word.add_paragraph("Registre des traitements")
    table = word.add_table(rows=6, cols=4)
    texts = [["Finalité", "Base légale", "", "Conservation"], ["", "Art. 6", "Précision", ""],
             ["Adhésions", "b)", "Contrat d'adhésion", "3 ans"], ["Cotisations", "", "", "6 ans"],
             ["Photos des régates", "a)", "Consentement", "2 ans"],
             ["Convocations", "f)", "Intérêt légitime", "2 ans"]]
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    table.cell(0, 1).merge(table.cell(0, 2))  # gridSpan: "Base légale" over two columns
    table.cell(0, 0).merge(table.cell(1, 0))  # vMerge: the other header cells down over both rows
    table.cell(0, 3).merge(table.cell(1, 3))
    table.cell(2, 1).merge(table.cell(3, 1))  # the basis of the first two rows merged down
    table.cell(2, 2).merge(table.cell(3, 2))
    data = io.BytesIO()
    word.save(data)
    assert pairs_of(read_bytes(data.getvalue(), ".docx", "registre.docx"), "fr") == {
        ("Adhésions", "contract"), ("Cotisations", "contract"),
        ("Photos des régates", "consent"), ("Convocations", "legitimate_interests")}


def test_a_tsv_header_on_two_rows_reads_article_6_not_the_article_9_condition() -> None:
    text = ("Traitement\tBase légale\t\tDurée\n\tCondition article 9\tArticle 6\t\n"
            "Dossier patient\t9.2.h\t6.1.c\t20 ans\nRappels par SMS\t\t(a)\t1 an\n")
    assert pairs_of(from_text(text, "registre.tsv"), "fr") == {
        ("Dossier patient", "legal_obligation"), ("Rappels par SMS", "consent")}


@pytest.mark.parametrize(("cell", "basis"), [
    ("(f)", "legitimate_interests"), ("f)", "legitimate_interests"), ("6(1)(b)", "contract"),
    ("6.1.e", "public_task"), ("Art. 6.1.a", "consent"), ("lett. c)", "legal_obligation"),
    ("art. 6, par. 1, lett. d)", "vital_interests"), ("9.2.h", None), ("(g)", None), ("(f) and more", None),
])
def test_an_article_letter_alone_in_a_basis_cell(cell: str, basis: str | None) -> None:
    assert article_letter(cell) == basis


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4),
                min_size=1, max_size=6))
def test_every_row_of_an_html_table_keeps_its_cells_columns(spans: list[list[tuple[int, int]]]) -> None:
    """Whatever the spans of a well-formed table (no two cells overlapping), a cell is read at the
    column a browser draws it in."""
    html = "<table>" + "".join(
        "<tr>" + "".join(f"<td rowspan='{down}' colspan='{across}'>r{r}c{c}</td>"
                         for c, (down, across) in enumerate(row)) + "</tr>"
        for r, row in enumerate(spans)) + "</table>"
    grid: dict[tuple[int, int], str] = {}
    for r, row in enumerate(spans):  # the HTML table model: each cell at the first free column
        column = 0
        for c, (down, across) in enumerate(row):
            while (r, column) in grid:
                column += 1
            for dr in range(min(down, len(spans) - r)):
                for dc in range(across):
                    assume((r + dr, column + dc) not in grid)
                    grid[(r + dr, column + dc)] = f"r{r}c{c}" if dc == 0 else ""
            column += across
    document = read_html(html, "t.html")
    lines = document.text.split("\n")
    for r, line in enumerate(lines):
        for column, text in enumerate(line.split("\t")):
            if text:
                assert grid[(r, column)] == text, (spans, r, column)


# -- a PDF's basis cell merged down: drawn once, at the top of the merged area ------------------------

COUNCIL = """# Information asset register

Ashwell Parish Council is the controller. Contact: clerk@ashwellpc.example.

| Purpose | Lawful basis | Data subjects | Retention |
| Correspondence from residents | Public task – Article 6(1)(e), the council's functions under the \
Local Government Act 1972 | Residents | 2 years |
| Allotment tenancies | ^^ | Allotment holders | 6 years |
| Burial records | ^^ | Families | Permanently |
| Payroll of the Clerk | Legal obligation – Article 6(1)(c) | Staff | 6 years |
| Newsletter mailing list | Consent – Article 6(1)(a) | Residents | Until withdrawn |
| Recording of meetings | Public task – Article 6(1)(e) | Public | 6 months |
| Handling complaints | ^^ | Complainants | 6 years |
| Freedom of information requests | ^^ | Requesters | 2 years |
| Hall bookings | Contract – Article 6(1)(b) | Hirers | 6 years |

## Your rights

You may complain to the Information Commissioner's Office.
"""


def test_a_pdf_s_basis_merged_down_reaches_every_row_it_spans_beside_its_words(tmp_path: Path) -> None:
    (tmp_path / "council.pdf.source").write_text(COUNCIL, encoding="utf-8")
    path, _ = build(tmp_path, "council.pdf", tmp_path)
    assert pairs_of(read(path), "en") == {
        ("Correspondence from residents", "public_task"), ("Allotment tenancies", "public_task"),
        ("Burial records", "public_task"), ("Payroll of the Clerk", "legal_obligation"),
        ("Newsletter mailing list", "consent"), ("Recording of meetings", "public_task"),
        ("Handling complaints", "public_task"), ("Freedom of information requests", "public_task"),
        ("Hall bookings", "contract")}


def test_a_pdf_s_first_column_merged_down_leaves_its_rows_apart(tmp_path: Path) -> None:
    source = """# Register

| Activity | Purpose | Lawful basis | Retention |
| Members | Keep the membership list | Contract | 2 years |
| ^^ | Collect the yearly fee | ^^ | 6 years |
| Events | Photos at matches | Consent | 1 year |
| ^^ | CCTV at the clubhouse | Legitimate interests | 30 days |

The end.
"""
    (tmp_path / "club.pdf.source").write_text(source, encoding="utf-8")
    path, _ = build(tmp_path, "club.pdf", tmp_path)
    assert pairs_of(read(path), "en") == {
        ("Keep the membership list", "contract"), ("Collect the yearly fee", "contract"),
        ("Photos at matches", "consent"), ("CCTV at the clubhouse", "legitimate_interests")}


# -- a list whose introducing sentence gives its basis -----------------------------------------------

@pytest.mark.parametrize(("intro", "items", "language"), [
    ("We use your details as follows, to provide the membership you signed up to:",
     ["keeping you on the membership list;", "collecting your subscription."], "en"),
    ("Pour vous fournir l'abonnement que vous avez souscrit, nous utilisons vos données pour :",
     ["créer votre badge d'accès ;", "prélever les mensualités."], "fr"),
    ("Per darle l'adesione che ha chiesto, secondo lo statuto, trattiamo i suoi dati per:",
     ["iscriverla al libro dei soci;", "riscuotere la quota annuale."], "it"),
])
def test_a_list_introduced_by_the_membership_or_subscription_is_the_contract(
        intro: str, items: list[str], language: str) -> None:
    text = "# Notice\n\n## How we use your data\n\n" + intro + "\n\n" + "".join(f"- {i}\n" for i in items)
    assert pairs_of(from_text(text, "notice.md"), language) == {(i, "contract") for i in items}


def test_one_lettered_entry_after_a_line_ending_in_a_colon_is_a_list() -> None:
    text = ("INFORMATIVA\n\nCOME USIAMO I SUOI DATI\n\nCon il suo consenso trattiamo i suoi dati per:\n"
            "a) pubblicare le fotografie dei concerti sul sito.\n")
    assert pairs_of(from_text(text, "informativa.txt"), "it") == {
        ("pubblicare le fotografie dei concerti sul sito.", "consent")}


def test_spans_widen_a_row_only_so_far() -> None:
    """A hostile page's column spans cannot multiply its text: a cell spans 100 columns at the most, and
    spans widen a row to 1,000 columns at the most (its cells, its own and those carried down, each
    add their one column past that)."""
    row = "<tr>" + "<td colspan='1000' rowspan='1000'>x</td>" * 50 + "</tr>"
    document = read_html(f"<table>{row * 20}</table>", "wide.html")
    assert max(line.count("\t") for line in document.text.split("\n")) < 1000 + 50 * 20
