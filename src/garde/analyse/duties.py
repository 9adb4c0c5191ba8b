"""Duties named one after the other (issue 16, round 22): "The law obliges us to keep accounting records
of every charge paid, and to answer requests from the police", "La loi nous oblige à tenir le registre
des procès-verbaux et à conserver les factures", "La legge ci impone di emettere la fattura e di
trasmetterne i dati": each duty is a purpose of its own (GDPR Art. 6(1)(c): every processing the law
requires), with the basis the sentence or its paragraph states. The words are structure.yaml's
`duty_leads` and `duty_marks`."""

from __future__ import annotations

import re
from functools import lru_cache

from garde.analyse.subjects import _fold
from garde.analyse.units import Chunk, Unit
from garde.analyse.wording import load_structure, sentences

#: Fewest letters of a duty's own words: "and to X" with a shorter tail names no duty of its own.
DUTY_WORDS = 3

#: The word after "and to" that is no verb ("and to the police", "et à la CAF", "e a tutti"): no duty.
_NOT_VERBS = frozenset({
    "the", "a", "an", "our", "your", "their", "its", "his", "her", "this", "these", "those", "any",
    "all", "each", "every", "other", "them", "us", "you", "whom", "which", "la", "le", "les", "l", "un",
    "une", "des", "du", "nos", "notre", "vos", "votre", "leur", "leurs", "ses", "son", "sa", "ce",
    "cette", "ces", "tout", "tous", "toute", "toutes", "il", "lo", "i", "gli", "una", "uno", "nostri",
    "nostro", "nostra", "nostre", "suoi", "suo", "sua", "sue", "tuoi", "tuo", "tua", "tue", "questo",
    "questa", "tutti", "tutte", "chi", "cui"
})
_AND = {"fr": ("et",), "en": ("and", "as well as"), "it": ("e", "ed", "nonche")}


@lru_cache(maxsize=8)
def _patterns(language: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    structure = load_structure()
    leads = structure.words(structure.duty_leads, language)
    marks = structure.words(structure.duty_marks, language)
    ands = _AND.get(language, tuple(w for words in _AND.values() for w in words))
    if not leads or not marks:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(leads, key=len, reverse=True))
    mark = "|".join(re.escape(w) for w in sorted(marks, key=len, reverse=True))
    joint = "|".join(re.escape(w) for w in ands)
    lead = re.compile(rf"(?<!\w)(?:{alternatives})\s+(?:{mark})(?:\s+|(?<=')\s*)(\w+)")
    second = re.compile(rf",?\s+(?:{joint})\s+((?:{mark})(?:\s+|(?<=')\s*)(\w+))")
    return lead, second


def duty_spans(text: str, language: str) -> list[tuple[int, int]]:
    """The (start, end) of each duty of the first sentence of ``text`` naming two or more one after the
    other ("... obliges us to A, and to B"); empty when it names one or none. The first span runs from
    the text's start (its subject: "The law obliges us to A"), the last to the text's end (the basis
    that may follow: "...; both rest on a legal obligation")."""
    patterns = _patterns(language)
    if patterns is None:
        return []
    lead, second = patterns
    if lead.search(_fold(text)) is None:  # most purposes name no duty: one search, no sentence split
        return []
    folded = _fold(text)
    for a, b in sentences(text):
        found = lead.search(folded, a, b)
        if found is None or found.group(1) in _NOT_VERBS:
            continue
        cuts = [m for m in second.finditer(folded, found.end(), b)
                if m.group(2) not in _NOT_VERBS and len(m.group(2)) >= DUTY_WORDS]
        if not cuts:
            return []
        starts = [0, *(m.start(1) for m in cuts)]
        ends = [m.start() for m in cuts] + [len(text)]
        return [(s, e) for s, e in zip(starts, ends, strict=True)]
    return []


def split_duties(units: list[Unit], language: str) -> list[Unit]:
    """Each unit whose purpose names duties one after the other, as a unit per duty: its purpose the
    duty's words, the whole purpose kept as the prose that states their basis."""
    result: list[Unit] = []
    for unit in units:
        # the purpose's words, or a section's paragraph naming it beside its heading
        said = [c for c in unit.chunks if c.role in ("purpose", "name")] if unit.layout != "table" else []
        found = next(((c, spans) for c in said if (spans := duty_spans(c.text, language))), None)
        if found is None:
            result.append(unit)
            continue
        chunk, spans = found
        others = [c for c in unit.chunks if c is not chunk]
        for a, b in spans:
            words = chunk.text[a:b].strip(" ,;")
            at = chunk.start + chunk.text.index(words, a)
            result.append(Unit(unit.layout, [Chunk(chunk.role, words, at), *others,
                                             Chunk("prose", chunk.text, chunk.start)], unit.processor))
    return result
