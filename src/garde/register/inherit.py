"""Register-level statements and what applies to each activity (GDPR Art. 30(1)(d), (e), (g); 14(2)(f)).

A register may state recipients, transfers (or that there are none), security measures and
sources once, for every activity. The one place that computes what applies to an activity is
:func:`effective` (``Register.effective(activity)``); the linter, the notice, the Art. 30
register, access answers and consent receipts all read it, never the raw fields.

The semantics, as a DPO writes a register ("every activity: hosting provider X; this one
also: carrier Y"):

- an activity's own list ADDS to the register's (the default);
- an activity that names the field in ``overrides`` states its own list INSTEAD of the
  register's (an empty own list is then a gap, not "none");
- an activity's ``no_transfer: true`` is its own statement on transfers: it overrides the
  register's transfers like ``overrides: [transfers]`` does;
- the register's ``no_transfer: true`` applies to every activity that does not override it.

``garde register show`` prints the register as written; the expanded view is never stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, get_args

from garde.yamlsource import FieldPath

if TYPE_CHECKING:
    from garde.register.model import Activity, Recipient, Register, Text, Transfer

Inheritable = Literal["recipients", "transfers", "security_measures", "sources"]
INHERITABLE: tuple[Inheritable, ...] = get_args(Inheritable)
# What a register says about transfers outside the EEA (GDPR Art. 30(1)(e), 13(1)(f)):
# "none" is an explicit statement that there is none; "gap" is silence, never read as "none".
TransferState = Literal["none", "gap", "listed"]

T = TypeVar("T")


@dataclass(frozen=True)
class Stated(Generic[T]):
    """One statement: the register's (for every activity) or the activity's own, and its field."""

    value: T
    field: FieldPath  # e.g. ("recipients", 0), within the register or within the activity
    register_wide: bool


@dataclass(frozen=True, eq=False)
class Effective:
    """What applies to one activity: the register's statements it inherits, then its own."""

    register: Register
    activity: Activity
    recipients: tuple[Stated[Recipient], ...]
    transfers: tuple[Stated[Transfer], ...]
    security_measures: tuple[Stated[Text], ...]
    sources: tuple[Stated[str], ...]
    transfer_state: TransferState
    inherited: frozenset[Inheritable] = field(default_factory=frozenset)

    @cached_property
    def activity_path(self) -> FieldPath:
        return activity_path(self.register, self.activity)

    def path(self, stated: Stated[Any]) -> FieldPath:
        """Where the register file makes ``stated``: the register's field, or the activity's."""
        return stated.field if stated.register_wide else (*self.activity_path, *stated.field)

    def inherits(self, name: Inheritable) -> bool:
        """Whether the register's statement on ``name`` applies to this activity (even if empty)."""
        return name in self.inherited

    def recipient_list(self) -> list[Recipient]:
        return [s.value for s in self.recipients]

    def transfer_list(self) -> list[Transfer]:
        return [s.value for s in self.transfers]

    def security_list(self) -> list[Text]:
        return [s.value for s in self.security_measures]

    def source_list(self) -> list[str]:
        return [s.value for s in self.sources]

    def own(self, name: Inheritable) -> list[Stated[Any]]:
        """The statements the activity adds itself (those the register already makes are left out)."""
        return [s for s in getattr(self, name) if not s.register_wide]

    def collects_from_subject(self, direct_sources: set[str]) -> bool:
        """Whether (some of) the data is collected from the person: no source named, or one of the
        ``direct_sources`` (the vocabulary's). Art. 13 then applies, with 13(2)(e) (whether providing
        the data is required); Art. 14 has no such point for data obtained elsewhere. A source in the
        register's own words ({other: ...}) may be the person, so it counts as one here."""
        from garde.taxonomy.free import FreeTerm

        sources = self.source_list()
        return not sources or any(s in direct_sources or isinstance(s, FreeTerm) for s in sources)


def _merge(register_items: Sequence[T], own_items: Sequence[T], name: str,
           inherit: bool) -> tuple[Stated[T], ...]:
    """The register's items (when inherited), then the activity's own not already among them."""
    merged: list[Stated[T]] = []
    if inherit:
        merged += [Stated(item, (name, j), True) for j, item in enumerate(register_items)]
    for j, item in enumerate(own_items):
        if all(item != known.value for known in merged):
            merged.append(Stated(item, (name, j), False))
    return tuple(merged)


def activity_path(register: Register, activity: Activity) -> FieldPath:
    """``("activities", i)`` of ``activity`` in ``register`` (the same object, or the same id)."""
    for i, candidate in enumerate(register.activities):
        if candidate is activity:
            return ("activities", i)
    for i, candidate in enumerate(register.activities):
        if candidate.id == activity.id:
            return ("activities", i)
    raise ValueError(f"activity {activity.id!r} is not in the register")


def effective(register: Register, activity: Activity) -> Effective:
    """What applies to ``activity``: see the module's docstring for the semantics."""
    inherited = {name for name in INHERITABLE if name not in activity.overrides}
    if activity.no_transfer:  # the activity's own statement on transfers replaces the register's
        inherited.discard("transfers")
    transfers = _merge(register.transfers, activity.transfers, "transfers", "transfers" in inherited)
    if transfers:
        state: TransferState = "listed"
    elif activity.no_transfer or (register.no_transfer and "transfers" in inherited):
        state = "none"
    else:
        state = "gap"
    return Effective(
        register=register,
        activity=activity,
        recipients=_merge(register.recipients, activity.recipients, "recipients", "recipients" in inherited),
        transfers=transfers,
        security_measures=_merge(register.security_measures, activity.security_measures,
                                 "security_measures", "security_measures" in inherited),
        sources=_merge(register.sources, activity.sources, "sources", "sources" in inherited),
        transfer_state=state,
        inherited=frozenset(inherited),
    )


def register_states(register: Register, name: Inheritable) -> bool:
    """Whether the register itself states something on ``name`` that activities inherit."""
    return bool(getattr(register, name)) or (name == "transfers" and register.no_transfer)


def inherited_statements(register: Register, activity: Activity) -> dict[str, Any]:
    """The register-level statements that apply to ``activity``, as plain data (empty: none)."""
    applies = effective(register, activity)
    inherited: dict[str, Any] = {}
    for name in INHERITABLE:
        values = [_plain(s.value) for s in getattr(applies, name) if s.register_wide]
        if values:
            inherited[name] = values
    if register.no_transfer and applies.inherits("transfers"):
        inherited["no_transfer"] = True
    return inherited


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def stated_transfers(register: Register) -> Iterator[tuple[FieldPath, str | None, Transfer]]:
    """Every transfer the register states, once, where it is written: (path, activity id, transfer).

    A register-level transfer is checked once (activity ``None``), not once per activity that
    inherits it; its validity (safeguard, country) does not depend on the activity.
    """
    for j, transfer in enumerate(register.transfers):
        yield ("transfers", j), None, transfer
    for i, activity in enumerate(register.activities):
        for j, transfer in enumerate(activity.transfers):
            yield ("activities", i, "transfers", j), activity.id, transfer
