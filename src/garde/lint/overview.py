"""A register's findings as a DPO's dashboard lists them: counts by severity, each finding with
its line, and the register's text to show that line in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from garde.lint.model import SEVERITIES, Finding
from garde.lint.runner import lint
from garde.register import read_register


@dataclass
class RegisterFindings:
    id: str  # the file's name without .yaml
    controller: str
    activities: int
    findings: list[Finding]
    counts: dict[str, int] = field(default_factory=dict)


def register_findings(path: Path, lang: str = "en") -> RegisterFindings:
    """Lint the register at ``path`` (messages in ``lang``: en or fr)."""
    loaded = read_register(path, check_terms=False)
    found = sorted(lint(loaded, lang=lang), key=lambda f: (SEVERITIES.index(f.severity), f.line or 0, f.code))
    counts: dict[str, int] = {severity: sum(1 for f in found if f.severity == severity)
                              for severity in SEVERITIES}
    return RegisterFindings(path.stem, loaded.register.controller.name, len(loaded.register.activities),
                            found, counts)


def source_lines(path: Path) -> list[str]:
    """The register file's lines, as written (the dashboard shows them with their numbers)."""
    return path.read_text(encoding="utf-8").splitlines()
