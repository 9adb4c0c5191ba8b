"""Findings: what a DPO must fix in a notice beyond Art. 13 completeness, lint-style.

Each finding has a stable code (GA001...), a severity, the law or guidance it comes from, a
message in the report's language and a verbatim excerpt of the document as evidence. The rules
and their words are in ``analyse/data/findings.yaml``; invalidated transfer mechanisms come from
the taxonomy's safeguards with a ``valid_until`` in the past (taxonomy/data/safeguards.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from garde.analyse.art13 import load_rules
from garde.analyse.cues import Cues, compile_cues, countries_outside_eea, per_language, words_of
from garde.analyse.passages import Passage
from garde.analyse.references import reference_runs
from garde.analyse.subjects import clauses, hedged_use
from garde.analyse.wording import find_terms, tied_bases
from garde.problems import GardeError
from garde.taxonomy import load_vocabulary
from garde.yamlsource import load_yaml

DATA = Path(__file__).parent / "data" / "findings.yaml"

# Template placeholders: "[INSERER LE LIEN]", "[Company name]", "XXX", "<nom>", "{{ name }}",
# "lorem ipsum", "TBD"/"TODO" standing alone.
_PLACEHOLDER = re.compile(
    r"\[\s*(?:[A-ZÀ-ÖØ-Ý][A-ZÀ-ÖØ-Ý0-9 _'’/.-]{2,}|(?:insert|insérer|inserer|inserire|indiquer|indicare|"
    r"add|ajouter|aggiungere|nom|name|nome|company|société|societe|società|lien|link|date|data|adresse|address|"
    r"indirizzo)\b[^\]]{0,60})\s*\]"
    r"|\bX{3,}\b|\bx{4,}\b|<\s*(?:nom|name|nome|prénom|company|société|società|date|adresse|address|email|"
    r"insert[^>]{0,40}|[a-z_]+_name)\s*>|\{\{[^}]{1,60}\}\}|\blorem ipsum\b|\b(?:TBD|TODO|FIXME)\b",
    re.IGNORECASE)
# Case matters for the first and third alternatives: an all-capitals bracket is a placeholder,
# "[1]" or "[a]" is not; checked again below on the matched text.
_CAPITALS = re.compile(r"^\[\s*[A-ZÀ-ÖØ-Ý][A-ZÀ-ÖØ-Ý0-9 _'’/.-]{2,}\s*\]$")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    rule: str
    message: str
    reference: str
    url: str | None
    evidence: str

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FindingRule:
    code: str
    name: str
    severity: str
    reference: str
    url: str | None
    messages: dict[str, str]
    together: tuple[tuple[Cues, ...], ...]
    unless: tuple[Cues, ...] = ()  # a passage with one of these shows nothing (a denial: "we never send")

    def message(self, lang: str, **values: str) -> str:
        text = self.messages.get(lang) or self.messages["en"]
        return text % values if values else text


@dataclass(frozen=True)
class FindingRules:
    rules: dict[str, FindingRule]
    no_transfer: Cues
    located: Cues
    alternative: Cues
    stays_only: Cues
    places: Cues
    safeguard: Cues
    hypothetical: Cues
    kept_in: Cues


@lru_cache(maxsize=2)
def load_finding_rules(path: Path = DATA) -> FindingRules:
    raw, _ = load_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), dict):
        raise GardeError(f"{path}: expected `sets` and `rules`")
    sets = {name: compile_cues(per_language(value, f"findings.yaml: sets.{name}"))
            for name, value in (raw.get("sets") or {}).items()}
    rules: dict[str, FindingRule] = {}
    for code, spec in raw["rules"].items():
        try:
            together = tuple(tuple(sets[name] for name in group) for group in spec.get("together") or [])
            unless = tuple(sets[name] for name in spec.get("unless") or [])
        except KeyError as exc:
            raise GardeError(f"{path}: {code}: unknown set {exc.args[0]!r}") from None
        rules[str(code)] = FindingRule(str(code), spec["name"], spec["severity"], spec["reference"],
                                       spec.get("url"), dict(spec["message"]), together, unless)
    return FindingRules(rules, sets["no_transfer"], sets["located"], sets["alternative"],
                        sets["stays_only"], sets["places_outside_eea"], sets["transfer_safeguard"],
                        sets["hypothetical"], sets["kept_in"])


def find_problems(found: Sequence[Passage], lang: str, today: date | None = None,
                  safeguards_stated: bool = False) -> list[Finding]:
    """Every finding in the document's passages, in code order, then in reading order.

    ``safeguards_stated``: the document describes transfer safeguards, so it acknowledges some
    transfers; a "no transfer" statement is then about some activities only, not a contradiction.
    """
    rules = load_finding_rules()
    findings: list[Finding] = []
    body = [p for p in found if not p.header]
    ga001 = rules.rules["GA001"]
    findings += [_finding(ga001, lang, p) for p in body
                 if any(all(c.find(p.text, p.words) for c in group) for group in ga001.together)
                 and not any(c.find(p.text, p.words) for c in ga001.unless)]
    ga003 = rules.rules["GA003"]
    findings += [_finding(ga003, lang, p) for p in body if _recoverable(ga003, p.text)]
    findings += _placeholders(rules.rules["GA002"], body, lang)
    # "stored only in the UK" admits no exception: safeguards described elsewhere contradict it too
    if not safeguards_stated or any(_stays_only(rules, p) for p in body):
        findings += _transfer_contradictions(rules, body, lang, only=safeguards_stated)
    findings += _invalidated(rules.rules["GA005"], body, lang, today or date.today())
    findings += _alternatives(rules, body, lang)
    order = {code: i for i, code in enumerate(sorted(rules.rules))}
    return sorted(findings, key=lambda f: order.get(f.code, 99))


def _finding(rule: FindingRule, lang: str, passage: Passage, **values: str) -> Finding:
    return Finding(rule.code, rule.severity, rule.name, rule.message(lang, **values), rule.reference,
                   rule.url,
                   passage.text.strip())


def _placeholders(rule: FindingRule, found: Sequence[Passage], lang: str) -> list[Finding]:
    hits: list[Finding] = []
    for passage in found:
        for match in _PLACEHOLDER.finditer(passage.text):
            text = match.group(0)
            if text.startswith("[") and not _CAPITALS.match(text) and not re.match(
                    r"\[\s*(?:insert|insérer|inserer|inserire|indiquer|indicare|add|ajouter|aggiungere|nom|name|nome|"
                    r"company|société|societe|società|lien|link|date|data|adresse|address|indirizzo)\b", text,
                    re.IGNORECASE):
                continue
            if text.startswith("[") and _CAPITALS.match(text) and len(re.sub(r"[^A-Za-zÀ-ÿ]", "", text)) < 4:
                continue  # "[EU]", "[A1]": an abbreviation or a reference, not a placeholder
            hits.append(_finding(rule, lang, passage, placeholder=text))
            break
    return hits


def _alternatives(rules: FindingRules, found: Sequence[Passage], lang: str) -> list[Finding]:
    """Two legal bases offered as a choice for one purpose ("we may rely on our legitimate
    interests or on your consent to ..."): the bases a sentence ties (a cell's bases), two
    different ones with "or" between them and no new purpose ("and to ...") in between."""
    hits: list[Finding] = []
    rights = load_rules().rights_sections
    for passage in found:
        # a rights section names bases to say when a right applies ("where you gave us information on
        # the basis of consent or a contract, you can ask ..."), for no purpose: no choice left open
        if passage.kind == "heading" or any(rights.find(h.text, words_of(h.text)) for h in passage.sections):
            continue
        named = alternative_bases(passage.text, lang, passage.kind == "cell")
        if named is not None:
            hits.append(_finding(rules.rules["GA006"], lang, passage, bases=" / ".join(named)))
    return hits


def alternative_bases(text: str, lang: str, cell: bool = False) -> tuple[str, str] | None:
    """The words of two different legal bases ``text`` offers as a choice ("our legitimate
    interests" / "your consent"), or None. ``cell``: a table cell, whose bases are all counted.
    Three bases or more tied to one use (:func:`~garde.analyse.subjects.hedged_use`), joined by
    "and" or "or", leave the choice open too: the first and the last are named."""
    alternative = load_finding_rules().alternative
    bases = find_terms("legal_bases", text) if cell else tied_bases(text, lang)
    # "on X for purposes 1 and 2, on Y for purpose 3": bases apart by a list's entries are each theirs
    runs = [] if cell else reference_runs(text, lang)
    for before, after in pairwise(bases):
        between = text[before.end:after.start]
        if before.term != after.term and alternative.find(between, words_of(between)) \
                and not clauses(text[before.start:after.end], lang) \
                and not any(before.end <= a and b <= after.start for a, b in runs):
            return text[before.start:before.end], text[after.start:after.end]
    # "to manage your account, on consent, contract and ...": three bases or more for one use
    if not cell and len(runs) < 2 and hedged_use(text, lang):
        return text[bases[0].start:bases[0].end], text[bases[-1].start:bases[-1].end]
    return None


def _recoverable(rule: FindingRule, text: str) -> bool:
    """Whether ``text`` says a password is sent back or kept readable (GA003). A sentence with a
    denial or the right practice ("we never see it", "a link to choose a new one", "hashed") shows
    nothing; the rest of the passage still can ("we e-mail you your current password; you can then
    choose a new one")."""
    kept = " ".join(s for s in _SENTENCE.split(text) if not any(c.find(s, words_of(s)) for c in rule.unless))
    words = words_of(kept)
    return any(all(c.find(kept, words) for c in group) for group in rule.together)


_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
# "stored only in the UK", "hébergées exclusivement en France", "restano esclusivamente in Italia",
# "kept in the EU only": a place, by its capital, that the data stays in alone
_ONLY_IN = re.compile(
    r"\b(?:only|exclusively|solely)\s+(?:in|within|inside)\s+(?:the\s+)?[A-Z]"
    r"|\b(?:in|within)\s+(?:the\s+)?[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*\s+(?:only\b|at\s+all\s+times)"
    r"|\b(?:exclusivement|uniquement|seulement)\s+(?:en|au|aux|dans|sur|au\s+sein)\s+(?:de\s+)?(?:l['’]\s*|la\s+|le\s+|les\s+)?[A-ZÉ]"
    r"|\b(?:esclusivamente|solo|soltanto|unicamente|solamente)\s+(?:in|nel|nell['’]|nello|nella|negli|sul|all['’]interno\s+del(?:l['’]|la)?)\s*[A-Z]")


def _stays_only(rules: FindingRules, passage: Passage) -> bool:
    """Whether the passage says the data stays in one place with no exception."""
    return bool(rules.stays_only.find(passage.text, passage.words)
                or (_ONLY_IN.search(passage.text) and rules.kept_in.find(passage.text, passage.words)))


def _transfer_contradictions(rules: FindingRules, found: Sequence[Passage], lang: str,
                             only: bool = False) -> list[Finding]:
    """The notice says there is no transfer outside the EEA, or that the data stays in one place, and
    names a recipient or place outside it. ``only``: safeguards are described, so only a statement
    with no exception ("stored only in the UK") is contradicted, by a place or by a safeguard."""
    said = [p for p in found
            if _stays_only(rules, p) or (not only and rules.no_transfer.find(p.text, p.words))]
    if not said:
        return []
    countries = _countries()
    # the place a "no transfer outside <it>" statement names is where the data stays: a UK notice's
    # "we do not transfer your information outside the United Kingdom" makes its UK servers home
    home = {countries.find(p.text, p.words) for p in said} - {None}
    exclusive = any(_stays_only(rules, p) for p in said)
    hits: list[Finding] = []
    for passage in found:
        if passage in said or rules.no_transfer.find(passage.text, passage.words):
            continue
        place = countries.find(passage.text, passage.words) or (
            rules.places.find(passage.text, passage.words) if exclusive else None)
        if place in home:  # "the UK's adequacy regulations" in a UK notice names no place outside
            place = None
        if place and (rules.located.find(passage.text, passage.words) or passage.kind in ("cell", "item")):
            hits.append(_finding(rules.rules["GA004"], lang, passage, place=_verbatim(passage.text, place)))
        elif exclusive and not place and rules.safeguard.find(passage.text, passage.words) \
                and not rules.hypothetical.find(passage.text, passage.words):
            named = rules.safeguard.find(passage.text, passage.words) or ""
            hits.append(_finding(rules.rules["GA004"], lang, passage, place=_verbatim(passage.text, named)))
    return hits


@lru_cache(maxsize=1)
def _countries() -> Cues:
    return compile_cues(countries_outside_eea())


def _verbatim(text: str, normalised: str) -> str:
    """The words of ``text`` a normalised cue matched (for the message), or the cue itself."""
    pattern = r"\W+".join(re.escape(w) for w in normalised.split())
    match = re.search(pattern, _fold(text))
    return text[match.start():match.end()] if match else normalised


def _fold(text: str) -> str:
    """Lower case without accents, the same length as ``text`` (so offsets carry over)."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKD", c)[0].casefold()[:1] or c for c in text)


def _invalidated(rule: FindingRule, found: Sequence[Passage], lang: str, today: date) -> list[Finding]:
    hits: list[Finding] = []
    for term in load_vocabulary().terms("safeguards"):
        until = term.extra.get("valid_until")
        if not isinstance(until, date) or until >= today:
            continue
        cues = compile_cues([*term.labels.values(), *(w for ws in term.synonyms.values() for w in ws)])
        for passage in found:
            if cues.find(passage.text, passage.words):
                hits.append(_finding(rule, lang, passage, mechanism=term.label(lang),
                                     until=until.isoformat()))
                break
    return hits
