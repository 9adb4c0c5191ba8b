"""The current state of a consent, derived from its events and nothing else.

A consent is keyed by (subject, activity, channel); ``channel`` None means
"every channel of the activity". The state is the fold of the events that
apply, in the order they happened (``at``, then the order they were
recorded): the latest one wins. GDPR Art. 7(3): a withdrawal is not
retroactive, so a consent given after it counts again, and one given before
it never does.

The states are DPV's: ``dpv:ConsentGiven``, ``ConsentRefused``,
``ConsentWithdrawn``, ``ConsentExpired``, plus ``none`` when nothing was
ever asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from garde.periods import Period

Action = Literal["given", "withdrawn", "refused"]
ACTIONS: tuple[Action, ...] = ("given", "withdrawn", "refused")
Status = Literal["given", "withdrawn", "refused", "expired", "none"]

DPV_STATES: dict[Status, str] = {
    "given": "dpv:ConsentGiven",
    "withdrawn": "dpv:ConsentWithdrawn",
    "refused": "dpv:ConsentRefused",
    "expired": "dpv:ConsentExpired",
    "none": "dpv:ConsentUnknown",
}


def as_utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: the store only ever writes UTC."""
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if zone is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class ConsentEvent:
    """One event of the ledger, as far as the state is concerned."""

    activity: str
    channel: str | None
    action: Action
    at: datetime
    expires_at: datetime | None = None
    seq: int = 0  # the order it was recorded in: breaks ties between events at the same instant
    event_id: str | None = None

    def order(self) -> tuple[datetime, int]:
        return (as_utc(self.at), self.seq)


@dataclass(frozen=True)
class ConsentState:
    """Where one consent stands at ``now``."""

    activity: str
    channel: str | None
    status: Status
    since: datetime | None = None
    expires_at: datetime | None = None
    event_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == "given"

    @property
    def dpv(self) -> str:
        return DPV_STATES[self.status]


def effective_expiry(event: ConsentEvent, validity: Period | None) -> datetime | None:
    """The earlier of the event's own expiry and the activity's consent lifetime."""
    candidates = []
    if event.expires_at is not None:
        candidates.append(as_utc(event.expires_at))
    if validity is not None:
        candidates.append(validity.after(as_utc(event.at)))
    return min(candidates) if candidates else None


def fold(events: Iterable[ConsentEvent], activity: str, channel: str | None, now: datetime,
         validity: Period | None = None) -> ConsentState:
    """The state of the consent to ``activity`` on ``channel`` from ``events``.

    Events for the same activity on the same channel, or on every channel
    (``channel`` None), apply; the latest wins. ``validity`` is the
    activity's consent lifetime (e.g. 13 months for trackers, CNIL).
    """
    latest: ConsentEvent | None = None
    for event in events:
        if event.activity != activity or (event.channel is not None and event.channel != channel):
            continue
        if latest is None or event.order() > latest.order():
            latest = event
    if latest is None:
        return ConsentState(activity, channel, "none")
    if latest.action != "given":
        return ConsentState(activity, channel, latest.action, as_utc(latest.at), event_id=latest.event_id)
    expiry = effective_expiry(latest, validity)
    status: Status = "expired" if expiry is not None and expiry <= as_utc(now) else "given"
    return ConsentState(activity, channel, status, as_utc(latest.at), expiry, latest.event_id)


def fold_all(events: Iterable[ConsentEvent], now: datetime,
             validity: dict[str, Period | None] | None = None) -> list[ConsentState]:
    """The state of every (activity, channel) the events mention, sorted."""
    events = list(events)
    keys = sorted({(e.activity, e.channel) for e in events}, key=lambda k: (k[0], k[1] or ""))
    validity = validity or {}
    return [fold(events, activity, channel, now, validity.get(activity)) for activity, channel in keys]


def best_state(events: Iterable[ConsentEvent], activity: str, channel: str | None, now: datetime,
               validity: Period | None = None) -> ConsentState:
    """The consent that matters for a decision on ``channel``.

    With a channel, that channel's state. Without one (a use that contacts
    nobody, e.g. profiling), consent on any channel of the activity will do:
    the valid state if there is one, otherwise the most telling refusal.
    """
    events = list(events)
    if channel is not None:
        return fold(events, activity, channel, now, validity)
    channels = {e.channel for e in events if e.activity == activity} or {None}
    states = [fold(events, activity, c, now, validity) for c in sorted(channels, key=lambda c: c or "")]
    rank = {"given": 0, "expired": 1, "withdrawn": 2, "refused": 3, "none": 4}
    return min(states, key=lambda s: rank[s.status])
