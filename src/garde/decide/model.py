"""The register compiled for decisions, and what a decision says.

The register is read once into plain values (declared categories, legal
bases, consent lifetime, retention rules), so a decision never walks the
pydantic model or parses a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from garde.periods import Period
from garde.problems import GardeError
from garde.register import Activity, Register, load_register
from garde.retention_rule import Combination
from garde.subjects import instructed_erasure_scope, instructed_restriction_scope

ANY_CATEGORY = "any"  # the vocabulary's "any category relevant to the claim"
LEGAL_CLAIMS = "legal.claim"


def covers(declared: str, used: str) -> bool:
    """Whether declaring ``declared`` covers ``used`` (``contact`` covers ``contact.email``)."""
    return declared == ANY_CATEGORY or used == declared or used.startswith(declared + ".")


@dataclass(frozen=True)
class Reason:
    """Why a decision is what it is. ``blocks``: this reason alone refuses the use."""

    code: str
    message: str
    blocks: bool = True
    categories: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message, "blocks": self.blocks}
        if self.categories:
            data["categories"] = list(self.categories)
        return data


@dataclass(frozen=True)
class Decision:
    """Whether ``activity`` may use the subject's data, which categories, and every reason.

    Read-only, its ``reasons`` included: a decision point gives the same object again while the
    answer holds (:class:`garde.decide.DecisionPoint`)."""

    allowed: bool
    categories: tuple[str, ...]
    reasons: list[Reason] = field(default_factory=list)
    activity: str = ""
    subject_id: str | None = None
    channel: str | None = None

    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def to_data(self) -> dict[str, Any]:
        return {"activity": self.activity, "subject_id": self.subject_id, "channel": self.channel,
                "allowed": self.allowed, "categories": list(self.categories),
                "reasons": [r.to_data() for r in self.reasons]}


@dataclass(frozen=True)
class RetentionCheck:
    """One retention rule: data is due ``period`` after ``event`` (at ``event`` when None).

    ``event`` is empty for a rule kept without limit ("indefinitely"): never due.
    """

    event: str
    period: Period | None
    categories: tuple[str, ...]  # empty: every category of the activity
    text: str

    def applies_to(self, category: str) -> bool:
        return not self.categories or any(covers(c, category) for c in self.categories)


@dataclass(frozen=True)
class ActivityRules:
    """What one activity of the register declares, ready for decisions."""

    id: str
    categories: tuple[str, ...]
    bases: frozenset[str]
    consent_validity: Period | None
    direct_marketing: bool
    targeted_advertising: bool
    channels: tuple[str, ...]
    retention: tuple[RetentionCheck, ...]
    #: how the rules over one category combine: past at the first due, or once every one is
    retention_combination: Combination = "first_reached"
    #: None for an activity of the organisation's own (controller, joint controller); for one it
    #: carries out as a processor (Art. 28, 29), the controllers of ``on_behalf_of`` whose
    #: documented instructions the register records (their Art. 28(3) contract), in its order
    processor_for: tuple[str, ...] | None = None

    @cached_property
    def marketing(self) -> bool:
        return self.direct_marketing or self.targeted_advertising

    @cached_property
    def legal_claims(self) -> bool:
        """GDPR Art. 18(2): restricted data may still serve legal claims."""
        return LEGAL_CLAIMS in self.categories

    def declares(self, category: str) -> bool:
        known = self._declared
        answer = known.get(category)
        if answer is None:
            answer = any(covers(declared, category) for declared in self.categories)
            if len(known) < 1024:  # the categories asked about, kept: bounded whatever callers send
                known[category] = answer
        return answer

    def objection_scopes(self) -> frozenset[str]:
        return self._objection_scopes

    def retention_rules_of(self, category: str) -> tuple[int, ...]:
        """The indexes in :attr:`retention` of the rules that apply to ``category``."""
        known = self._retention_rules
        rules = known.get(category)
        if rules is None:
            rules = tuple(i for i, rule in enumerate(self.retention) if rule.applies_to(category))
            if len(known) < 1024:  # bounded whatever callers send, as declares()
                known[category] = rules
        return rules

    @cached_property
    def ordered_bases(self) -> tuple[str, ...]:
        """The legal bases in the order decisions try them."""
        return tuple(sorted(self.bases))

    # worked out once per activity (a frozen dataclass keeps a cached property in its __dict__)
    @cached_property
    def _declared(self) -> dict[str, bool]:
        return {}

    @cached_property
    def _retention_rules(self) -> dict[str, tuple[int, ...]]:
        return {}

    @cached_property
    def dates_read(self) -> dict[str | None, tuple[bool, bool, bool, bool]]:
        """By channel, which of a subject's dates the rules read (:func:`garde.decide.rules.facts_key`)."""
        return {}

    @cached_property
    def instructed_restrictions(self) -> dict[str, str]:
        """A processor activity's restrictions a client controller may instruct: by the scope
        recorded with the subject's objections (:func:`garde.subjects.instructed_restriction_scope`),
        the controller's name."""
        return {instructed_restriction_scope(name): name for name in self.processor_for or ()}

    @cached_property
    def instructed_erasures(self) -> dict[str, str]:
        """A processor activity's erasures a client controller may instruct, as
        :attr:`instructed_restrictions` (:func:`garde.subjects.instructed_erasure_scope`)."""
        return {instructed_erasure_scope(name): name for name in self.processor_for or ()}

    @cached_property
    def _objection_scopes(self) -> frozenset[str]:
        if self.processor_for is not None:
            # a processor activity heeds only what its controllers instructed: never the subject's
            # own objections to the organisation as a controller (GDPR Art. 28(3)(a), 29)
            return frozenset(self.instructed_restrictions) | frozenset(self.instructed_erasures)
        scopes = {self.id}
        if self.direct_marketing:
            scopes.add("direct_marketing")
        if self.targeted_advertising:
            scopes.add("targeted_advertising")
        return frozenset(scopes)

    @classmethod
    def from_activity(cls, activity: Activity, role: str = "controller") -> ActivityRules:
        retention = tuple(
            # a rule in words (criterion, condition) is never due here: the engine cannot evaluate it
            RetentionCheck(r.rule.event if r.rule is not None and r.executable else "",
                           r.rule.period if r.rule is not None else None, tuple(r.categories), r.summary())
            for r in activity.retention)
        return cls(
            id=activity.id, categories=tuple(activity.data_categories), bases=frozenset(activity.bases()),
            consent_validity=activity.consent.expiry if activity.consent else None,
            direct_marketing=activity.direct_marketing, targeted_advertising=activity.targeted_advertising,
            channels=tuple(activity.channels), retention=retention,
            retention_combination=activity.retention_combination,
            # Art. 28(3): the contract (or other legal act) is where the controller's documented
            # instructions are; a controller named without one gives the processor none to act on
            processor_for=(tuple(c.name for c in activity.on_behalf_of if c.contract is not None)
                           if role == "processor" else None))


class DecisionModel:
    """Every activity of one controller's register(s), by id."""

    def __init__(self, registers: Register | Iterable[Register]) -> None:
        if isinstance(registers, Register):
            registers = [registers]
        self.registers = list(registers)
        self.activities: dict[str, ActivityRules] = {}
        for register in self.registers:
            for activity in register.activities:
                if activity.id in self.activities:
                    raise GardeError(f"activity {activity.id!r} is declared by two registers: "
                                     "decide against one register at a time (--register FILE)")
                self.activities[activity.id] = ActivityRules.from_activity(activity,
                                                                           register.role_of(activity))

    def get(self, activity_id: str) -> ActivityRules | None:
        return self.activities.get(activity_id)

    def validity(self) -> Mapping[str, Period | None]:
        return {a.id: a.consent_validity for a in self.activities.values()}

    def register_of(self, activity_id: str) -> Register | None:
        return next((r for r in self.registers if r.activity(activity_id)), None)

    @classmethod
    def load(cls, path: Path) -> DecisionModel:
        """The register file at ``path``, or every ``*.yaml`` register of a folder."""
        files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
        if not files:
            raise GardeError(f"no register found at {path}")
        return cls([load_register(f) for f in files])


def moment_or_none(value: datetime | None) -> datetime | None:
    from garde.consent.state import as_utc

    return None if value is None else as_utc(value)
