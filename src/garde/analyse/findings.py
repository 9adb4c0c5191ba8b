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
    return FindingRules(rules, sets["no_transfer"], sets["located"], sets["alternative"])


def find_problems(found: Sequence[Passage], lang: str, today: date | None = None,
                  safeguards_stated: bool = False) -> list[Finding]:
    """Every finding in the document's passages, in code order, then in reading order.

    ``safeguards_stated``: the document describes transfer safeguards, so it acknowledges some
    transfers; a "no transfer" statement is then about some activities only, not a contradiction.
    """
    rules = load_finding_rules()
    findings: list[Finding] = []
    body = [p for p in found if not p.header]
    for code in ("GA001", "GA003"):
        rule = rules.rules[code]
        findings += [_finding(rule, lang, p) for p in body
                     if any(all(c.find(p.text, p.words) for c in group) for group in rule.together)
                     and not any(c.find(p.text, p.words) for c in rule.unless)]
    findings += _placeholders(rules.rules["GA002"], body, lang)
    if not safeguards_stated:
        findings += _transfer_contradictions(rules, body, lang)
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


def _transfer_contradictions(rules: FindingRules, found: Sequence[Passage], lang: str) -> list[Finding]:
    """The notice says there is no transfer outside the EEA, and names a recipient or place outside it."""
    if not any(rules.no_transfer.find(p.text, p.words) for p in found):
        return []
    countries = _countries()
    # the place a "no transfer outside <it>" statement names is where the data stays: a UK notice's
    # "we do not transfer your information outside the United Kingdom" makes its UK servers home
    home = {countries.find(p.text, p.words) for p in found
            if rules.no_transfer.find(p.text, p.words)} - {None}
    hits: list[Finding] = []
    for passage in found:
        if rules.no_transfer.find(passage.text, passage.words):
            continue
        place = countries.find(passage.text, passage.words)
        if place in home:
            continue
        if place and (rules.located.find(passage.text, passage.words) or passage.kind in ("cell", "item")):
            hits.append(_finding(rules.rules["GA004"], lang, passage, place=_verbatim(passage.text, place)))
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
