"""Retention rules in the words a DPO uses.

A rule is ``<period> after <event>`` (``13 months after collection``,
``10 years after invoice_date``) or ``until <event>`` (``until
consent_withdrawn``), followed by what happens when it is due: delete,
anonymise or archive. Events are terms of the ``trigger_events`` vocabulary;
the datasets say which column holds each event's date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from garde.periods import Period

Action = Literal["delete", "anonymise", "archive"]
ACTIONS: tuple[Action, ...] = ("delete", "anonymise", "archive")

_AFTER = re.compile(r"^\s*(\d+)\s+(day|week|month|year)s?\s+after\s+([a-z][a-z0-9_]*)\s*$", re.I)
_UNTIL = re.compile(r"^\s*until\s+([a-z][a-z0-9_]*)\s*$", re.I)


class RuleSyntaxError(ValueError):
    """The text is not a retention rule; the message shows the accepted forms."""


@dataclass(frozen=True)
class RetentionPeriod:
    """When data is due: ``period`` after ``event``, or at ``event`` when period is None."""

    event: str
    period: Period | None = None

    @classmethod
    def parse(cls, text: str) -> RetentionPeriod:
        if match := _AFTER.match(text):
            period = Period(int(match.group(1)), match.group(2).lower())  # type: ignore[arg-type]
            return cls(event=match.group(3).lower(), period=period)
        if match := _UNTIL.match(text):
            return cls(event=match.group(1).lower())
        raise RuleSyntaxError(
            f"{text!r} is not a retention rule; write '<n> days|weeks|months|years after <event>' "
            "(e.g. '3 years after last_contact') or 'until <event>' (e.g. 'until consent_withdrawn')"
        )

    def __str__(self) -> str:
        if self.period is None:
            return f"until {self.event}"
        return f"{self.period} after {self.event}"

    def approx_days(self) -> int | None:
        return None if self.period is None else self.period.approx_days()
