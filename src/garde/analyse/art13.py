"""Which of the things GDPR Art. 13 requires a notice says, each with a verbatim excerpt as evidence.

The words come from data, not from code: ``analyse/data/art13.yaml`` (cue phrases per element and
language, section headings, table columns) and the taxonomy (legal bases, recipients, safeguards,
data categories, sources, rights: their labels and synonyms). An element is present only when a
passage of the document shows it, and that passage, verbatim, is its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from garde.analyse.cues import Cues, compile_cues, per_language, words_of
from garde.analyse.passages import Passage
from garde.analyse.wording import column_role
from garde.problems import GardeError
from garde.taxonomy import load_vocabulary
from garde.yamlsource import load_yaml

DATA = Path(__file__).parent / "data" / "art13.yaml"

# The list, in the order of Art. 13 (and Art. 14(1)(d), 14(2)(f) for the last two).
ELEMENTS = (
    "controller_identity", "controller_contact", "dpo_contact", "purposes", "legal_basis_per_purpose",
    "legal_basis_any", "legitimate_interests_described", "recipients", "transfers_outside_eea",
    "transfer_safeguards", "retention", "right_access", "right_rectification", "right_erasure",
    "right_restriction", "right_objection", "right_portability", "withdraw_consent",
    "complaint_to_authority", "statutory_or_contractual_requirement", "automated_decisions",
    "data_categories", "source_of_data",
)
RIGHTS = ELEMENTS[11:19]
_LISTED_WORDS = 15  # a cell or item longer than this is prose: `listed` cues do not count in it
_EMPTY_CELLS = frozenset({"", "-", "–", "—", "/", "n/a", "na", "none", "aucun", "aucune", "nessuno", "nd",
                          "x"})


@dataclass(frozen=True)
class Element:
    """One element: whether the document says it, and where (verbatim)."""

    present: bool
    evidence: str = ""
    start: int | None = None  # the evidence's offset in the document's text

    def to_data(self) -> dict[str, Any]:
        return {"present": self.present, "evidence": self.evidence}


_NONE = Cues(None)


@dataclass(frozen=True)
class Rule:
    """How one element is recognised (compiled from art13.yaml)."""

    cues: Cues
    listed: Cues = _NONE  # cues that count only in a table cell or a list item
    together: tuple[tuple[Cues, ...], ...] = ()
    unless: tuple[Cues, ...] = ()
    but_for: tuple[Cues, ...] = ()  # a passage with one of these counts despite `unless`
    # groups of cues that count only in a table cell or a list item ("6 years after the tenancy ends")
    listed_together: tuple[tuple[Cues, ...], ...] = ()
    # groups whose first set names a table cell and each other set another cell of its row (a
    # register's "Maroc" beside "Clauses contractuelles types"): the cell is the evidence
    row_together: tuple[tuple[Cues, ...], ...] = ()
    sections: Cues = _NONE
    columns: Cues = _NONE
    min_words_besides: int = 0
    min_words_after: int = 0  # words the passage must go on with after the cue
    unless_per_sentence: bool = False  # `unless` leaves out its own sentence, not the whole passage
    none_counts: bool = False  # a "None" cell in the element's column says it (no transfer: Art. 13(1)(f))
    unless_clause: tuple[Cues, ...] = ()  # a clause (up to ";" or ":") with one of these shows nothing
    context: tuple[Cues, ...] = ()  # rights: the `together` groups count only in this context
    alone: tuple[tuple[Cues, ...], ...] = ()  # rights: groups that count in any passage
    # rights: the right's article referred to ("Articles 15 to 22"), in context, unless the passage
    # introduces a list (ending in ":"), whose items then say which rights
    by_article: tuple[Cues, ...] = ()


@dataclass(frozen=True)
class Rules:
    elements: dict[str, Rule]
    rights_sections: Cues
    basis_links: tuple[Cues, ...]
    unstated: Cues = _NONE
    processor_document: Cues = _NONE  # a title naming a processor's document (on_behalf.py)


def _sets(raw: Mapping[str, Any]) -> dict[str, Cues]:
    return {name: compile_cues(per_language(value, f"art13.yaml: sets.{name}"))
            for name, value in raw.items()}


def _named_sets(names: Any, sets: dict[str, Cues], where: str) -> tuple[Cues, ...]:
    found: list[Cues] = []
    for name in names or []:
        if str(name).startswith("@"):
            found.append(compile_cues([str(name)]))
        elif name in sets:
            found.append(sets[name])
        else:
            raise GardeError(f"art13.yaml: {where}: unknown set {name!r}; known: {', '.join(sorted(sets))}")
    return tuple(found)


@lru_cache(maxsize=2)
def load_rules(path: Path = DATA) -> Rules:
    """The rules of every element, from ``path`` and the taxonomy."""
    raw, _ = load_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("elements"), dict):
        raise GardeError(f"{path}: expected `sets`, `elements`, `rights` and `legal_basis_per_purpose`")
    sets = _sets(raw.get("sets") or {})
    rules: dict[str, Rule] = {}
    for name, spec in raw["elements"].items():
        if name not in ELEMENTS:
            raise GardeError(f"{path}: unknown element {name!r}")
        rules[name] = Rule(
            cues=compile_cues(per_language(spec.get("cues"), f"{name}.cues")),
            listed=compile_cues(per_language(spec.get("listed"), f"{name}.listed")),
            together=tuple(_named_sets(group, sets, f"{name}.together")
                           for group in spec.get("together") or []),
            unless=_named_sets(spec.get("unless"), sets, f"{name}.unless"),
            but_for=_named_sets(spec.get("but_for"), sets, f"{name}.but_for"),
            listed_together=tuple(_named_sets(group, sets, f"{name}.listed_together")
                                  for group in spec.get("listed_together") or []),
            row_together=tuple(_named_sets(group, sets, f"{name}.row_together")
                               for group in spec.get("row_together") or []),
            sections=compile_cues(per_language(spec.get("sections"), f"{name}.sections")),
            columns=compile_cues(per_language(spec.get("columns"), f"{name}.columns")),
            min_words_besides=int(spec.get("min_words_besides") or 0),
            min_words_after=int(spec.get("min_words_after") or 0),
            none_counts=bool(spec.get("none_counts")),
            unless_per_sentence=bool(spec.get("unless_per_sentence")),
        )
    rights = raw.get("rights") or {}
    context = _named_sets(rights.get("context"), sets, "rights.context")
    complaint_also = _named_sets(rights.get("complaint_also"), sets, "rights.complaint_also")
    alone = rights.get("alone") or {}
    not_applicable = _named_sets(rights.get("unless"), sets, "rights.unless")
    for term in load_vocabulary().terms("rights"):
        element = str(term.extra.get("element", ""))
        if element not in RIGHTS:
            raise GardeError(f"taxonomy rights.yaml: {term.id}: `element` must be one of {', '.join(RIGHTS)}")
        phrases = [*term.labels.values(), *(w for ws in term.synonyms.values() for w in ws)]
        # `alone_words`: what names the right only beside the `alone` sets ("you can stop them whenever
        # you like", said of what your consent allows): "stop" in a rights list is no withdrawal
        words = compile_cues([
            *per_language(term.extra.get("words"), f"rights.yaml: {term.id}.words"),
            *per_language(term.extra.get("alone_words"), f"rights.yaml: {term.id}.alone_words")])
        in_context = compile_cues([
            *per_language(term.extra.get("words"), f"rights.yaml: {term.id}.words"),
            *per_language(term.extra.get("context_words"), f"rights.yaml: {term.id}.context_words")])
        also = complaint_also if element == "complaint_to_authority" else ()
        free = _named_sets(alone.get(element), sets, f"rights.alone.{element}")
        # The right named by its article ("the rights of Articles 15 to 22 GDPR"), in a passage about rights.
        article = str(term.extra.get("article", ""))
        by_article = (compile_cues([f"@article:{article}"]), *also) if article.isdigit() else ()
        rules[element] = Rule(cues=compile_cues(phrases), together=((in_context, *also),), context=context,
                              alone=((words, *free),) if free else (), unless_clause=not_applicable,
                              by_article=by_article)
    missing = [name for name in ELEMENTS if name not in rules and name != "legal_basis_per_purpose"]
    if missing:
        raise GardeError(f"{path}: no rule for {', '.join(missing)}")
    return Rules(rules, compile_cues(per_language(rights.get("sections"), "rights.sections")),
                 _named_sets((raw.get("legal_basis_per_purpose") or {}).get("links"), sets,
                             "legal_basis_per_purpose.links"),
                 compile_cues(per_language(raw.get("unstated"), "unstated")),
                 compile_cues(per_language(raw.get("processor_document"), "processor_document")))


def detect_elements(found: Sequence[Passage], rules: Rules | None = None) -> dict[str, Element]:
    """Every element of :data:`ELEMENTS`, present with its evidence or absent."""
    rules = rules or load_rules()
    # A table of contents repeats the headings: its lines are not what the sections say.
    headings = {p.words for p in found if p.kind == "heading"}
    found = [p for p in found if not (rules.unstated and rules.unstated.find(p.text, p.words))
             and (p.kind == "heading" or p.words not in headings)]
    content = _with_content(found)
    result: dict[str, Element] = {}
    for name in ELEMENTS:
        if name == "legal_basis_per_purpose":
            result[name] = _basis_per_purpose(found, rules)
            continue
        rule = rules.elements[name]
        scoped = rules.rights_sections if rule.context else None
        result[name] = (_by_column(found, rule, name) or _by_cues(found, content, rule, scoped)
                        or _by_section(found, rule) or Element(False))
    return result


def _with_content(found: Sequence[Passage]) -> set[int]:
    """Offsets of the headings some text stands under (a table of contents' lines have none)."""
    return {p.sections[0].start for p in found if p.kind != "heading" and p.sections}


def _evidence(passage: Passage) -> Element:
    lead = len(passage.text) - len(passage.text.lstrip())
    return Element(True, passage.text.strip(), passage.start + lead)


# A clause ends at ";" or ":", or with its sentence (a full stop before a capital: "Art. 20" goes on).
_CLAUSE_END = re.compile(r"[;:]|[.!?](?=\s+[A-ZÀ-ÖØ-Ý])")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-ZÀ-ÖØ-Ý])")


def _matches(passage: Passage, rule: Rule, scoped: Cues | None) -> bool:
    text, words = passage.text, passage.words
    if _excluded(passage, rule):
        if not rule.unless_per_sentence:
            return False
        kept = [s for s in _SENTENCE_END.split(text) if not any(c.find(s, words_of(s)) for c in rule.unless)]
        if not kept:
            return False
        text = " ".join(kept)
        words = words_of(text)
    if rule.unless_clause:  # "the right to portability does not apply: ..." says no right
        clauses = _CLAUSE_END.split(text)
        kept = [c for c in clauses if not any(u.find(c, words_of(c)) for u in rule.unless_clause)]
        if len(kept) < len(clauses):
            text = " ".join(kept)
            words = words_of(text)
    hit = rule.cues.find(text, words)
    if hit and len(words.split()) - len(hit.split()) >= rule.min_words_besides \
            and _words_after(words, hit) >= rule.min_words_after:
        return True
    listed = passage.kind in ("cell", "item") and passage.word_count() <= _LISTED_WORDS
    if listed and (rule.listed.find(text, words)
                   or any(all(c.find(text, words) for c in group) for group in rule.listed_together)):
        return True
    if any(all(c.find(text, words) for c in group) for group in rule.alone):
        return True
    if passage.row and any(_in_row(passage, group) for group in rule.row_together):
        return True
    if rule.context and not (any(c.find(text, words) for c in rule.context)
                             or (scoped is not None and _in_section(passage, scoped))):
        return False
    introduces_a_list = text.rstrip().endswith(":")
    if rule.by_article and not introduces_a_list and all(c.find(text, words) for c in rule.by_article):
        return True
    return any(all(c.find(text, words) for c in group) for group in rule.together)


def _in_row(passage: Passage, group: tuple[Cues, ...]) -> bool:
    """Whether the group's first set names the cell and each other one another cell of its row."""
    first, *others = group
    if not first.find(passage.text, passage.words):
        return False
    cells = [cell.text for cell in passage.row if cell.start != passage.block.start]
    return all(any(c.find(cell, words_of(cell)) for cell in cells) for c in others)


def _excluded(passage: Passage, rule: Rule) -> bool:
    """Whether the passage says something else (the DPO's address is no controller contact)."""
    text, words = passage.text, passage.words
    return any(c.find(text, words) for c in rule.unless) \
        and not any(c.find(text, words) for c in rule.but_for)


def _words_after(words: str, hit: str) -> int:
    """How many words ``words`` (normalised) has after the cue ``hit`` (its first occurrence)."""
    at = words.find(" " + words_of(hit).strip() + " ")
    return len(words[at:].split()) - len(words_of(hit).split()) if at >= 0 else 0


def _in_section(passage: Passage, sections: Cues) -> bool:
    return any(sections.find(h.text, words_of(h.text)) for h in passage.sections)


def _by_cues(found: Sequence[Passage], content: set[int], rule: Rule, scoped: Cues | None) -> Element | None:
    """The first passage that says it; failing that, what stands under the first heading that does."""
    for passage in found:
        if passage.kind != "heading" and not passage.header and _matches(passage, rule, scoped):
            return _evidence(passage)
    for passage in found:
        if passage.kind == "heading" and passage.start in content and _matches(passage, rule, scoped):
            under = next((p for p in found if p.sections and p.sections[0].start == passage.start
                          and p.kind != "heading" and _substantial(p)), None)
            if under is not None:
                return _evidence(under)
    return None


def _substantial(passage: Passage) -> bool:
    """Some words, not just a reference ("GDPR Art. 13(1)(b)")."""
    return sum(len(word) >= 3 and word.isalpha() for word in passage.words.split()) >= 3


def _by_section(found: Sequence[Passage], rule: Rule) -> Element | None:
    if not rule.sections:
        return None
    for passage in found:
        if passage.kind == "heading" or not _substantial(passage) or not passage.sections:
            continue
        if _in_section(passage, rule.sections) and not _excluded(passage, rule):
            return _evidence(passage)
    return None


def _by_column(found: Sequence[Passage], rule: Rule, name: str) -> Element | None:
    if not rule.columns:
        return None
    cells = [p for p in found if p.kind == "cell" and p.column and not p.header and _filled(p.text)
             and (rule.columns.find(p.column, words_of(p.column)) or _processing_column(p.column, name))
             and not _record_column(p.column, name)]
    # Of several matching columns ("Traitement des données", "Données"), the one whose cells hold
    # the element's own words.
    named = [p for p in cells if rule.listed.find(p.text, p.words) or rule.cues.find(p.text, p.words)]
    if cells:
        return _evidence((named or cells)[0])
    if rule.none_counts:  # every row says "None": the register states there is none
        said = next((p for p in found if p.kind == "cell" and p.column and not p.header
                     and p.text.strip().casefold() in _NONE_CELLS
                     and rule.columns.find(p.column, words_of(p.column))), None)
        return _evidence(said) if said is not None else None
    return None


def _record_column(header: str, element: str) -> bool:
    """A processor's record's column (Art. 30(2)) that is no column of the element whatever its words:
    the controllers served ("Responsable du traitement (client)": no purpose), the categories of
    processing carried out for them ("Catégories de traitements ...": no data category, though the
    purposes' column)."""
    role = column_role(header, "")
    return role == "controller" or (role == "processing" and element != "purposes")


def _processing_column(header: str, element: str) -> bool:
    """A processor's record's categories of processing (Art. 30(2)(b)), whatever its words: what is
    done with the data, its purposes' column."""
    return element == "purposes" and column_role(header, "") == "processing"


_NONE_CELLS = frozenset({"none", "no", "aucun", "aucune", "non", "nessuno", "nessuna", "no transfer",
                         "aucun transfert", "nessun trasferimento"})


def _filled(text: str) -> bool:
    return text.strip().casefold() not in _EMPTY_CELLS and any(c.isalpha() for c in text)


def _basis_per_purpose(found: Sequence[Passage], rules: Rules) -> Element:
    """A legal basis tied to a purpose: a basis cell in a row with other cells, a sentence that
    states a basis for a purpose ("we rely on your consent to send the newsletter"), or one under a
    heading about purposes ("How we use your information")."""
    basis = rules.elements["legal_basis_any"]
    withdraw = rules.elements["withdraw_consent"]
    purposes = rules.elements["purposes"].cues
    for passage in found:
        text, words = passage.text, passage.words
        if passage.header:
            continue
        if passage.kind == "cell":
            column = passage.column
            in_column = bool(column) and bool(basis.columns.find(column, words_of(column)))
            if len(passage.row) >= 2 and _filled(text) and (in_column or basis.cues.find(text, words)):
                return _evidence(passage)
        elif (passage.kind != "heading" and basis.cues.find(text, words)
              and (any(c.find(text, words) for c in rules.basis_links) or _in_section(passage, purposes))
              and not _matches(passage, withdraw, None)):
            return _evidence(passage)
    return Element(False)
