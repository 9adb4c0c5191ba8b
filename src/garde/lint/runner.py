"""Running the rules over registers: :func:`lint` for one, :func:`lint_paths` for files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from garde.lint.model import LANGS, RULES, SEVERITIES, Context, Finding, Rule, country_codes
from garde.problems import InputError, Problem
from garde.register import Jurisdiction, LoadedRegister, jurisdiction, read_register
from garde.taxonomy import Vocabulary, load_vocabulary


def lint(loaded: LoadedRegister, *, lang: str = "en", vocabulary: Vocabulary | None = None,
         today: date | None = None) -> list[Finding]:
    """Every finding of every rule for one register, in file order (safeguards valid on ``today``)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    vocabulary = vocabulary or load_vocabulary()
    eea, adequacy = _eea(vocabulary.extras.get("eea"))
    decided = country_codes(vocabulary.extras.get("eea"), "adequacy")
    law = jurisdiction(loaded.register.controller.country)
    if law.uk and eea is not None:
        eea, adequacy, decided = _uk_areas(eea, adequacy, decided)
    ctx = Context(loaded, vocabulary, eea, adequacy, today or date.today(), decided, lang)
    findings = []
    for entry in RULES.values():
        if entry.check is None:
            continue
        reference, url = national_reference(entry, law)
        for hit in entry.check(ctx):
            findings.append(Finding(
                code=entry.code,
                severity=entry.severity,
                rule=entry.name,
                activity=hit.activity,
                message=entry.message(lang, hit.params),
                reference=hit.reference or reference,
                url=hit.url or url,
                file=loaded.file,
                line=hit.line if hit.line is not None else loaded.source.line(hit.path),
            ))
    return sort_findings(findings)


def national_reference(entry: Rule, law: Jurisdiction) -> tuple[str, str | None]:
    """The rule's reference as the controller's law words it.

    A national text replaces the rule's own where the country has one (the CNIL's list of
    processing needing a DPIA for GL012 in France, the Garante's in Italy, PECR in the UK);
    under the UK GDPR the articles keep their numbers but belong to the UK GDPR.
    """
    national = law.references.get(entry.code)
    if national is not None:
        return national.reference, national.url or entry.url
    if law.uk:
        return _EU_GDPR.sub("UK GDPR", entry.reference), entry.url
    return entry.reference, entry.url


_EU_GDPR = re.compile(r"(?<!UK )\bGDPR\b")


def _uk_areas(eea: frozenset[str], adequacy: frozenset[str],
              decided: frozenset[str]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Where a UK controller's data goes freely, is adequate, or has a decision (UK GDPR Art. 45).

    Outside the UK is a transfer; the EEA states and the countries of the EU's adequacy
    decisions in force when the UK left are covered by UK adequacy regulations (Data
    Protection Act 2018, Sch. 21 paras 4-5), so they need no further safeguard. An EU decision
    adopted later counts here too (Korea: the UK made its own in 2022); check the ICO's list
    when ``eea.yaml`` gains one.
    """
    home = frozenset({"GB"})
    return home, (eea | adequacy) - home, (eea | decided) - home


def lint_paths(paths: Iterable[str | Path], *, lang: str = "en") -> list[Finding]:
    """Lint register files; a directory means every ``*.yaml`` / ``*.yml`` file inside it.

    A file that cannot be read as a register (bad YAML, unknown field, wrong
    type) gives GL000 findings, one per problem, instead of an exception.
    """
    findings: list[Finding] = []
    for path in register_files(paths):
        try:
            loaded = read_register(path, check_terms=False)
        except InputError as exc:
            findings.extend(_unreadable(problem, lang) for problem in exc.problems)
            continue
        findings.extend(lint(loaded, lang=lang))
    return findings


def register_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
        else:
            yield path


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file, f.line or 0, SEVERITIES.index(f.severity), f.code))


def _unreadable(problem: Problem, lang: str) -> Finding:
    entry: Rule = RULES["GL000"]
    params = {"field": f"{problem.field}: " if problem.field else "", "problem": problem.message,
              "suggestion": f" (did you mean `{problem.suggestion}`?)" if problem.suggestion else ""}
    return Finding(entry.code, entry.severity, entry.name, None, entry.message(lang, params),
                   entry.reference, entry.url, problem.file, problem.line)


def _eea(data: Any) -> tuple[frozenset[str] | None, frozenset[str]]:
    """The EEA and (fully) adequate country codes from the vocabulary's ``eea.yaml``, if any."""
    if not isinstance(data, dict):
        return None, frozenset()

    # A partial decision (US: Data Privacy Framework members only) covers some
    # recipients; garde cannot tell which, so those transfers need `safeguard: adequacy`.
    scope = data.get("adequacy_scope")
    partial = frozenset(str(c).upper() for c in scope) if isinstance(scope, dict) else frozenset()
    eea = country_codes(data, "eea")
    return (eea or None), country_codes(data, "adequacy") - partial


