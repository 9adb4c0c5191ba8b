"""Lint findings as text for people, JSON for tools and SARIF 2.1.0 for code-scanning UIs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from garde.lint.model import RULES, SEVERITIES, Finding, messages

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF has no "info" level: "note" is its lowest.
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render_text(findings: Sequence[Finding], *, lang: str = "en") -> str:
    """``file:line code severity activity message (reference)``, grouped by file, then a summary."""
    lines: list[str] = []
    files: list[str] = []
    for finding in findings:
        if finding.file not in files:
            files.append(finding.file)
            lines.append(finding.file)
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        activity = finding.activity or f"({messages()['report']['register'][lang]})"
        lines.append(f"  {where} {finding.code} {finding.severity} {activity} "
                     f"{finding.message} ({finding.reference})")
    counts = {severity: sum(f.severity == severity for f in findings) for severity in SEVERITIES}
    lines.append(messages()["report"]["summary"][lang].format(
        errors=counts["error"], warnings=counts["warning"], infos=counts["info"], files=len(files)))
    return "\n".join(lines)


def to_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_data() for f in findings], ensure_ascii=False, indent=2)


def to_sarif(findings: Sequence[Finding], *, lang: str = "en") -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule of the table, and one result per finding."""
    codes = sorted(RULES)
    rules = []
    for code in codes:
        entry = RULES[code]
        descriptor: dict[str, Any] = {
            "id": code,
            "name": entry.name,
            "shortDescription": {"text": entry.title(lang)},
            "fullDescription": {"text": f"{entry.title(lang)} ({entry.reference})"},
            "defaultConfiguration": {"level": SARIF_LEVELS[entry.severity]},
            "properties": {"reference": entry.reference},
        }
        if entry.url:
            descriptor["helpUri"] = entry.url
        rules.append(descriptor)
    results = []
    for finding in findings:
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(finding.file)}}
        if finding.line:
            location["region"] = {"startLine": finding.line}
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": codes.index(finding.code),
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": f"{finding.message} ({finding.reference})"},
            "locations": [{"physicalLocation": location}],
            "properties": {"reference": finding.reference},
        }
        if finding.activity:
            result["properties"]["activity"] = finding.activity
            result["locations"][0]["logicalLocations"] = [{"name": finding.activity, "kind": "object"}]
        if finding.url:
            result["properties"]["url"] = finding.url
        results.append(result)
    driver = {"name": "garde", "version": _version(), "informationUri": "https://gdpr-info.eu/",
              "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "results": results}]}


def _uri(file: str) -> str:
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _version() -> str:
    try:
        return version("garde")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0"


def rules_markdown(*, lang: str = "en") -> str:
    """The rule table as Markdown (``docs/lint.md`` embeds it; a test keeps it current)."""
    rows = ["| code | severity | rule | what it checks | message | reference |",
            "|---|---|---|---|---|---|"]
    for code in sorted(RULES):
        entry = RULES[code]
        template = messages()[code]["message"][lang].replace("{", "&lt;").replace("}", "&gt;")
        reference = f"[{entry.reference}]({entry.url})" if entry.url else entry.reference
        rows.append(f"| {code} | {entry.severity} | `{entry.name}` | {entry.title(lang)} | {template} "
                    f"| {reference} |")
    return "\n".join(rows)
