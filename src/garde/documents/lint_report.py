"""``garde lint --format html``: the lint findings as a page a DPO reads.

Per register file: its counts by severity, then its findings grouped by
activity, each with its code, severity, rule, message, legal reference (a link
when the rule names one) and ``file:line``. The page's own words come from the
gettext catalogues (:mod:`garde.i18n`, plural forms included), and so do the
rules' titles and messages (msgctxt: the rule's id), in fr, en and it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from garde import i18n
from garde.documents.links import safe_href
from garde.documents.templating import render
from garde.lint import RULES, Finding
from garde.lint.report import counts_line, message_language, summary_line


def _in_order(groups: Iterable[_Group]) -> list[_Group]:
    """Findings about the register as a whole first, then the activities in file order."""
    return sorted(groups, key=lambda group: group.activity is not None)


@dataclass
class _Group:
    activity: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _File:
    name: str
    findings: list[Finding] = field(default_factory=list)
    groups: dict[str | None, _Group] = field(default_factory=dict)


def render_lint_html(findings: Sequence[Finding], *, lang: str = "en",
                     files: Sequence[str] = ()) -> str:
    """The report page in ``lang``; ``files`` lists register files linted clean too (no finding)."""
    severities = {"error": i18n.translate(lang, "Error"), "warning": i18n.translate(lang, "Warning"),
                  "info": i18n.translate(lang, "Information")}
    by_file: dict[str, _File] = {name: _File(name) for name in files}
    for finding in findings:
        entry = by_file.setdefault(finding.file, _File(finding.file))
        entry.findings.append(finding)
        group = entry.groups.setdefault(finding.activity, _Group(finding.activity))
        group.rows.append({
            "code": finding.code, "severity": finding.severity,
            "severity_label": severities[finding.severity],
            "title": RULES[finding.code].title(message_language(lang)) if finding.code in RULES
            else finding.rule,
            "message": finding.message, "reference": finding.reference,
            "href": safe_href(finding.url) if finding.url else None,
            "where": f"{finding.file}:{finding.line}" if finding.line else finding.file})
    registers = [{"name": f.name, "counts": counts_line(lang, f.findings),
                  "groups": _in_order(f.groups.values())}
                 for f in by_file.values()]
    return render("lint.html.j2", lang=lang, message_lang=message_language(lang), registers=registers,
                  summary=summary_line(lang, findings, len(by_file)),
                  gettext=lambda message: i18n.translate(lang, message),
                  ngettext=lambda singular, plural, num: i18n.translate_plural(lang, singular, plural, num))
