"""Lint findings as text for people, JSON for tools and SARIF 2.1.0 for code-scanning UIs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from garde import i18n
from garde.lint.model import LANGS, RULES, SEVERITIES, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF has no "info" level: "note" is its lowest.
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render_text(findings: Sequence[Finding], *, lang: str = "en", linted: int | None = None) -> str:
    """``file:line code severity activity message (reference)``, grouped by file, then a summary
    line in ``lang`` (fr, en or it; the messages are in :func:`message_language`) that counts the
    ``linted`` files (those with findings when not given)."""
    lines: list[str] = []
    files: list[str] = []
    for finding in findings:
        if finding.file not in files:
            files.append(finding.file)
            lines.append(finding.file)
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        activity = finding.activity or i18n.translate(lang, "(register)")
        lines.append(f"  {where} {finding.code} {finding.severity} {activity} "
                     f"{finding.message} ({finding.reference})")
    lines.append(summary_line(lang, findings, len(files) if linted is None else linted))
    return "\n".join(lines)


def message_language(lang: str) -> str:
    """The language the rules' messages are read in for a report in ``lang``: ``lang`` itself
    (the catalogues word every rule in fr, en and it), English for any other."""
    return lang if lang in LANGS else "en"


def counts_line(lang: str, findings: Sequence[Finding]) -> str:
    """``2 errors, 1 warning and 0 information notes``, with each language's plural forms."""
    n = {severity: sum(f.severity == severity for f in findings) for severity in SEVERITIES}
    return i18n.translate(
        lang, "%(errors)s, %(warnings)s and %(infos)s",
        errors=i18n.translate_plural(lang, "%(num)d error", "%(num)d errors", n["error"]),
        warnings=i18n.translate_plural(lang, "%(num)d warning", "%(num)d warnings", n["warning"]),
        infos=i18n.translate_plural(lang, "%(num)d information note", "%(num)d information notes", n["info"]))


def summary_line(lang: str, findings: Sequence[Finding], files: int) -> str:
    """The CLI's last line: the counts, and in how many register files."""
    return i18n.translate(lang, "%(counts)s in %(files)s", counts=counts_line(lang, findings),
                          files=i18n.translate_plural(lang, "%(num)d file", "%(num)d files", files))


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
        template = entry.template(lang).replace("{", "&lt;").replace("}", "&gt;")
        reference = f"[{entry.reference}]({entry.url})" if entry.url else entry.reference
        rows.append(f"| {code} | {entry.severity} | `{entry.name}` | {entry.title(lang)} | {template} "
                    f"| {reference} |")
    return "\n".join(rows)
