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

A sentence may also state two purposes, each with its own basis: "we use your address to deliver
your orders, based on our contract, and to send you our catalogue, based on our legitimate
interests". Between two bases it ties, a joint (``purpose_joints``: "and", "et", "e") before a
word introducing a use (``purpose_markers``: "to", "pour", "per") starts a new purpose, when
words of its own come before its basis; each purpose takes the bases of its clause
(:func:`clauses`). Bases with no such joint between them ("our legitimate interests or your
consent") stay on one purpose.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from garde.analyse.wording import (
    FUNCTION_WORDS,
    GENERAL_BASES,
    contains,
    find_terms,
    load_structure,
    sentences,
    tied_bases,
    tokens,
)

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
    ending = re.compile(r"(?<!\w)" + generic.pattern.removeprefix("^") + "$")
    uses = structure.words(structure.purpose_cues, language)
    pointers = frozenset(structure.words(structure.demonstratives, language))
    found: list[Tie] = []
    previous: tuple[int, int] | None = None  # the sentence before, when it states a use and no basis
    for start, end in sentences(text):
        sentence = text[start:end]
        if not tied_bases(sentence, language):
            previous = (start, end) if contains(sentence, uses) else None
            continue
        split = _clauses(sentence, language)
        if split:
            found += [Tie(start + a, start + b, ((start + a, start + c),), False) for a, b, c in split]
            previous = None
            continue
        folded = _fold(sentence)
        predicate = predicates.search(folded)
        subject = sentence[:predicate.start()] if predicate else ""
        # with no predicate, the words before the first basis ("...: il trattamento è quindi necessario")
        lead_words = subject if predicate else sentence[:tied_bases(sentence, language)[0].start]
        told = _told_before(lead_words, pointers, generic if not predicate else None, whole_words)
        if told is not None:  # "La legge ci impone di A e di B: questi trattamenti sono necessari per"
            found.append(Tie(start, end, ((start, start + told),), False))
            previous = None
            continue
        whole = bool(whole_words.search(_fold(subject) if predicate else folded))
        purposes: tuple[tuple[int, int], ...] = ()
        lead = _fold(subject).strip(" ,")
        # no subject before the predicate ("Lo facciamo solo se ...", the pronoun before the verb)
        # names no purpose either
        # "Recording progress is part of the service, so it is necessary for ...": the clause after
        # the subject's last comma has its own subject, a pronoun
        tail = lead.rsplit(",", 1)[1].strip() if "," in lead else ""
        unnamed = not lead or bool(generic.match(lead)) or _points_back(lead, pointers) \
            or bool(tail and ending.search(tail))
        if predicate and not whole and not unnamed and not tied_bases(subject, language):
            purposes = tuple((start + a, start + b) for a, b in _parts(subject))
        elif refer_back and predicate and not whole and unnamed and previous is not None:
            # "We use your address to deliver. This processing is necessary for the contract."
            purposes = (previous,)
        found.append(Tie(start, end, purposes, whole))
        # a use whose basis its own words state ("If you tick the box, we text you ...") may be what
        # the next sentence's "we only do this if ..." says again
        previous = (start, end) if not predicate and contains(sentence, uses) else None
    return found


#: Most words of a subject pointing back ("Keeping these records", "La tenue de ce dossier"); a longer
#: one names its purpose in words of its own ("Sending these offers to customers who ...").
POINTING_WORDS = 6


def _points_back(lead: str, pointers: frozenset[str]) -> bool:
    """A short subject with a determiner pointing back (``demonstratives``), or one opening with it
    ("cet affichage sert l'organisation de la section et repose sur ..."): it names what the heading
    or the sentence before named."""
    words = re.findall(r"\w+", lead)
    return bool(words) and (words[0] in pointers or (len(words) <= POINTING_WORDS
                                                      and any(w in pointers for w in words)))


#: Fewest words of its own the clause before a colon needs to state the use the subject after it
#: points back to.
TOLD_WORDS = 4


def _told_before(subject: str, pointers: frozenset[str], generic: re.Pattern[str] | None,
                 whole_words: re.Pattern[str]) -> int | None:
    """Where the use ends when a subject's words before its last colon state it and the words after
    point back to it ("Nous transmettons vos feuilles de soins à votre caisse : cette transmission
    est", "... e di trasmetterne i dati al Sistema Tessera Sanitaria: questi trattamenti sono"); None
    otherwise (the subject names its purpose itself, or nothing stands before a colon). ``generic``:
    the subjects naming no purpose that also point back (only with no predicate: "...: il trattamento è
    quindi necessario"; "<purpose>: we rely on ..." was read so before, and reads so still)."""
    colon = max(subject.rfind(":"), subject.rfind("："))
    if colon < 0:
        return None
    before, after = subject[:colon], _fold(subject[colon + 1:]).strip(" ,")
    if len(re.findall(r"\w{3,}", before)) < TOLD_WORDS:
        return None
    if not after or (generic is not None and generic.match(after)) or whole_words.search(after) \
            or _points_back(after, pointers):
        return len(before.rstrip())
    return None


def clauses(text: str, language: str) -> list[Tie]:
    """The purposes, each with its own basis, of the sentences of ``text`` that state two or more
    ("..., based on our contract, and to send you ..., based on your consent"); empty if none does."""
    found: list[Tie] = []
    for start, end in sentences(text):
        found += [Tie(start + a, start + b, ((start + a, start + c),), False)
                  for a, b, c in _clauses(text[start:end], language)]
    return found


#: Words of its own (not articles, possessives or prepositions) a purpose needs before its basis to
#: be a purpose of its own ("and to send you our catalogue, based on ..." has; "and for compliance
#: with our legal obligations" has not: a second basis of the same purpose).
OWN_WORDS = 2


def _clauses(sentence: str, language: str) -> list[tuple[int, int, int]]:
    """(start, end, end of the purpose) of each clause of a sentence stating two purposes or more,
    each with its own basis; empty for a sentence stating one."""
    bases = tied_bases(sentence, language)
    if len({m.term for m in bases}) < 2:
        return []
    joints = _joints(language)
    folded = _fold(sentence)
    starts = [0]
    for before, after in pairwise(bases):
        joint = next((j for j in joints.finditer(folded, before.end, after.start)), None)
        if joint is not None and _own_words(sentence[joint.end():after.start]) >= OWN_WORDS:
            starts.append(joint.end())
    if len(starts) < 2:
        return []
    ends = [_joint_start(sentence, folded, joints, s) for s in starts[1:]] + [len(sentence)]
    found = []
    for begin, end in zip(starts, ends, strict=True):
        first = next(m for m in bases if m.start >= begin)
        comma = sentence.rfind(",", begin, first.start)
        purpose_end = comma if comma > begin and _own_words(sentence[begin:comma]) >= OWN_WORDS else end
        found.append((begin, end, len(sentence[:purpose_end].rstrip(" ,;"))))
    return found


def use_after_basis(sentence: str, language: str) -> bool:
    """Whether a sentence goes on after the last basis it ties with the use it is for ("we may rely
    on your consent to show you ...", "sur notre intérêt légitime pour mesurer ...")."""
    bases = tied_bases(sentence, language)
    if not bases:
        return False
    markers = _markers(language)
    after = markers.match(_fold(sentence), bases[-1].end)
    return after is not None and _own_words(sentence[after.end():]) >= OWN_WORDS


def hedged_use(text: str, language: str) -> bool:
    """Whether a sentence of ``text`` naming :data:`GENERAL_BASES` bases or more ties them to one use
    of the data ("we use your contact details to manage your account, on the basis of consent,
    contract or legitimate interests"): the bases are that purpose's, left for the DPO to choose
    among, not the bases the law allows listed in general. A list introduced by a colon ("on these
    bases: consent, ..."), said of the whole page (``whole_document``), or for a use in words that
    name none (``generic_uses``: "to process personal data") is general."""
    structure = load_structure()
    markers = _pattern(structure.words(structure.purpose_markers, language))
    whole = structure.words(structure.whole_document, language)
    generic = set(structure.words(structure.generic_uses, language))
    for start, end in sentences(text):
        sentence = text[start:end]
        bases = tied_bases(sentence, language)
        if len({m.term for m in bases}) < GENERAL_BASES or ":" in sentence[:bases[0].start] \
                or contains(sentence, whole):
            continue
        folded = _fold(sentence)
        covered = [(m.start, m.end) for m in bases]
        for marker in markers.finditer(folded):
            if any(a <= marker.start() < b for a, b in covered):
                continue
            stop = next((a for a, _ in covered if a >= marker.end()), len(sentence))
            words = [w for w, _, _ in tokens(sentence[marker.end():stop])
                     if len(w) >= 3 and w not in FUNCTION_WORDS and w not in generic]
            if len(words) >= OWN_WORDS:
                return True
    return False


def conditional(text: str, language: str) -> bool:
    """Whether every sentence of ``text`` that names a basis names it only as a condition ("Where we
    rely on legitimate interests, you have the right to object": ``conditional_cues``), without the
    use it serves after it: such a text states no purpose."""
    structure = load_structure()
    cues = structure.words(structure.conditional_cues, language)
    tying = [(a, b) for a, b in sentences(text) if find_terms("legal_bases", text[a:b])]
    return bool(tying) and all(contains(text[a:b], cues) and not use_after_basis(text[a:b], language)
                               for a, b in tying)


@lru_cache(maxsize=8)
def _markers(language: str) -> re.Pattern[str]:
    structure = load_structure()
    markers = _alternatives(structure.words(structure.purpose_markers, language))
    return re.compile(rf"[\s,]*(?:{markers})(?!\w)" if markers else r"(?!)")


def _joint_start(sentence: str, folded: str, joints: re.Pattern[str], clause_start: int) -> int:
    """Where the clause before ``clause_start`` ends: before the joint (and its comma)."""
    joint = next(j for j in joints.finditer(folded) if j.end() == clause_start)
    return len(sentence[:joint.start()].rstrip(" ,;"))


def _own_words(text: str) -> int:
    return sum(1 for word, _, _ in tokens(text) if len(word) >= 3 and word not in FUNCTION_WORDS)


@lru_cache(maxsize=8)
def _joints(language: str) -> re.Pattern[str]:
    """A joint then a word introducing a use: ", and to", " et pour", " e per"; its end is where
    the new purpose starts (at the word introducing the use)."""
    structure = load_structure()
    joints = _alternatives(structure.words(structure.purpose_joints, language))
    markers = _alternatives(structure.words(structure.purpose_markers, language))
    if not joints or not markers:
        return re.compile(r"(?!)")
    return re.compile(rf"[,;]?\s*(?<!\w)(?:{joints})\s+(?=(?:{markers})(?!\w))")


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(r"\s+".join(re.escape(w) for w in phrase.split())
                    for phrase in sorted(words, key=len, reverse=True))


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
    alternatives = _alternatives(words)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(("^" if anchored else r"(?<!\w)") + f"(?:{alternatives})(?!\\w)")
