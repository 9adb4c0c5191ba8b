"""Terms the vocabulary lacks, written in the register's own words.

A register may name a data subject, a data category, a recipient kind or a source
that no vocabulary term fits (``{other: "Copropriétaires"}``, or a ``{fr:, en:, it:}``
map). Such a term is published exactly as written, never under the label of a
neighbouring term: a DPO's "Copropriétaires" must not become "Customers". Lint reports
it as information (GL080), with the vocabulary term whose words match, if any, as a
suggestion only.

A :class:`FreeTerm` is a ``str`` (its wording in the first language written) so that
code comparing term ids keeps working: it simply matches no id.
"""

from __future__ import annotations

import re
from typing import Any

Wording = str | dict[str, str]


def is_text_map(value: Any) -> bool:
    """A ``{fr: ..., en: ...}`` text rather than a mapping of fields (whose typos are then reported)."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and re.fullmatch(r"[a-z]{2}", k) and isinstance(v, str) for k, v in value.items())


class FreeTerm(str):
    """A term in the register's own words: ``{other: <text or {fr:, en:, it:} map>}``."""

    wording: Wording

    def __new__(cls, wording: Wording) -> FreeTerm:
        first = wording if isinstance(wording, str) else next(iter(wording.values()), "")
        term = super().__new__(cls, first)
        term.wording = wording
        return term

    def __reduce__(self) -> tuple[type[FreeTerm], tuple[Wording]]:
        return (FreeTerm, (self.wording,))

    def text(self, lang: str) -> str:
        """The wording in ``lang`` when the register gives it, else as first written (never translated)."""
        if isinstance(self.wording, str):
            return self.wording
        return self.wording.get(lang) or str(self)

    def lang_of(self, lang: str, register_lang: str) -> str:
        """The language :meth:`text` is really in."""
        if isinstance(self.wording, str):
            return register_lang
        return lang if lang in self.wording else next(iter(self.wording))

    def to_data(self) -> dict[str, Wording]:
        return {"other": self.wording}


def read_term(value: Any) -> str:
    """A vocabulary id as written, or ``{other: ...}`` as a :class:`FreeTerm`; a ValueError otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"other"}:
        wording = value["other"]
        if (isinstance(wording, str) and wording.strip()) or (
                is_text_map(wording) and any(v.strip() for v in wording.values())):
            return FreeTerm(wording)
        raise ValueError("`other` holds the register's own words: a text or a {fr:, en:, it:} map")
    raise ValueError("expected a vocabulary id, or {other: <the register's own words>} "
                     "for a term the vocabulary lacks")


def show_term(value: str) -> Any:
    """How a term is written back: its id, or ``{other: ...}``."""
    return value.to_data() if isinstance(value, FreeTerm) else str(value)
