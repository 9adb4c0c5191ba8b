"""The words the analyser looks for, and where they occur in a text.

Two vocabularies: the taxonomy's terms (legal bases, data categories, recipients: their labels and
synonyms, ``garde.taxonomy``) and the layout words of ``data/structure.yaml`` (column headers,
phrases that introduce a legal basis). Both are data a DPO extends without code. Every match keeps
its offsets in the text it was found in, so that what is quoted as evidence is verbatim.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from garde.problems import InputError, Problem
from garde.taxonomy import load_vocabulary, normalise
from garde.yamlsource import load_yaml

STRUCTURE = Path(__file__).parent / "data" / "structure.yaml"

#: Column roles, in the order a header is tried against them (a "legal basis of the processing"
#: header is the basis column, not the name column; "categories of data subjects" is not the data).
# A processor's record (Art. 30(2)) names, per row, the controller served and the categories of
# processing carried out for it, the transfers and the security measures: those roles first.
ROLES = ("processing", "controller", "contact", "basis", "retention", "recipients", "transfers", "security",
         "purpose", "name", "subjects", "data", "role")

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Words that join terms in a cell listing several ("Identité et contact", "Nome ed email").
CONNECTORS = frozenset({"et", "ou", "and", "or", "e", "ed", "o", "de", "des", "du", "la", "le", "les", "&",
                        "y", "compris", "including", "incluso", "nonche"})
# A wording this many words long, of which at least CONTENT_WORDS are not function words, names its
# term on its own, in any sentence ("Necessary for our legitimate interests"); a shorter one
# ("consent", "Contrat de vente", "il tuo consenso") only where the sentence says it states a legal
# basis ("on the basis of", "with your consent"...).
SELF_STANDING = 3
CONTENT_WORDS = 2
# Articles, possessives and prepositions (fr, en, it): they do not make a wording more specific.
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "to", "for", "with", "on", "by", "in", "your", "our", "my", "its", "their",
    "le", "la", "les", "l", "un", "une", "de", "des", "du", "d", "au", "aux", "pour", "par", "sur",
    "avec", "votre", "vos", "notre", "nos", "son", "sa", "ses", "leur",
    "il", "lo", "i", "gli", "uno", "una", "di", "del", "della", "dei", "degli", "delle", "dell", "da",
    "per", "con", "su", "tuo", "tua", "tuoi", "suo", "sua", "nostro", "nostra", "vostro", "vostra",
    "all", "dall", "nell", "sull", "qu", "s", "n", "c", "j",
})


@dataclass(frozen=True, slots=True)
class Match:
    """A term named in a text: its id, and the words naming it as ``text[start:end]``."""

    term: str
    start: int
    end: int
    words: int  # how many words the wording has
    content: int = 0  # how many of them are not function words

    @property
    def self_standing(self) -> bool:
        return self.words >= SELF_STANDING and self.content >= CONTENT_WORDS


@dataclass(frozen=True)
class Structure:
    """The layout vocabulary of ``data/structure.yaml``, normalised."""

    columns: dict[str, dict[str, tuple[str, ...]]]  # role -> language -> words
    basis_cues: dict[str, tuple[str, ...]]
    basis_sections: dict[str, tuple[str, ...]]
    purpose_sections: dict[str, tuple[str, ...]]
    purpose_cues: dict[str, tuple[str, ...]]
    other_sections: dict[str, tuple[str, ...]]
    basis_predicates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    generic_subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    demonstratives: dict[str, tuple[str, ...]] = field(default_factory=dict)
    processing_headings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    for_audience: dict[str, tuple[str, ...]] = field(default_factory=dict)
    special_categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    article_6: dict[str, tuple[str, ...]] = field(default_factory=dict)
    substantial_public_interest: dict[str, tuple[str, ...]] = field(default_factory=dict)
    derogations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    whole_document: dict[str, tuple[str, ...]] = field(default_factory=dict)
    purpose_joints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    purpose_markers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    processor_sections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    processor_cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    controller_sections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    customer_controllers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    processor_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    controller_headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    none_cells: dict[str, tuple[str, ...]] = field(default_factory=dict)
    generic_uses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    conditional_cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reference_nouns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reference_ranges: dict[str, tuple[str, ...]] = field(default_factory=dict)
    respectively: dict[str, tuple[str, ...]] = field(default_factory=dict)
    basis_described: dict[str, tuple[str, ...]] = field(default_factory=dict)
    others_contracts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    own_contracts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    named_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    duty_leads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    duty_marks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    agreement_words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def words(self, table: dict[str, tuple[str, ...]], language: str) -> tuple[str, ...]:
        """The words of ``language``; every language's when it is unknown."""
        if language in table:
            return table[language]
        return tuple(w for lang in sorted(table) for w in table[lang])


def _words_map(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise InputError([Problem(str(STRUCTURE), 1, where, "expected a {fr: [...], en: [...], it: [...]} "
                                                            "map")])
    return {str(lang): tuple(normalise(str(w)) for w in words) for lang, words in value.items()}


@lru_cache(maxsize=2)
def load_structure(path: Path = STRUCTURE) -> Structure:
    data, _ = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise InputError([Problem(str(path), 1, "columns", "expected a `columns` mapping")])
    columns = {str(role): _words_map(words, f"columns.{role}") for role, words in data["columns"].items()}
    unknown = sorted(set(columns) - set(ROLES))
    if unknown:
        raise InputError([Problem(str(path), 1, "columns", f"unknown column roles: {', '.join(unknown)}")])
    return Structure(
        columns=columns,
        basis_cues=_words_map(data.get("basis_cues", {}), "basis_cues"),
        basis_sections=_words_map(data.get("basis_sections", {}), "basis_sections"),
        purpose_sections=_words_map(data.get("purpose_sections", {}), "purpose_sections"),
        purpose_cues=_words_map(data.get("purpose_cues", {}), "purpose_cues"),
        other_sections=_words_map(data.get("other_sections", {}), "other_sections"),
        basis_predicates=_words_map(data.get("basis_predicates", {}), "basis_predicates"),
        generic_subjects=_words_map(data.get("generic_subjects", {}), "generic_subjects"),
        demonstratives=_words_map(data.get("demonstratives", {}), "demonstratives"),
        processing_headings=_words_map(data.get("processing_headings", {}), "processing_headings"),
        for_audience=_words_map(data.get("for_audience", {}), "for_audience"),
        special_categories=_words_map(data.get("special_categories", {}), "special_categories"),
        article_6=_words_map(data.get("article_6", {}), "article_6"),
        substantial_public_interest=_words_map(data.get("substantial_public_interest", {}),
                                               "substantial_public_interest"),
        derogations=_words_map(data.get("derogations", {}), "derogations"),
        whole_document=_words_map(data.get("whole_document", {}), "whole_document"),
        purpose_joints=_words_map(data.get("purpose_joints", {}), "purpose_joints"),
        purpose_markers=_words_map(data.get("purpose_markers", {}), "purpose_markers"),
        processor_sections=_words_map(data.get("processor_sections", {}), "processor_sections"),
        processor_cues=_words_map(data.get("processor_cues", {}), "processor_cues"),
        controller_sections=_words_map(data.get("controller_sections", {}), "controller_sections"),
        customer_controllers=_words_map(data.get("customer_controllers", {}), "customer_controllers"),
        processor_roles=_words_map(data.get("processor_roles", {}), "processor_roles"),
        controller_headers=_words_map(data.get("controller_headers", {}), "controller_headers"),
        none_cells=_words_map(data.get("none_cells", {}), "none_cells"),
        generic_uses=_words_map(data.get("generic_uses", {}), "generic_uses"),
        conditional_cues=_words_map(data.get("conditional_cues", {}), "conditional_cues"),
        reference_nouns=_words_map(data.get("reference_nouns", {}), "reference_nouns"),
        reference_ranges=_words_map(data.get("reference_ranges", {}), "reference_ranges"),
        respectively=_words_map(data.get("respectively", {}), "respectively"),
        basis_described=_words_map(data.get("basis_described", {}), "basis_described"),
        others_contracts=_words_map(data.get("others_contracts", {}), "others_contracts"),
        own_contracts=_words_map(data.get("own_contracts", {}), "own_contracts"),
        named_columns=_words_map(data.get("named_columns", {}), "named_columns"),
        duty_leads=_words_map(data.get("duty_leads", {}), "duty_leads"),
        duty_marks=_words_map(data.get("duty_marks", {}), "duty_marks"),
        agreement_words=_words_map(data.get("agreement_words", {}), "agreement_words"),
    )


@lru_cache(maxsize=64)
def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)" if words else r"(?!)")


def without(text: str, words: tuple[str, ...]) -> str:
    """``text`` normalised, with ``words`` taken out (whole words)."""
    return _alternation(words).sub(" ", normalise(text))


def contains(text: str, words: tuple[str, ...]) -> bool:
    """Whether ``text`` holds one of ``words`` (normalised) as whole words."""
    return _alternation(words).search(normalise(text)) is not None


#: The role of a column holding both the purpose and its basis ("Purpose and legal basis").
BOTH = "purpose+basis"


#: A plural ending in brackets after a word of a header ("Base(s) légale(s)", "Finalità(e)"): the
#: word singular or plural, read as its singular.
_PLURAL_MARK = re.compile(r"(?<=\w)\((?:s|x|es|i|e|he)\)")


@lru_cache(maxsize=4096)
def column_role(header: str, language: str) -> str | None:
    """The role of a column whose header is ``header``: basis, purpose, data..., :data:`BOTH`, or None."""
    structure = load_structure()
    normal = _PLURAL_MARK.sub("", normalise(header))
    if " ".join(re.findall(r"\w+", normal)) in structure.words(structure.controller_headers, ""):
        return "controller"  # "Client", "Cliente": a processor's record's column of the controllers served
    roles: list[str] = []
    found_in = language
    # The document's language first; a header in another one ("Purpose" over French rows) next.
    for words_of_language in (language, ""):
        if not roles:
            found_in = words_of_language
            roles = [role for role in ROLES if role in structure.columns and _alternation(
                structure.words(structure.columns[role], words_of_language)).search(normal)]
    if "purpose" in roles and "basis" in roles:
        # "Perché possiamo farlo" names the basis only: its "perché" is the basis's wording, not a purpose's
        outside = _alternation(structure.words(structure.columns["basis"], found_in)).sub(" ", normal)
        if _alternation(structure.words(structure.columns["purpose"], found_in)).search(outside):
            return BOTH
        roles.remove("purpose")
    return roles[0] if roles else None


def has_cue(sentence: str, language: str) -> bool:
    """Whether ``sentence`` says it is stating a legal basis ("on the basis of", "sulla base del"...)."""
    structure = load_structure()
    return contains(sentence, structure.words(structure.basis_cues, language)
                    + structure.words(structure.basis_predicates, language))


_normal_word = lru_cache(maxsize=1 << 16)(normalise)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text``, normalised, with their offsets; an elided article or preposition is a
    word of its own ("all'esecuzione" is "all" and "esecuzione", "d'un" is "d" and "un"), so that a
    wording matches whatever elision precedes it."""
    found: list[tuple[str, int, int]] = []
    for match in _WORD.finditer(text):
        word = match.group()
        elided = _ELIDED.match(word)
        if elided:
            found.append((_normal_word(elided.group(1)), match.start(), match.start() + len(elided.group(1))))
            found.append((_normal_word(word[elided.end():]), match.start() + elided.end(), match.end()))
        else:
            found.append((_normal_word(word), match.start(), match.end()))
    return found


# An elided article or preposition (fr, it) before an apostrophe: l', d', qu', s', all', dell', sull'...
_ELIDED = re.compile(r"([^\W\d_]{1,4})['’](?=[^\W_])")


@lru_cache(maxsize=16)
def _index(kind: str) -> tuple[dict[tuple[str, ...], str], frozenset[tuple[str, ...]]]:
    """Every wording of the ``kind`` terms, as a tuple of normalised words, to its term id; and
    every beginning of a wording, so that a search stops as soon as no wording can match."""
    index: dict[tuple[str, ...], str] = {}
    for term in load_vocabulary().terms(kind):
        for wording in (*term.labels.values(), *(w for ws in term.synonyms.values() for w in ws)):
            key = tuple(word for word, _, _ in tokens(wording))
            if key:
                index.setdefault(key, term.id)
    prefixes = frozenset(key[:n] for key in index for n in range(1, len(key) + 1))
    return index, prefixes


# A reference to a point of GDPR Art. 6(1), the way notices cite it: "Art. 6(1)(b) GDPR",
# "art. 6, par. 1, lett. b)", "article 6.1.b du RGPD", "articolo 6, paragrafo 1, lettera f)".
_ARTICLE_6 = re.compile(
    r"\bart(?:icle|icolo|\.)?\s*6\s*(?:\(\s*1\s*\)|[.,]?\s*(?:(?:paragraphe|paragrafo|paragraph|par\.|§|"
    r"comma|co\.)\s*)?1)\s*[,.]?\s*(?:(?:lettera|lett\.|let\.|point|litt?\.|sub)\s*)?\(?\s*([a-f])(?![a-z])\)?",
    re.IGNORECASE)


@lru_cache(maxsize=1)
def article_bases() -> dict[str, str]:
    """Letter of Art. 6(1) -> legal basis id, from the terms' ``article`` ("6(1)(a)")."""
    found = {}
    for term in load_vocabulary().terms("legal_bases"):
        article = str(term.extra.get("article", ""))
        if re.fullmatch(r"6\(1\)\([a-f]\)", article):
            found[article[-2]] = term.id
    return found


def _article_references(text: str) -> list[Match]:
    bases = article_bases()
    return [Match(bases[m.group(1).lower()], m.start(), m.end(), SELF_STANDING, CONTENT_WORDS)
            for m in _ARTICLE_6.finditer(text) if m.group(1).lower() in bases]


def find_terms(kind: str, text: str) -> list[Match]:
    """Each ``kind`` term ``text`` names, the longest wording first at each word, left to right;
    for legal bases, also each reference to a point of GDPR Art. 6(1), which names its basis."""
    return list(_find_terms(kind, text))


@lru_cache(maxsize=4096)  # the layout and the activities read the same blocks
def _find_terms(kind: str, text: str) -> tuple[Match, ...]:
    found = _find_words(kind, text)
    if kind == "legal_bases":
        found = [m for m in found if not _others_contract(text, m)]
        references = [r for r in _article_references(text)
                      if not any(m.start < r.end and r.start < m.end for m in found)]
        found = sorted(found + references, key=lambda m: m.start)
        if not found:
            found = _needed_for(text)
    return tuple(found)


def _others_contract(text: str, match: Match) -> bool:
    """Whether ``match`` is a contract named by a short wording ("contract", "contrat de", "il
    contratto") that the words after it say is someone else's: with a party other than the person ("our
    NHS contract with the Integrated Care Board", "under contract with the hosting company") or a
    processor's (Art. 28(3): "contrat de sous-traitance", "contratto di nomina"); not one with the person
    named in the third person ("with the data subject"). structure.yaml `others_contracts`,
    `own_contracts`."""
    if match.term != "contract" or match.self_standing:
        return False
    structure = load_structure()
    after = " ".join(re.sub(r"[^\w']", " ", normalise(text[match.end:match.end + 60])).split())
    return _alternation(structure.words(structure.others_contracts, "")).match(after) is not None \
        and _alternation(structure.words(structure.own_contracts, "")).match(after) is None


#: Most words between a need ("we need") and what the person bought or asked for ("your order").
NEEDED_FOR_REACH = 15


#: The plain-word statements of a basis in legal_bases.yaml: (the term's key, its two sides).
#: ``needed_for``: a need for what the person bought or joined ("we need your address to deliver
#: your order", Art. 6(1)(b)); ``required_by``: a duty and the law or authority imposing it ("we are
#: required by the Money Laundering Regulations to check", "le code du travail nous impose de",
#: Art. 6(1)(c)); ``soft_opt_in``: e-mails about the controller's own similar products ("we may
#: e-mail you about similar products and services", "servizi analoghi": Art. 6(1)(f), the ePrivacy
#: soft opt-in); ``unless`` words before them make the statement a condition ("unless the law
#: requires us to") or another basis's ("with your consent we send offers on similar products"), which
#: ties nothing.
PLAIN_WORDS = (("needed_for", "needs", "for"), ("required_by", "duties", "laws"),
               ("soft_opt_in", "sends", "similar"))


@lru_cache(maxsize=1)
def _needed_for_words() -> list[tuple[str, frozenset[tuple[str, ...]], frozenset[tuple[str, ...]],
                                      frozenset[str]]]:
    """The terms stated in plain words (:data:`PLAIN_WORDS`): each term's id, its two sides' wordings
    as tuples of normalised words, and the words that make the statement a condition."""
    found = []
    for term in load_vocabulary().terms("legal_bases"):
        for key, *names in PLAIN_WORDS:
            spec = term.extra.get(key)
            if not isinstance(spec, dict):
                continue
            sides = [frozenset(tuple(w for w, _, _ in tokens(phrase))
                               for phrases in (spec.get(side) or {}).values() for phrase in phrases)
                     for side in names]
            unless = frozenset(w for phrases in (spec.get("unless") or {}).values()
                               for phrase in phrases for w, _, _ in tokens(phrase))
            found.append((term.id, sides[0], sides[1], unless))
    return found


def _needed_for(text: str) -> list[Match]:
    """A basis stated in plain words: "we need your address to deliver your order" (Art. 6(1)(b),
    necessary for the contract), "we are required by the Money Laundering Regulations to check your
    identity" (Art. 6(1)(c)): the two sides (:data:`PLAIN_WORDS`) in one clause of one sentence, a few
    words apart, either first ("pour exécuter votre adhésion, nous avons besoin de"), and no word of
    the term's ``unless`` in that clause before them; self-standing, as the sentence states why the
    processing is allowed. Only where the text names no basis otherwise."""
    spans = tokens(text)
    words = [w for w, _, _ in spans]
    present = set(words)
    for term, needs, objects, unless in _needed_for_words():
        at_need = _at(words, [k for k in needs if k[0] in present])
        at_object = _at(words, [k for k in objects if k[0] in present]) if at_need else []
        # the earliest statement, whatever order the phrases are tried in (the same answer every run)
        for (a, b), (c, d) in sorted((n, o) for n in at_need for o in at_object):
            first, last = min(a, c), max(b, d)
            start, end = spans[first][1], spans[last - 1][2]
            if max(a, c) - min(b, d) <= NEEDED_FOR_REACH and _one_sentence(text, start, end) \
                    and not _conditioned(text, spans, first, unless):
                return [Match(term, start, end, SELF_STANDING, CONTENT_WORDS)]
    return []


def _conditioned(text: str, spans: list[tuple[str, int, int]], first: int, unless: frozenset[str]) -> bool:
    """Whether a word of ``unless`` opens the clause before word ``first`` ("unless the law requires")."""
    clause = max((i for i in range(first) if any(c in text[spans[i][2]:spans[i + 1][1]] for c in ",;:.")),
                 default=-1) + 1
    return any(w in unless for w, _, _ in spans[clause:first])


def _at(words: list[str], phrases: list[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Where each of ``phrases`` (tuples of words) occurs in ``words``: (first word, past the last)."""
    return [(i, i + len(k)) for k in phrases for i, word in enumerate(words)
            if word == k[0] and tuple(words[i:i + len(k)]) == k]


def _one_sentence(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is inside one sentence, and one clause of it ("we need your help:
    tell us what you think of your order" needs no data for the order)."""
    return any(a <= start and end <= b for a, b in sentences(text)) \
        and not any(c in text[start:end] for c in ":;")


def _find_words(kind: str, text: str) -> list[Match]:
    index, prefixes = _index(kind)
    words = tokens(text)
    found: list[Match] = []
    i = 0
    while i < len(words):
        key: tuple[str, ...] = ()
        longest: tuple[int, str] | None = None  # (end word, term) of the longest wording from i
        for j in range(i, len(words)):
            key = (*key, words[j][0])
            if key not in prefixes:
                break
            if key in index:
                longest = (j + 1, index[key])
        if longest is None:
            i += 1
            continue
        end, term = longest
        content = sum(1 for w, _, _ in words[i:end] if w.rsplit("'", 1)[-1] not in FUNCTION_WORDS)
        found.append(Match(term, words[i][1], words[end - 1][2], end - i, content))
        i = end
    return found


def leftover_words(text: str, matches: list[Match]) -> list[str]:
    """The words of ``text`` no match covers, connecting words aside."""
    return [word for word, start, _ in tokens(text)
            if word not in CONNECTORS and not any(m.start <= start < m.end for m in matches)]


# A sentence ends at ";", or at ".", "!", "?" before a capital (not after "art." in "art. 6").
_SENTENCE_END = re.compile(r"(?<=;)\s+|(?<=[.!?])\s+(?=[\"«“(\[]?[A-ZÀ-ÖØ-Þ])|\n\s*\n")


def sentences(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each sentence of ``text``."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


# Words that, among the few before a basis, deny it: "ne repose pas sur le consentement",
# "we do not rely on consent", "non si basa sul consenso".
NEGATIONS = frozenset({"pas", "jamais", "ni", "not", "never", "nor", "non", "mai", "ne"})
_NEGATION_REACH = 4


def negated(text: str) -> set[str]:
    """The legal bases ``text`` says are NOT relied on ("does not rely on consent")."""
    words = tokens(text)
    ends = [end for _, _, end in words]
    denied: set[str] = set()
    for match in find_terms("legal_bases", text):
        count = bisect_right(ends, match.start)  # the words ending before the match
        before = [w for w, _, _ in words[max(0, count - _NEGATION_REACH):count]]
        if NEGATIONS & set(before) - {"ne"} or ("ne" in before and "pas" in before):
            denied.add(match.term)
    return denied


def tied_bases(text: str, language: str) -> list[Match]:
    return list(_tied_bases(text, language))


@lru_cache(maxsize=4096)
def _tied_bases(text: str, language: str) -> tuple[Match, ...]:
    """The legal bases ``text`` (prose) ties to what it describes: named in a sentence that says it
    states a basis, or by a wording long enough to mean it on its own ("Necessary for our legitimate
    interests"), or as a label beside the purpose ("Newsletter (consent)"). A bare "consent" in
    "you may withdraw your consent" ties nothing."""
    tied: list[Match] = []
    structure = load_structure()
    for start, end in sentences(text):
        sentence = text[start:end]
        if _states_derogation(sentence, language):
            continue
        condition = _names_art9_condition(sentence, language)
        cue = has_cue(sentence, language)
        denied = negated(sentence)
        labels = {(m.start, m.end) for m in _labels(sentence)}
        substantial = contains(sentence, structure.words(structure.substantial_public_interest, language))
        for match in find_terms("legal_bases", sentence):
            stated = cue or match.self_standing or (match.start, match.end) in labels
            if stated and match.term not in denied and not (condition and match.term == "consent") \
                    and not (substantial and match.term == "public_task"):
                tied.append(replace(match, start=start + match.start, end=start + match.end))
    return tuple(_agreement_beside(text, tied, structure.words(structure.agreement_words, language)))


def _agreement_beside(text: str, tied: list[Match], agreement: tuple[str, ...]) -> list[Match]:
    """Bases without the consent a text mentions only as someone's agreement ("with your agreement we
    pass it to the MP for that area. Passing it on is ... in the public interest", "Avec l'accord de
    l'assemblée générale, vos documents sont déposés ... : une obligation du syndic prévue par la loi")
    when it ties another basis: the processing rests on that one (structure.yaml `agreement_words`)."""
    if not agreement or all(m.term == "consent" for m in tied):
        return tied
    consent = [m for m in tied if m.term == "consent"]
    if not consent or not all(contains(text[m.start:m.end], agreement) for m in consent):
        return tied
    return [m for m in tied if m.term != "consent"]


def _states_derogation(sentence: str, language: str) -> bool:
    """A sentence stating an Art. 49(1) derogation for a transfer or the Art. 22(2) exception for an
    automated decision, and not Art. 6 (structure.yaml `derogations`): the contract or consent it names
    allows that transfer or decision, it is no purpose's basis."""
    structure = load_structure()
    return contains(sentence, structure.words(structure.derogations, language)) \
        and not contains(sentence, structure.words(structure.article_6, language))


def _names_art9_condition(sentence: str, language: str) -> bool:
    """A sentence naming the Art. 9(2) condition of special categories of data and not Art. 6: the
    explicit consent it names is that condition (Art. 9(2)(a)), no Art. 6 consent; a contract or a
    duty it names stays a basis ("processed under our contract with you and, for health information,
    Article 9(2)(h)"). structure.yaml `special_categories`."""
    structure = load_structure()
    return contains(sentence, structure.words(structure.special_categories, language)) \
        and not contains(sentence, structure.words(structure.article_6, language))


# A basis given as a label beside the purpose: in parentheses ("Newsletter (consent)"), or after a
# dash or a colon closing the sentence ("Orders – contract", "Newsletter: consentement").
_PARENTHESES = re.compile(r"\(([^()]{1,80})\)")
_TRAILING = re.compile(r"(?:\s[–—-]\s|:\s)([^–—:]{1,80}?)[\s.;,]*$")


# ... or leading the sentence, before a colon, a dash or whose it is ("Legitimate interests: keeping in
# touch with supporters", "Intérêt légitime de la commune à protéger ses bâtiments"), as a definition
# list's <dd> starts. Not before a comma: "Consent, ..." opens sentences about consent itself.
_LEADING = re.compile(
    r"^\s*([^:,;–—()]{3,40}?)\s*(?::|\s[–—-]|\s(?:of|de|du|des|di|del|della|dell['’]))\s")


def _labels(sentence: str) -> list[Match]:
    found: list[Match] = []
    leading = _LEADING.match(sentence)
    for match in (*_PARENTHESES.finditer(sentence), *_TRAILING.finditer(sentence), *filter(None, [leading])):
        found += [replace(m, start=match.start(1) + m.start, end=match.start(1) + m.end)
                  for m in bare_label(match.group(1)) or _glossed(match.group(1))]
    return found


def _glossed(label: str) -> list[Match]:
    """A basis label glossed after a comma ("consentement, recueilli lors de l'inscription",
    "consenso, revocabile in ogni momento"): the label's bases when the gloss names none of its own."""
    head, comma, gloss = label.partition(",")
    return bare_label(head) if comma and not find_terms("legal_bases", gloss) else []


def states_purpose(text: str, language: str) -> bool:
    """Whether a sentence of ``text`` states both what the data is used for ("we use your e-mail
    to", "afin de", "al fine di") and the basis it ties to that use."""
    structure = load_structure()
    cues = structure.words(structure.purpose_cues, language)
    return any(tied_bases(text[a:b], language) and contains(text[a:b], cues) for a, b in sentences(text))


def bare_label(text: str) -> list[Match]:
    """The bases of a short text that is nothing but their names ("Intérêt légitime", "Consent"),
    as a basis column's cell is; empty for any other text."""
    if len(tokens(text)) > 8:
        return []
    matches = find_terms("legal_bases", text)
    return matches if matches and not leftover_words(text, matches) else []


def describes_basis(text: str, language: str) -> bool:
    """Whether ``text`` opens with a basis as its subject, then a verb saying what it is ("Our
    legitimate interests are running a business customers trust"): the interest behind the purposes
    around it described (Art. 13(1)(d)), no purpose of its own."""
    structure = load_structure()
    bases = tied_bases(text, language)
    if not bases or len({m.term for m in bases}) > 1:
        return False
    first = bases[0]
    before = [w for w, _, _ in tokens(text[:first.start])]
    after = tokens(text[first.end:])
    return all(w in FUNCTION_WORDS for w in before) and bool(after) \
        and after[0][0] in structure.words(structure.basis_described, language)


def names_only_bases(text: str) -> bool:
    """Whether a short text names legal bases and nothing else but articles, possessives and
    prepositions ("the performance of a contract;", "il vostro consenso"): a list of bases, no purpose."""
    if len(tokens(text)) > 10:
        return False
    matches = find_terms("legal_bases", text)
    leftover = leftover_words(text, matches)
    return bool(matches) and all(word.rsplit("'", 1)[-1] in FUNCTION_WORDS for word in leftover)


#: Fewest different bases one sentence names to list the bases in general ("consent, contract,
#: legal obligation and legitimate interests"), not to state one purpose's.
GENERAL_BASES = 3


def lists_bases(text: str, language: str) -> bool:
    """Whether every sentence of ``text`` that ties a basis names :data:`GENERAL_BASES` or more
    different ones: the bases the law allows, listed in general, no purpose's."""
    counts = [len({m.term for m in tied_bases(text[a:b], language)}) for a, b in sentences(text)]
    tying = [n for n in counts if n]
    return bool(tying) and all(n >= GENERAL_BASES for n in tying)
