"""Lint rules on the statements a register makes once for every activity, or an activity for itself.

Each reads what applies to an activity (``Register.effective``), so a statement the register
makes for every activity counts for each of them.
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR, is_empty


@rule("GL060", "warning", "security-measures-missing",
      reference="GDPR Art. 30(1)(g), 32(1): where possible, a general description of the technical "
                "and organisational security measures",
      url=GDPR.format(30))
def security_measures_missing(ctx: Context) -> Iterator[Hit]:
    """An activity carried out as controller with no security measure of its own or of the register.

    A processor's activities are the Art. 30(2)(d) rules' to check (the same description, in the
    processor's record)."""
    for at, activity in ctx.activities():
        if ctx.register.role_of(activity) != "controller":
            continue
        measures = ctx.register.effective(activity).security_list()
        if all(is_empty(measure) for measure in measures):
            path = (*at, "security_measures") if activity.security_measures else (*at, "id")
            yield Hit(path, activity.id)
