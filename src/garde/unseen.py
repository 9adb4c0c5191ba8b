"""Text that reads as other than it holds: bidirectional controls and invisible characters.

A value may hold characters a reader does not see but that change what they read: U+202E (RIGHT-TO-LEFT
OVERRIDE) shows ``gro.elpmaxe@bob`` as ``bob@example.org``, an override or isolate left open (U+202A –
U+202E, U+2066 – U+2069) reorders the text after it (the amount beside an address), U+200E / U+200F
and U+061C (the directional marks) move neighbouring digits and signs, and a zero-width space, a word
joiner or a tag character (U+E0000 – U+E007F, invisible: "ASCII smuggling") makes two different values
look alike. Who reads decides what garde does (docs/security.md, "What garde writes cannot attack its
reader"):

- In HTML (the access report, the dashboard, the privacy center) each value a person reads is put in
  its own ``<bdi>`` (:func:`isolated`): whatever it holds reorders only itself, never the words,
  dates or amounts around it; its text is unchanged (escaped as before), so a name in Arabic or Hebrew
  reads as written.
- In the CSV files staff open (audiences, decisions), every such character is written as a visible
  escape, ``\\u202e`` (:func:`shown_text`): the cell cannot read as another value. A subject's
  portability file is theirs as held (nothing escaped), and a register's documents are the DPO's own
  text, written as the register says.
- In JSON staff read (``garde audit export``, ``--format json``) they are JSON's own ``\\u`` escapes:
  the same data for any JSON reader (:func:`json_escaped`).

The zero-width joiner and non-joiner (U+200C, U+200D) are kept everywhere: Persian, the Indic scripts
and emoji sequences need them, and they join or part letters rather than reorder or hide text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

#: Kept as they are: they shape letters in Persian and the Indic scripts, and join emoji.
JOINERS = frozenset("\u200c\u200d")


def _unseen(character: str) -> bool:
    """Whether ``character`` is a format character (Unicode ``Cf``: the bidirectional marks,
    embeddings, overrides and isolates, zero-width spaces, tags) or a control character other
    than tab, line feed and carriage return, and not one of :data:`JOINERS`."""
    if character in JOINERS or character in "\t\n\r":
        return False
    return unicodedata.category(character) in ("Cf", "Cc")


#: The ASCII ones (most text is ASCII: one scan, no look-up per character).
_ASCII_UNSEEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _visible(code: int) -> str:
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json(code: int) -> str:
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes a character beyond the BMP as its UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _written(text: str, how: Callable[[int], str]) -> str:
    if text.isascii():
        return _ASCII_UNSEEN.sub(lambda match: how(ord(match.group())), text)
    return "".join(how(ord(c)) if _unseen(c) else c for c in text)


def shown_text(text: str) -> str:
    """``text`` with every unseen character written as a visible escape (``\\u202e``, ``\\U000e0041``)."""
    return _written(text, _visible)


def has_unseen(text: str) -> bool:
    """Whether ``text`` holds a character :func:`shown_text` escapes."""
    return any(_unseen(c) for c in text)


def json_escaped(text: str) -> str:
    """JSON ``text`` (as ``json.dumps`` writes it) with every unseen character as a ``\\u`` escape: the
    same JSON. Only inside strings can such characters be (JSON's own syntax is ASCII)."""
    return _written(text, _json)


def isolated(value: Any) -> Markup:
    """``value`` as HTML text (escaped), in its own ``<bdi>``: a bidirectional control in it reorders
    only itself. ``None`` is an empty ``<bdi>``."""
    return Markup("<bdi>%s</bdi>") % ("" if value is None else escape(value))
