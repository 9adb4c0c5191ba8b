"""PDF tables whose rows are padded (issue 16, round 5): a ruled grid or a roomy table puts about two
font heights between two rows, which pypdf's layout mode writes as a blank line. Such a blank line
is a row's padding, not the table's end, when the line after it is a row's first line in the
table's columns; the prose after the table (a heading, a paragraph at the margin) still ends it.

The PDFs are written here with reportlab in the styles exported notices use: ruled or not, padded
by 3 to 10 points, 8- or 10-point cells wrapped over several lines, aligned to the top or the middle,
run over pages with the header repeated, and followed by a second table of the same columns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Flowable,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from garde.analyse.activities import extract_activities
from garde.analyse.readers import read

HEADER = ["Purpose", "Personal data", "Legal basis", "Retention"]
ROWS = [
    ["Processing your orders and delivering them to the address you give us",
     "Name, postal address, e-mail, order history", "Performance of a contract", "6 years after the order"],
    ["Sending our newsletter", "E-mail address", "Consent", "Until you unsubscribe"],
    ["Preventing fraud on payments", "Payment details, IP address, device identifiers and order history",
     "Legitimate interests", "13 months"],
    ["Keeping invoices and accounting records as the tax law requires", "Name, invoices", "Legal obligation",
     "10 years"],
    ["Answering your questions", "Name, e-mail, message", "Legitimate interests",
     "3 years after last contact"],
]
BASES = {"Performance of a contract": "contract", "Consent": "consent", "Legitimate interests":
         "legitimate_interests", "Legal obligation": "legal_obligation"}
# A second table of the same four columns under its own heading: not rows of the first.
RECIPIENTS = [["Recipient", "Country", "Safeguard", "Service"],
              ["Parcelway Ltd", "United Kingdom", "Adequacy decision", "Delivery"],
              ["Mailwise Inc.", "United States", "Standard contractual clauses", "E-mail sending"]]

STYLES: dict[str, dict[str, Any]] = {
    "ruled, reportlab's padding": {},
    "ruled, padded 6 pt": {"pad": 6},
    "ruled, padded 8 pt": {"pad": 8},
    "ruled, 10 pt cells padded 10 pt": {"font": 10, "leading": 12, "pad": 10},
    "no rules, padded 8 pt": {"pad": 8, "grid": False},
    "no rules, padded 4 pt": {"pad": 4, "grid": False},
    "ruled, centred vertically, padded 6 pt": {"pad": 6, "valign": "MIDDLE"},
    "over pages, header repeated, padded 6 pt": {"pad": 6, "repeat": 12},
}


def _table(rows: list[list[str]], cell: Any, pad: int | None, grid: bool, valign: str) -> Table:
    width = A4[0] - 4 * cm
    table = Table([[Paragraph(text, cell) for text in row] for row in rows],
                  colWidths=[width / len(rows[0])] * len(rows[0]), repeatRows=1)
    commands: list[tuple[Any, ...]] = [("VALIGN", (0, 0), (-1, -1), valign)]
    commands.append(("GRID", (0, 0), (-1, -1), 0.5, colors.grey) if grid
                    else ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black))
    if pad is not None:
        commands += [("TOPPADDING", (0, 0), (-1, -1), pad), ("BOTTOMPADDING", (0, 0), (-1, -1), pad)]
    table.setStyle(TableStyle(commands))
    return table


def write_notice(path: Path, font: int = 8, leading: float = 9.5, pad: int | None = None, grid: bool = True,
                 valign: str = "TOP", repeat: int = 1) -> list[list[str]]:
    """A notice with a table of activities in the given style; returns its rows."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    cell = body.clone("cell", fontSize=font, leading=leading)
    rows = [[f"{row[0]} ({n + 1})" if repeat > 1 else row[0], *row[1:]]
            for n in range(repeat) for row in ROWS]
    story: list[Flowable] = [
        Paragraph("Privacy notice", styles["Heading1"]),
        Paragraph("Brackenfold Ltd is the controller of your personal data. We use it as the table below "
                  "says.", body),
        _table([HEADER, *rows], cell, pad, grid, valign),
        Paragraph("Who we share your data with", styles["Heading2"]),
        _table(RECIPIENTS, cell, pad, grid, valign),
        Paragraph("Your rights", styles["Heading2"]),
        Paragraph("You may ask for access to your data at any time.", body),
    ]
    SimpleDocTemplate(str(path), pagesize=A4, invariant=True).build(story)
    return rows


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_padded_table_is_read_whole_row_by_row(tmp_path: Path, style: str) -> None:
    """Saw fail before the rule: ruled 8-point tables gave 1 of 5 rows, padded ones none."""
    rows = write_notice(tmp_path / "notice.pdf", **STYLES[style])
    document = read(tmp_path / "notice.pdf")
    pairs = {(_squash(a.purpose), a.legal_bases) for a in extract_activities(document, "en")}
    for purpose, _, basis, _ in rows:
        assert (purpose, (BASES[basis],)) in pairs, (style, purpose, sorted(pairs))
    assert len(pairs) == len(rows), sorted(pairs)  # the recipients' table adds no purpose
    headings = [b.text for b in document.headings]
    assert "Who we share your data with" in headings and "Your rights" in headings
    recipients = [t for t in document.tables if t.rows[0][0].text == "Recipient"]
    assert len(recipients) == 1 and len(recipients[0].rows) == len(RECIPIENTS), style


BULLETS = ["to administer your admission, registration and studies, which is necessary for the performance "
           "of our contract with you;",
           "to provide student support services, on the basis of your explicit consent;",
           "to report student data to the statistics agency, because we are required to do so by law;",
           "to monitor equality of opportunity, which is a task carried out in the public interest."]


def test_bullets_drawn_apart_from_their_text_are_items(tmp_path: Path) -> None:
    """reportlab draws a list's bullet apart from its text: pypdf's plain text gives the bullet a line
    of its own. Saw fail before: the items were read as paragraphs starting with the bullet, two of
    them run together, and the third purpose lost."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    items = [ListItem(Paragraph(text, body)) for text in BULLETS]
    story: list[Flowable] = [
        Paragraph("Student privacy notice", styles["Heading1"]),
        Paragraph("How we use your information", styles["Heading2"]),
        Paragraph("We process your personal data for the following purposes:", body),
        ListFlowable(items, bulletType="bullet", start="–"),
    ]
    SimpleDocTemplate(str(tmp_path / "notice.pdf"), pagesize=A4, invariant=True).build(story)
    document = read(tmp_path / "notice.pdf")
    assert [_squash(b.text) for b in document.blocks if b.kind == "item"] == BULLETS
    bases = {a.legal_bases for a in extract_activities(document, "en")}
    assert bases == {("contract",), ("consent",), ("legal_obligation",), ("public_task",)}
