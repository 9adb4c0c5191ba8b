"""The shared vocabulary, kept as data files a DPO can read and extend.

Each kind of term (data categories, data-subject kinds, legal bases, ...)
lives in ``data/<kind>.yaml`` as a list of terms::

    - id: contact.email
      label: {fr: Adresse e-mail, en: E-mail address, it: Indirizzo email}
      synonyms: {fr: [Courriel], it: [indirizzo email]}
      dpv: pd:EmailAddress
      fideslang: user.contact.email

Category ids are hierarchical: ``contact`` is the parent of
``contact.email``. :meth:`Vocabulary.resolve` maps the words real notices use
("Coordonnées", "Dati di navigazione") to terms through their synonyms.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from garde.problems import InputError, Problem, closest
from garde.taxonomy.free import FreeTerm
from garde.yamlsource import load_yaml

DATA = Path(__file__).parent / "data"
LANGS = ("fr", "en", "it")

KINDS: dict[str, str] = {
    "categories": "data categories",
    "subjects": "data-subject kinds",
    "legal_bases": "Art. 6(1) legal bases",
    "art9_conditions": "Art. 9(2) conditions",
    "trigger_events": "retention trigger events",
    "recipients": "recipient kinds",
    "safeguards": "transfer safeguards",
    "sources": "sources of personal data",
    "channels": "contact channels",
    "consent_methods": "ways consent is captured",
    "rights": "data subjects' rights (GDPR Arts. 7(3), 15-22, 77)",
}

TERM_NOUNS: dict[str, str] = {
    "categories": "data category",
    "subjects": "data-subject kind",
    "legal_bases": "legal basis",
    "art9_conditions": "Art. 9 condition",
    "trigger_events": "trigger event",
    "recipients": "recipient kind",
    "safeguards": "transfer safeguard",
    "sources": "source",
    "channels": "channel",
    "consent_methods": "consent method",
    "rights": "right",
}


@dataclass(frozen=True)
class Term:
    """One term of the vocabulary."""

    kind: str
    id: str
    labels: dict[str, str]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dpv: str | None = None
    fideslang: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.id

    def valid_on(self, day: date) -> bool:
        """Whether ``day`` falls within the term's ``valid_from``/``valid_until`` (inclusive), if any."""
        start, end = self.extra.get("valid_from"), self.extra.get("valid_until")
        return (not isinstance(start, date) or start <= day) and (not isinstance(end, date) or day <= end)

    @property
    def parent(self) -> str | None:
        return self.id.rsplit(".", 1)[0] if "." in self.id else None


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form used to match synonyms."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.replace("-", " ").split())


# Words that join terms in a list cell ("Nom ed indirizzo email", "Contrat de vente et ...").
_CONNECTORS = frozenset({"et", "ou", "and", "or", "e", "ed", "o", "de", "des", "du", "la", "le", "les"})
_PUNCTUATION = " ,.;:()"


class Vocabulary:
    """All terms of every kind, with look-up by id and by the words documents use."""

    def __init__(self, terms: dict[str, dict[str, Term]], extras: dict[str, Any]) -> None:
        self._terms = terms
        self.extras = extras
        self._by_words: dict[str, dict[str, Term]] = {}
        for kind, by_id in terms.items():
            index: dict[str, Term] = {}
            for term in by_id.values():
                for words in (term.id, *term.labels.values()):
                    index.setdefault(normalise(words), term)
                for synonyms in term.synonyms.values():
                    for words in synonyms:
                        index.setdefault(normalise(words), term)
            self._by_words[kind] = index

    def kinds(self) -> list[str]:
        return list(self._terms)

    def terms(self, kind: str) -> list[Term]:
        return list(self._terms[kind].values())

    def __iter__(self) -> Iterator[Term]:
        for by_id in self._terms.values():
            yield from by_id.values()

    def get(self, kind: str, term_id: str) -> Term | None:
        if isinstance(term_id, FreeTerm):  # the register's own words never take a term's meaning
            return None
        return self._terms[kind].get(term_id)

    def direct_sources(self) -> set[str]:
        """Sources where the person gives the data (DPV DataSubjectDataSource): Art. 13, not 14."""
        return {t.id for t in self.terms("sources") if t.dpv == "dpv:DataSubjectDataSource"}

    def has(self, kind: str, term_id: str) -> bool:
        return not isinstance(term_id, FreeTerm) and term_id in self._terms[kind]

    def label(self, kind: str, term_id: str, lang: str = "en") -> str:
        if isinstance(term_id, FreeTerm):  # the register's own words, as written
            return term_id.text(lang)
        term = self.get(kind, term_id)
        return term.label(lang) if term else term_id

    def resolve(self, kind: str, words: str) -> Term | None:
        """The term whose id, label or synonym is ``words`` (any language)."""
        return self._by_words[kind].get(normalise(words))

    def resolve_all(self, kind: str, text: str) -> tuple[list[Term], list[str]]:
        """Every term named in a cell that lists several, and the words left over.

        Seed cells run terms together ("Intérêt légitime Contrat (CG)", "Identité
        Contact Financières Transaction Marketing et communication"): the longest
        known wording is taken at each position, connecting words are skipped.
        """
        index = self._by_words[kind]
        words = normalise(text).split()
        terms: list[Term] = []
        unmatched: list[str] = []
        i = 0
        while i < len(words):
            for j in range(len(words), i, -1):
                phrase = " ".join(words[i:j])
                term = index.get(phrase) or index.get(phrase.strip(_PUNCTUATION))
                if term:
                    if term not in terms:
                        terms.append(term)
                    i = j
                    break
            else:
                word = words[i].strip(_PUNCTUATION)
                if word and word not in _CONNECTORS:
                    unmatched.append(words[i])
                i += 1
        return terms, unmatched

    def suggest(self, kind: str, word: str) -> str | None:
        """The known id closest to a probable typo."""
        return closest(word, self._terms[kind])

    def children(self, kind: str, term_id: str) -> list[Term]:
        prefix = term_id + "."
        return [t for t in self._terms[kind].values() if t.id.startswith(prefix)]

    def ancestors(self, term_id: str) -> list[str]:
        """``a.b.c`` -> ``["a.b", "a"]``."""
        parts = term_id.split(".")
        return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]

    def covers(self, declared: str, used: str) -> bool:
        """Whether declaring category ``declared`` covers the finer ``used``."""
        return used == declared or used.startswith(declared + ".")


def _text_map(value: Any, source: Any, path: tuple[Any, ...]) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): str(v) for k, v in value.items()}
    raise InputError([source.problem(path, "expected a text or a {fr:, en:, it:} map")])


def _load_kind(path: Path, kind: str) -> dict[str, Term]:
    value, source = load_yaml(path)
    if not isinstance(value, list):
        raise InputError([Problem(str(path), 1, "", "expected a list of terms")])
    terms: dict[str, Term] = {}
    problems: list[Problem] = []
    for i, raw in enumerate(value):
        if not isinstance(raw, dict) or "id" not in raw:
            problems.append(source.problem((i,), "each term needs an `id`"))
            continue
        term_id = str(raw["id"])
        if term_id in terms:
            problems.append(source.problem((i, "id"), f"term {term_id!r} is defined twice"))
            continue
        synonyms_raw = raw.get("synonyms") or {}
        if isinstance(synonyms_raw, list):
            synonyms_raw = {"en": synonyms_raw}
        synonyms = {str(lang): tuple(str(w) for w in words) for lang, words in synonyms_raw.items()}
        known = {"id", "label", "synonyms", "dpv", "fideslang"}
        terms[term_id] = Term(
            kind=kind,
            id=term_id,
            labels=_text_map(raw.get("label", term_id), source, (i, "label")),
            synonyms=synonyms,
            dpv=raw.get("dpv"),
            fideslang=raw.get("fideslang"),
            extra={k: v for k, v in raw.items() if k not in known},
        )
    if problems:
        raise InputError(problems)
    return terms


@lru_cache(maxsize=4)
def load_vocabulary(directory: Path = DATA) -> Vocabulary:
    """Load every ``<kind>.yaml`` of ``directory``; other YAML files become ``extras``."""
    terms: dict[str, dict[str, Term]] = {}
    extras: dict[str, Any] = {}
    for kind in KINDS:
        path = directory / f"{kind}.yaml"
        terms[kind] = _load_kind(path, kind) if path.exists() else {}
    for path in sorted(directory.glob("*.yaml")):
        if path.stem not in KINDS:
            extras[path.stem] = load_yaml(path)[0]
    return Vocabulary(terms, extras)
