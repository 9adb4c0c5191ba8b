"""Lint rules on how retention rules are stated: criteria and conditions in words, review, alternatives.

GDPR Art. 13(2)(a) and 14(2)(a) let a notice give "the period for which the
personal data will be stored, or if that is not possible, the criteria used
to determine that period": a criterion in words is lawful, but garde's sweep
cannot apply it. Several rules of one activity are alternatives ("first
reached" or "latest of", :mod:`garde.retention.policy`) only when they cover
the same data; rules over different data are per-category rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR
from garde.register.model import Activity, RetentionRule, Text, text_in


def _words(ctx: Context, value: Text | None) -> str:
    """A text of the register in its own language (the finding quotes it)."""
    return text_in(value, ctx.register.language) or ""


@rule("GL065", "info", "retention-criterion-only", reference="GDPR Art. 13(2)(a), 14(2)(a), 5(1)(e)",
      url=GDPR.format(13))
def retention_criterion_only(ctx: Context) -> Iterator[Hit]:
    """A rule given only as a criterion in words: the notice prints it; the sweep cannot apply it."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.rule is None:
                yield Hit((*at, "retention", j, "criterion"), activity.id,
                          {"criterion": _words(ctx, retention.criterion)})


def _coverage(activity: Activity, retention: RetentionRule) -> frozenset[str]:
    """The categories a rule governs, among the activity's and those its rules name."""
    named = {*activity.data_categories, *(c for r in activity.retention for c in r.categories)}
    return frozenset(c for c in named if retention.covers(c))


@rule("GL066", "warning", "retention-alternatives-differ", reference="GDPR Art. 5(1)(e), 30(1)(f), 13(2)(a)",
      url=GDPR.format(5))
def retention_alternatives_differ(ctx: Context) -> Iterator[Hit]:
    """Two rules of one activity over some of the same data, but not the same data.

    Rules over the same categories are alternatives (the first reached, or the
    latest, applies); rules over separate categories are per-category rules.
    Rules that overlap only in part are neither: for the shared data the
    combination decides, for the rest each rule alone, which a register rarely
    means. State the categories of each rule so that they are one or the other.
    """
    for at, activity in ctx.activities():
        covered = [_coverage(activity, r) for r in activity.retention]
        for (i, first), (j, second) in combinations(enumerate(covered), 2):
            if first & second and first != second:
                only = sorted(first ^ second)
                yield Hit((*at, "retention", j), activity.id, {
                    "rule": activity.retention[j].summary(), "other": activity.retention[i].summary(),
                    "combination": activity.retention_combination.replace("_", " "),
                    "categories": ", ".join(only)})


@rule("GL067", "info", "retention-condition-in-words", reference="GDPR Art. 5(1)(e), 13(2)(a)",
      url=GDPR.format(5))
def retention_condition_in_words(ctx: Context) -> Iterator[Hit]:
    """A rule that holds only where a condition in words does: the sweep cannot tell where."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.condition is not None:
                yield Hit((*at, "retention", j, "condition"), activity.id,
                          {"rule": str(retention.rule) if retention.rule is not None
                           else _words(ctx, retention.criterion),
                           "condition": _words(ctx, retention.condition)})


@rule("GL068", "info", "retention-review", reference="GDPR Art. 5(1)(e), 5(2)", url=GDPR.format(5))
def retention_review(ctx: Context) -> Iterator[Hit]:
    """A rule whose action is review: a person decides when it ends; the sweep never does."""
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.action == "review":
                yield Hit((*at, "retention", j, "action"), activity.id, {"rule": retention.summary()})
