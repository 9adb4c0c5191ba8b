"""Legal holds: reasons to keep data beyond a request or a retention rule.

GDPR Art. 17(3)(b) and (e): data needed for a legal obligation or for the
establishment, exercise or defence of legal claims is kept. A hold covers a
subject, a table (``database.table``) or an activity, with a reason and an
optional end; erasure and retention sweeps skip what an active hold covers.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from garde import audit
from garde.keys import identifier_data_key
from garde.problems import GardeError, NotFound, closest
from garde.store import metadata
from garde.subjects import IDENTIFIER_KINDS, find_subject, identifier_hash, normalise_identifier, now

if TYPE_CHECKING:
    from garde.datasets import DataMap

Scope = Literal["subject", "table", "activity"]
SCOPES: tuple[Scope, ...] = ("subject", "table", "activity")

legal_holds = sa.Table(
    "legal_holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_kind", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True)),
    sa.Column("released_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class LegalHold:
    id: int
    scope_kind: Scope
    scope: str
    reason: str
    starts_at: datetime
    ends_at: datetime | None
    released_at: datetime | None = None

    def to_data(self) -> dict[str, object]:
        return {"id": self.id, "scope_kind": self.scope_kind, "scope": self.scope, "reason": self.reason,
                "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat() if self.ends_at else None,
                "released_at": self.released_at.isoformat() if self.released_at else None}


_IDENTITY = re.compile(r"^[a-z][a-z0-9_]*:.+$")


def check_scope(scope_kind: str, scope: str) -> None:
    """Refuse a scope a sweep or an erasure could not honour.

    A subject is named the way a request names it, by an identity
    ``kind:value`` (``email:alice@example.com``, ``customer_id:C000042``):
    the store keeps only HMACs of identifiers, which cannot be searched for
    in a business database; a table is ``database.table``.
    """
    if scope_kind not in SCOPES:
        raise GardeError(f"a hold's scope is one of {', '.join(SCOPES)}, not {scope_kind!r}")
    if not scope.strip():
        raise GardeError(f"a {scope_kind} hold needs a scope")
    if scope_kind == "subject" and not _IDENTITY.match(scope):
        raise GardeError(f"a subject hold names an identity as kind:value (email:alice@example.com, "
                         f"customer_id:C000042), not {scope!r}")
    if scope_kind == "table" and scope.count(".") != 1:
        raise GardeError(f"a table hold names database.table (shop.invoices), not {scope!r}")


def check_scope_known(scope_kind: str, scope: str, *, tables: Iterable[str], identity_kinds: Iterable[str],
                      activities: Iterable[str]) -> None:
    """Refuse a hold on something the deployment does not know: a hold on ``shop.invoice`` when the
    data map has ``shop.invoices`` would keep nothing, silently, while the DPO believes data is kept.

    ``tables`` are ``database.table`` names of the data map, ``identity_kinds`` the identity kinds it
    declares, ``activities`` the register's activity ids.
    """
    check_scope(scope_kind, scope)
    if scope_kind == "subject":
        known, word, noun = identity_kinds, scope.split(":", 1)[0], "identity kind"
    elif scope_kind == "table":
        known, word, noun = tables, scope, "table"
    else:
        known, word, noun = activities, scope, "activity"
    names = sorted(set(known))
    if word in names:
        return
    hint = closest(word, names)
    raise GardeError(f"{word!r} is not a known {noun}"
                     + (f" (did you mean {hint!r}?)" if hint else "")
                     + (f"; known: {', '.join(names)}" if names and len(names) <= 12 else ""))


def place_hold(conn: sa.Connection, scope_kind: Scope, scope: str, reason: str,
               ends_at: datetime | None = None, *, actor: str = "garde", region: str | None = None) -> int:
    """Place a hold (audited); returns its id.

    A subject hold's identity is stored in its normal form, as the datasets hold it (``region``:
    the controller's country, where a telephone number without its country code is read): a hold
    on ``phone:06 11 11 11 11`` that searched for that text would keep nothing of the customer.
    """
    check_scope(scope_kind, scope)
    kind, _, value = scope.partition(":")
    if scope_kind == "subject" and kind in IDENTIFIER_KINDS:
        scope = f"{kind}:{normalise_identifier(kind, value, region)}"
    if not reason.strip():
        raise GardeError("a legal hold needs a reason")
    if ends_at is not None and ends_at <= now():
        raise GardeError(f"a legal hold's end ({ends_at.isoformat()}) must be in the future")
    result = conn.execute(legal_holds.insert().values(scope_kind=scope_kind, scope=scope, reason=reason,
                                                      starts_at=now(), ends_at=ends_at))
    key = result.inserted_primary_key
    assert key is not None
    hold_id = int(key[0])
    audit.record(conn, "legal_hold.placed", {
        "hold": hold_id, "scope_kind": scope_kind, **_audited_scope(conn, scope_kind, scope),
        "reason": reason, "ends_at": ends_at.isoformat() if ends_at else None},
        subject_id=_named_subject(conn, scope_kind, scope), actor=actor)
    return hold_id


def _audited_scope(conn: sa.Connection, scope_kind: str, scope: str) -> dict[str, str]:
    """What the audit entry of a hold says of its scope: a table or an activity as it is; a subject's
    identity by its kind and its keyed digest under the store's identifier data key, never in clear
    (the log is append-only: no erasure could remove the value, and an auditor reads it; red30)."""
    if scope_kind != "subject":
        return {"scope": scope}
    kind, _, value = scope.partition(":")
    return {"identity": kind, "identity_hash": _identity_digest(identifier_data_key(conn), kind, value)}


def _identity_digest(key: bytes, kind: str, value: str) -> str:
    """An identity's keyed digest: as the subjects' identifiers are digested for their kinds, else
    of ``kind:value`` as the hold named it."""
    if kind in IDENTIFIER_KINDS:
        try:
            return identifier_hash(kind, value, key)
        except GardeError:  # an old hold's malformed identity: digested as written
            pass
    return hmac.digest(key, f"{kind}:{value}".encode(), "sha256").hex()


#: What a subject hold's scope says after its identity was replaced by its keyed digest
#: (``email:hmac-sha256:<hex>``): the hold was released, or its subject erased (fix31).
DIGESTED = "hmac-sha256:"


def digested_scope(key: bytes, scope: str) -> str:
    """A subject hold's scope ``kind:value`` as ``kind:hmac-sha256:<the identity's keyed digest>``
    (unchanged if it already is): a hold that keeps nothing any more names no one in clear."""
    kind, _, value = scope.partition(":")
    if value.startswith(DIGESTED):
        return scope
    return f"{kind}:{DIGESTED}{_identity_digest(key, kind, value)}"


def digested_scopes(digests: Mapping[str, Iterable[str]]) -> set[str]:
    """The digested scopes (:func:`digested_scope`) naming one of ``digests`` ({kind: [digest]})."""
    return {f"{kind}:{DIGESTED}{digest}" for kind, values in digests.items() for digest in values}


def _in_clear(at: datetime | sa.BindParameter[datetime]) -> sa.ColumnElement[bool]:
    """A subject hold that keeps nothing any more (released, or ended by its date) and still names
    its identity in clear: one released before fix31, or ended since the last sweep."""
    return sa.and_(legal_holds.c.scope_kind == "subject",
                   ~legal_holds.c.scope.contains(f":{DIGESTED}", autoescape=True),
                   sa.or_(legal_holds.c.released_at.is_not(None), legal_holds.c.ends_at <= at))


def digest_ended_holds(conn: sa.Connection, *, actor: str = "garde") -> int:
    """Replace by its keyed digest the identity of every subject hold that keeps nothing any more and
    still names it in clear (ended by its date since the last sweep, or released before fix31);
    audited ``legal_hold.digested`` with their count (never an identity) in the same transaction.
    Run by each retention sweep as it starts (era31), so that a hold that ended names no one by
    the next night; idempotent (a digested scope is not read again), all or nothing. Returns how many."""
    ended = _ended_in_clear(conn)
    if not ended:
        return 0
    key = identifier_data_key(conn)
    _rescope(conn, {hold.id: digested_scope(key, hold.scope) for hold in ended})
    audit.record(conn, "legal_hold.digested", {"holds": len(ended)}, actor=actor)
    return len(ended)


def forget_held_identities(conn: sa.Connection, digests: Callable[[], Mapping[str, Iterable[str]]]) -> int:
    """Replace by its keyed digest the identity of every subject hold that keeps nothing any more
    (released, or ended) and names one of ``digests()`` ({kind: [digest]}: an erased subject's,
    asked for only when such a hold is left: most erasures meet none, the sweep digesting every
    ended one, :func:`digest_ended_holds`); returns how many. A hold in force keeps its identity in
    clear: the retention sweep searches the business databases for it. Idempotent: a digested
    scope is not read again."""
    ended = _ended_in_clear(conn)
    if not ended:
        return 0
    wanted = digested_scopes(digests())
    if not wanted:
        return 0
    key = identifier_data_key(conn)
    scopes = {hold.id: digested_scope(key, hold.scope) for hold in ended}
    return _rescope(conn, {hold: scope for hold, scope in scopes.items() if scope in wanted})


def _ended_in_clear(conn: sa.Connection) -> Sequence[sa.Row[Any, Any]]:
    """The id and scope of each subject hold that keeps nothing and still names its identity in clear."""
    return conn.execute(sa.select(legal_holds.c.id, legal_holds.c.scope).where(_in_clear(now()))).all()


def _rescope(conn: sa.Connection, scopes: Mapping[int, str]) -> int:
    """Give each hold of ``scopes`` (id -> scope) its new scope, in one call; returns how many."""
    if scopes:
        conn.execute(legal_holds.update().where(legal_holds.c.id == sa.bindparam("hold"))
                     .values(scope=sa.bindparam("new_scope")),
                     [{"hold": hold, "new_scope": scope} for hold, scope in scopes.items()])
    return len(scopes)


def _named_subject(conn: sa.Connection, scope_kind: str, scope: str) -> str | None:
    """The engine subject a subject hold names, when garde knows them: the hold's audit entries are
    then about them, and their access answer lists them (GDPR Art. 15)."""
    kind, _, value = scope.partition(":")
    if scope_kind != "subject" or kind not in IDENTIFIER_KINDS:
        return None
    try:
        return find_subject(conn, {kind: value})
    except GardeError:
        return None


def release_hold(conn: sa.Connection, hold_id: int, *, actor: str = "garde") -> None:
    """Release an active hold (audited); what it kept is swept again from then on."""
    result = conn.execute(legal_holds.update().where(legal_holds.c.id == hold_id,
                                                     legal_holds.c.released_at.is_(None))
                          .values(released_at=now()))
    if result.rowcount == 0:
        raise NotFound(f"no active legal hold {hold_id}")
    hold = conn.execute(sa.select(legal_holds.c.scope_kind, legal_holds.c.scope)
                        .where(legal_holds.c.id == hold_id)).one()
    subject_id = _named_subject(conn, hold.scope_kind, hold.scope)
    if hold.scope_kind == "subject":  # it keeps nothing now: it names its identity by its digest only
        conn.execute(legal_holds.update().where(legal_holds.c.id == hold_id).values(
            scope=digested_scope(identifier_data_key(conn), hold.scope)))
    audit.record(conn, "legal_hold.released", {"hold": hold_id}, subject_id=subject_id, actor=actor)


def _in_force(at: datetime | sa.BindParameter[datetime]) -> sa.ColumnElement[bool]:
    return sa.and_(legal_holds.c.released_at.is_(None), legal_holds.c.starts_at <= at,
                   sa.or_(legal_holds.c.ends_at.is_(None), legal_holds.c.ends_at > at))


def active_holds(conn: sa.Connection, at: datetime | None = None) -> list[LegalHold]:
    """Holds in force at ``at`` (default now)."""
    at = at or now()
    rows = conn.execute(sa.select(legal_holds).where(_in_force(at)).order_by(legal_holds.c.id))
    return [_hold(r) for r in rows]


def holds_for_erasure(conn: sa.Connection) -> tuple[list[LegalHold], bool]:
    """The holds in force now (:func:`active_holds`), and whether a subject hold that keeps nothing
    still names its identity in clear (:func:`forget_held_identities` has something to look at),
    in one read: an erasure's plan asks both, and its completion reads the holds again only then."""
    rows = conn.execute(_FOR_ERASURE, {"at": now()}).all()
    return [_hold(r) for r in rows if r.in_force], any(not r.in_force for r in rows)


# built once: every erasure's plan runs it
_AT = sa.bindparam("at", type_=legal_holds.c.ends_at.type)
_FOR_ERASURE = (sa.select(legal_holds, _in_force(_AT).label("in_force"))
                .where(sa.or_(_in_force(_AT), _in_clear(_AT))).order_by(legal_holds.c.id))


def list_holds(conn: sa.Connection, *, everything: bool = False, after: int | None = None,
               limit: int | None = None) -> list[LegalHold]:
    """Holds in force now, or ``everything`` (released and ended ones too), oldest first;
    ``after``: only those whose id is larger, ``limit``: at most that many (a page)."""
    if not everything:
        holds = active_holds(conn)
        return [h for h in holds if after is None or h.id > after][:limit]
    query = sa.select(legal_holds).order_by(legal_holds.c.id).limit(limit)
    if after is not None:
        query = query.where(legal_holds.c.id > after)
    return [_hold(r) for r in conn.execute(query)]


def _hold(row: sa.Row[Any]) -> LegalHold:
    return LegalHold(row.id, row.scope_kind, row.scope, row.reason, row.starts_at, row.ends_at,
                     row.released_at)


def get_hold(conn: sa.Connection, hold_id: int) -> LegalHold:
    """One hold, in force or not; NotFound for an unknown id."""
    row = conn.execute(sa.select(legal_holds).where(legal_holds.c.id == hold_id)).first()
    if row is None:
        raise NotFound(f"no legal hold {hold_id}")
    return _hold(row)


def hold_end(last_day: date) -> datetime:
    """When a hold whose last day is ``last_day`` ends: it covers that whole day, so the next
    midnight (UTC); the calendar's last day has none (a clear error, not an overflow)."""
    if last_day >= date.max:
        raise GardeError(f"a hold's last day {last_day.isoformat()} cannot be held: it ends after it, "
                         "past the calendar; leave `until` out for a hold until released")
    return datetime.combine(last_day + timedelta(days=1), time(), UTC)


def place_known_hold(conn: sa.Connection, datamap: DataMap, activities: Iterable[str], scope_kind: Scope,
                     scope: str, reason: str, last_day: date | None = None, *, actor: str = "garde",
                     region: str | None = None) -> LegalHold:
    """Place a hold (:func:`place_hold`) on a table, identity kind or activity that ``datamap`` and
    the register's ``activities`` know (:func:`check_scope_known`), until the end of ``last_day``
    (default: until released); returns it."""
    check_scope_known(scope_kind, scope, tables=[f"{t.database}.{t.name}" for t in datamap],
                      identity_kinds=datamap.identity_kinds(), activities=activities)
    ends_at = hold_end(last_day) if last_day is not None else None
    return get_hold(conn, place_hold(conn, scope_kind, scope, reason, ends_at, actor=actor, region=region))
