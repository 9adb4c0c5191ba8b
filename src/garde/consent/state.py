"""The current state of a consent, derived from its events and nothing else.

A consent is keyed by (subject, activity, channel); ``channel`` None means
"every channel of the activity". The state is the fold of the events that
apply (that channel, or every channel), by one rule (:func:`deciding_event`):

1. a consent is set aside when a withdrawal or a refusal was *recorded*
   after it (``seq``, the ledger's order of recording), whatever the dates
   the two events claim;
2. of the events left, the latest by the time it happened (``at``, then the
   order recorded) wins.

GDPR Art. 7(3): withdrawing must be as easy as giving, and a withdrawal is
not retroactive: a consent given after it counts again (it is recorded
after it, and dated after it), one given before it never does — not even
one that claims a later date than the withdrawal (a clock ahead, an
import of another tool's file), since that consent was already in the
ledger when the subject withdrew.

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
    # the ledger's order of recording (its row id): a withdrawal recorded after a consent sets it
    # aside, and it breaks ties between events at the same instant; events that all have 0 count
    # as recorded together
    seq: int = 0
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


def deciding_event(events: Iterable[ConsentEvent]) -> ConsentEvent | None:
    """The event that decides a consent among ``events`` (all about that consent): the latest by
    :meth:`ConsentEvent.order` once every consent recorded before the last recorded withdrawal
    or refusal is set aside (see the module's rule). :func:`garde.consent.ledger.latest_per_key`
    is the same rule in SQL."""
    events = list(events)
    last_no = max((e.seq for e in events if e.action != "given"), default=None)
    latest: ConsentEvent | None = None
    for event in events:
        if event.action == "given" and last_no is not None and event.seq < last_no:
            continue  # Art. 7(3): a withdrawal recorded after a consent is never undone by it
        if latest is None or event.order() > latest.order():
            latest = event
    return latest


def fold(events: Iterable[ConsentEvent], activity: str, channel: str | None, now: datetime,
         validity: Period | None = None) -> ConsentState:
    """The state of the consent to ``activity`` on ``channel`` from ``events``.

    Events for the same activity on the same channel, or on every channel
    (``channel`` None), apply; :func:`deciding_event` says which one decides.
    ``validity`` is the activity's consent lifetime (e.g. 13 months for
    trackers, CNIL).
    """
    latest = deciding_event(e for e in events
                            if e.activity == activity and (e.channel is None or e.channel == channel))
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
