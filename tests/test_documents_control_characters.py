"""A register text holding a control character still publishes, in every format, on every edge.

YAML's double-quoted escapes (``"\\x01"``, ``"\\v"``) put C0 control characters in a register's texts
(a register imported from another tool, a draft ``garde analyse`` quoted from a document). XML 1.0
cannot carry them, so openpyxl refused the cell: ``garde register export --format xlsx`` ended in a
traceback and ``GET /api/v1/registers/{id}/documents/register-en.xlsx`` in a 500. Each such character
is now written as U+FFFD in the workbook (visible, never silently dropped) and kept as it is
elsewhere.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import export_register
from garde.documents.xlsx import xlsx_text
from garde.register import load_register
from tests.api_support import api_client, bearer
from tests.conftest import REGISTERS

CONTROLS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")


def _hostile(folder: Path) -> Path:
    """The reference shop's register, its controller named with control characters."""
    text = (REGISTERS / "reference-shop.yaml").read_text(encoding="utf-8")
    assert "  name: Maison Exemple SAS\n" in text
    path = folder / "control.yaml"
    path.write_text(text.replace("  name: Maison Exemple SAS\n",
                                 '  name: "Maison\\x01Exemple\\vSAS\\x1f"\n', 1), encoding="utf-8")
    return path


def _cells(workbook: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(workbook))
    return [str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def test_every_format_of_a_register_with_control_characters_is_written(tmp_path: Path) -> None:
    register = load_register(_hostile(tmp_path))
    assert register.controller.name == "Maison\x01Exemple\x0bSAS\x1f"
    for fmt in ("csv", "md", "html", "json", "xlsx"):
        assert export_register(register, fmt, "en")
    cells = _cells(export_register(register, "xlsx", "en"))
    assert "Maison\ufffdExemple\ufffdSAS\ufffd" in cells
    assert not [cell for cell in cells if any(c in CONTROLS for c in cell)]


def test_the_cli_and_the_api_publish_it(tmp_path: Path, sqlite_url: str) -> None:
    path = _hostile(tmp_path)
    out = tmp_path / "register.xlsx"
    result = CliRunner().invoke(app, ["register", "export", str(path), "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Maison\ufffdExemple\ufffdSAS\ufffd" in _cells(out.read_bytes())
    folder = tmp_path / "registers"
    folder.mkdir()
    shutil.copy(path, folder / "control.yaml")
    with api_client(sqlite_url, registers=folder) as (client, keys):
        answer = client.get("/api/v1/registers/control/documents/register-en.xlsx",
                            headers=bearer(keys["auditor"]))
        assert answer.status_code == 200, answer.text
        assert "Maison\ufffdExemple\ufffdSAS\ufffd" in _cells(answer.content)


@given(st.text())
def test_any_text_goes_in_a_cell_unchanged_but_for_what_xml_cannot_carry(text: str) -> None:
    written = xlsx_text(text)
    assert len(written) == len(text)
    assert all(w == t or (t in CONTROLS and w == "\ufffd") for w, t in zip(written, text, strict=True))
