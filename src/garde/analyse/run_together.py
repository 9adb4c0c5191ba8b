"""Bases stated after what they are for, and purposes a PDF's text layer ran into one paragraph.

- A sentence that ties a basis and names no purpose of its own ("La base giuridica è l'esecuzione del
  contratto.", "The legal basis is Article 6(1)(e) UK GDPR.") opening the paragraph right after a list
  is the basis of the list's items (:func:`basis_of_list`).
- A sentence pointing back ("Ces traitements sont nécessaires à l'exécution du contrat") right after
  one stating uses and no basis ("Nous traitons vos données pour la gestion des adhésions,
  l'organisation des sorties et la délivrance des licences") is the basis of each use it enumerates
  (:func:`enumerated_before`).
- A paragraph introducing purposes after a colon and listing them separated by ";", each with its own
  basis (:func:`listed_after_colon`: "... per le seguenti finalità: iscrizione al servizio, ... (art. 6,
  par. 1, lett. e) del Regolamento); comunicazioni urgenti ..., previo consenso (art. 6, par. 1, lett.
  a));"), is that list, its markers lost.
"""

from __future__ import annotations

import re

from garde.analyse.document import Block, Document
from garde.analyse.references import reference_runs
from garde.analyse.subjects import ties, use_after_basis
from garde.analyse.units import Chunk, Reading, Unit
from garde.analyse.wording import contains, load_structure, sentences, states_purpose, tied_bases, tokens

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


def points_back(sentence: str, language: str) -> bool:
    """Whether the sentence opens with a determiner pointing back ("Ces traitements sont fondés sur
    ...", "These processing operations rest on ...", "Questi trattamenti si basano su ..."): right
    after a list, its subject names the list's items, not every purpose of the page."""
    structure = load_structure()
    words = tokens(sentence)
    return bool(words) and words[0][0] in structure.words(structure.demonstratives, language)


def _basis_only(text: str, start: int, end: int, language: str) -> bool:
    """Whether the sentence ``text[start:end]`` ties a basis and names no purpose of its own (a
    subject pointing back to what is just above, :func:`points_back`, names none of its own)."""
    sentence = text[start:end]
    found = ties(sentence, language, False)
    back = points_back(sentence, language)
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


#: Articles opening an enumerated use after "and" ("la tenue de la comptabilité et la conservation des
#: reçus"): a new use; "et des cotisations" goes on with the one before.
_ARTICLES = {"fr": ("le", "la", "les", "l'", "l’"), "en": ("the",),
             "it": ("il", "lo", "la", "i", "gli", "le", "l'", "l’")}
_AND = {"fr": ("et",), "en": ("and",), "it": ("e", "ed")}
_WE = {"fr": ("nous",), "en": ("we",), "it": ("noi",)}


def enumerated_uses(sentence: str, language: str) -> list[tuple[int, int]]:
    """The uses a sentence stating no basis enumerates after its first word introducing a use ("...
    pour la gestion des adhésions et des cotisations, l'organisation des sorties, et la délivrance des
    licences"), or its clauses each with "we" ("nous publions des photos ... et nous vous envoyons
    la lettre"): the spans of each, two or more; empty otherwise."""
    structure = load_structure()
    markers = [m for m in structure.words(structure.purpose_markers, language) if len(m) > 1]
    ands = "|".join(_AND.get(language, ()))
    articles = "|".join(re.escape(a) for a in _ARTICLES.get(language, ()))
    we = "|".join(_WE.get(language, ()))
    marker = re.search(rf"(?<!\w)(?:{'|'.join(re.escape(m) for m in markers)})\s+(?=(?:{articles}))",
                       sentence, re.IGNORECASE) if markers and articles else None
    if marker is not None:
        start, cut = marker.end(), rf",\s*(?:(?:{ands})\s+)?|\s(?:{ands})\s+(?=(?:{articles}))"
    else:
        start, cut = 0, rf",?\s(?:{ands})\s+(?=(?:{we})\s)"
    body = sentence[start:]
    spans, at = [], 0
    for match in [*re.finditer(cut, body, re.IGNORECASE), None]:
        end = match.start() if match else len(body)
        piece = body[at:end].strip().rstrip(".;,:")
        if piece:
            offset = start + at + body[at:end].index(piece)
            spans.append((offset, offset + len(piece)))
        at = match.end() if match else at
    return spans if len(spans) >= SEVERAL else []


def enumerated_before(previous: str, sentence: str, language: str) -> list[tuple[int, int]]:
    """The uses ``previous`` enumerates (:func:`enumerated_uses`) when ``sentence``, right after it,
    points back (:func:`points_back`) and ties one basis the previous sentence does not contradict:
    those uses are the ones the sentence's basis is for."""
    bases = {m.term for m in tied_bases(sentence, language)}
    if len(bases) != 1 or not points_back(sentence, language) \
            or {m.term for m in tied_bases(previous, language)} - bases:
        return []
    structure = load_structure()
    if not contains(previous, structure.words(structure.purpose_cues, language)):
        return []
    return enumerated_uses(previous, language)


def pointed_back(document: Document, reading: Reading, language: str) -> None:
    """Sentences the reading tied to no purpose that point back to the uses enumerated just before
    them (:func:`enumerated_before`), in their paragraph or as the last sentence of the paragraph
    above: a purpose per use, the sentence its basis; a paragraph whose every tying sentence did so
    is no longer stated for no purpose."""
    if not reading.untied:
        return
    blocks = [b for b in document.blocks if b.kind != "cell"]
    kept: list[Chunk] = []
    for chunk in reading.untied:
        spans = sentences(chunk.text)
        used = tying = 0
        for k, (a, b) in enumerate(spans):
            sentence = chunk.text[a:b]
            if not tied_bases(sentence, language):
                continue
            tying += 1
            previous = _sentence_before(blocks, chunk, spans, k)
            if previous is None:
                continue
            text, at = previous
            uses = enumerated_before(text, sentence, language)
            reading.units += [Unit("paragraph", [Chunk("purpose", text[s:e], at + s),
                                                 Chunk("prose", sentence, chunk.start + a)]) for s, e in uses]
            used += bool(uses)
        if not tying or used < tying:
            kept.append(chunk)
    reading.untied = kept


def _sentence_before(blocks: list[Block], chunk: Chunk, spans: list[tuple[int, int]],
                     k: int) -> tuple[str, int] | None:
    """The sentence before the ``k``-th of ``chunk`` (its text and start): in the chunk, or the last
    of the paragraph right above it (no heading between)."""
    if k > 0:
        a, b = spans[k - 1]
        return chunk.text[a:b], chunk.start + a
    above = [b for b in blocks if b.start < chunk.start]
    if not above or above[-1].kind != "paragraph":
        return None
    block = above[-1]  # the chunk's own paragraph (a sentence of it), or the one above
    inside = [(a, b) for a, b in sentences(block.text) if block.start + b <= chunk.start]
    if not inside:
        return None
    a, b = inside[-1]
    return block.text[a:b], block.start + a
