"""The consent ledger: append-only events, never edited (GDPR Art. 7(1)).

Each event says who (a subject id, never an address), for which activity
and channel, given / withdrawn / refused, when, how (a ``consent_methods``
term), which version of the notice was shown (its hash), and the evidence
(the HMAC of the IP address, the user agent). Giving and withdrawing are the
same call with a different action, so withdrawing is as easy as giving
(Art. 7(3)).

Each event is written with its audit entry in one transaction, so the audit
chain vouches for every consent the controller may have to demonstrate.
"""

from __future__ import annotations

import hashlib
import hmac
import json.encoder
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import Field, dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.consent.state import ACTIONS, Action, ConsentEvent, ConsentState, as_utc, fold_all
from garde.periods import Period
from garde.problems import GardeError
from garde.store import metadata
from garde.subjects import now
from garde.taxonomy import load_vocabulary

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column("id", _BIGINT, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(32), nullable=False, unique=True),
    sa.Column("subject_id", sa.String(36), sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("activity", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("notice_version", sa.String(64)),
    sa.Column("ip_hash", sa.String(64)),
    sa.Column("user_agent", sa.String(512)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("source", sa.String(64)),
    sa.Column("source_key", sa.String(64), unique=True),
    sa.Index("ix_consent_events_subject_id_activity", "subject_id", "activity"),
    sa.Index("ix_consent_events_activity_channel", "activity", "channel"),
)


#: How far ahead of this machine's clock an event may be dated: the clocks of the systems that
#: collect consents drift apart by a few minutes. Beyond that, an event "in the future" is an error:
#: an event is recorded after it happens (a consent dated ahead would outrank the withdrawals
#: recorded before its date).
CLOCK_SKEW = timedelta(minutes=5)

#: The ledger's text columns and their lengths: what a value must fit before it is written
#: (PostgreSQL refuses a longer one, and a NUL character, and would abort the whole batch).
TEXT_LIMITS: dict[str, int] = {
    column.name: column.type.length for column in consent_events.columns
    if isinstance(column.type, sa.String) and column.type.length}


def text_problem(field: str, value: str | None) -> str | None:
    """What keeps ``value`` out of the ledger's column ``field`` (too long, a NUL), or None."""
    if value is None:
        return None
    limit = TEXT_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        return f"field {field} is {len(value)} characters long; the ledger keeps at most {limit}"
    if "\x00" in value:
        return f"field {field} holds a NUL character, which the ledger cannot store"
    return None


def parse_time(text: str) -> datetime:
    """ISO 8601 (naive means UTC) or seconds since the epoch; ValueError when it is neither."""
    text = text.strip()
    try:
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (OverflowError, OSError) as exc:  # a year out of range, once moved to UTC
        raise ValueError(f"{text!r} is not a date this system can hold") from exc


def not_in_future(moment: datetime, field: str, clock: datetime | None = None) -> datetime:
    """``moment`` in UTC, unless it is later than now plus :data:`CLOCK_SKEW`: then a GardeError
    naming ``field`` (a column, ``--at``...); so is a moment that leaves the calendar once moved to UTC
    (``0001-01-01T00:00:00+14:00``)."""
    try:
        moment = as_utc(moment)
    except OverflowError:
        raise GardeError(f"{field}: {moment.isoformat()} cannot be held: it is before year 1 in UTC"
                         ) from None
    current = clock or now()
    if moment > current + CLOCK_SKEW:
        raise GardeError(f"{field}: {moment.isoformat()} is in the future (more than "
                         f"{CLOCK_SKEW.total_seconds() / 60:g} minutes ahead of this clock, "
                         f"{current.isoformat(timespec='seconds')}): an event is recorded after it happens")
    return moment


def event_time(text: str, field: str) -> datetime:
    """When an event happened, written as :func:`parse_time` reads it, not in the future; errors
    name ``field``."""
    try:
        moment = parse_time(text)
    except ValueError:
        raise GardeError(f"{field}: {text.strip()!r} is not a date (ISO 8601, e.g. 2025-01-31T14:05:00Z, "
                         "or seconds since 1970)") from None
    return not_in_future(moment, field)


@dataclass(frozen=True)
class Evidence:
    """What shows how the consent was collected (Art. 7(1)): never the raw IP."""

    notice_version: str | None = None
    ip_hash: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_request(cls, ip: str | None = None, user_agent: str | None = None,
                     notice_version: str | None = None, key: bytes | None = None) -> Evidence:
        """``key``: the store's identifier data key (:func:`garde.keys.identifier_data_key`),
        needed when ``ip`` is given."""
        if ip is None:
            return cls(notice_version, None, user_agent)
        if key is None:
            raise GardeError("an IP address is kept as its HMAC under the store's identifier data key: "
                             "pass key=garde.keys.identifier_data_key(store)")
        return cls(notice_version, hash_ip(ip, key), user_agent)


@dataclass(frozen=True)
class LedgerEvent:
    """One row of the ledger."""

    event_id: str
    subject_id: str
    activity: str
    channel: str | None
    action: Action
    at: datetime
    recorded_at: datetime
    method: str
    notice_version: str | None
    ip_hash: str | None
    user_agent: str | None
    expires_at: datetime | None
    actor: str
    source: str | None
    seq: int = 0

    def as_state_event(self) -> ConsentEvent:
        return ConsentEvent(self.activity, self.channel, self.action, self.at, self.expires_at, self.seq,
                            self.event_id)

    def to_data(self) -> dict[str, Any]:
        """The event as the CLI prints it and the API answers it: its :func:`public_fields`."""
        data = {f.name: getattr(self, f.name) for f in public_fields()}
        for name in ("at", "recorded_at", "expires_at"):
            if data[name] is not None:
                data[name] = as_utc(data[name]).isoformat()
        return data


def public_fields() -> tuple[Field[Any], ...]:
    """The fields of :class:`LedgerEvent` an event shows (``seq``, the row's number, is the store's)."""
    return tuple(f for f in fields(LedgerEvent) if f.name != "seq")


def hash_ip(ip: str, key: bytes) -> str:
    """HMAC-SHA256 of an IP address under the store's identifier data key (the key of its
    identifier digests, :func:`garde.keys.identifier_data_key`): evidence, not a tracker."""
    return hmac.digest(key, f"ip:{ip.strip()}".encode(), "sha256").hex()


DIGEST_FIELDS = ("event_id", "subject_id", "activity", "channel", "action", "at", "method", "notice_version",
                 "ip_hash", "user_agent", "expires_at")


def event_digest(row: Mapping[str, Any]) -> str:
    """SHA-256 of an event's canonical form: what its audit entry commits to."""
    return values_digest([row[f] for f in DIGEST_FIELDS])


def values_digest(values: Sequence[Any]) -> str:
    """:func:`event_digest` of the values of :data:`DIGEST_FIELDS`, in that order.

    The canonical JSON of ``{"event": [...]}`` is written out here for the usual values (text,
    date-times, none), the same bytes as :func:`garde.audit.canonical_payload`: bulk imports
    digest every event."""
    parts = []
    for value in values:
        if value is None:
            parts.append("null")
        elif type(value) is str:
            parts.append(_quote(value))
        elif isinstance(value, datetime):
            parts.append(_quote(as_utc(value).isoformat()))
        else:
            canonical = [as_utc(v).isoformat() if isinstance(v, datetime) else v for v in values]
            return hashlib.sha256(audit.canonical_payload({"event": canonical}).encode()).hexdigest()
    return hashlib.sha256(f'{{"event":[{",".join(parts)}]}}'.encode()).hexdigest()


_quote = json.encoder.encode_basestring  # the canonical form's quoting (``ensure_ascii=False``)


def consent_channel(channel: str | None) -> str | None:
    """The channel's id in the vocabulary (``Email``, ``e-mail``, ``courriel``: ``email``), or None
    for every channel. A consent or withdrawal applies to the channel its id names: recorded as
    ``Email`` it would apply to no channel ``decide()`` asks about, and a withdrawal would be lost."""
    if channel is None:
        return None
    found = _channel_id(channel)
    if found is None:
        known = ", ".join(t.id for t in load_vocabulary().terms("channels"))
        raise GardeError(f"channel {channel!r} is not a channel garde knows: one of {known} "
                         "(or none, for every channel)")
    return found


@lru_cache(maxsize=256)
def _channel_id(channel: str) -> str | None:
    """Cached: ``decide()`` and audiences ask for the channel of every call."""
    term = load_vocabulary().resolve("channels", channel)
    return term.id if term is not None else None


def record_consent(conn: sa.Connection, subject_id: str, activity: str, action: Action, *,
                   channel: str | None = None, method: str = "web_form", at: datetime | None = None,
                   evidence: Evidence | None = None, expires_at: datetime | None = None,
                   valid_for: Period | None = None, actor: str = "garde") -> LedgerEvent:
    """Append one event and its audit entry inside the caller's transaction. Refused with a
    GardeError naming the field: ``at`` later than now plus :data:`CLOCK_SKEW`, a text longer than
    its column (:data:`TEXT_LIMITS`) or holding a NUL, a channel that is none of the vocabulary's
    (a synonym is recorded as the channel's id: :func:`consent_channel`)."""
    if action not in ACTIONS:
        raise GardeError(f"a consent event is one of {', '.join(ACTIONS)}, not {action!r}")
    channel = consent_channel(channel)
    evidence = evidence or Evidence()
    moment = not_in_future(at, "at") if at is not None else now()
    if valid_for is not None and action == "given":
        lifetime_end = valid_for.after(moment)
        expires_at = lifetime_end if expires_at is None else min(as_utc(expires_at), lifetime_end)
    row: dict[str, Any] = {
        "event_id": uuid.uuid4().hex, "subject_id": subject_id, "activity": activity, "channel": channel,
        "action": action, "at": moment, "recorded_at": now(), "method": method,
        "notice_version": evidence.notice_version, "ip_hash": evidence.ip_hash,
        "user_agent": evidence.user_agent,
        "expires_at": None if expires_at is None or action != "given" else as_utc(expires_at),
        "actor": actor, "source": None, "source_key": None,
    }
    for name in ("activity", "channel", "method", "notice_version", "user_agent", "actor"):
        problem = text_problem(name, row[name])
        if problem:
            raise GardeError(problem)
    seq = conn.execute(consent_events.insert().values(row)).inserted_primary_key
    audit.record(conn, f"consent.{action}", {
        "event_id": row["event_id"], "activity": activity, "channel": channel, "method": method,
        "at": moment.isoformat(), "digest": event_digest(row)}, subject_id=subject_id, actor=actor)
    row.pop("source_key")
    return LedgerEvent(**row, seq=int(seq[0]) if seq else 0)


def give(conn: sa.Connection, subject_id: str, activity: str, **details: Any) -> LedgerEvent:
    """Record that ``subject_id`` consented to ``activity`` (see :func:`record_consent`); a subject
    who now consents again to all they unsubscribed from leaves the suppression list."""
    from garde.consent.objections import lift_unsubscription  # objections builds on this module

    given = record_consent(conn, subject_id, activity, "given", **details)
    lift_unsubscription(conn, subject_id, actor=details.get("actor", "garde"))
    return given


def withdraw(conn: sa.Connection, subject_id: str, activity: str, **details: Any) -> LedgerEvent:
    """Record a withdrawal: one call, the same as giving (GDPR Art. 7(3))."""
    return record_consent(conn, subject_id, activity, "withdrawn", **details)


def refuse(conn: sa.Connection, subject_id: str, activity: str, **details: Any) -> LedgerEvent:
    """Record a refusal (a cookie banner's "reject all"): kept as proof of the choice."""
    return record_consent(conn, subject_id, activity, "refused", **details)


def _ledger_event(row: Any) -> LedgerEvent:
    return LedgerEvent(
        event_id=row.event_id, subject_id=row.subject_id, activity=row.activity, channel=row.channel,
        action=row.action, at=as_utc(row.at), recorded_at=as_utc(row.recorded_at), method=row.method,
        notice_version=row.notice_version, ip_hash=row.ip_hash, user_agent=row.user_agent,
        expires_at=None if row.expires_at is None else as_utc(row.expires_at), actor=row.actor,
        source=row.source, seq=int(row.id))


def history(conn: sa.Connection, subject_id: str, activity: str | None = None, *,
            after: tuple[datetime, int] | None = None, limit: int | None = None) -> Iterator[LedgerEvent]:
    """A subject's events in the order they happened (``at``, then ``seq``); ``after``: only those
    after the event at that (``at``, ``seq``), ``limit``: at most that many (a page)."""
    e = consent_events.c
    query = sa.select(consent_events).where(e.subject_id == subject_id)
    if activity is not None:
        query = query.where(e.activity == activity)
    if after is not None:
        at, seq = after
        query = query.where(sa.or_(e.at > at, sa.and_(e.at == at, e.id > seq)))
    for row in conn.execute(query.order_by(e.at, e.id).limit(limit)):
        yield _ledger_event(row)


def event(conn: sa.Connection, event_id: str) -> LedgerEvent:
    row = conn.execute(sa.select(consent_events).where(consent_events.c.event_id == event_id)).first()
    if row is None:
        from garde.problems import NotFound

        raise NotFound(f"no consent event {event_id!r}")
    return _ledger_event(row)


def current(conn: sa.Connection, subject_id: str, at: datetime | None = None,
            validity: dict[str, Period | None] | None = None) -> list[ConsentState]:
    """Every consent of a subject as it stands at ``at`` (default now), derived from the ledger."""
    moment = as_utc(at) if at is not None else now()
    return fold_all((e.as_state_event() for e in history(conn, subject_id)), moment, validity)


def latest_per_key(activity: str, channel: str | None) -> sa.Subquery:
    """Set-based fold: the deciding event of every subject for ``activity`` on ``channel``.

    The events on ``channel`` and on every channel (NULL) apply; a consent
    recorded before the subject's last recorded withdrawal or refusal is set
    aside, and the rest are ranked per subject, latest first: ``rank`` 1 is
    the one that decides. This is :func:`garde.consent.state.deciding_event`
    in SQL (the audience streams from it); a property test checks that the
    two agree.
    """
    e = consent_events
    applies = e.c.channel.is_(None) if channel is None else sa.or_(e.c.channel == channel,
                                                                     e.c.channel.is_(None))
    last_no = sa.func.max(sa.case((e.c.action != "given", e.c.id))).over(partition_by=e.c.subject_id)
    events = (sa.select(e.c.id, e.c.subject_id, e.c.channel, e.c.action, e.c.at, e.c.expires_at, e.c.event_id,
                        last_no.label("last_no"))
              .where(e.c.activity == activity, applies).subquery("applying"))
    a = events.c
    rank = sa.func.row_number().over(partition_by=a.subject_id,
                                     order_by=(a.at.desc(), a.id.desc())).label("rank")
    standing = sa.or_(a.action != "given", a.last_no.is_(None), a.id > a.last_no)
    return (sa.select(a.subject_id, a.channel, a.action, a.at, a.expires_at, a.event_id, rank)
            .where(standing).subquery("latest"))
