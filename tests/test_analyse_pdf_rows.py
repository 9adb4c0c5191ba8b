"""Rows of PDF tables whose cells wrap over several lines (issue 16, round 3).

A PDF draws a table's cells as lines of text at places; pypdf's layout-mode text keeps their
columns, not which lines belong to one row. A row starts where the lines of the cells above end:
the gap between two rows (the cells' padding, a rule) is wider than the gap between two lines of
one cell (the font's leading). The tables here are written with reportlab: 2 to 6 columns, headers
in French, English or Italian, cells of 1 to 5 lines top-, middle- or bottom-aligned, their
wrapped lines starting with a capital as often as not (so the words alone cannot tell a new row).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from garde.analyse.activities import extract_activities
from garde.analyse.readers.pdf_reader import read_pdf

HEADERS = {
    "en": ("Purpose", "Personal data", "Legal basis", "Retention period", "Recipients", "Source"),
    "fr": ("Finalité", "Données traitées", "Base légale", "Durée de conservation", "Destinataires", "Source"),
    "it": ("Finalità", "Dati trattati", "Base giuridica", "Durata del trattamento", "Destinatari", "Fonte"),
}
WORDS = ("orders", "Delivery", "invoices", "Customer", "accounts", "Payment", "fraud", "Newsletter",
         "returns", "Contract", "support", "Staff", "records", "Website", "security", "Events")
PAGE_WIDTH = 450  # points between A4's default margins; every word fits a sixth of it


@dataclass(frozen=True)
class Written:
    pdf: bytes
    rows: list[list[str]]  # the header, then each row's cells


def write_table(language: str, rows: list[list[str]], valign: str = "TOP") -> Written:
    """A PDF: a title, a paragraph, the table (header and rows), a heading and a paragraph after."""
    styles = getSampleStyleSheet()
    width = len(rows[0])
    header = list(HEADERS[language][:width])
    table = Table([[Paragraph(text, styles["BodyText"]) for text in row] for row in [header, *rows]],
                  colWidths=[PAGE_WIDTH / width] * width)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), valign),
                               ("GRID", (0, 0), (-1, -1), 0.5, "grey")]))
    story = [Paragraph("Privacy notice", styles["Heading1"]),
             Paragraph("This notice says how we use your personal data.", styles["BodyText"]), Spacer(1, 12),
             table, Paragraph("Your rights", styles["Heading2"]),
             Paragraph("You may ask for a copy of your data at any time.", styles["BodyText"])]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return Written(out.getvalue(), [header, *rows])


def read_rows(written: Written) -> list[list[str]]:
    document = read_pdf(written.pdf, "table.pdf")
    assert len(document.tables) == 1, [b.text for b in document.blocks][:20]
    return [[cell.text for cell in row] for row in document.tables[0].rows]


def _cell(draw: st.DrawFn, width: int) -> str:
    per_line = max(1, (PAGE_WIDTH // width) // 55)  # words of up to 10 letters a line holds, at least
    lines = draw(st.integers(1, 5))
    count = draw(st.integers(max(1, per_line * (lines - 1)), per_line * lines + 1))
    return " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=count, max_size=count)))


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[list[str]], str]:
    language = draw(st.sampled_from(sorted(HEADERS)))
    width = draw(st.integers(2, 6))
    count = draw(st.integers(2, 6))
    rows = [[_cell(draw, width) for _ in range(width)] for _ in range(count)]
    return language, rows, draw(st.sampled_from(("TOP", "BOTTOM")))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_wrapped_rows_are_rebuilt_cell_for_cell(table: tuple[str, list[list[str]], str]) -> None:
    language, rows, valign = table
    written = write_table(language, rows, valign)
    assert read_rows(written) == written.rows


def test_the_generator_wraps_cells_over_one_to_five_lines() -> None:
    """The property test's tables do wrap: a cell of the generator's longest kind takes 5 lines."""
    written = write_table("en", [["Orders " * 9, "Contract"], ["Newsletter", "Consent"]])
    layout = PdfReader(io.BytesIO(written.pdf)).pages[0].extract_text(extraction_mode="layout")
    assert 2 <= sum("Orders" in line for line in layout.splitlines()) <= 5


PURPOSES = [  # sixteen rows; purposes wrapped over 1 to 5 lines, some lines starting with a capital
    ("Managing your Customer account and the Orders you place on our Website", "contract"),
    ("Delivering your Orders", "contract"),
    ("Sending the Newsletter you asked for, with News about Events and Offers from our Shops in Paris and "
     "Lyon and our Partners", "consent"),
    ("Keeping Invoices", "legal_obligation"),
    ("Preventing Fraud on Card Payments made on our Website and in our Shops", "legitimate_interests"),
    ("Answering your Questions sent by Email, Chat or Telephone", "contract"),
    ("Statistics on the Use of our Website", "consent"),
    ("Recording Calls to our Customer Service for Training", "legitimate_interests"),
    ("Tax and Accounting Records kept under the Commercial Code", "legal_obligation"),
    ("Handling Returns and Refunds", "contract"),
    ("Personalised Advertising on Social Networks, based on the Pages you viewed and the Products you "
     "bought in our Shops", "consent"),
    ("Security of our Website and Information Systems", "legitimate_interests"),
    ("Loyalty Programme", "contract"),
    ("Answering Requests from Police and Courts", "legal_obligation"),
    ("Customer Satisfaction Surveys", "legitimate_interests"),
    ("Managing your Requests to exercise your Rights under the GDPR", "legal_obligation"),
]
BASES = {"contract": "Performance of a contract", "consent": "Consent",
         "legal_obligation": "Legal obligation", "legitimate_interests": "Legitimate interests"}


def test_a_sixteen_row_table_gives_its_sixteen_pairs() -> None:
    """Purpose | data | legal basis | retention, sixteen rows whose cells wrap over 1 to 5 lines."""
    rows = [[purpose, "Name, email address and postal address of the customer", BASES[basis],
             "Three years after the last order"] for purpose, basis in PURPOSES]
    written = write_table("en", rows)
    document = read_pdf(written.pdf, "notice.pdf")
    pairs = {(a.purpose, a.legal_bases) for a in extract_activities(document, "en")}
    assert pairs == {(purpose, (basis,)) for purpose, basis in PURPOSES}
