"""Purposes listed first, then named again in other words where their bases are stated.

An informativa or a notice often lists its purposes ("a) la valutazione del rischio e l'emissione
della polizza; b) la gestione e la liquidazione dei sinistri; ...") and states the bases in a later
section naming the purposes again, without their letters: "La valutazione del rischio, l'emissione
della polizza e la gestione dei sinistri sono necessarie all'esecuzione del contratto". The
sentence's subject then names those listed purposes, and its basis is theirs: a listed purpose is
named when most of the words of the shorter of the two (the listed purpose or the subject) are the
other's, word forms aside ("adempimenti" / "adempimento"). Nothing is invented: a subject naming no
listed purpose stays a purpose of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from garde.analyse.subjects import conditional
from garde.analyse.units import Chunk, Reading, Unit
from garde.analyse.wording import (
    FUNCTION_WORDS,
    Match,
    find_terms,
    has_cue,
    load_structure,
    sentences,
    tied_bases,
    tokens,
)

#: Share of the shorter word set the other must hold for a subject to name a listed purpose.
NAMED = 0.6
#: Letters two words share at their start to be forms of one word.
STEM = 5
#: Fewest content words a subject needs to name a listed purpose (one word is no naming).
MIN_WORDS = 2


def content_words(text: str, language: str) -> frozenset[str]:
    """The words of ``text`` that carry its meaning (not "data", "processing": ``generic_uses``),
    cut to their first :data:`STEM` letters."""
    structure = load_structure()
    generic = set(structure.words(structure.generic_uses, language))
    return frozenset(word[:STEM] for word, _, _ in tokens(text) if len(word) >= 3
                     and word not in FUNCTION_WORDS and word not in generic and not word.isdigit())


def named_purposes(subject: str, listed: list[str], language: str) -> list[int]:
    """The indexes of the ``listed`` purposes that ``subject`` names again, whole or by its parts
    ("Le comunicazioni promozionali e le ricerche di mercato": two purposes)."""
    structure = load_structure()
    joints = "|".join(re.escape(j) for j in structure.words(structure.purpose_joints, language))
    parts = [subject, *re.split(rf"[,;]|\s(?:{joints})\s" if joints else r"[,;]", subject)]
    named: list[int] = []
    for part in parts:
        mine = content_words(part, language)
        if len(mine) < MIN_WORDS:
            continue
        for i, purpose in enumerate(listed):
            theirs = content_words(purpose, language)
            if i not in named and len(theirs) >= MIN_WORDS \
                    and len(mine & theirs) / min(len(mine), len(theirs)) >= NAMED:
                named.append(i)
    return sorted(named)


#: Fewest clauses a sentence must hold, each naming a basis, to be read clause by clause.
CLAUSES = 2
#: Fewest of them that must name listed purposes for the sentence to be read so.
CLAUSES_NAMED = 2


def clause_bases(sentence: str, language: str) -> list[tuple[tuple[int, int], list[Match]]]:
    """A sentence stating, clause by clause after ";", the basis of each purpose named again ("Il
    trattamento per gli appuntamenti si basa sul contratto; quello per le fatture sull'adempimento di
    un obbligo di legge; l'invio delle offerte sul suo consenso"), the later clauses eliding the verb:
    each clause's span and the bases it names. Empty unless the sentence says it states bases and two
    clauses or more each name bases."""
    if not has_cue(sentence, language):
        return []
    found = []
    at = 0
    for part in sentence.split(";"):
        bases = find_terms("legal_bases", part)
        if bases:
            shifted = [replace(m, start=at + m.start, end=at + m.end) for m in bases]
            found.append(((at, at + len(part)), shifted))
        at += len(part) + 1
    return found if len(found) >= CLAUSES else []


def named_by_clause(reading: Reading, listed: tuple[Unit, ...], language: str) -> None:
    """A paragraph naming listed purposes again clause by clause, each clause with its basis
    (:func:`garde.analyse.named_again.clause_bases`): each basis is the purposes' its clause names;
    the paragraph, when every clause names one, is no purpose of its own."""
    texts = [u.chunks[0].text for u in listed]
    for unit in [u for u in reading.units if u.layout == "paragraph" and u.chunks[0].role == "purpose"]:
        text, start = unit.chunks[0].text, unit.chunks[0].start
        named = []
        for (s, e), bases in clause_bases(text, language):
            words = "".join(" " if any(m.start <= i < m.end for m in bases) else ch
                            for i, ch in enumerate(text[s:e], start=s))
            named.append((named_purposes(words, texts, language), (s, e), bases))
        if sum(1 for found, _, _ in named if found) < CLAUSES_NAMED:
            continue
        reading.units.remove(unit)
        for found, (s, e), bases in named:
            basis = [Chunk("basis", text[m.start:m.end], start + m.start) for m in bases]
            for i in found:
                listed[i].chunks.extend(basis)
            if not found:  # a clause naming no listed purpose: its own words are one
                clause = text[s:e].strip().rstrip(".")
                at = start + s + text[s:e].index(clause)
                reading.units.append(Unit("paragraph", [Chunk("purpose", clause, at), *basis]))


def named_in_untied(reading: Reading, listed: tuple[Unit, ...], language: str,
                    in_basis_section: Callable[[int], bool]) -> None:
    """Listed purposes named again, by their own words, in a sentence that ties one basis and that the
    rest of the reading tied to no purpose (a "Lawful basis" section after the bullets of purposes:
    "We process it under Article 6(1)(e) ... to keep you informed about your child's progress and to
    collect payments for school meals"): the sentence is their basis. A sentence naming two bases or
    more is left (whose is which, its words do not say), so is one only naming a basis as a condition
    ("Where we rely on legitimate interests, you may object"); a paragraph whose every tying sentence
    named listed purposes is no longer stated for no purpose."""
    open_ = [u for u in listed if len(u.chunks) == 1]
    if not open_:
        return
    texts = [u.chunks[0].text for u in open_]
    kept: list[Chunk] = []
    for chunk in reading.untied:
        used = tying = 0
        if not in_basis_section(chunk.start):
            kept.append(chunk)
            continue
        for a, b in sentences(chunk.text):
            sentence = chunk.text[a:b]
            bases = tied_bases(sentence, language)
            if not bases:
                continue
            tying += 1
            if len({m.term for m in bases}) != 1 or conditional(sentence, language):
                continue
            named = [i for i in named_purposes(_uses_only(sentence, bases, language), texts, language)
                     if len(open_[i].chunks) == 1]
            for i in named:
                open_[i].chunks.append(Chunk("prose", sentence, chunk.start + a))
            used += bool(named)
        if not tying or used < tying:
            kept.append(chunk)
    reading.untied = kept


def _uses_only(sentence: str, bases: list[Match], language: str) -> str:
    """The sentence with its bases and the phrases saying it states one ("è necessario per", "we
    rely on": ``basis_predicates``) blanked: what is left names the uses."""
    structure = load_structure()
    blank = [any(m.start <= i < m.end for m in bases) for i in range(len(sentence))]
    words = tokens(sentence)
    for phrase in structure.words(structure.basis_predicates, language):
        said = [word for word, _, _ in tokens(phrase)]
        for k in range(len(words) - len(said) + 1):
            # a phrase, not a lone verb that may be the use's own ("where we meet our duties")
            if len(said) > 1 and [w for w, _, _ in words[k:k + len(said)]] == said:
                a, b = words[k][1], words[k + len(said) - 1][2]
                blank[a:b] = [True] * (b - a)
    return "".join(" " if gone else ch for gone, ch in zip(blank, sentence, strict=True))
