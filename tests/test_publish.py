"""`garde demo` publishes every register: lint SARIF, Art. 30 registers, notices, an index."""

import json
import re
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from garde.cli import app
from garde.publish import publish

from .conftest import REGISTERS


def test_publish_writes_every_document_of_a_register(tmp_path: Path) -> None:
    (publication,) = publish([REGISTERS / "negomarkets.yaml"], tmp_path)
    names = sorted(f.name for f in publication.files)
    assert names == sorted([
        "register-fr.xlsx", "register-fr.html", "register-fr.csv", "register-fr.json", "register-fr.md",
        "notice-fr.html", "notice-en.html", "notice-it.html", "lint.sarif", "lint-fr.html",
    ])
    workbook = openpyxl.load_workbook(tmp_path / "negomarkets" / "register-fr.xlsx")
    assert len(workbook.sheetnames) >= 2
    sarif = json.loads((tmp_path / "negomarkets" / "lint.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == len(publication.findings) > 0
    assert "negomarkets/notice-it.html" in (tmp_path / "index.html").read_text()


def test_demo_publishes_the_five_seed_registers(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--registers", str(REGISTERS),
                                      "--registers-only"])
    assert result.exit_code == 0, result.output
    for stem in ("dior-couture", "online-shop", "negomarkets", "net-a-porter", "deskmanager"):
        assert (tmp_path / stem / "notice-fr.html").stat().st_size > 1000
    assert (tmp_path / "index.html").exists()
    assert str(tmp_path / "index.html") in result.output.replace("\n", "")


def test_index_links_stay_relative_whatever_the_register_file_is_called(tmp_path: Path) -> None:
    """A register file named like a URL scheme must not become a javascript: link in the index."""
    hostile = tmp_path / "registers" / "javascript:alert(1).yaml"
    hostile.parent.mkdir()
    hostile.write_text((REGISTERS / "negomarkets.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    publish([hostile.parent], tmp_path / "out")
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', index)
    assert hrefs and not [href for href in hrefs if ":" in href.split("/")[0]]
    assert "javascript%3Aalert%281%29/notice-fr.html" in hrefs


def test_the_index_is_a_page_like_the_other_documents_and_escapes_what_registers_say(tmp_path: Path) -> None:
    """The index is rendered from a template: viewport, language, and a controller's name as text."""
    hostile = tmp_path / "registers" / "shop.yaml"
    hostile.parent.mkdir()
    text = (REGISTERS / "negomarkets.yaml").read_text(encoding="utf-8")
    hostile.write_text(text.replace("name: NEGOMARKETS", 'name: "<script>alert(1)</script>"', 1),
                       encoding="utf-8")
    publish([hostile.parent], tmp_path / "out")
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert '<meta name="viewport"' in index and '<html lang="en">' in index
    assert "<script>" not in index and "&lt;script&gt;alert(1)&lt;/script&gt;" in index
