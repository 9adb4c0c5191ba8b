"""The purpose a sentence ties its basis to when the purpose is the sentence's subject.

Notices often state the bases apart from the purposes, one sentence each, the purpose as the
subject: "La gestion de votre compte repose sur le contrat", "Sending the newsletter is based on
your consent", "L'invio della newsletter si basa sul tuo consenso". The words before the first
basis predicate of ``data/structure.yaml`` (``basis_predicates``) are the purpose, unless they name
none (``generic_subjects``: "this processing", "we"; then the sentence before, when it states a
use, "We use your address to deliver your orders. This processing is necessary for the contract",
is the purpose) or every purpose of the page (``whole_document``: "the processing described on
this page"). Subjects joined by "as well as",
"ainsi que", "nonché" are one purpose each. Offsets are kept, so every purpose is verbatim text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from garde.analyse.wording import contains, load_structure, sentences, tied_bases

#: Fewest words of three letters or more a subject needs to name a purpose ("La facturation" has one).
MIN_WORDS = 1

# Subjects listed as one: "A, ainsi que B,", "A as well as B", "A nonché B", "A; B".
_JOINED = re.compile(r",?\s+(?:ainsi que|de même que|as well as|together with|nonché|così come)\s+|\s*;\s*",
                     re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tie:
    """A sentence stating a basis: where it is, and what it ties it to."""

    start: int
    end: int
    purposes: tuple[tuple[int, int], ...]  # the subject's purposes, as offsets; empty: none named
    whole: bool  # the sentence states its basis for every purpose of the page


def ties(text: str, language: str, refer_back: bool = True) -> list[Tie]:
    """Each sentence of ``text`` that ties a legal basis, with the purposes its subject names
    (``refer_back``: or, for "this processing", the use the sentence before states)."""
    structure = load_structure()
    predicates = _pattern(structure.words(structure.basis_predicates, language))
    whole_words = _pattern(structure.words(structure.whole_document, language))
    generic = _pattern(structure.words(structure.generic_subjects, language), anchored=True)
    uses = structure.words(structure.purpose_cues, language)
    found: list[Tie] = []
    previous: tuple[int, int] | None = None  # the sentence before, when it states a use and no basis
    for start, end in sentences(text):
        sentence = text[start:end]
        if not tied_bases(sentence, language):
            previous = (start, end) if contains(sentence, uses) else None
            continue
        folded = _fold(sentence)
        predicate = predicates.search(folded)
        subject = sentence[:predicate.start()] if predicate else ""
        whole = bool(whole_words.search(_fold(subject) if predicate else folded))
        purposes: tuple[tuple[int, int], ...] = ()
        lead = _fold(subject).strip(" ,")
        if predicate and not whole and not generic.match(lead) and not tied_bases(subject, language):
            purposes = tuple((start + a, start + b) for a, b in _parts(subject))
        elif refer_back and predicate and not whole and generic.match(lead) and previous is not None:
            # "We use your address to deliver. This processing is necessary for the contract."
            purposes = (previous,)
        found.append(Tie(start, end, purposes, whole))
        previous = None
    return found


def _parts(subject: str) -> list[tuple[int, int]]:
    """The purposes a subject lists, each trimmed of spaces and commas, as offsets in ``subject``."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for joint in (*_JOINED.finditer(subject), None):
        end = joint.start() if joint else len(subject)
        part = subject[begin:end]
        lead = len(part) - len(part.lstrip(" ,\n\t"))
        piece = part.strip(" ,\n\t")
        if sum(len(w) >= 3 for w in re.findall(r"\w+", piece)) > MIN_WORDS:
            spans.append((begin + lead, begin + lead + len(piece)))
        begin = joint.end() if joint else end
    return spans


def _fold(text: str) -> str:
    """``text`` case- and accent-folded, one character for one, so offsets stay those of ``text``."""
    return "".join(_fold_char(c) for c in text)


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char == "’":
        return "'"
    if char.isspace():
        return " "
    plain = "".join(c for c in unicodedata.normalize("NFKD", char.lower()) if not unicodedata.combining(c))
    return plain if len(plain) == 1 else char.lower()[:1] or char


@lru_cache(maxsize=32)
def _pattern(words: tuple[str, ...], anchored: bool = False) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in phrase.split())
                            for phrase in sorted(words, key=len, reverse=True))
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(("^" if anchored else r"(?<!\w)") + f"(?:{alternatives})(?!\\w)")
