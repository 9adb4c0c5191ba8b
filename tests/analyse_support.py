"""Files in every format the analyser reads, written by the libraries that make them (python-docx,
reportlab), so the readers are tested on real DOCX and PDF files, not on strings."""

from __future__ import annotations

from pathlib import Path

import docx
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import ListFlowable, ListItem, PageBreak, Paragraph, SimpleDocTemplate, Spacer


def write_docx(path: Path, heading: str, paragraphs: list[str], items: list[str],
               table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    for text in items:
        document.add_paragraph(text, style="List Bullet")
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    document.save(str(path))
    return path


def write_pdf(path: Path, sections: list[tuple[str, list[str]]], pages: int = 1) -> Path:
    """A PDF with a text layer: each page holds every section (a heading, then its paragraphs)."""
    styles = getSampleStyleSheet()
    story: list[object] = []
    for page in range(pages):
        for heading, paragraphs in sections:
            story.append(Paragraph(heading, styles["Heading2"]))
            for text in paragraphs:
                if text.startswith("- "):
                    story.append(ListFlowable([ListItem(Paragraph(text[2:], styles["BodyText"]))],
                                              bulletType="bullet"))
                else:
                    story.append(Paragraph(text, styles["BodyText"]))
                story.append(Spacer(1, 6))
        if page + 1 < pages:
            story.append(PageBreak())
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def write_scanned_pdf(path: Path) -> Path:
    """A PDF whose page is only drawing (as a scan is only an image): no text layer."""
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path), pagesize=A4)
    page.rect(100, 100, 300, 400, fill=1)
    page.showPage()
    page.save()
    return path
