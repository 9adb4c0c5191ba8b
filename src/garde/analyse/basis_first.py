"""A legal basis stated first, then the several purposes it covers (issue 16, round 17).

The ICO's model notices for schools and GP practices, and public bodies' notices in general, group the
purposes by basis rather than the bases by purpose (Art. 13(1)(c) asks for both, in either order):

- "We need it to perform an official task in the public interest: to support pupils' learning, to
  monitor and report on pupil progress and to provide appropriate pastoral care." (the basis, a colon,
  then the uses, each introduced by the same word: "to", "pour", "per");
- "For providing your direct care, referrals and clinical audit, we rely on Article 6(1)(e)" (the uses
  named first, after "For", "Pour", "Per", then the basis).

Each use is a purpose of its own with that basis: the pairs a register records. Nothing is invented: a
use is words of the sentence, and a sentence with one use is left to the usual reading.
"""

from __future__ import annotations

import re

from garde.analyse.document import Block
from garde.analyse.units import Chunk, Unit
from garde.analyse.wording import FUNCTION_WORDS, contains, load_structure, sentences, tied_bases, tokens

#: Fewest uses a sentence must list to be read so (one use is the sentence's own purpose).
USES = 2
#: Most words one use may have (a longer part is a clause, not a listed use).
USE_WORDS = 25
#: The word leading the uses named first ("For providing your care, ..., we rely on").
_LEADS = {"en": ("for",), "fr": ("pour",), "it": ("per",)}
#: Words introducing a use after the basis ("we rely on consent to send ..."): the lead names no use.
_USE_AFTER = {"en": ("to", "in order to", "so that"), "fr": ("pour", "afin de", "afin d"),
              "it": ("per", "al fine di", "allo scopo di")}
_AND = {"en": ("and", "as well as"), "fr": ("et", "ainsi que"), "it": ("e", "ed", "nonche")}


def listed_uses(sentence: str, language: str, item: bool = True) -> list[tuple[int, int]]:
    """The spans of ``sentence`` naming each use its basis covers, when it lists two or more (see the
    module's docstring); empty otherwise. The uses after a colon are read in a bullet (``item``: the
    model notices list the bases one a bullet, "- We need to comply with a legal obligation: to ...");
    a paragraph's colon more often opens an explanation than a list of uses."""
    bases = tied_bases(sentence, language)
    if not bases or len({m.term for m in bases}) > 1:
        return []
    after = _after_colon(sentence, bases[0].end, language) if item else []
    return after or _named_first(sentence, bases[0].start, language)


def _after_colon(sentence: str, basis_end: int, language: str) -> list[tuple[int, int]]:
    """"<basis>: to A, to B and to C": the uses after the colon that follows the basis, each opening
    with the same word that introduces a use."""
    colon = sentence.find(":", basis_end)
    if colon < 0 or {m.term for m in tied_bases(sentence[colon:], language)} \
            - {m.term for m in tied_bases(sentence[:colon], language)}:
        return []
    rest = sentence[colon + 1:]
    words = tokens(rest)
    if not words:
        return []
    structure = load_structure()
    marker = words[0][0]
    if marker not in {m for m in structure.words(structure.purpose_markers, language) if " " not in m}:
        return []
    joints = "|".join(re.escape(j) for j in _AND.get(language, ()))
    # a new use at ", to", "; to", "and to" (the marker again); "monitor and report on" stays one
    split = re.compile(rf"\s*(?:[,;]\s*(?:(?:{joints})\s+)?|\s(?:{joints})\s+)(?={re.escape(marker)}\b)",
                       re.IGNORECASE)
    # "to" before an article or a possessive is a preposition ("and to your family"), no new use
    cuts = [m.span() for m in split.finditer(rest)
            if marker != "to" or _next_word(rest, m.end() + len(marker)) not in FUNCTION_WORDS]
    return _parts(rest, colon + 1, cuts)


def _next_word(text: str, at: int) -> str:
    words = tokens(text[at:])
    return words[0][0] if words else ""


def _named_first(sentence: str, basis_start: int, language: str) -> list[tuple[int, int]]:
    """"For A, B and C, we rely on <basis>": the uses named before the comma that ends the lead."""
    lead = re.match(rf"\s*(?:{'|'.join(_LEADS.get(language, ()))})\s+", sentence, re.IGNORECASE)
    if lead is None:
        return []
    comma = sentence.rfind(",", 0, basis_start)
    if comma <= lead.end() or not contains(sentence[comma:basis_start + 1] + " x", _cues(language)) \
            or contains(sentence[basis_start:], _USE_AFTER.get(language, ())):
        # "For customers and suppliers, we rely on our legitimate interests to ...": the use follows
        # the basis, what the lead names is whose data, not the uses
        return []
    named = sentence[lead.end():comma]
    joints = "|".join(re.escape(j) for j in _AND.get(language, ()))
    leads = "|".join(_LEADS.get(language, ()))
    if "," not in named:  # "A and for B": the lead word again after "and"
        return _parts(named, lead.end(), [m.span() for m in re.finditer(
            rf"\s(?:{joints})\s+(?:{leads})\s+", named, re.IGNORECASE)])
    # "A, B and C": the commas, and the last "and" after the last comma
    comma_cut = rf",\s*(?:(?:{joints})\s+)?(?:(?:{leads})\s+)?"
    cuts = [m.span() for m in re.finditer(comma_cut, named, re.IGNORECASE)]
    last = [m for m in re.finditer(rf"\s(?:{joints})\s+(?:(?:{leads})\s+)?", named, re.IGNORECASE)
            if m.start() > cuts[-1][1]]
    return _parts(named, lead.end(), [*cuts, last[-1].span()] if last else cuts)


def _cues(language: str) -> tuple[str, ...]:
    structure = load_structure()
    return (structure.words(structure.basis_cues, language)
            + structure.words(structure.basis_predicates, language))


def _parts(text: str, offset: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans (from ``offset``) of the parts of ``text`` between its ``cuts``, each
    stripped of spaces and closing punctuation; none unless there are :data:`USES` or more, each of at
    most :data:`USE_WORDS` words."""
    spans: list[tuple[int, int]] = []
    at = 0
    for cut in [*sorted(cuts), None]:
        end = cut[0] if cut else len(text)
        piece = text[at:end]
        stripped = piece.strip().rstrip(".;,:")
        if stripped:
            start = at + piece.index(stripped)
            spans.append((offset + start, offset + start + len(stripped)))
        if cut:
            at = cut[1]
    if len(spans) < USES or any(len(text[a - offset:b - offset].split()) > USE_WORDS for a, b in spans):
        return []
    return spans


def uses_of_basis(block: Block, language: str) -> list[Unit]:
    """A unit per use of a sentence stating one basis for several uses (:func:`listed_uses`),
    the sentence its prose."""
    units = []
    for a, b in sentences(block.text):
        sentence = Chunk("prose", block.text[a:b], block.start + a)
        units += [Unit(block.kind if block.kind == "item" else "paragraph",
                       [Chunk("purpose", block.text[a + s:a + e], block.start + a + s), sentence])
                  for s, e in listed_uses(block.text[a:b], language, block.kind == "item")]
    return units
