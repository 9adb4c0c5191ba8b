"""The processing activities a notice or a register states: purpose, legal bases, data, retention.

Read from the document's tables (columns found by their header's wording) and from its prose (a
heading, a bullet or a paragraph per purpose, the basis stated in the same place). Nothing is
invented: a basis counts only where the text ties it to the purpose (the purpose's row, field,
bullet or section); a basis the document states once for all its processing is reported apart
(:func:`stated_for_all`), never copied into each purpose. Every value carries the verbatim excerpt
of ``document.text`` it was read from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from garde.analyse.cues import PLACEHOLDER_DURATION
from garde.analyse.document import Document
from garde.analyse.duties import split_duties
from garde.analyse.language import detect_language
from garde.analyse.layout import read_layout
from garde.analyse.on_behalf import on_behalf_only
from garde.analyse.passages import passages
from garde.analyse.table_header import BASIS_DETAIL, article_letter
from garde.analyse.units import Chunk, Reading, Unit
from garde.analyse.wording import Match, bare_label, find_terms, negated, sentences, tied_bases
from garde.retention_rule import RetentionPeriod, RuleSyntaxError
from garde.taxonomy import load_vocabulary, normalise

#: Longest excerpt quoted as a value's evidence, in characters; a longer sentence is quoted by the
#: words that name the value.
EXCERPT = 300


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a value was read: ``excerpt`` is ``document.text[start:start + len(excerpt)]``."""

    field: str  # purpose, name, legal_basis, category, recipient, retention
    value: str  # the value it supports: the purpose's text, a term id, the retention text
    excerpt: str
    start: int


@dataclass(frozen=True, slots=True)
class Retention:
    """A retention period as the document words it, and garde's rule when it reads as one."""

    text: str
    rule: str | None  # e.g. "3 years after last_contact"; None: kept in words only


@dataclass(frozen=True)
class Activity:
    """One purpose the document states, with what it ties to it."""

    purpose: str
    name: str | None = None  # the activity's name when the document gives one beside its purpose
    legal_bases: tuple[str, ...] = ()  # ids of the taxonomy's legal_bases
    retention: Retention | None = None
    categories: tuple[str, ...] = ()  # ids of the taxonomy's data categories
    recipients: tuple[str, ...] = ()  # ids of the taxonomy's recipient kinds
    evidence: tuple[Evidence, ...] = ()
    layout: str = "table"  # where it was read: table, section, item, paragraph
    # "processor": processing carried out on behalf of another controller (GDPR Arts. 28, 30(2)),
    # reported apart from the controller's own activities and with no legal basis of its own
    role: str = "controller"
    # a processor's activity: the controller it is carried out for, as the document names it (a
    # processor's record's row, Art. 30(2)(a)); None when the document names none
    on_behalf_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "name": self.name,
            "legal_bases": list(self.legal_bases),
            "retention": None if self.retention is None else
            {"text": self.retention.text, "rule": self.retention.rule},
            "categories": list(self.categories),
            "recipients": list(self.recipients),
            "evidence": [{"field": e.field, "value": e.value, "excerpt": e.excerpt} for e in self.evidence],
            "role": self.role,
            "on_behalf_of": self.on_behalf_of,
        }


def extract_activities(document: Document, language: str, on_behalf: bool = False) -> list[Activity]:
    """The activities ``document`` states, in reading order; one per purpose (a purpose stated
    twice, in a summary table and in its own section, is one activity with both excerpts).
    ``on_behalf``: the whole document is a processor's (a data processing agreement's annex, told
    by its title: :func:`garde.analyse.on_behalf.processor_document`), so every processing it
    describes is carried out for its customer, the controller (Art. 28(3)), whatever the row says."""
    language = language or document.language
    reading = read_layout(document, language)
    units = split_duties(reading.units + _tasks(document, language, reading), language)
    units.sort(key=lambda u: min((c.start for c in u.chunks), default=0))
    activities = [_on_behalf(_activity(document, unit.layout, unit.chunks, language), unit.chunks)
                  if unit.processor or on_behalf else _activity(document, unit.layout, unit.chunks, language)
                  for unit in units]
    return _restated(_merged(_translations([a for a in activities if a.purpose.strip()], language)))


def _tasks(document: Document, language: str, reading: Reading) -> list[Unit]:
    """A notice speaking only as its customers' processor (:func:`on_behalf_only`: it says it processes
    on their behalf, names no controller's role of its own, ties no basis) lists the tasks it carries
    out for them with no basis and under no heading of purposes ("1. conserviamo le valutazioni ...",
    "2. inviamo alle famiglie ..."): each is processing on the controller's behalf, the categories of
    processing of Art. 30(2)(b)."""
    taken = {c.start for unit in reading.units for c in unit.chunks}
    left = [c for c in reading.listed if c.start not in taken]
    if not left or any(tied_bases(c.text, language) for u in reading.units for c in u.chunks
                       if not u.processor) or not on_behalf_only(passages(document), language):
        return []
    return [Unit("item", [chunk], processor=True) for chunk in left]


#: Fewest letters two words share at their start to be one word's forms ("rappel", "rappels").
STEM = 5


#: Most words of a bullet summing up a purpose stated before ("Fraud prevention", "Marketing emails").
SUMMARY_WORDS = 4


def _restated(activities: list[Activity]) -> list[Activity]:
    """A table summing up purposes the prose states ("Dossier médical / Medical file | Exécution du
    contrat" after "Nous tenons votre dossier médical ..., nécessaire à l'exécution du contrat"): a
    row whose bases are those of exactly one purpose stated in prose, and whose words (in its first
    language, before " / ") all name that purpose's words, is that purpose again."""
    prose = [a for a in activities if a.layout != "table"]
    kept: list[Activity] = []
    into: dict[int, list[Activity]] = {}
    for n, activity in enumerate(activities):
        # a short bullet after the sections stating its purpose sums them up too ("Fraud prevention:
        # legitimate interests" under "Our legal bases, at a glance", after "Preventing fraud")
        summary = activity.layout == "item" and len(activity.purpose.split()) <= SUMMARY_WORDS
        candidates = prose if activity.layout == "table" else [
            a for a in activities[:n] if a.layout in ("section", "paragraph")] if summary else []
        same = [p for p in candidates if activity.legal_bases
                and set(p.legal_bases) == set(activity.legal_bases) and p.role == activity.role
                and _names_within(activity.purpose.split(" / ")[0], f"{p.purpose} {p.name or ''}")]
        if len(same) == 1:
            into.setdefault(id(same[0]), []).append(activity)
        else:
            kept.append(activity)
    return [_one([a, *into[id(a)]]) if id(a) in into else a for a in kept]


def _names_within(short: str, long: str) -> bool:
    """Whether every word of ``short`` of three letters or more is a form of a word of ``long``."""
    words = [w for w in _key(short).split() if len(w) >= 3]
    theirs = _key(long).split()
    return bool(words) and all(any(w == t or (len(w) >= STEM and len(t) >= STEM and w[:STEM] == t[:STEM])
                                   for t in theirs) for w in words)


#: Fewest words of a purpose read as another paragraph's translation: a short label ("Account cliente",
#: "Newsletter") is no sentence a detector can tell the language of, nor a paragraph translated.
TRANSLATED_WORDS = 5


def _translations(activities: list[Activity], language: str) -> list[Activity]:
    """A bilingual notice gives each paragraph twice, in its language then translated ("Nous
    conservons vos relevés ... obligations légales." / "We keep your statements ... legal
    obligations."): a paragraph in another language than the document's, right after one that ties
    the same bases, is that purpose again, one activity with both excerpts."""
    kept: list[Activity] = []
    for activity in activities:
        before = kept[-1] if kept else None
        if before is not None and activity.layout == before.layout == "paragraph" and activity.legal_bases \
                and activity.legal_bases == before.legal_bases and activity.role == before.role \
                and len(activity.purpose.split()) >= TRANSLATED_WORDS \
                and detect_language(activity.purpose, language) != language \
                and detect_language(before.purpose, language) == language:
            kept[-1] = _one([before, activity])
        else:
            kept.append(activity)
    return kept


#: A processor's record's cells kept as they read (Art. 30(2)(a), (c), (d); the sub-processors, Art.
#: 28(2)): the evidence field of each column role.
RECORD_FIELDS = {"controller": "on_behalf_of", "contact": "controller_contact",
                 "recipients": "sub_processors", "transfers": "transfers", "security": "security_measures"}


def _on_behalf(activity: Activity, chunks: list[Chunk]) -> Activity:
    """A processor's activity: the controller it works for decides the purpose and the basis
    (Art. 28(3)(a), 29), so a basis the text names (its service contract, the customer's
    instructions) is not this processing's basis: none is kept. A processor's record's row names
    the controller served, the sub-processors, the transfers and the security measures: each kept
    with its cell."""
    cells = [Evidence(RECORD_FIELDS[c.role], c.text, c.text, c.start)
             for c in chunks if c.role in RECORD_FIELDS]
    served = next((e.value for e in cells if e.field == "on_behalf_of"), None)
    return replace(activity, role="processor", legal_bases=(), on_behalf_of=served,
                   evidence=tuple(e for e in (*activity.evidence, *_unique_cells(cells))
                                  if e.field != "legal_basis"))


def _basis_cells(by_role: dict[str, list[Chunk]]) -> list[Chunk]:
    first = by_role.get("basis", [])
    named = any(find_terms("legal_bases", c.text) or article_letter(c.text) for c in first)
    return first if named else first + by_role.get(BASIS_DETAIL, [])


def _unique_cells(cells: list[Evidence]) -> list[Evidence]:
    """The first cell of each field (a controller carried down from the row above is quoted where it
    stands)."""
    first: dict[str, Evidence] = {}
    for cell in cells:
        first.setdefault(cell.field, cell)
    return list(first.values())


def stated_for_all(document: Document, language: str) -> list[Evidence]:
    """The legal bases the document states without tying them to one purpose ("the legal basis of
    our processing is our legitimate interest"): reported as such, not copied into activities."""
    language = language or document.language
    reading = read_layout(document, language)
    found: list[Evidence] = []
    for chunk in reading.untied:
        found += [_in_sentence(document, chunk, match) for match in tied_bases(chunk.text, language)]
    return _unique(found)


def _activity(document: Document, layout: str, chunks: list[Chunk], language: str) -> Activity:
    by_role: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_role.setdefault(chunk.role, []).append(chunk)
    # a processor's record: the categories of processing carried out for the controller (Art. 30(2)(b))
    purposes = by_role.get("purpose") or by_role.get("processing") or by_role.get("name") or []
    purpose = purposes[0].text if purposes else ""
    names = by_role.get("name") if by_role.get("purpose") or by_role.get("processing") else None
    evidence: list[Evidence] = [Evidence("purpose", purpose, purpose, purposes[0].start)] if purposes else []
    if names:
        evidence.append(Evidence("name", names[0].text, names[0].text, names[0].start))
    bases: list[Evidence] = []
    # a basis column or field: every basis it names; a second basis column ("Details") where it names none
    for chunk in _basis_cells(by_role):
        named = find_terms("legal_bases", chunk.text)
        bases += _segments(document, chunk, named)
        broken = None if named else _broken_label(chunk.text) or article_letter(chunk.text)
        if broken is not None:
            bases.append(Evidence("legal_basis", broken, chunk.text, chunk.start))
    for chunk in (*purposes, *(names or []), *by_role.get("prose", [])):  # prose: the bases it ties
        bases += [_in_sentence(document, chunk, m) for m in tied_bases(chunk.text, language)]
    for chunk in by_role.get("label", []):  # "Consent: to send the newsletter", a bare basis label
        bases += _segments(document, chunk, bare_label(chunk.text))
    categories = [_named(document, "category", chunk, m)
                  for chunk in by_role.get("data", []) for m in find_terms("categories", chunk.text)]
    recipients = [_named(document, "recipient", chunk, m)
                  for chunk in by_role.get("recipients", []) for m in find_terms("recipients", chunk.text)]
    retention = None
    # a period a template left to fill ("XXX years") is no retention (finding GA002)
    stated = [c for c in by_role.get("retention", []) if not PLACEHOLDER_DURATION.search(c.text)]
    if stated:
        chunk = stated[0]
        retention = Retention(chunk.text, retention_rule(chunk.text))
        evidence.append(Evidence("retention", chunk.text, chunk.text, chunk.start))
    denied = set().union(*(negated(c.text) for c in (*purposes, *by_role.get("basis", []))))
    bases = [e for e in _unique(bases) if e.value not in denied]
    categories, recipients = _unique(categories), _unique(recipients)
    return Activity(
        purpose=purpose,
        name=names[0].text if names else None,
        legal_bases=tuple(e.value for e in bases),
        retention=retention,
        categories=tuple(e.value for e in categories),
        recipients=tuple(e.value for e in recipients),
        evidence=(*evidence, *bases, *categories, *recipients),
        layout=layout,
    )


@lru_cache(maxsize=1)
def _squashed_labels() -> dict[str, str]:
    """Each legal basis's label and synonyms, their spaces and punctuation removed -> its id."""
    return {"".join(re.findall(r"\w+", normalise(words))): term.id
            for term in load_vocabulary().terms("legal_bases")
            for words in (*term.labels.values(), *(w for ws in term.synonyms.values() for w in ws))}


def _broken_label(cell: str) -> str | None:
    """The basis a cell names when its words were broken apart (a PDF's narrow column splits a long
    word wherever the line ends: "Legitim ate inte rests", "Contra ctual n ecessit y"): the whole
    cell, spaces aside, is one basis's label or synonym; None otherwise."""
    squashed = "".join(re.findall(r"\w+", normalise(cell)))
    return _squashed_labels().get(squashed) if squashed else None


def _segments(document: Document, chunk: Chunk, matches: list[Match]) -> list[Evidence]:
    """Each basis a cell names, quoted from its words up to the next basis named ("Exécution d'un
    contrat" / "Nécessaire pour nos intérêts légitimes (...)")."""
    found = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start if i + 1 < len(matches) else len(chunk.text)
        segment = Chunk(chunk.role, chunk.text[match.start:end].rstrip(), chunk.start + match.start)
        found.append(_evidence(document, "legal_basis", match.term, segment,
                               Match(match.term, 0, match.end - match.start, match.words)))
    return found


def _in_sentence(document: Document, chunk: Chunk, match: Match) -> Evidence:
    """A basis prose ties to a purpose, quoted by the sentence that ties it."""
    spans = sentences(chunk.text)
    start, end = next(((a, b) for a, b in spans if a <= match.start < b), (0, len(chunk.text)))
    sentence = Chunk(chunk.role, chunk.text[start:end], chunk.start + start)
    return _evidence(document, "legal_basis", match.term, sentence,
                     Match(match.term, match.start - start, match.end - start, match.words))


def _named(document: Document, kind: str, chunk: Chunk, match: Match) -> Evidence:
    """A term a data or recipients cell names, quoted by the words that name it ("Data di nascita")."""
    start = chunk.start + match.start
    return Evidence(kind, match.term, document.text[start:chunk.start + match.end], start)


def _evidence(document: Document, kind: str, value: str, chunk: Chunk, match: Match) -> Evidence:
    """The excerpt for a value found in ``chunk``: the chunk (a cell, a field, a sentence) when it
    is short, else the words that name the value."""
    start, end = chunk.start, chunk.start + len(chunk.text)
    if end - start > EXCERPT:
        start, end = chunk.start + match.start, chunk.start + match.end
    return Evidence(kind, value, document.text[start:end], start)


def _unique(found: list[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    kept = []
    for evidence in found:
        if evidence.value not in seen:
            seen.add(evidence.value)
            kept.append(evidence)
    return kept


def _merged(activities: list[Activity]) -> list[Activity]:
    """One activity per purpose: the same purpose read twice (a summary table, then its section)
    keeps every basis, category and excerpt of both. Two activities of different names that state
    the same purpose stay two."""
    groups: list[list[Activity]] = []
    by_purpose: dict[str, list[int]] = {}
    for activity in activities:
        places = by_purpose.setdefault(_key(activity.purpose), [])
        same = next((i for i in places if _same_name(groups[i][0], activity)), None)
        if same is None:
            places.append(len(groups))
            groups.append([activity])
        else:
            groups[same].append(activity)
    return [group[0] if len(group) == 1 else _one(group) for group in groups]


def _one(group: list[Activity]) -> Activity:
    first = group[0]
    seen: set[tuple[str, str]] = set()
    evidence = []
    for activity in group:  # the first excerpt of each value, in the order they were read
        for found in activity.evidence:
            if (found.field, found.value) not in seen:
                seen.add((found.field, found.value))
                evidence.append(found)
    return Activity(
        purpose=first.purpose,
        name=next((a.name for a in group if a.name), None),
        legal_bases=tuple(dict.fromkeys(v for a in group for v in a.legal_bases)),
        retention=next((a.retention for a in group if a.retention), None),
        categories=tuple(dict.fromkeys(v for a in group for v in a.categories)),
        recipients=tuple(dict.fromkeys(v for a in group for v in a.recipients)),
        evidence=tuple(evidence),
        layout=first.layout,
        role=first.role,
        on_behalf_of=next((a.on_behalf_of for a in group if a.on_behalf_of), None),
    )


def _same_name(first: Activity, second: Activity) -> bool:
    if first.role != second.role:
        return False
    return first.name is None or second.name is None or _key(first.name) == _key(second.name)


def _key(text: str) -> str:
    """A purpose's words, whatever separates them (a line break, "<br>", "; ")."""
    return " ".join(re.findall(r"\w+", normalise(text.replace("<br>", " "))))


# Where a retention rule may start: a number ("3 ans après...", "between 3 and 5 years") or "until".
_RULE_START = re.compile(r"\d+|\b(?:until|jusqu|fino)\b", re.IGNORECASE)


def retention_rule(text: str) -> str | None:
    """garde's form of a retention period the text states (``3 years after last_contact``) when one
    of its phrases reads as a rule whose event the vocabulary knows; else None (kept in words)."""
    events = {t.id for t in load_vocabulary().terms("trigger_events")}
    for start in _RULE_START.finditer(text):
        words = text[start.start():].split()
        for end in range(min(len(words), 14), 1, -1):
            candidate = " ".join(words[:end]).rstrip(".,;:)")
            try:
                rule = RetentionPeriod.parse(candidate)
            except (RuleSyntaxError, ValueError):
                continue
            if rule.event in events:
                return str(rule)
    return None
