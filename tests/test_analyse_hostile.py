"""``garde analyse`` on hostile input: bounded time and memory, a clear error naming the file, never a
traceback. The documents here are small files built to cost a reader much: a device or a FIFO
named like a notice, HTML nested a hundred thousand deep, PDF streams that inflate to hundreds of
megabytes or pages whose text operators take minutes to interpret."""

from __future__ import annotations

import os
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garde.analyse.readers import read
from garde.cli import app
from garde.problems import GardeError
from tests.analyse_support import write_docx


def _pdf(contents: list[bytes]) -> bytes:
    """A PDF whose pages have these content streams (Flate-compressed), with Helvetica as F1."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(len(contents)))
               + b"] /Count %d >>" % len(contents)]
    for i, content in enumerate(contents):
        packed = zlib.compress(content, 9)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources "
                       b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
                       % (4 + 2 * i))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed
                       + b"\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


TEXT = b"BT /F1 12 Tf 72 720 Td (Privacy notice of the shop. We keep your orders ten years.) Tj ET\n"


def test_a_small_pdf_built_here_is_read(tmp_path: Path) -> None:
    """The builder's PDFs are readable: what the tests below refuse is their size, not their form."""
    path = tmp_path / "notice.pdf"
    path.write_bytes(_pdf([TEXT, TEXT]))
    assert "ten years" in read(path).text


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_device_a_fifo_or_a_folder_named_like_a_notice_is_refused_without_reading_it(
        tmp_path: Path, kind: str) -> None:
    """``/dev/zero`` reports a size of 0 and never ends; a FIFO blocks whoever opens it for reading."""
    path = tmp_path / "notice.txt"
    if kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    with pytest.raises(GardeError, match="not a regular file") as raised:
        read(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("tag", ["div", "b", "span", "section"])
def test_html_nested_far_deeper_than_any_notice_is_refused(tmp_path: Path, tag: str) -> None:
    """An HTML5 tree builder looks through the open elements at each tag (quadratic in the depth), and
    the reader walks the tree recursively: 100,000 levels took minutes, or ended in a RecursionError."""
    path = tmp_path / "notice.html"
    depth = 100_000
    path.write_text(f"<html><body>{f'<{tag}>' * depth}Privacy notice{f'</{tag}>' * depth}</body></html>",
                    encoding="utf-8")
    with pytest.raises(GardeError, match="nested") as raised:
        read(path)
    assert "notice.html" in str(raised.value)


def test_html_as_notices_write_it_is_not_taken_for_deep_nesting(tmp_path: Path) -> None:
    """Elements whose end tag HTML lets one leave out (p, li, td...) and void elements (br, img) do not
    nest, however many a notice has."""
    path = tmp_path / "notice.html"
    items = "".join(f"<li>purpose {n}<br><img src=x.png><p>kept {n} years" for n in range(5000))
    rows = "".join(f"<tr><td>data {n}<td>basis {n}" for n in range(5000))
    path.write_text(f"<html><body><div><ul>{items}</ul><table>{rows}</table></div>", encoding="utf-8")
    document = read(path)
    assert "purpose 4999" in document.text and "basis 4999" in document.text


def test_a_pdf_stream_that_inflates_past_the_limit_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_pdf([TEXT + b" " * 200_000_000]))  # 200 MB of content in about 200 kB
    assert path.stat().st_size < 1_000_000
    with pytest.raises(GardeError, match=r"bomb\.pdf: more than garde analyse reads"):
        read(path)


def test_a_pdf_whose_text_operators_would_take_minutes_is_refused(tmp_path: Path) -> None:
    """Five megabytes of text operators on one page compress to a few kilobytes; pypdf interprets
    them in over a minute."""
    path = tmp_path / "slow.pdf"
    path.write_bytes(_pdf([b"BT /F1 12 Tf 72 720 Td " + b"(Privacy notice words) Tj 0 -14 Td\n" * 140_000
                           + b"ET\n"]))
    assert path.stat().st_size < 100_000
    with pytest.raises(GardeError, match=r"slow\.pdf: more than garde analyse reads"):
        read(path)


def test_the_command_says_so_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "notice.html"
    path.write_text("<b>" * 100_000, encoding="utf-8")
    result = CliRunner().invoke(app, ["analyse", str(path), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "nested" in result.output


def _docx_with_body(tmp_path: Path, name: str, body: str, styles: int = 0) -> Path:
    """A DOCX built here whose body is ``body``, with ``styles`` extra paragraph styles."""
    source = write_docx(tmp_path / "plain.docx", "Title", ["PLACEHOLDER"], [])
    path = tmp_path / name
    with zipfile.ZipFile(source) as plain, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in plain.infolist():
            data = plain.read(info.filename)
            if info.filename == "word/document.xml":
                head = data.decode().partition("<w:body>")[0]
                data = f"{head}<w:body>{body}<w:sectPr/></w:body></w:document>".encode()
            elif info.filename == "word/styles.xml" and styles:
                extra = "".join(f'<w:style w:type="paragraph" w:styleId="S{i}"><w:name w:val="S{i}"/>'
                                "</w:style>" for i in range(styles))
                data = data.replace(b"</w:styles>", extra.encode() + b"</w:styles>")
            target.writestr(info.filename, data)
    return path


def test_a_small_docx_of_countless_paragraphs_is_read_or_refused_in_seconds(tmp_path: Path) -> None:
    """A 60 kB DOCX of 300,000 empty paragraphs (10 MB of XML, well under the unpacked limit) held
    ``garde analyse`` for more than five minutes: python-docx looked each paragraph's style up among
    all the styles, three times. Now a style is looked up once per style id, and a document of more
    paragraphs than any notice has is refused, naming the file, before its paragraphs are read."""
    paragraph = "<w:p><w:r><w:t>a</w:t></w:r></w:p>"
    path = _docx_with_body(tmp_path, "flood.docx", paragraph * 300_000, styles=2_000)
    assert path.stat().st_size < 200_000
    started = time.process_time()
    with pytest.raises(GardeError, match=r"flood\.docx: .*paragraphs"):
        read(path)
    assert time.process_time() - started < 20
    styled = '<w:p><w:pPr><w:pStyle w:val="S7"/></w:pPr><w:r><w:t>a</w:t></w:r></w:p>'
    path = _docx_with_body(tmp_path, "styled.docx", styled * 5_000, styles=2_000)
    started = time.process_time()
    assert len(read(path).blocks) == 5_000
    assert time.process_time() - started < 20


def test_a_docx_whose_xml_part_is_larger_than_any_notice_s_is_refused_before_it_is_parsed(
        tmp_path: Path) -> None:
    """python-docx holds a parsed part in memory at about 25 times its size: a document part of
    100 MB (under the whole package's limit) took gigabytes."""
    paragraph = "<w:p><w:r><w:t>" + "a" * 1_000 + "</w:t></w:r></w:p>"
    path = _docx_with_body(tmp_path, "huge.docx", paragraph * 40_000)
    with pytest.raises(GardeError, match=r"huge\.docx: .*word/document\.xml"):
        read(path)


@pytest.mark.parametrize("body", ["<w:p><w:r><w:t>" + "a" * 11_000_000 + "</w:t></w:r></w:p>",
                                  "<w:p><w:r><w:t>cut short</w:r></w:p>"], ids=["long-text", "malformed"])
def test_a_docx_whose_xml_lxml_refuses_is_a_clear_error(tmp_path: Path, body: str) -> None:
    """lxml's refusals (a text node over its 10 MB limit, a tag never closed) went up as tracebacks."""
    result = CliRunner().invoke(app, ["analyse", str(_docx_with_body(tmp_path, "bad.docx", body))])
    assert result.exit_code == 2, result.output
    assert "bad.docx" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("name", "content"), [("flood.txt", "a\n\n" * 200_000),
                                               ("flood.html", "<p>a</p>" * 300_000)])
def test_a_text_or_html_notice_of_countless_tiny_paragraphs_is_refused_before_it_is_analysed(
        tmp_path: Path, name: str, content: str) -> None:
    """200,000 one-letter paragraphs in 600 kB of text took the analyser 29 s of CPU (HTML: 32 s),
    and the 20 MB limit let 30 times that through: minutes. A notice has a few thousand lines."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    started = time.process_time()
    with pytest.raises(GardeError, match=rf"{name}: .*more than garde analyse reads in a notice"):
        read(path)
    assert time.process_time() - started < 5
