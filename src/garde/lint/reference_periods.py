"""Regulator reference retention periods, and how a retention rule compares with one.

The periods are data (``garde/data/reference_periods.yaml``), each with the
activities it applies to, its maximum as a retention rule, and its source.

How two rules are compared. A rule ``P after E`` ends at date(E) + P; ``until
E`` is ``0 days after E``. The register's rule (Ea, Pa) is compared with the
reference (Er, Pr):

- **longer** when it certainly ends later: Ea never comes before Er (same
  event, or the data file says Ea never precedes Er, e.g. relationship_end
  never precedes last_contact) and Pa is longer than Pr; or Ea is open-ended
  (may never happen, e.g. consent_withdrawn) while Er is not;
- **within** when it certainly ends no later: Ea never comes after Er and Pa is
  not longer than Pr;
- **not comparable** otherwise (``5 years after last_contact`` against ``3
  years after relationship_end``: the gap between the two events is unknown).

Periods are compared as the calendar counts them (Regulation 1182/71, via
:meth:`Period.after`) from several fixed start dates, so that ``13 months`` is
longer than ``1 year`` and ``30 days`` is not longer than ``1 month``: Pa is
longer only if it ends later from every start date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from garde.periods import Period
from garde.register import Activity
from garde.retention_rule import RetentionPeriod
from garde.yamlsource import load_model

DATA = Path(__file__).resolve().parents[1] / "data" / "reference_periods.yaml"
Flag = Literal["direct_marketing", "profiling", "large_scale_monitoring", "targeted_advertising"]
Verdict = Literal["longer", "within", "not_comparable"]

# Start dates chosen to hit month-end clamping and a leap day.
_STARTS = (date(2001, 1, 31), date(2003, 3, 1), date(2004, 2, 29), date(2005, 8, 31))
_NOTHING = Period(0, "day")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matchers(_Model):
    """Which activities a reference period applies to; every matcher given must match."""

    subjects: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()
    countries: tuple[str, ...] = ()


class ReferencePeriod(_Model):
    """The longest retention an authority considers appropriate for some data."""

    id: str
    applies_to: Matchers
    maximum: RetentionPeriod
    authority: str
    document: str
    url: str | None = None
    notes: str | None = None

    @field_validator("maximum", mode="before")
    @classmethod
    def _parse_maximum(cls, value: Any) -> Any:
        return RetentionPeriod.parse(value) if isinstance(value, str) else value

    @property
    def citation(self) -> str:
        return f"{self.authority}: {self.document}"


class ReferencePeriods(_Model):
    """The whole data file: the order of trigger events, and the periods."""

    events: dict[str, tuple[str, ...]]
    open_ended: tuple[str, ...] = ()
    periods: tuple[ReferencePeriod, ...]

    def never_before(self, later: str, earlier: str) -> bool:
        """Whether event ``later`` never comes before event ``earlier`` (transitively)."""
        seen: set[str] = set()
        todo = [later]
        while todo:
            event = todo.pop()
            if event == earlier:
                return True
            if event not in seen:
                seen.add(event)
                todo.extend(self.events.get(event, ()))
        return False

    def compare(self, rule: RetentionPeriod, reference: RetentionPeriod) -> Verdict:
        """Whether ``rule`` keeps data longer than ``reference`` (see the module docstring)."""
        if rule.indefinite or reference.indefinite:
            return "not_comparable" if reference.indefinite else "longer"
        if rule.event in self.open_ended and reference.event not in self.open_ended:
            return "longer"
        longer = period_longer(rule.period or _NOTHING, reference.period or _NOTHING)
        if longer and self.never_before(rule.event, reference.event):
            return "longer"
        if not longer and self.never_before(reference.event, rule.event):
            return "within"
        return "not_comparable"


def period_may_exceed(a: Period, b: Period) -> bool:
    """Whether ``a`` ends later than ``b`` from at least one start date (31 days vs 1 month: yes)."""
    return any(a.after(start) > b.after(start) for start in _STARTS)


def period_longer(a: Period, b: Period) -> bool:
    """``a`` ends strictly after ``b`` whatever the start date (calendar-aware)."""
    return all(a.after(start) > b.after(start) for start in _STARTS)


@lru_cache(maxsize=4)
def load_reference_periods(path: Path = DATA) -> ReferencePeriods:
    """Read and validate the reference periods file; problems name the line."""
    return load_model(path, ReferencePeriods)


@dataclass(frozen=True)
class Applicable:
    """A reference period that applies to one retention rule of an activity."""

    rule_index: int
    reference: ReferencePeriod


def _within(category: str, reference_category: str) -> bool:
    """``category`` is the reference's category or a finer one.

    Not the other way: a coarse ``online`` (the CNIL's "Internet" group) says
    nothing about cookies, so the trackers' period does not apply to it.
    """
    return category == reference_category or category.startswith(reference_category + ".")


def applicable(activity: Activity, country: str | None, periods: ReferencePeriods) -> list[Applicable]:
    """Each (retention rule, reference period) pair to compare for ``activity``."""
    found: list[Applicable] = []
    for reference in periods.periods:
        match = reference.applies_to
        if match.subjects and not set(match.subjects) & set(activity.data_subjects):
            continue
        if match.flags and not all(getattr(activity, flag) for flag in match.flags):
            continue
        if match.countries and (country or "").upper() not in match.countries:
            continue
        for index, rule in enumerate(activity.retention):
            covered = rule.categories or activity.data_categories
            if match.categories and not any(_within(c, m) for c in covered for m in match.categories):
                continue
            found.append(Applicable(index, reference))
    return found
