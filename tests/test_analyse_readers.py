"""The readers: every format made into a Document whose blocks are verbatim pieces of its text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garde.analyse.document import Document
from garde.analyse.readers import read, read_bytes
from garde.problems import GardeError
from tests.analyse_support import write_docx, write_pdf, write_scanned_pdf


def assert_verbatim(document: Document) -> None:
    for block in document.blocks:
        assert document.text[block.start:block.start + len(block.text)] == block.text


def kinds(document: Document) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in document.blocks]


def test_markdown_headings_items_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text("# Vos droits\n\nVous pouvez demander l'accès.\n\n- rectification\n- effacement\n\n"
                    "| Finalité | Base |\n|---|---|\n| Newsletter | Consentement |\n", encoding="utf-8")
    document = read(path)
    assert ("heading", "Vos droits") in kinds(document)
    assert ("item", "effacement") in kinds(document)
    assert document.tables[0].header == ("Finalité", "Base")
    assert_verbatim(document)


def test_html_keeps_the_notice_and_drops_scripts_styles_and_navigation(tmp_path: Path) -> None:
    path = tmp_path / "notice.html"
    path.write_text(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<nav><a href=/>Home</a> <a href=/shop>Shop</a></nav><header>Site menu</header>"
        "<main><h1>Privacy notice</h1><p>We are <b>Acme&nbsp;Ltd</b>, the data controller.</p>"
        "<h2>Your rights</h2><ul><li>Access</li><li>Erasure <ul><li>in some cases</li></ul></li></ul>"
        "<table><tr><th>Purpose</th><th>Legal basis</th></tr>"
        "<tr><td>Orders</td><td>Contract</td></tr></table>"
        "<script>var secret = 'do not read';</script></main><footer>© Acme</footer></body></html>",
        encoding="utf-8")
    document = read(path)
    assert ("heading", "Privacy notice") in kinds(document)
    assert ("heading", "Your rights") in [(b.kind, b.text) for b in document.headings]
    assert ("paragraph", "We are Acme Ltd, the data controller.") in kinds(document)
    assert ("item", "Access") in kinds(document) and ("item", "in some cases") in kinds(document)
    assert [[c.text for c in row] for row in document.tables[0].rows] == [["Purpose", "Legal basis"],
                                                                          ["Orders", "Contract"]]
    for boilerplate in ("do not read", "color:red", "Home", "Site menu", "© Acme"):
        assert boilerplate not in document.text
    assert_verbatim(document)


def test_html_entities_are_html_s_own_only(tmp_path: Path) -> None:
    """An HTML5 parser: a DOCTYPE's internal subset defines nothing, no entity is expanded from it."""
    path = tmp_path / "evil.html"
    path.write_text('<!DOCTYPE html [<!ENTITY boom "BOOMBOOMBOOM">]><p>a &boom; b &amp; c</p>',
                    encoding="utf-8")
    document = read(path)
    assert "BOOMBOOMBOOM" not in document.text
    assert "&" in document.text


@pytest.mark.parametrize("suffix", [".tsv", ".tab"])
def test_a_register_exported_as_tab_separated_values_is_read_as_a_table(tmp_path: Path, suffix: str) -> None:
    """A register saved from a spreadsheet as tab-separated values (.tsv) is text with tab tables."""
    path = tmp_path / f"register{suffix}"
    path.write_text("Purpose\tLegal basis\tRetention\nPayroll\tLegal obligation\t6 years\n", encoding="utf-8")
    document = read(path)
    assert [[c.text for c in row] for row in document.tables[0].rows] == [
        ["Purpose", "Legal basis", "Retention"], ["Payroll", "Legal obligation", "6 years"]]
    assert_verbatim(document)


def test_docx_headings_list_items_paragraphs_and_tables(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "notice.docx", "Informativa privacy",
                      ["Il titolare del trattamento è Quieta S.r.l."],
                      ["diritto di accesso", "diritto di rettifica"],
                      [["Finalità", "Base giuridica"], ["Prenotazioni", "Contratto"]])
    document = read(path)
    assert document.headings[0].text == "Informativa privacy"
    assert ("paragraph", "Il titolare del trattamento è Quieta S.r.l.") in kinds(document)
    assert ("item", "diritto di rettifica") in kinds(document)
    assert document.tables[0].header == ("Finalità", "Base giuridica")
    assert_verbatim(document)


def test_pdf_text_layer_page_by_page_with_lines_joined_into_paragraphs(tmp_path: Path) -> None:
    long = ("We keep your order data for ten years after the sale, as the commercial code requires, and "
            "your account data until you close your account, then we delete it within thirty days.")
    path = write_pdf(tmp_path / "notice.pdf", [("How long we keep your data", [long]),
                                                ("Your rights", ["You may ask for access to your data."])],
                     pages=2)
    document = read(path)
    assert [h.text for h in document.headings][:2] == ["How long we keep your data", "Your rights"]
    assert long in [b.text for b in document.blocks]  # the layout's line breaks are gone
    assert len([b for b in document.blocks if b.text == long]) == 2  # one per page
    assert_verbatim(document)


def test_a_pdf_without_a_text_layer_is_said_to_be_one(tmp_path: Path) -> None:
    with pytest.raises(GardeError, match="no text layer"):
        read(write_scanned_pdf(tmp_path / "scan.pdf"))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notice.odt", b"x", "cannot read .odt"),
    ("notice.pdf", b"%PDF-1.4 not really", "not a readable PDF"),
    ("notice.docx", b"not a zip", "not a DOCX file"),
    ("notice.txt", b"\x00\x01\x02binary", "binary file"),
])
def test_unreadable_or_unsupported_input_is_a_clear_error_naming_the_file(
        tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(GardeError, match=message) as raised:
        read(path)
    assert name in str(raised.value)


def test_input_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000, encoding="utf-8")
    with pytest.raises(GardeError, match="more than garde analyse reads"):
        read(path, max_bytes=1000)
    with pytest.raises(GardeError, match="cannot read it"):
        read(tmp_path / "missing.txt")


def test_a_docx_that_would_unpack_too_large_is_refused_before_it_is_inflated() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/document.xml", b"\x00" * (101 * 1024 * 1024))  # deflates to ~100 kB
    with pytest.raises(GardeError, match="unpacks to"):
        read_bytes(buffer.getvalue(), ".docx", "bomb.docx")


_FRAGMENTS = st.sampled_from([
    "<p>", "</p>", "<h2>", "</h2>", "<ul><li>", "</li></ul>", "<table><tr><td>", "</td><td>",
    "</td></tr></table>",
    "<br>", "<b>", "</b>", "<script>x</script>", "<nav>menu</nav>", "&amp;", "&nbsp;", "\u00a0", "\t", "\n",
    "Vos droits", "droit d'accès", "privacy@acme.example", "Ünïcödé ’", "  ", "<", ">", "<!-- c -->",
])


@settings(max_examples=100, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=40).map("".join))
def test_every_html_block_is_a_verbatim_piece_of_the_document_text(html: str) -> None:
    document = read_bytes(html.encode("utf-8"), ".html", "fuzz.html")
    assert_verbatim(document)
    for table in document.tables:
        for row in table.rows:
            for cell in row:
                assert document.text[cell.start:cell.start + len(cell.text)] == cell.text


def test_a_docx_s_entities_are_not_expanded(tmp_path: Path) -> None:
    """An entity declared in a DOCX part (a billion-laughs or an external file) is never expanded."""
    path = write_docx(tmp_path / "plain.docx", "Title", ["PLACEHOLDER"], [])
    evil = tmp_path / "evil.docx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>", b"").replace(
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', b"")
                data = (b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE w:document ['
                        b'<!ENTITY boom "BOOMBOOMBOOM"><!ENTITY file SYSTEM "file:///etc/passwd">]>'
                        + data.replace(b"PLACEHOLDER", b"a &boom; &file; b"))
            target.writestr(item, data)
    try:
        document = read(evil)
    except GardeError:
        return  # refused outright: nothing expanded either
    assert "BOOMBOOMBOOM" not in document.text and "root:" not in document.text
