"""Receiving requests and moving them through their lifecycle.

received → verified → in_progress → completed, or rejected from any open
state, or cancelled (by whoever sent it) before it started; a run that
cannot finish (a database refuses a write) leaves the request ``failed``,
with the reason, until it is run again or rejected.
Every transition is timestamped in ``request_steps`` and audited in the
same transaction. GDPR Art. 12(3): the answer is due one month after
receipt, extendable by two further months when the subject is told why
within the first month.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, get_args

import sqlalchemy as sa

from garde import audit
from garde.keys import identifier_data_key
from garde.periods import add_months
from garde.problems import GardeError, NotFound
from garde.register import Register
from garde.rights.mailer import Mailer
from garde.rights.outbox import prepare, tell_in
from garde.rights.rectification import sealed
from garde.rights.tables import request_identities, request_steps, requests
from garde.store.driver import driver_execute, driver_rows, driver_rows_together
from garde.subjects import identifier_hash, normalise_identifier, now

RequestType = Literal["access", "portability", "rectification", "erasure", "restriction", "objection"]
REQUEST_TYPES: tuple[RequestType, ...] = get_args(RequestType)
Status = Literal["received", "verified", "in_progress", "failed", "completed", "rejected", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)
OPEN: tuple[Status, ...] = ("received", "verified", "in_progress", "failed")
# What a run may start from: verified, or a run interrupted or failed (resumed).
RUNNABLE: tuple[Status, ...] = ("verified", "in_progress", "failed")
LANGUAGES = ("fr", "en", "it")
# A rectification's new identity is proven under this prefix (``new_email``), never as the requester's
# own identity: it proves the value may be written, not who the requester is (garde.rights.new_identity).
NEW = "new_"

# Which status may follow which; a rejection is possible while the request is open.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("verified", "rejected", "cancelled"),
    "verified": ("in_progress", "rejected", "cancelled"),
    "in_progress": ("in_progress", "failed", "completed", "rejected"),
    "failed": ("in_progress", "rejected"),  # run again (resumes), or refuse with a reason
    "completed": (),
    "rejected": (),
    "cancelled": (),
}
CLOSED: tuple[Status, ...] = ("completed", "rejected", "cancelled")


class RequestConflict(GardeError):
    """The request's status does not allow this (it is answered, refused, cancelled, running...)."""

    status = 409


def deadline_for(received: date) -> date:
    """GDPR Art. 12(3): one month from receipt (Reg. 1182/71 month ends)."""
    return add_months(received, 1)


def extended_deadline_for(received: date) -> date:
    """GDPR Art. 12(3): the one month extended by two further months."""
    return add_months(received, 3)


@dataclass(frozen=True)
class Request:
    """A data-subject request as stored, with its deadlines."""

    id: str
    type: RequestType
    status: Status
    subject_id: str | None
    identities: dict[str, str]
    identity_hashes: dict[str, str]
    language: str
    details: dict[str, Any]
    received_at: datetime
    deadline: date
    extended_deadline: date | None = None
    extension_reason: str | None = None
    verified_at: datetime | None = None
    verification: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    result: dict[str, Any] | None = None
    proofs: dict[str, dict[str, Any]] = field(default_factory=dict)
    wrong_attempts: int = 0
    locked_at: datetime | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def proven_identities(self) -> dict[str, str]:
        """The identities that were proven ({kind: value}): the only ones used to find or act on data."""
        return {kind: value for kind, value in self.identities.items() if kind in self.proofs}

    @property
    def awaiting(self) -> list[str]:
        """The new identities (kinds) a rectification waits to see proven before it runs."""
        return sorted(kind for kind in self.details.get("confirming") or [] if NEW + kind not in self.proofs)

    @property
    def due(self) -> date:
        """The date the answer is due: the extended deadline when there is one."""
        return self.extended_deadline or self.deadline

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def is_runnable(self) -> bool:
        """Can :func:`garde.rights.run` start (or resume) it: verified and not finished."""
        return self.status in RUNNABLE

    def is_overdue(self, today: date | None = None) -> bool:
        return self.is_open and (today or now().date()) > self.due

    def to_data(self) -> dict[str, Any]:
        """Plain data for JSON; raw identities are never shown, only their kinds."""
        return {
            "id": self.id, "type": self.type, "status": self.status, "subject_id": self.subject_id,
            "identities": sorted(self.identity_hashes), "language": self.language, "details": self.details,
            "received_at": _iso(self.received_at), "deadline": self.deadline.isoformat(),
            "extended_deadline": self.extended_deadline.isoformat() if self.extended_deadline else None,
            "extension_reason": self.extension_reason, "due": self.due.isoformat(),
            "overdue": self.is_overdue(), "verified_at": _iso(self.verified_at),
            "verification": self.verification, "started_at": _iso(self.started_at),
            "completed_at": _iso(self.completed_at), "rejected_at": _iso(self.rejected_at),
            "rejection_reason": self.rejection_reason, "result": self.result,
            "proofs": {kind: self.proofs.get(kind) for kind in sorted(
                {*self.identity_hashes, *(k for k in self.proofs if k.startswith(NEW)),
                 *(NEW + k for k in self.details.get("confirming") or [])})},
            "awaiting": self.awaiting,
            "wrong_attempts": self.wrong_attempts, "locked": self.locked_at is not None,
            "locked_at": _iso(self.locked_at),
            "steps": [{**s, "at": _iso(s["at"])} for s in self.steps],
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else _aware(value).isoformat()


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; everything garde stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _from_row(row: Any, steps: list[dict[str, Any]] | None = None) -> Request:
    data = dict(row) if isinstance(row, dict) else dict(row._mapping)
    for key in ("received_at", "verified_at", "started_at", "completed_at", "rejected_at", "locked_at"):
        if data[key] is not None:
            data[key] = _aware(data[key])
    data["identities"] = json.loads(data["identities"]) if data["identities"] else {}
    data["identity_hashes"] = json.loads(data["identity_hashes"])
    data["details"] = json.loads(data["details"])
    data["result"] = json.loads(data["result"]) if data["result"] else None
    data["proofs"] = json.loads(data["proofs"]) if data["proofs"] else {}
    return Request(**data, steps=steps or [])


def submit(conn: sa.Connection, type: str, identities: Mapping[str, str], *, language: str = "en",
           details: Mapping[str, Any] | None = None, received_at: datetime | None = None,
           actor: str = "garde", region: str | None = None, request_id: str | None = None) -> Request:
    """Record a new request; the deadline runs from ``received_at`` (default now).

    ``identities`` maps identifier kinds (email, phone, customer_id) to values;
    ``details`` carries what the type needs (corrections, objection scope).
    The request is linked to no subject yet: nothing it claims is proven
    until a code or an agent's check proves it (:mod:`garde.rights.verification`).
    ``region`` is the controller's country, where a telephone number given without its
    country code is read (:attr:`Deployment.phone_region <garde.rights.Deployment.phone_region>`).
    ``request_id`` is the id to give it (a UUID another system chose: OpenDSR's
    ``subject_request_id``); by default a random one.
    """
    if type not in REQUEST_TYPES:
        raise GardeError(f"unknown request type {type!r}; expected one of {', '.join(REQUEST_TYPES)}")
    if not identities:
        raise GardeError("a request needs at least one identity (--email, --phone or --customer-id)")
    if language not in LANGUAGES:
        raise GardeError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    normalised = {kind: normalise_identifier(kind, value, region) for kind, value in identities.items()}
    key = identifier_data_key(conn)
    hashes = {kind: identifier_hash(kind, value, key) for kind, value in normalised.items()}
    received_at = received_at or now()
    try:
        request_id = str(uuid.UUID(request_id)) if request_id else str(uuid.uuid4())
    except ValueError:
        raise GardeError(f"request id {request_id!r} is not a UUID") from None
    deadline = deadline_for(received_at.date())
    conn.execute(requests.insert().values(
        id=request_id, type=type, status="received", subject_id=None,
        identities=json.dumps(normalised), identity_hashes=json.dumps(hashes, sort_keys=True),
        language=language, details=json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True),
        received_at=received_at, deadline=deadline))
    conn.execute(request_identities.insert(), [{"digest": digest, "request_id": request_id}
                                               for digest in sorted(set(hashes.values()))])
    record_step(conn, request_id, "received", actor, None, at=received_at,
          payload={"type": type, "deadline": deadline.isoformat(), "identities": sorted(hashes)})
    return get_request(conn, request_id)


# Built once: the request's own reads and step writes run several times per request.
_BY_ID = sa.select(requests).where(requests.c.id == sa.bindparam("id"))
_STEPS = (sa.select(request_steps.c.at, request_steps.c.status, request_steps.c.actor, request_steps.c.note)
          .where(request_steps.c.request_id == sa.bindparam("id")).order_by(request_steps.c.id))
_SUBJECT = sa.select(requests.c.subject_id).where(requests.c.id == sa.bindparam("id"))
_INSERT_STEP = request_steps.insert().values(
    {name: sa.bindparam(name) for name in ("request_id", "at", "status", "actor", "note")})
_COLUMNS = tuple(column.key for column in requests.columns)


@lru_cache(maxsize=64)
def _move(columns: tuple[str, ...]) -> sa.Update:
    """``UPDATE requests SET <columns> WHERE id = :request_id AND status = :from_status``, built once per
    set of columns (each value bound as ``new_<column>``)."""
    return (requests.update()
            .where(requests.c.id == sa.bindparam("request_id"),
                   requests.c.status == sa.bindparam("from_status"))
            .values({name: sa.bindparam(f"new_{name}") for name in columns}))


_STEP_COLUMNS = ("at", "status", "actor", "note")


@lru_cache(maxsize=64)
def _move_and_step(columns: tuple[str, ...]) -> sa.Insert:
    """PostgreSQL: :func:`_move` and the step's row in one statement (a data-modifying ``WITH``): the
    step is written only when the request moved, and the rows it inserts, and returns, are the rows
    moved (none: the request changed meanwhile, nothing written). SQLite has no ``UPDATE`` in a
    ``WITH``."""
    moved = _move(columns).returning(requests.c.id).cte("moved")
    step = sa.select(moved.c.id, *(sa.bindparam(name, type_=request_steps.c[name].type)
                                   for name in _STEP_COLUMNS))
    return (request_steps.insert().from_select(["request_id", *_STEP_COLUMNS], step)
            .returning(request_steps.c.request_id))


def record_step(conn: sa.Connection, request_id: str, status: str, actor: str, note: str | None, *,
          at: datetime | None = None, payload: Mapping[str, Any] | None = None,
          subject_id: str | None = None, preceding: Sequence[audit.Event] = ()) -> None:
    """The step row and its audit entry (after ``preceding`` entries, in one append)."""
    at = at or now()
    # On the driver's cursor (garde.store.driver): a request's steps are on every request's path.
    driver_execute(conn, _INSERT_STEP, {"request_id": request_id, "at": at, "status": status, "actor": actor,
                                        "note": note})
    _audit_step(conn, request_id, status, actor, note, payload, subject_id, preceding)


def _audit_step(conn: sa.Connection, request_id: str, status: str, actor: str, note: str | None,
                payload: Mapping[str, Any] | None, subject_id: str | None,
                preceding: Sequence[audit.Event], last: bool = False,
                along: Sequence[audit.Along] = ()) -> None:
    """``along``: the move the step records, and what is written with it (:func:`audit.record_many`)."""
    if subject_id is None:
        for statement, parameters, check in along:  # the subject read after the move, as when the move
            check(driver_rows(conn, statement, parameters))  # went on its own
        along = ()
        subject_id = conn.execute(_SUBJECT, {"id": request_id}).scalar()
    audit.record_many(conn, [*preceding, audit.Event(
        f"request.{status}", {"request": request_id, "note": note, **(payload or {})}, subject_id, actor)],
        last=last, along=along)


# A prefix shorter than this could name a request by accident: 8 hex digits are 4 billion ids.
MIN_ID_PREFIX = 8


def get_request(conn: sa.Connection, request_id: str) -> Request:
    """The request with this id, or with this unique id prefix (at least 8 characters)."""
    request_id = request_id.strip()
    if "\x00" in request_id:  # no id holds one; PostgreSQL refuses it, SQLite would stop reading there
        raise NotFound(f"no request {request_id!r}")
    found = driver_rows(conn, _BY_ID, {"id": request_id})
    row: Any = dict(zip(_COLUMNS, found[0], strict=True)) if found else None
    if row is None and len(request_id) < MIN_ID_PREFIX:
        raise GardeError(f"no request {request_id!r}: give the request's full id, or at least "
                         f"{MIN_ID_PREFIX} characters of it")
    if row is None:
        rows = conn.execute(sa.select(requests).where(requests.c.id.startswith(request_id, autoescape=True))
                            .limit(2)).all()
        if len(rows) > 1:
            raise GardeError(f"{request_id!r} is the start of several request ids; give more of it")
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"no request {request_id!r}")
    full_id = row["id"] if isinstance(row, dict) else row.id
    steps = [{"at": _aware(at), "status": status, "actor": actor, "note": note}
             for at, status, actor, note in driver_rows(conn, _STEPS, {"id": full_id})]
    return _from_row(row, steps)


def get_request_and(conn: sa.Connection, request_id: str, statement: sa.ClauseElement,
                    parameters: Mapping[str, Any]) -> tuple[Request, list[tuple[Any, ...]]]:
    """The request with this full id, and the rows of another read that does not depend on it, the
    three statements sent together (:func:`~garde.store.driver.driver_rows_together`: on PostgreSQL
    one round trip where there were three). A run's start reads the request and its registers'
    versions so."""
    found, steps, rows = driver_rows_together(
        conn, [(_BY_ID, {"id": request_id}), (_STEPS, {"id": request_id}), (statement, parameters)])
    if not found:
        raise NotFound(f"no request {request_id!r}")
    row = dict(zip(_COLUMNS, found[0], strict=True))
    return _from_row(row, [{"at": _aware(at), "status": status, "actor": actor, "note": note}
                           for at, status, actor, note in steps]), rows


def get_requests(conn: sa.Connection, request_ids: Sequence[str]) -> list[Request]:
    """The requests with these full ids (those that exist, by id), with their steps: two statements."""
    if not request_ids:
        return []
    rows = conn.execute(_BY_IDS, {"ids": list(request_ids)}).all()
    steps: dict[str, list[dict[str, Any]]] = {row.id: [] for row in rows}
    for step in conn.execute(_STEPS_OF, {"ids": list(steps)}):
        steps[step.request_id].append({"at": _aware(step.at), "status": step.status, "actor": step.actor,
                                       "note": step.note})
    return [_from_row(row, steps[row.id]) for row in sorted(rows, key=lambda row: row.id)]


_BY_IDS = sa.select(requests).where(requests.c.id.in_(sa.bindparam("ids", expanding=True)))
_STEPS_OF = (sa.select(request_steps.c.request_id, request_steps.c.at, request_steps.c.status,
                       request_steps.c.actor, request_steps.c.note)
             .where(request_steps.c.request_id.in_(sa.bindparam("ids", expanding=True)))
             .order_by(request_steps.c.request_id, request_steps.c.id))


def list_requests(conn: sa.Connection, *, overdue: bool = False, status: str | None = None,
                  today: date | None = None, after: tuple[datetime, str] | None = None,
                  limit: int | None = None) -> list[Request]:
    """Requests by receipt date, then id; ``overdue``: open ones whose due date has passed.

    ``status`` ``locked`` lists the requests locked after too many wrong codes. ``after`` and
    ``limit`` read one page: the ``limit`` first requests after the (received_at, id) of the last
    one of the previous page. The order is total and a page starts after a key, not at an offset,
    so paging never repeats or skips a request, whatever is received meanwhile.
    """
    query = sa.select(requests).order_by(requests.c.received_at, requests.c.id)
    if after is not None:
        received_at, last_id = after
        query = query.where(sa.or_(requests.c.received_at > received_at,
                                   sa.and_(requests.c.received_at == received_at, requests.c.id > last_id)))
    if limit is not None:
        query = query.limit(limit)
    if status == "locked":
        query = query.where(requests.c.locked_at.is_not(None))
    elif status:
        query = query.where(requests.c.status == status)
    if overdue:
        today = today or now().date()
        due = sa.func.coalesce(requests.c.extended_deadline, requests.c.deadline)
        query = query.where(requests.c.status.in_(OPEN), due < today)
    return [_from_row(row) for row in conn.execute(query)]


def transition(conn: sa.Connection, request: Request, status: Status, *, actor: str = "garde",
               note: str | None = None, values: Mapping[str, Any] | None = None,
               payload: Mapping[str, Any] | None = None, preceding: Sequence[audit.Event] = (),
               reread: bool = True, last: bool = False, ahead: audit.Along | None = None) -> Request:
    """Move ``request`` to ``status`` (checked against :data:`TRANSITIONS`), audited.

    ``preceding`` audit entries are appended just before the step's own, in the
    same transaction. With ``reread=False`` the returned request is ``request``
    as just updated, without reading it back (``request`` must be current; ``values``
    only of its own columns, ``result`` as its JSON text).

    ``last`` (with ``reread=False``): the move is the last thing its transaction does, and the audit
    append, its last statement, carries the ``COMMIT`` on PostgreSQL (``audit.record_many``'s
    ``last``): the log's head is not held locked while the caller returns to commit.

    ``ahead``: a statement of the caller's transaction run just before the move, ``(statement,
    parameters, check)`` as :func:`audit.record_many`'s ``along`` (on PostgreSQL in the move's round
    trip, not one of its own): a run's start writes the intent of its "answered" mail so.
    """
    if last and reread:
        raise ValueError("a move that ends its transaction cannot read the request back")
    if status not in TRANSITIONS[request.status]:
        raise RequestConflict(f"request {request.id} is {request.status}; it cannot become {status}")
    at = now()
    stamp = {"verified": "verified_at", "in_progress": "started_at", "completed": "completed_at",
             "rejected": "rejected_at"}.get(status)
    update: dict[str, Any] = {"status": status, **(values or {})}
    if stamp is not None and getattr(request, stamp) is None:  # a resumed run keeps its first start
        update[stamp] = at
    if status in CLOSED:
        update["identities"] = None  # GDPR Art. 5(1)(c): the raw identities are no longer needed
        if request.type == "rectification":  # nor the new values in clear: a keyed digest proves them
            update["details"] = json.dumps(sealed(request.details, identifier_data_key(conn)),
                                           ensure_ascii=False, sort_keys=True)
    # Only from the status it was read in: a cancellation or rejection committed meanwhile (by another
    # process) is not overwritten by a run that read the request just before.
    columns = tuple(sorted(update))
    moving = {"request_id": request.id, "from_status": request.status,
              **{f"new_{name}": update[name] for name in columns}}
    step = {"at": at, "status": status, "actor": actor, "note": note}
    moved = None if reread else _as_moved(request, update, step)  # before the last statement
    if conn.dialect.name == "postgresql":
        # The move and its step in one statement, sent with the audit head's lock (one wait, not
        # three); nothing is appended unless the request moved.
        def moved_or_conflict(rows: list[tuple[Any, ...]]) -> None:
            if not rows:
                raise RequestConflict(f"request {request.id} changed meanwhile; read it again")

        move = (_move_and_step(columns), {**moving, **step}, moved_or_conflict)
        _audit_step(conn, request.id, status, actor, note, payload, request.subject_id, preceding, last,
                    along=[move] if ahead is None else [ahead, move])
    else:
        if ahead is not None:
            statement, parameters, check = ahead
            check(driver_rows(conn, statement, parameters))
        if driver_execute(conn, _move(columns), moving) == 0:
            raise RequestConflict(f"request {request.id} changed meanwhile; read it again")
        record_step(conn, request.id, status, actor, note, at=at, payload=payload,
                    subject_id=request.subject_id, preceding=preceding)
    return get_request(conn, request.id) if moved is None else moved


def _as_moved(request: Request, update: Mapping[str, Any], step: dict[str, Any]) -> Request:
    """``request`` as :func:`transition`'s ``update`` and ``step`` leave it, as a reread would give it."""
    changed = {k: v for k, v in update.items() if k not in ("identities", "details")}
    if "result" in changed:  # as _from_row reads it back
        changed["result"] = json.loads(changed["result"]) if changed["result"] else None
    return replace(request, **changed, identities={} if "identities" in update else request.identities,
                   details=json.loads(update["details"]) if "details" in update else request.details,
                   steps=[*request.steps, step])


def extend(conn: sa.Connection, request_id: str, reason: str, *, today: date | None = None,
           actor: str = "garde", mailer: Mailer | None = None, registers: Iterable[Register] = ()) -> Request:
    """Extend the deadline by two months (Art. 12(3)), only within the first month, with a reason.

    With a ``mailer``, the subject is told by mail with the reason and the new date, in their language
    (``registers``: the controller it speaks for); the mail is audited (:mod:`garde.rights.notify`).
    """
    request = get_request(conn, request_id)
    today = today or now().date()
    if not reason.strip():
        raise GardeError("an extension needs a reason to give the subject (GDPR Art. 12(3))")
    if not request.is_open:
        raise RequestConflict(f"request {request.id} is {request.status}; it cannot be extended")
    if request.extended_deadline is not None:
        raise GardeError(f"request {request.id} was already extended to {request.extended_deadline}")
    if today > request.deadline:
        raise GardeError(f"an extension must be given within the first month; request {request.id} "
                         f"was due on {request.deadline}")
    extended = extended_deadline_for(request.received_at.date())
    intent = prepare(conn, request, "extended", mailer)  # committed before this transaction writes
    conn.execute(requests.update().where(requests.c.id == request.id)
                 .values(extended_deadline=extended, extension_reason=reason))
    record_step(conn, request.id, "extended", actor, reason,
                payload={"extended_deadline": extended.isoformat()})
    extended_request = get_request(conn, request.id)
    tell_in(conn, intent, extended_request, mailer, registers, reason=reason, actor=actor)
    return extended_request


def reject(conn: sa.Connection, request_id: str, reason: str, *, actor: str = "garde",
           mailer: Mailer | None = None, registers: Iterable[Register] = ()) -> Request:
    """Refuse an open request with its reason (Art. 12(4): reasons and the complaint route).

    With a ``mailer``, the subject is told by mail: the reason, the right to complain to the
    supervisory authority (``registers``' controller's) and to seek a judicial remedy; audited.
    """
    if not reason.strip():
        raise GardeError("a rejection needs a reason (GDPR Art. 12(4))")
    request = get_request(conn, request_id)
    if "rejected" not in TRANSITIONS[request.status]:  # refused before any intent is written
        raise RequestConflict(f"request {request.id} is {request.status}; it cannot become rejected")
    intent = prepare(conn, request, "rejected", mailer)  # committed before this transaction writes
    rejected = transition(conn, request, "rejected", actor=actor, note=reason,
                          values={"rejection_reason": reason})
    # the address is gone from the rejected request (Art. 5(1)(c)): this one has it
    tell_in(conn, intent, request, mailer, registers, reason=reason, actor=actor)
    return rejected
