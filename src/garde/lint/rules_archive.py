"""Lint rules on intermediate archiving (a retention rule whose action is ``archive``).

The CNIL's guide on retention periods ("Les durées de conservation", 2020,
and its reference frameworks) describes three stages: the live database
while the purpose needs the data, an *intermediate archive* (separate,
restricted access) while a legal obligation or a limitation period still
requires it, then deletion. An archive without an end is storage without a
limit (Art. 5(1)(e)); the notice must say how long (Art. 13(2)(a)).
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR

CNIL_GUIDE = "CNIL, guide « Les durées de conservation » (2020)"


@rule("GL070", "error", "archive-without-end", reference=f"GDPR Art. 5(1)(e), 13(2)(a); {CNIL_GUIDE}",
      url=GDPR.format(5))
def archive_without_end(ctx: Context) -> Iterator[Hit]:
    """``action: archive`` and no ``archive.until``: the archive would keep the data for ever."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.action == "archive" and (retention.final is None or retention.final.indefinite):
                yield Hit((*at, "retention", j, "action"), activity.id, {"rule": str(retention.rule)})


@rule("GL071", "error", "archive-end-without-archiving", reference="GDPR Art. 5(1)(e), 13(2)(a)",
      url=GDPR.format(13))
def archive_end_without_archiving(ctx: Context) -> Iterator[Hit]:
    """``archive:`` on a rule whose action is not ``archive``: the register says two things at once."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.archive is not None and retention.action != "archive":
                yield Hit((*at, "retention", j, "archive"), activity.id,
                          {"rule": str(retention.rule), "action": retention.action})


@rule("GL072", "warning", "archive-ends-before-archiving", reference="GDPR Art. 5(1)(e)",
      url=GDPR.format(5))
def archive_ends_before_archiving(ctx: Context) -> Iterator[Hit]:
    """The archive's end comes no later than the archiving itself (same event, shorter period): the
    rows would be deleted as soon as they are archived, or the periods were swapped."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            until, archived = retention.final, retention.rule
            if retention.action != "archive" or until is None or until.indefinite or archived is None:
                continue
            start, end = archived.approx_days(), until.approx_days()
            if until.event == archived.event and start is not None and end is not None and end <= start:
                yield Hit((*at, "retention", j, "archive", "until"), activity.id,
                          {"rule": str(retention.rule), "until": str(until)})


@rule("GL073", "info", "archive-access-not-stated", reference=f"GDPR Art. 5(1)(f), 32; {CNIL_GUIDE}",
      url=GDPR.format(32))
def archive_access_not_stated(ctx: Context) -> Iterator[Hit]:
    """An intermediate archive is read by named staff only; the register does not say by whom."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.action == "archive" and (retention.archive is None
                                                  or retention.archive.access is None):
                yield Hit((*at, "retention", j), activity.id, {"rule": str(retention.rule)})
