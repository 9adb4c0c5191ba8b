"""Legal minimum retention periods, and whether a retention rule keeps data for less.

The minimums are data (``garde/data/minimum_periods.yaml``): national laws that oblige a
controller to keep some records (French and Italian accounting records: ten years). They
apply by the controller's country only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from garde.lint.reference_periods import period_longer
from garde.periods import Period
from garde.register import Activity, RetentionRule
from garde.taxonomy import Vocabulary
from garde.yamlsource import load_model

DATA = Path(__file__).resolve().parents[1] / "data" / "minimum_periods.yaml"
_NOTHING = Period(0, "day")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MinimumPeriod(_Model):
    """A law's minimum retention for some categories, in some countries."""

    id: str
    countries: tuple[str, ...]
    categories: tuple[str, ...]
    minimum: Period
    law: str
    url: str | None = None
    notes: str | None = None

    @field_validator("minimum", mode="before")
    @classmethod
    def _parse_minimum(cls, value: Any) -> Any:
        return Period.parse(value) if isinstance(value, str) else value


class MinimumPeriods(_Model):
    minimums: tuple[MinimumPeriod, ...]


@lru_cache(maxsize=2)
def load_minimum_periods(path: Path = DATA) -> MinimumPeriods:
    """Read and validate the minimum periods file; problems name the line."""
    return load_model(path, MinimumPeriods)


def longest_kept(rule: RetentionRule) -> Period | None:
    """How long ``rule`` keeps data at most, to compare with a legal minimum; None: no bound known.

    ``P after E`` keeps for P, ``until E`` for nothing beyond E (a shorter keep than any minimum);
    an indefinite rule has no end, so it is never shorter; a criterion in words gives no bound. A
    range keeps up to its upper bound (its stored period). An archiving rule keeps the data in its
    intermediate archive until the archive's end, when it states one. The one place that reads a
    rule's shape for this comparison.
    """
    until = rule.archive.until if rule.action == "archive" and rule.archive is not None else None
    kept = until if until is not None else rule.rule
    if kept is None or kept.indefinite:
        return None
    return kept.period or _NOTHING


@dataclass(frozen=True)
class ShortRule:
    """A retention rule of an activity that keeps a category for less than a law's minimum."""

    rule_index: int
    category: str
    minimum: MinimumPeriod


def short_rules(activity: Activity, country: str | None, minimums: MinimumPeriods,
                vocabulary: Vocabulary) -> Iterator[ShortRule]:
    """Each retention rule of ``activity`` shorter than a minimum of ``country`` on data it covers
    (the minimum's category or a finer one: a coarser ``transaction`` says nothing of invoices)."""
    if country is None:
        return
    for minimum in minimums.minimums:
        if country.upper() not in minimum.countries:
            continue
        for index, rule in enumerate(activity.retention):
            covered = rule.categories or activity.data_categories
            category = next((c for c in covered for m in minimum.categories
                             if vocabulary.covers(m, c)), None)
            kept = longest_kept(rule)
            if category is not None and kept is not None and period_longer(minimum.minimum, kept):
                yield ShortRule(index, category, minimum)
