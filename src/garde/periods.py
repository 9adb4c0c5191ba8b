"""Periods of time as the law counts them.

Regulation (EEC, Euratom) No 1182/71, Art. 3(2)(c): a period expressed in
months or years ends on the same date of the last month, or on that month's
last day when it has no such date (31 January + 1 month = 28 or 29 February).
Used for retention deadlines and for the Art. 12(3) answer deadline.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

Unit = Literal["day", "week", "month", "year"]
UNITS: tuple[Unit, ...] = ("day", "week", "month", "year")
_PERIOD = re.compile(r"^\s*(\d+)\s+(day|week|month|year)s?\s*$", re.IGNORECASE)

D = TypeVar("D", date, datetime)


@dataclass(frozen=True, order=True)
class Period:
    """A count of days, weeks, months or years."""

    count: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("a period cannot be negative")
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; expected one of {', '.join(UNITS)}")

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a period such as '13 months' or '3 years'")
        return cls(int(match.group(1)), match.group(2).lower())  # type: ignore[arg-type]

    def after(self, start: D) -> D:
        """The day (or instant) this period ends when it starts at ``start``."""
        if self.unit == "day":
            return start + timedelta(days=self.count)
        if self.unit == "week":
            return start + timedelta(weeks=self.count)
        months = self.count * (12 if self.unit == "year" else 1)
        return add_months(start, months)

    def before(self, end: D) -> D:
        """The latest start whose period has ended by ``end`` (inverse of :meth:`after`).

        ``p.after(s) <= end`` holds exactly when ``s <= p.before(end)``; used to
        turn "due when collected + 13 months <= today" into a column predicate.
        """
        if self.unit == "day":
            return end - timedelta(days=self.count)
        if self.unit == "week":
            return end - timedelta(weeks=self.count)
        months = self.count * (12 if self.unit == "year" else 1)
        candidate = add_months(end, -months)
        # Month-end clamping makes add_months non-injective (30 and 31 January
        # both end on the last day of February): take the latest start that
        # still ends on or before ``end``.
        while True:
            following = candidate + timedelta(days=1)
            if add_months(following, months) <= end:
                candidate = following
            else:
                return candidate

    def approx_days(self) -> int:
        """Rough length, for comparing periods of different units."""
        return self.count * {"day": 1, "week": 7, "month": 30, "year": 365}[self.unit]


def add_months(start: D, months: int) -> D:
    """``start`` moved by ``months`` calendar months, clamped to the month's last day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
