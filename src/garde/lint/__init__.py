"""``garde lint``: check a register against the GDPR and regulator guidance.

Each rule is one function in :mod:`garde.lint.rules` (or :mod:`garde.lint.notice_rules`,
:mod:`garde.lint.rules_jurisdiction`, :mod:`garde.lint.rules_roles`),
registered in the rule table :data:`RULES` with a stable code (``GL001``), a severity and the
article or guidance it implements. Titles and messages are in English in
:mod:`garde.lint.wording` and translated in garde's gettext catalogues (fr, en, it);
regulator reference periods are data (``garde/data/reference_periods.yaml``).

    >>> from garde.lint import lint_paths
    >>> findings = lint_paths(["registers/"])
"""

from garde.lint import notice_rules as _notice_rules  # noqa: F401  (fills the rule table)
from garde.lint import rules as _rules  # noqa: F401  (fills the rule table)
from garde.lint import rules_archive as _rules_archive  # noqa: F401
from garde.lint import rules_duties as _rules_duties  # noqa: F401
from garde.lint import rules_gaps as _rules_gaps  # noqa: F401
from garde.lint import rules_inherit as _rules_inherit  # noqa: F401
from garde.lint import rules_jurisdiction as _rules_jurisdiction  # noqa: F401
from garde.lint import rules_languages as _rules_languages  # noqa: F401
from garde.lint import rules_retention as _rules_retention  # noqa: F401
from garde.lint import rules_roles as _rules_roles  # noqa: F401
from garde.lint import rules_trackers as _rules_trackers  # noqa: F401
from garde.lint.model import LANGS, RULES, SEVERITIES, Finding, Rule, Severity
from garde.lint.reference_periods import ReferencePeriod, ReferencePeriods, load_reference_periods
from garde.lint.report import render_text, rules_markdown, to_json, to_sarif
from garde.lint.runner import lint, lint_paths

__all__ = [
    "LANGS", "RULES", "SEVERITIES", "Finding", "ReferencePeriod", "ReferencePeriods", "Rule",
    "Severity", "lint", "lint_paths", "load_reference_periods", "render_text", "rules_markdown", "to_json",
    "to_sarif",
]
