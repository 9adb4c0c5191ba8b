"""What a data subject reaches with their own session: their requests, consents and answer files.

A session proved one identity (:mod:`garde.rights.sessions`); everything here is read
through it, never through an id the caller gives alone:

- **their subject**: the engine subject that identity is linked to **now**, read at each request
  (:func:`garde.rights.sessions.authenticate`), not the one it was opened with: once a
  rectification moved the link to a new value (:func:`garde.rights.rectification.move_identities`),
  whoever proves the old, perhaps recycled, address sees nothing of its former holder;
- **their requests**: the verified ones of that subject (whatever identity they were made with, so
  the subject who rectified keeps their history), and the unverified ones naming that identity
  where it was proven or nothing was, made since the identity last changed hands (a request is its
  maker's: one made before a rectification moved a recycled address was its former holder's). A
  verified request of another subject is not shown, nor one that proved another identity and only
  named this one unproven;
- **narrowed** when that identity does not vouch for the subject's whole record
  (:mod:`garde.rights.vouching`: the shop's systems linked other identities to it, and its own link
  is not proven): the verified requests that proved this very identity instead of the subject's,
  and of the consents only those an event recorded with it decides (with those events);
- **their consents**: those of that subject;
- **their answer files**: the files of those requests once answered;
- **where one request stands** (:func:`my_request_status`): the stage a person reads (identity
  being checked, being prepared, answered, rejected, cancelled), the days left until the legal
  deadline (the DPO queue's count, :func:`garde.rights.queue.standing`), and its answer files.
  A request a subject submits is not run by itself: staff run it (``garde request run``, the
  API's ``POST /requests/{id}/run``), so until then it is "being prepared", never answered.

An id that is not one of theirs — another subject's real request, a made-up one — gets the
same :class:`NotFound` as a missing one, so guessing tells nothing. What is shown leaves out
which member of staff acted (GDPR Art. 15(4)), digests and the raw identities.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from garde import consent
from garde.consent.identities import recorded_with
from garde.consent.ledger import LedgerEvent
from garde.consent.state import ConsentState
from garde.periods import Period
from garde.problems import GardeError, NotFound
from garde.ratelimit import Limit, hit
from garde.rights.access import report_ready
from garde.rights.intake import NEW, Request, Status, get_request, submit
from garde.rights.queue import standing
from garde.rights.sessions import SubjectSession
from garde.rights.tables import identity_handovers, request_identities, requests
from garde.rights.verification import confirm_code, prove_by_session
from garde.subjects import now, subject_identifiers

# The files an answer is made of (access, portability, the erasure report); never a manifest.
ANSWER_FILES = ("access.html", "access.json", "portability.zip", "erasure.json")


@dataclass(frozen=True)
class AnswerFile:
    request_id: str
    name: str
    size: int


def _linked(conn: sa.Connection, session: SubjectSession) -> str | None:
    """The subject the session's identity is linked to in ``conn``'s view: not the session's own
    ``subject_id``, read before a request it submits in the same transaction made one."""
    i = subject_identifiers.c
    return conn.execute(sa.select(i.subject_id).where(i.kind == session.kind,
                                                      i.hash == session.identity_hash)).scalar()


def _handed_over(conn: sa.Connection, session: SubjectSession) -> datetime | None:
    """When the session's identity last changed hands (:func:`garde.rights.rectification.handed_over`)."""
    h = identity_handovers.c
    at = conn.execute(sa.select(h.at).where(h.digest == session.identity_hash)).scalar()
    return None if at is None else _aware(at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _mine(request: Request, session: SubjectSession, linked: str | None, handed: datetime | None) -> bool:
    # verified: its subject's while the session's identity vouches for that subject's whole record
    if request.subject_id is not None and request.subject_id == linked and not session.narrowed:
        return True
    if request.identity_hashes.get(session.kind) != session.identity_hash:
        return False
    # Made before the identity changed hands: its holder then made it, not this one.
    if handed is not None and _aware(request.received_at) <= handed:
        return False
    if request.subject_id is not None:  # verified: by a proof of this very identity (vouching)
        return session.kind in request.proofs
    return session.kind in request.proofs or not request.proofs


def my_requests(conn: sa.Connection, session: SubjectSession) -> list[Request]:
    """The session's subject's requests, oldest first (steps not included)."""
    given = request_identities.c
    listed: sa.ColumnElement[bool] = requests.c.id.in_(
        sa.select(given.request_id).where(given.digest == session.identity_hash))
    linked = _linked(conn, session)
    if linked is not None:  # made with an identity they held before a rectification too
        listed = sa.or_(listed, requests.c.subject_id == linked)
    rows = conn.execute(sa.select(requests.c.id).where(listed)
                        .order_by(requests.c.received_at, requests.c.id)).scalars().all()
    found = [get_request(conn, request_id) for request_id in rows]
    handed = _handed_over(conn, session)
    return [request for request in found if _mine(request, session, linked, handed)]


def my_request(conn: sa.Connection, session: SubjectSession, request_id: str) -> Request:
    """One of the subject's requests, with its steps; :class:`NotFound` for any other id (one that
    is no request id at all, a NUL in it, is not even looked up: PostgreSQL refuses it)."""
    try:
        request_id = str(uuid.UUID(request_id))  # how garde writes every request's id
    except ValueError:
        raise NotFound(f"no request {request_id[:64]!r}") from None
    row = conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id)).scalar()
    request = get_request(conn, row) if row is not None else None
    if request is None or not _mine(request, session, _linked(conn, session), _handed_over(conn, session)):
        raise NotFound(f"no request {request_id[:64]!r}")
    return request


def request_view(request: Request, *, steps: bool = False) -> dict[str, Any]:
    """What the subject is shown of their request: no staff names, no digests, no raw identities."""
    data = request.to_data()
    shown = {key: data[key] for key in (
        "id", "type", "status", "language", "received_at", "deadline", "extended_deadline",
        "extension_reason", "due", "overdue", "verified_at", "completed_at", "rejected_at",
        "rejection_reason", "locked", "awaiting")}
    shown["identities"] = {kind: kind in request.proofs for kind in sorted(request.identity_hashes)}
    if steps:
        shown["steps"] = [{"at": step["at"], "status": step["status"], "note": step["note"]}
                          for step in data["steps"]]
    return shown


def my_consents(conn: sa.Connection, session: SubjectSession,
                validity: Mapping[str, Period | None]) -> tuple[list[ConsentState], list[LedgerEvent]]:
    """The subject's consents as they stand, and their history (both empty for an unknown subject);
    for a narrowed session (:mod:`garde.rights.vouching`) only the events recorded with its identity,
    and the consents such an event decides."""
    if session.subject_id is None:
        return [], []
    state = consent.current(conn, session.subject_id, validity=dict(validity))
    history = list(consent.history(conn, session.subject_id))
    if not session.narrowed:
        return state, history
    own = recorded_with(conn, session.kind, session.identity_hash)
    return ([s for s in state if s.event_id in own], [e for e in history if e.event_id in own])


def request_files(request: Request, results: Path) -> list[AnswerFile]:
    """The answer files of ``request`` once it is answered (none before): regular files of its
    results folder, never a symlink (it would serve whatever it points to).

    None of a request another privacy tool sent (OpenDSR): its answer is that tool's results, which
    staff hand over (its ``results_url`` is staff's). Every identity such a tool names counts as
    checked by it, so a session of any one of them (the sender's own mailbox beside another
    customer's number) read the other customer's answer (red team of 2026-12-07, red28)."""
    if request.status != "completed" or "opendsr" in request.details:
        return []
    report_ready(results / request.id, results)  # an access answer's HTML report, rendered when first read
    return [AnswerFile(request.id, name, path.stat().st_size) for name in ANSWER_FILES
            if (path := results / request.id / name).is_file() and not path.is_symlink()]


def my_answer_files(conn: sa.Connection, session: SubjectSession, results: Path) -> list[AnswerFile]:
    """The answer files of the subject's answered requests."""
    return [found for request in my_requests(conn, session) for found in request_files(request, results)]


# What a person reads of a status: a run that failed is still being prepared (staff run it again);
# a rectification waiting for its new e-mail or phone to be proven says so (garde.rights.new_identity).
Stage = Literal["checking_identity", "confirming_new_identity", "being_prepared", "answered", "rejected",
                "cancelled"]
STAGES: dict[Status, Stage] = {
    "received": "checking_identity", "verified": "being_prepared", "in_progress": "being_prepared",
    "failed": "being_prepared", "completed": "answered", "rejected": "rejected", "cancelled": "cancelled"}


@dataclass(frozen=True)
class MyRequestStatus:
    """One of the subject's requests as their page shows it."""

    view: dict[str, Any]  # :func:`request_view` with its steps: no staff names, digests or identities
    stage: Stage
    days_left: int | None  # until the due date (the extended one once extended); None once closed
    files: list[AnswerFile]
    #: a restriction's or objection's sentences on the data held as a processor, per client controller,
    #: passed on to it (GDPR Art. 28(3)(e)); an access or erasure says them in its answer files
    passed_on: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0


def my_request_status(conn: sa.Connection, session: SubjectSession, request_id: str, results: Path, *,
                      today: date | None = None) -> MyRequestStatus:
    """Where one of the subject's requests stands; :class:`NotFound` for any other id.

    GDPR Art. 12(3): the answer is due one month after receipt, or three once extended with a
    reason; the days left are counted as the DPO's queue counts them."""
    request = my_request(conn, session, request_id)
    left, _ = standing(request, today or now().date())
    stage: Stage = "confirming_new_identity" if request.status == "verified" and request.awaiting \
        else STAGES[request.status]
    passed_on = [note["text"] for note in (request.result or {}).get("processed_for", [])
                 if request.type in ("restriction", "objection") and request.status == "completed"]
    return MyRequestStatus(request_view(request, steps=True), stage, left if request.is_open else None,
                           request_files(request, results), passed_on)


def confirm_my_new_identity(store: sa.Engine, session: SubjectSession, request_id: str, code: str) -> Request:
    """The code sent to the new e-mail or phone of one of the subject's rectifications, checked (and
    committed) as any code is (:func:`garde.rights.verification.confirm_code`: bounded, a wrong one
    raises :class:`~garde.rights.verification.WrongCode`); :class:`NotFound` for any other request."""
    with store.connect() as conn:
        request = my_request(conn, session, request_id)
    if not request.awaiting:
        raise GardeError(f"request {request.id} waits for no new identity to be confirmed")
    return confirm_code(store, request.id, code, kind=NEW + request.awaiting[0], actor=session.actor)


def my_answer_file(conn: sa.Connection, session: SubjectSession, results: Path, request_id: str,
                   name: str) -> Path:
    """The path of one answer file of one of the subject's answered requests, else :class:`NotFound`."""
    missing = NotFound(f"no answer file {name[:64]!r} for request {request_id[:64]!r}")
    try:
        request = my_request(conn, session, request_id)
    except NotFound:
        raise missing from None
    if name not in {found.name for found in request_files(request, results)}:
        raise missing
    return results / request.id / name


# What a subject may say with a request of each type, as staff's route types it: the corrections of
# a rectification, the scope of an objection, a reason; text bounded like staff's (docs/api.md).
SUBJECT_DETAILS: dict[str, frozenset[str]] = {
    "rectification": frozenset({"corrections", "reason"}), "objection": frozenset({"scope", "reason"})}
MAX_CORRECTIONS, MAX_FIELD, MAX_VALUE, MAX_SCOPE = 50, 200, 2000, 128
# Requests one identity submits for itself in a day, on top of the limit per client address: a
# session's token sent from many addresses cannot fill the DPO's queue (each request is verified
# at once and has its legal deadline). Staff submit more through their keys' own budget.
SUBMITS_PER_IDENTITY = Limit("requests.submit.identity", 10, timedelta(days=1))


def subject_details(type: str, details: Mapping[str, Any] | None) -> dict[str, Any]:
    """``details`` once each is one a subject may give with a request of ``type`` (:data:`SUBJECT_DETAILS`,
    a ``reason`` with any type), of its shape and length; else a :class:`GardeError`. A session's
    holder is anyone with a mailbox: nothing else they send is stored (no text of megabytes, no
    nesting, no ``opendsr`` detail that would pass the request for another privacy tool's)."""
    given = dict(details or {})
    allowed = SUBJECT_DETAILS.get(type, frozenset({"reason"}))
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise GardeError(f"a {type} request takes no {', '.join(repr(k[:64]) for k in unknown)}; it takes "
                         f"{', '.join(sorted(allowed))}")

    def text(value: Any, limit: int, what: str) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise GardeError(f"{what} is a text of at most {limit} characters")
        return value

    if "reason" in given:
        given["reason"] = text(given["reason"], MAX_VALUE, "reason")
    if "scope" in given:
        given["scope"] = text(given["scope"], MAX_SCOPE, "scope")
    if "corrections" in given:
        corrections = given["corrections"]
        if not isinstance(corrections, Mapping) or len(corrections) > MAX_CORRECTIONS:
            raise GardeError(f"corrections map at most {MAX_CORRECTIONS} fields to their new values")
        given["corrections"] = {text(field, MAX_FIELD, "a corrected field"):
                                text(value, MAX_VALUE, "a new value") for field, value in corrections.items()}
    return given


def submit_mine(conn: sa.Connection, session: SubjectSession, type: str, *, language: str | None = None,
                details: Mapping[str, Any] | None = None) -> Request:
    """A request for the session's subject: its identity is the session's, already proven by the
    session's code, so the request is ``verified`` at once (audited as such). Its details are only
    those its type takes (:func:`subject_details`); one identity submits at most
    :data:`SUBMITS_PER_IDENTITY` (counted in ``conn``'s transaction, from whatever addresses)."""
    checked = subject_details(type, details)
    hit(conn, SUBMITS_PER_IDENTITY, session.identity_hash)
    request = submit(conn, type, {session.kind: session.identity}, language=language or session.language,
                     details=checked, actor=session.actor)
    return prove_by_session(conn, request.id, session.kind, session.id, actor=session.actor)
