"""What a real spreadsheet makes of garde's cells: LibreOffice Calc, where it is installed.

``soffice --headless`` opens a CSV (UTF-8, its "trim spaces" option on: the stricter import)
and an XLSX that garde wrote, and saves them as flat OpenDocument, where a formula is an
attribute of its cell. A control column written without garde's neutraliser shows that the
harness sees formulas: LibreOffice 7.4 runs ``=1+1`` and, with spaces trimmed, `` =1+1``. It runs
none of the look-alike signs (U+FF1D, FE66, FF0B, FF0D, FF20…), nor a sign behind a tab, a
no-break or ideographic space or a zero-width character: garde quotes those anyway
(docs/security.md says why). One conversion of each file: a few seconds.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import Workbook

from garde.documents.spreadsheet import spreadsheet_text
from garde.documents.xlsx import append_row

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed "
                                "(apt-get install libreoffice-calc-nogui)")
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
SIGNS = "=+-@\uff1d\ufe66\uff0b\ufe62\uff0d\ufe63\uff20\ufe6b\u207a\u208c"
BEFORE = ["", " ", "  ", "\t", "\u00a0", "\u3000", "\u200b", "\ufeff", "\n"]
CELLS = [before + sign + body for before in BEFORE for sign in SIGNS
         for body in ("1+1", 'HYPERLINK("http://evil.example/";"x")')]
# CSV's own separator (";" in LibreOffice's function syntax) keeps HYPERLINK's arguments in one cell.


def _formulas(document: Path) -> dict[int, list[str]]:
    """Each column's formulas in the first sheet of a flat OpenDocument file, by column index."""
    found: dict[int, list[str]] = {}
    for row in ElementTree.parse(document).getroot().iter(f"{{{TABLE}}}table-row"):
        for column, cell in enumerate(row.findall(f"{{{TABLE}}}table-cell")):
            if formula := cell.get(f"{{{TABLE}}}formula"):
                found.setdefault(column, []).append(formula)
    return found


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One LibreOffice profile for the module (making one costs seconds), none of the user's."""
    return tmp_path_factory.mktemp("libreoffice-profile")


def _opened(path: Path, profile: Path, *options: str) -> dict[int, list[str]]:
    assert SOFFICE is not None
    out = path.parent / "out"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    *options, "--convert-to", "fods", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    return _formulas(out / (path.stem + ".fods"))


def test_libreoffice_runs_none_of_the_cells_garde_writes_to_csv(tmp_path: Path, profile: Path) -> None:
    path = tmp_path / "cells.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)  # the control column must stay raw: not garde's CsvWriter
        writer.writerows([cell, spreadsheet_text(cell)] for cell in CELLS)
    formulas = _opened(path, profile, "--infilter=CSV:44,34,76,1,,0,false,true,false,false,true")
    assert "of:=1+1" in formulas.get(0, []), formulas  # the harness sees a formula when there is one
    assert formulas.get(1, []) == []


def test_libreoffice_reads_garde_s_xlsx_cells_as_text(tmp_path: Path, profile: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for cell in CELLS:
        append_row(sheet, [cell])
    sheet.cell(row=1, column=2, value="=1+1")  # openpyxl's own formula: the harness sees one
    path = tmp_path / "cells.xlsx"
    workbook.save(path)
    assert _opened(path, profile) == {1: ["of:=1+1"]}
