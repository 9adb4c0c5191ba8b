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

from garde.analyse.wording import FUNCTION_WORDS, load_structure, tokens

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
