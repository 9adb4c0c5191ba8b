"""Bases stated after what they are for, and purposes a PDF's text layer ran into one paragraph.

- A sentence that ties a basis and names no purpose of its own ("La base giuridica è l'esecuzione del
  contratto.", "The legal basis is Article 6(1)(e) UK GDPR.") opening the paragraph right after a list
  is the basis of the list's items (:func:`basis_of_list`).
- A paragraph introducing purposes after a colon and listing them separated by ";", each with its own
  basis (:func:`listed_after_colon`: "... per le seguenti finalità: iscrizione al servizio, ... (art. 6,
  par. 1, lett. e) del Regolamento); comunicazioni urgenti ..., previo consenso (art. 6, par. 1, lett.
  a));"), is that list, its markers lost.
"""

from __future__ import annotations

from garde.analyse.document import Block
from garde.analyse.references import reference_runs
from garde.analyse.subjects import ties, use_after_basis
from garde.analyse.units import Chunk, Unit
from garde.analyse.wording import load_structure, sentences, states_purpose, tied_bases, tokens

#: Fewest purposes a run-together paragraph must hold to be read as several.
SEVERAL = 2
#: Fewest words of a clause introducing a list after its colon (a label has fewer).
INTRO_WORDS = 5
#: Fewest words a listed purpose has ("iscrizione al servizio": a purpose; "ecc.": none).
PURPOSE_WORDS = 3


def states_use(text: str, language: str) -> bool:
    """A sentence stating a use of the data and its basis: "we use your e-mail to ..., with your
    consent", or the use after the basis, "we rely on your consent to send ..."."""
    return states_purpose(text, language) or any(use_after_basis(text[a:b], language)
                                                 for a, b in sentences(text))


def _points_back(sentence: str, language: str) -> bool:
    """Whether the sentence opens with a determiner pointing back ("Ces traitements sont fondés sur
    ...", "These processing operations rest on ...", "Questi trattamenti si basano su ..."): right
    after a list, its subject names the list's items, not every purpose of the page."""
    structure = load_structure()
    words = tokens(sentence)
    return bool(words) and words[0][0] in structure.words(structure.demonstratives, language)


def _basis_only(text: str, start: int, end: int, language: str) -> bool:
    """Whether the sentence ``text[start:end]`` ties a basis and names no purpose of its own (a
    subject pointing back to what is just above, :func:`_points_back`, names none of its own)."""
    sentence = text[start:end]
    found = ties(sentence, language, False)
    back = _points_back(sentence, language)
    # one basis, naming no listed item by its letter or number ("purpose 2 is based on your consent":
    # garde.analyse.references reads those)
    return bool(found) and not any(t.purposes or (t.whole and not back) for t in found) \
        and len({m.term for m in tied_bases(sentence, language)}) == 1 \
        and not reference_runs(sentence, language) and not states_use(sentence, language)


def basis_of_list(block: Block, language: str) -> Chunk | None:
    """The opening sentence of a paragraph right after a list, when it ties a basis and names no
    purpose of its own: the basis of the items above; None for any other paragraph."""
    spans = sentences(block.text)
    # one basis in the whole paragraph: "quello per le fatture sull'obbligo di legge; la difesa sul
    # legittimo interesse" names each item's own (garde.analyse.named_again)
    if not spans or len({m.term for m in tied_bases(block.text, language)}) != 1 \
            or not _basis_only(block.text, *spans[0], language):
        return None
    a, b = spans[0]
    return Chunk("prose", block.text[a:b], block.start + a)


def _top_level(text: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of ``text`` between semicolons outside parentheses."""
    parts: list[tuple[int, int]] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")" and depth > 0)
        if char == ";" and depth == 0:
            parts.append((start, i))
            start = i + 1
    parts.append((start, len(text)))
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in parts if text[a:b].strip()]


def listed_after_colon(block: Block, language: str) -> list[Unit]:
    """The purposes a paragraph lists after its colon, separated by ";", each tying its own basis: a
    unit each (an item naming no basis is left: the introduction states none for it); empty unless
    two or more tie a basis."""
    colon = block.text.find(": ")
    # the introduction is a clause ("I dati sono trattati per le seguenti finalità:"), not a label
    # ("Suggerimenti su libri simili: ...; il trattamento si fonda su ...": one purpose's clauses)
    if colon < 0 or len(block.text[:colon].split()) < INTRO_WORDS or tied_bases(block.text[:colon], language):
        return []
    units: list[Unit] = []
    offset = colon + 2
    for a, b in _top_level(block.text[offset:]):
        item = block.text[offset + a:offset + b].rstrip(" .")
        if len(item.split()) >= PURPOSE_WORDS and tied_bases(item, language):
            units.append(Unit("item", [Chunk("purpose", item, block.start + offset + a)]))
    return units if len(units) >= SEVERAL else []
