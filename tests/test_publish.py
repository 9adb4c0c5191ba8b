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
        "notice-fr.html", "lint.sarif", "lint-fr.html",
    ])
    workbook = openpyxl.load_workbook(tmp_path / "negomarkets" / "register-fr.xlsx")
    assert len(workbook.sheetnames) >= 2
    sarif = json.loads((tmp_path / "negomarkets" / "lint.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == len(publication.findings) > 0
    index = (tmp_path / "index.html").read_text()
    assert "negomarkets/notice-fr.html" in index


def test_demo_publishes_the_five_seed_registers(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--registers", str(REGISTERS),
                                      "--registers-only"])
    assert result.exit_code == 0, result.output
    for stem, lang in (("dior-couture", "fr"), ("online-shop", "fr"), ("negomarkets", "fr"),
                       ("net-a-porter", "it"), ("deskmanager", "fr")):
        assert (tmp_path / stem / f"notice-{lang}.html").stat().st_size > 1000
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


def test_a_register_is_published_only_in_the_languages_it_publishes(tmp_path: Path) -> None:
    """A register in one language publishes one notice (no English notice of French texts); the
    reference shop publishes the three it declares (``publishes_in``), each listed in the index."""
    publish([REGISTERS / "deskmanager.yaml", REGISTERS / "reference-shop.yaml"], tmp_path)
    assert sorted(p.name for p in (tmp_path / "deskmanager").glob("notice-*")) == ["notice-fr.html"]
    assert sorted(p.name for p in (tmp_path / "reference-shop").glob("notice-*")) == [
        "notice-en.html", "notice-fr.html", "notice-it.html"]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "deskmanager/notice-fr.html" in index
    assert "deskmanager/notice-en.html" not in index and "deskmanager/notice-it.html" not in index
    assert all(f"reference-shop/notice-{lang}.html" in index for lang in ("fr", "en", "it"))


def test_a_published_language_the_register_lacks_texts_in_is_marked_and_linted(tmp_path: Path) -> None:
    """A register that declares a language it has no texts in still publishes that notice, each
    missing text marked untranslated (counted in the index) and named by a lint finding (GL090)."""
    source = tmp_path / "registers" / "negomarkets.yaml"
    source.parent.mkdir()
    text = (REGISTERS / "negomarkets.yaml").read_text(encoding="utf-8")
    source.write_text(text.replace("language: fr\n", "language: fr\npublishes_in: [fr, it]\n", 1),
                      encoding="utf-8")
    (publication,) = publish([source.parent], tmp_path / "out")
    folder = tmp_path / "out" / "negomarkets"
    assert sorted(p.name for p in folder.glob("notice-*")) == ["notice-fr.html", "notice-it.html"]
    assert "[non tradotto]" in (folder / "notice-it.html").read_text(encoding="utf-8")
    assert publication.drafts["it"].untranslated > 0
    assert any(f.code == "GL090" for f in publication.findings)
    assert "GL090" in (folder / "lint-fr.html").read_text(encoding="utf-8")
