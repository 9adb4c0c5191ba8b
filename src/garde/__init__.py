"""garde: the register of processing activities (GDPR Art. 30), executable.

What users import, in the order of the flows (declare, publish, use,
answer, forget, prove)::

    import garde

    register = garde.load_register("registers/negomarkets.yaml")
    findings = garde.lint_paths(["registers/"])
    html = garde.render_notice(register, "fr")

    store = garde.open_store()                       # GARDE_DATABASE_URL, SQLite by default
    point = garde.DecisionPoint(register, store)
    decision = point.decide("newsletter", {"email": "ada@example.com"})
"""

import typing

from garde import _lazy

# What type checkers see; at run time each name is imported on first use (no-redef: mypy takes the
# submodules garde.retention.plan and .sweep for a first definition of those two names).
if typing.TYPE_CHECKING:
    from garde.audit import AuditWriter, verify
    from garde.consent import give, withdraw
    from garde.datasets import DataMap, find_subject, load_datamap
    from garde.decide import Decision, DecisionPoint, Reason
    from garde.documents import export_register, render_notice
    from garde.legal_holds import place_hold, release_hold
    from garde.lint import Finding, lint, lint_paths
    from garde.problems import GardeError, InputError, NotFound, Problem
    from garde.register import Activity, Register, banner_view, load_register
    from garde.retention import plan, sweep  # type: ignore[no-redef]
    from garde.rights import Deployment, submit
    from garde.rights import run as run_request
    from garde.settings import Settings, get_settings
    from garde.store import open_store
    from garde.taxonomy import Vocabulary, load_vocabulary

__version__ = "0.1.0"

__all__ = [
    "Activity", "AuditWriter", "DataMap", "Decision", "DecisionPoint", "Deployment", "Finding",
    "GardeError", "InputError", "NotFound", "Problem", "Reason", "Register", "Settings", "Vocabulary",
    "banner_view", "export_register", "find_subject", "get_settings", "give", "lint", "lint_paths",
    "load_datamap", "load_register", "load_vocabulary", "open_store", "place_hold", "plan", "release_hold",
    "render_notice", "run_request", "submit", "sweep", "verify", "withdraw",
]

_lazy.lazy(__name__, {
    "AuditWriter": ("garde.audit", "AuditWriter"),
    "verify": ("garde.audit", "verify"),
    "give": ("garde.consent", "give"),
    "withdraw": ("garde.consent", "withdraw"),
    "DataMap": ("garde.datasets", "DataMap"),
    "find_subject": ("garde.datasets", "find_subject"),
    "load_datamap": ("garde.datasets", "load_datamap"),
    "Decision": ("garde.decide", "Decision"),
    "DecisionPoint": ("garde.decide", "DecisionPoint"),
    "Reason": ("garde.decide", "Reason"),
    "export_register": ("garde.documents", "export_register"),
    "render_notice": ("garde.documents", "render_notice"),
    "place_hold": ("garde.legal_holds", "place_hold"),
    "release_hold": ("garde.legal_holds", "release_hold"),
    "Finding": ("garde.lint", "Finding"),
    "lint": ("garde.lint", "lint"),
    "lint_paths": ("garde.lint", "lint_paths"),
    "GardeError": ("garde.problems", "GardeError"),
    "InputError": ("garde.problems", "InputError"),
    "NotFound": ("garde.problems", "NotFound"),
    "Problem": ("garde.problems", "Problem"),
    "Activity": ("garde.register", "Activity"),
    "Register": ("garde.register", "Register"),
    "banner_view": ("garde.register", "banner_view"),
    "load_register": ("garde.register", "load_register"),
    "plan": ("garde.retention", "plan"),
    "sweep": ("garde.retention", "sweep"),
    "Deployment": ("garde.rights", "Deployment"),
    "submit": ("garde.rights", "submit"),
    "run_request": ("garde.rights", "run"),
    "Settings": ("garde.settings", "Settings"),
    "get_settings": ("garde.settings", "get_settings"),
    "open_store": ("garde.store", "open_store"),
    "Vocabulary": ("garde.taxonomy", "Vocabulary"),
    "load_vocabulary": ("garde.taxonomy", "load_vocabulary"),
})
