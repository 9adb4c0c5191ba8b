"""Published documents: the Art. 30 register and the Art. 13/14 privacy notice.

Both are generated from the register only. Texts the register lacks in the
chosen language are shown in the language they exist in, never translated;
fields it leaves empty show a visible gap marker, never invented text.

    >>> from garde.documents import export_register, render_notice
    >>> export_register(register, "xlsx", "fr")   # bytes of a workbook
    >>> render_notice(register, "it", "html")     # a standalone page
"""

from __future__ import annotations

from datetime import date

from garde.documents.art30 import RegisterDocument, build_register
from garde.documents.formats import REGISTER_WRITERS
from garde.documents.notice import NOTICE_FORMATS, NoticeDocument, build_notice, notice_version, write_notice
from garde.problems import GardeError
from garde.register.model import Register
from garde.taxonomy import LANGS

REGISTER_FORMATS = tuple(REGISTER_WRITERS)


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise GardeError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")


def export_register(register: Register, fmt: str, lang: str, *, today: date | None = None) -> bytes:
    """The Art. 30 register as ``fmt`` (csv, xlsx, md, html, json) in ``lang``."""
    if fmt not in REGISTER_WRITERS:
        raise GardeError(f"unknown format {fmt!r}; expected one of {', '.join(REGISTER_FORMATS)}")
    _check_lang(lang)
    return REGISTER_WRITERS[fmt](build_register(register, lang, today))


def check_notice_request(lang: str, fmt: str) -> None:
    """A clear error for a notice format or language garde does not write."""
    if fmt not in NOTICE_FORMATS:
        raise GardeError(f"unknown format {fmt!r}; expected one of {', '.join(NOTICE_FORMATS)}")
    _check_lang(lang)


def render_notice(register: Register, lang: str, fmt: str = "html", *, today: date | None = None) -> str:
    """The Art. 13/14 privacy notice as ``fmt`` (html, md) in ``lang``; a draft says so in a banner."""
    check_notice_request(lang, fmt)
    return write_notice(build_notice(register, lang, today), fmt)


__all__ = [
    "NOTICE_FORMATS", "REGISTER_FORMATS", "NoticeDocument", "RegisterDocument", "build_notice",
    "build_register", "check_notice_request", "export_register", "notice_version", "render_notice",
    "write_notice",
]
