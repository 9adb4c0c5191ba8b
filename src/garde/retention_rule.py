"""Retention rules in the words a DPO uses.

A rule is ``<period> after <event>`` (``13 months after collection``,
``10 years after invoice_date``) or ``until <event>`` (``until
consent_withdrawn``), followed by what happens when it is due: delete,
anonymise or archive. A register may also say the data is kept without any
limit (``indefinitely``, ``sans limite``, ``illimitato``...): that loads as an
*indefinite* rule, kept in the register's own words, never due, so the
retention sweep never deletes on it and the linter reports it (GL027).
Events are terms of the ``trigger_events`` vocabulary; the datasets say which
column holds each event's date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from garde.periods import Period
from garde.taxonomy import normalise

Action = Literal["delete", "anonymise", "archive"]
ACTIONS: tuple[Action, ...] = ("delete", "anonymise", "archive")

_AFTER = re.compile(r"^\s*(\d+)\s+(day|week|month|year)s?\s+after\s+([a-z][a-z0-9_]*)\s*$", re.I)
_UNTIL = re.compile(r"^\s*until\s+([a-z][a-z0-9_]*)\s*$", re.I)
# What registers write for "kept without limit" (en, fr, it), in normalised form (see
# garde.taxonomy.normalise: case, accents and hyphens do not matter).
INDEFINITE_WORDS = frozenset({
    "indefinitely", "indefinite", "no limit", "without limit", "unlimited", "permanent",
    "permanently", "forever", "no time limit",
    "sans limite", "sans limite de duree", "sans limitation de duree", "illimite", "illimitee",
    "indefiniment", "duree indeterminee", "pour une duree indeterminee", "pour toujours",
    "illimitato", "illimitata", "senza limite", "senza limiti", "senza limiti di tempo",
    "a tempo indeterminato", "tempo indeterminato", "per sempre",
})


class RuleSyntaxError(ValueError):
    """The text is not a retention rule; the message shows the accepted forms."""


@dataclass(frozen=True)
class RetentionPeriod:
    """When data is due: ``period`` after ``event``, or at ``event`` when period is None.

    An indefinite rule (``words`` set, ``event`` empty) states that the data is
    kept without limit: it is never due.
    """

    event: str
    period: Period | None = None
    words: str | None = None

    @property
    def indefinite(self) -> bool:
        return self.words is not None

    @classmethod
    def indefinitely(cls, words: str) -> RetentionPeriod:
        """The register's statement that data is kept without limit, in its own words."""
        return cls(event="", words=" ".join(words.split()))

    @classmethod
    def parse(cls, text: str) -> RetentionPeriod:
        if normalise(text).strip(" .") in INDEFINITE_WORDS:
            return cls.indefinitely(text.strip().rstrip("."))
        if match := _AFTER.match(text):
            period = Period(int(match.group(1)), match.group(2).lower())  # type: ignore[arg-type]
            return cls(event=match.group(3).lower(), period=period)
        if match := _UNTIL.match(text):
            return cls(event=match.group(1).lower())
        raise RuleSyntaxError(
            f"{text!r} is not a retention rule; write '<n> days|weeks|months|years after <event>' "
            "(e.g. '3 years after last_contact') or 'until <event>' (e.g. 'until consent_withdrawn'); "
            "data kept without limit is written 'indefinitely'"
        )

    def __str__(self) -> str:
        if self.words is not None:
            return self.words
        if self.period is None:
            return f"until {self.event}"
        return f"{self.period} after {self.event}"

    def approx_days(self) -> int | None:
        return None if self.period is None else self.period.approx_days()
