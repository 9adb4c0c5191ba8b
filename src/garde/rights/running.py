"""Executing a verified request over every dataset, then completing it.

``run`` moves the request to ``in_progress`` (audited), finds the subject
across every database from the request's proven identities, executes the
request's type and completes it with a summary of the result. A request left
``in_progress`` by an interrupted run is resumed by running it again.

An identity the request gave but nobody proved seeds nothing and is acted on
for nothing: the result says so for each identity (``identities``), or says
that discovery from the proven ones met that same value (then it is the same
person's, and its rows are already among theirs).
A run that cannot finish (a mask that does not fit its column, a database
that refuses a write) is not left ``in_progress``: the request becomes
``failed`` with the reason, audited with what was already applied, and
running it again (once the cause is fixed) resumes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, find_subject, normalise_identity
from garde.documents.wording import Wording
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.register import Register
from garde.register.versions import note_register, recorded_hashes, register_hash, versions_read
from garde.rights import forwarding
from garde.rights.access import write_access
from garde.rights.archived import archive_reads
from garde.rights.deployment import Deployment, dumps, where
from garde.rights.erasure import ErasureFailed, erase, has_plan
from garde.rights.held import garde_held
from garde.rights.held_as_processor import Forwarding, any_held, own_corrections, split, subject_notes
from garde.rights.intake import Request, RequestConflict, get_request, get_request_and, transition
from garde.rights.mailer import Mailer
from garde.rights.new_identity import IdentityTaken, confirmed, held_alone
from garde.rights.outbox import intent_ahead, send_once
from garde.rights.portability import write_portability
from garde.rights.rectification import move_identities, rectify, replaced
from garde.rights.restriction import DIRECT_MARKETING, object_to, restrict
from garde.rights.run_lock import request_run_lock, subject_rectification_lock
from garde.rights.shared import for_subject, shared_and_listed
from garde.store import database_refusal, empty_journal
from garde.store.locks import release_with_commit
from garde.store.reads import reading, transacting, writing_on
from garde.store.transactions import retried


def locate(deployment: Deployment, request: Request) -> Footprint:
    """Every row of the request's subject, in every database, from its proven identities only."""
    proven = request.proven_identities
    if not proven:
        raise GardeError(f"request {request.id}: none of its identities is proven; prove one with a code "
                         "or an agent's out-of-band check")
    usable = {k: v for k, v in proven.items() if deployment.datamap.with_identity(k)}
    if not usable:
        raise GardeError(f"request {request.id}: none of its proven identities ({', '.join(sorted(proven))}) "
                         "is declared by a dataset")
    return find_subject(deployment.datamap, deployment.engines, usable, ahead=deployment.read_ahead)


PROVEN = {"code": "proven by one-time code", "out_of_band": "proven out of band"}
NOT_USED = "not proven, not used"
SAME_PERSON = "not proven, found to belong to the same person"


def identity_report(request: Request, footprint: Footprint | None) -> dict[str, str]:
    """For each identity the request gave: proven (how), or not proven and whether discovery met it."""
    report = {}
    for kind, value in request.identities.items():
        if kind in request.proofs:
            report[kind] = PROVEN.get(request.proofs[kind]["method"], "proven")
        elif footprint is not None and normalise_identity(kind, value) in footprint.identities.get(kind, ()):
            report[kind] = SAME_PERSON
        else:
            report[kind] = NOT_USED
    return report


# Called once the request is in progress: True when it queued the request's work in parts (their
# last one completes it with :func:`finish`), False to run it here.
Divide = Callable[[Engine, Request, Deployment], bool]


def run(store: Engine, request_id: str, deployment: Deployment, *, actor: str = "garde",
        today: date | None = None, mailer: Mailer | None = None, divide: Divide | None = None) -> Request:
    """Execute a verified (or interrupted) request and complete it.

    The store sees two transactions on the way (three for an erasure: its plan
    is committed before any change): the move to ``in_progress``, then the
    completion with the audit entries of what was done. One run at a time: a
    second run of the same request while one is working is refused
    (:class:`~garde.rights.run_lock.RequestRunning`). With a ``mailer``, the subject is told
    by mail that the request is answered (never the data itself), just before the completing
    transaction, which marks it sent, through the store's outbox (:mod:`garde.rights.outbox`: a run
    killed after sending it does not send it again, or sends it with the same Message-ID); a mail that
    cannot be sent leaves the request to be run again.
    """
    full_id = request_id.strip()
    if not _full_id(full_id):  # an id prefix: the lock is keyed by the full id
        with reading(store) as conn:
            full_id = get_request(conn, request_id).id
    # the lock rides with the start's reads of the request (their pipeline, on PostgreSQL)
    with request_run_lock(store, full_id, riding=True) as session:
        return _run(store, full_id, deployment, actor=actor, today=today, mailer=mailer, divide=divide,
                    session=session)


def _full_id(request_id: str) -> bool:
    """``request_id`` is a whole request id as garde writes them (a canonical UUID): no other id starts
    with it, so it names the request itself or none (then the run finds no request, under its lock)."""
    try:
        return str(uuid.UUID(request_id)) == request_id
    except ValueError:
        return False


def finish(store: Engine, request_id: str, deployment: Deployment, *, actor: str = "garde",
           today: date | None = None, mailer: Mailer | None = None) -> Request:
    """Complete a request whose parts are done (see ``divide``): its answer assembled, once.

    A request no longer ``in_progress`` (completed by an earlier call) is returned as it is.
    """
    with request_run_lock(store, request_id):
        with store.connect() as conn:
            request = get_request(conn, request_id)
        if request.status != "in_progress":
            return request
        return _complete(store, request, deployment, actor, today, mailer, planned=True)


def _run(store: Engine, request_id: str, deployment: Deployment, *, actor: str,
         today: date | None, mailer: Mailer | None = None, divide: Divide | None = None,
         session: sa.Connection | None = None) -> Request:
    checked = False  # a rectification's new e-mail or phone: proven and no one else's (below)

    def start(conn: sa.Connection) -> tuple[Request, bool, list[tuple[str, str]]]:
        # the request and the registers' versions read together (one round trip on PostgreSQL)
        noted = _registers(deployment)
        request, recorded = get_request_and(conn, request_id,
                                            *versions_read([source for source, _, _ in noted]))
        runnable(request)
        if request.type == "rectification":
            identity_corrections_proven(request, deployment)
            if not checked:
                raise _CheckFirst(request)  # nothing written yet: this transaction rolls back
        _note_changed(conn, noted, dict(recorded))
        note = {"in_progress": "resumed", "failed": "run again after a failure"}.get(request.status)
        planned = request.type == "erasure" and has_plan(conn, request.id)
        # The "answered" mail's intent committed by the start, in its move's round trip (not a
        # connection and a statement of its own before the mail goes): pending until the completion.
        ahead, intent = intent_ahead(conn, request.id, "answered") if mailer is not None and \
            request.identities.get("email") else (None, [])
        # the move last: its audit append commits the start (the log's head not held meanwhile)
        moved = transition(conn, request, "in_progress", actor=actor, note=note, reread=False, last=True,
                           ahead=ahead)
        return moved, planned, intent

    try:
        with transacting(writing_on(store, session)) as target:
            request, planned, intent = retried(target, start, what=f"request {request_id}: its start")
    except _CheckFirst as first:
        # A new e-mail or phone is proven, and no one else's, before anything is written (it sends
        # the code and raises while the new value waits); other requests pay no statement for it.
        confirmed(store, first.request, deployment, partial(locate, deployment, first.request),
                  mailer=mailer, actor=actor)
        checked = True
        request, planned, intent = retried(store, start, what=f"request {request_id}: its start")
    if divide is not None:
        try:
            if divide(store, replace(request, identities=request.proven_identities), deployment):
                return request
        except (GardeError, sa.exc.SQLAlchemyError, OSError) as exc:
            _failed(store, request, exc, actor)
    return _complete(store, request, deployment, actor, today, mailer, planned, session,
                     intent[0] if intent else None)


class _CheckFirst(Exception):  # a signal, not an error
    """A rectification's start stops before its first write, so its new identities are checked."""

    def __init__(self, request: Request) -> None:
        super().__init__(request.id)
        self.request = request


def runnable(request: Request) -> None:
    """Raise :class:`RequestConflict` unless the request can be run (or resumed) now."""
    if not request.is_runnable:
        hint = " (verify the requester's identity first)" if request.status == "received" else ""
        raise RequestConflict(f"request {request.id} is {request.status}; it cannot be run{hint}")


def _complete(store: Engine, request: Request, deployment: Deployment, actor: str, today: date | None,
              mailer: Mailer | None, planned: bool, session: sa.Connection | None = None,
              intent: tuple[str, str] | None = None) -> Request:
    """``session``: the run lock's connection, if it has one (:func:`request_run_lock`); ``intent``: the
    "answered" mail's outbox row, if the start wrote it (:func:`garde.rights.outbox.intent_ahead`)."""
    # From here the request acts with its proven identities only (objection's suppression list too).
    acting = replace(request, identities=request.proven_identities)
    try:
        result, complete, footprint = _execute(store, acting, deployment, actor, today, planned, session)
    except (GardeError, sa.exc.SQLAlchemyError, OSError) as exc:
        _failed(store, request, exc, actor)
    result["identities"] = identity_report(request, footprint)
    told = None  # ``request`` still has the address the completed one no longer keeps
    if mailer is not None:  # the mail's "sent" mark and audit entry commit with the completion
        told = send_once(store, request, "answered", mailer, deployment.registers.values(), actor=actor,
                         intent=intent)

    def completion(conn: sa.Connection) -> Request:
        events = complete(conn)
        ahead = None
        if told is not None:  # the mail's mark in the move's round trip
            ahead, notice = told.ahead()
            events = [*events, *notice]
        # ``request`` is current: this run holds the request's run lock, and the transition moves it
        # only from the status it has (a cancellation committed meanwhile is refused, not overwritten).
        # Last: its audit append carries the COMMIT (PostgreSQL), so the log's head, which every
        # other worker's completion waits for, is locked for that round trip only.
        return transition(conn, request, "completed", actor=actor, values={"result": _json(result)},
                          payload={"result": _summary(result)}, preceding=events, reread=False, last=True,
                          ahead=ahead)

    with transacting(writing_on(store, session)) as target:  # the run lock's connection, where it lends it
        if session is not None and target is session and request.type != "erasure":
            # Nothing of the run is left once its completion commits: its lock is left in that round
            # trip (an erasure's last steps, after it, keep the lock until they are done).
            release_with_commit(session)
        completed = retried(target, completion, what=f"request {request.id}: its completion")
    if request.type == "erasure":  # the log's head after a destructive job, outside the store (if configured)
        audit.checkpoint_after_job(store)
        for engine in (store, *deployment.engines.values()):  # no erased row left in a SQLite journal
            empty_journal(engine)
    return completed


_Completion = Callable[[sa.Connection], list[audit.Event]]


def _failed(store: Engine, request: Request, exc: Exception, actor: str) -> NoReturn:
    failed = fail(store, request, exc, actor)
    if isinstance(exc, GardeError):
        raise exc
    raise GardeError(f"request {request.id} failed: {failed.steps[-1]['note']}") from exc


def fail(store: Engine, request: Request, exc: BaseException, actor: str) -> Request:
    """Mark the request ``failed`` with the reason, after auditing what an erasure already applied."""
    # a database's own message quotes the statement's values and the refused row: never kept
    reason = database_refusal(exc) if isinstance(exc, sa.exc.SQLAlchemyError) else \
        str(exc).strip() or type(exc).__name__

    def failing(conn: sa.Connection) -> Request:
        applied = exc.erasure.record_applied(conn) if isinstance(exc, ErasureFailed) else []
        current = get_request(conn, request.id)
        # an erasure's plan stored staff's list of the shared rows on the request: the run again reads it
        listed = (current.result or {}).get("shared")
        theirs = {"shared": listed} if listed else {}
        return transition(conn, current, "failed", actor=actor, note=reason,
                          values={"result": _json({"error": reason, **theirs})}, preceding=applied)

    return retried(store, failing, what=f"request {request.id}: its failure")


def note_registers(conn: sa.Connection, deployment: Deployment) -> None:
    """Audit the version of each register the request is answered under (once per change)."""
    noted = _registers(deployment)
    # The versions in force, read at once: a register is noted again only when it changed.
    _note_changed(conn, noted, recorded_hashes(conn, [source for source, _, _ in noted]))


def _registers(deployment: Deployment) -> list[tuple[str, Register, str]]:
    """Each register the deployment answers under: its source, itself and its hash."""
    noted = []
    for database, register in deployment.registers.items():
        source = deployment.datamap.datasets[database].register or f"datasets:{database}"
        noted.append((source, register, deployment.cached(("register_hash", database),
                                                          partial(register_hash, register))))
    return noted


def _note_changed(conn: sa.Connection, noted: list[tuple[str, Register, str]],
                  recorded: dict[str, str]) -> None:
    """Audit each of ``noted`` whose hash is not the one ``recorded`` (source -> last hash recorded)."""
    for source, register, digest in noted:
        if recorded.get(source) != digest:
            note_register(conn, register, source, digest=digest)
            recorded[source] = digest


def _nothing(_conn: sa.Connection) -> list[audit.Event]:
    return []


def _execute(store: Engine, request: Request, deployment: Deployment, actor: str, today: date | None,
             planned: bool, session: sa.Connection | None = None,
             ) -> tuple[dict[str, Any], _Completion, Footprint | None]:
    """The request's result, what its completing transaction must also write and audit, and the
    subject's footprint when the request looked for it."""
    if request.type == "erasure":
        located = None if planned else locate(deployment, request)
        # Data held as a processor stays (the plan keeps it), its controller's to decide on; the plan's
        # transaction records what was found for each controller.
        forwardings = split(deployment, located)[1] if located is not None else []
        erasure = erase(store, request, deployment, located, today=today, actor=actor,
                        processed_for=forwardings)
        forwarded = [f.to_data() for f in forwardings]
        if planned:  # resumed: as the first run recorded it
            with reading(store, session) as conn:
                forwarded = [{"controller": f["controller"], "found": f["found"]}
                             for f in forwarding.listed(conn, request.id)]
        if forwarded:
            erasure.result["forwarded"] = forwarded
        return erasure.result, erasure.complete, located
    if request.type == "restriction":
        # Art. 18 against the organisation as a controller: its own activities. What it holds as a
        # processor is looked for only when the data map has some, and the request is passed on to
        # its controller, whose instruction alone restricts it (garde.rights.instructed_restriction).
        located = locate(deployment, request) if any_held(deployment) else None
        forwardings = split(deployment, located)[1] if located is not None else []
        restricted = retried(store, partial(restrict, request=request, actor=actor),
                             what=f"request {request.id}: its restriction")
        return (*_passed_on(restricted, deployment, request, forwardings, actor), located)
    if request.type == "objection":
        # Art. 21(3): every identifier the datasets hold for the subject goes on the suppression list.
        scope = request.details.get("scope", DIRECT_MARKETING)
        located = locate(deployment, request) if scope == DIRECT_MARKETING else None
        found = located.identities if located is not None else {}
        # An objection to an activity carried out as a processor is its controllers' to decide: passed
        # on to them, as a restriction is (the objection is recorded too, and decide() does not read it).
        controllers = served_by(deployment, str(scope))
        passed: list[Forwarding] = []
        if controllers:
            located = located or locate(deployment, request)
            passed = [f for f in split(deployment, located)[1] if f.controller in controllers]
        objected = retried(store, partial(object_to, request=request, also=found, actor=actor),
                           what=f"request {request.id}: its objection")
        return (*_passed_on(objected, deployment, request, passed, actor), located)
    if request.type == "rectification":
        # Two rectifications of one subject in turn: each reads the rows the other wrote (run_lock).
        with subject_rectification_lock(store, request.subject_id, session):
            return _rectification(store, request, deployment, actor)
    located, footprint, forwardings, found_event = _found(deployment, request, actor)
    if request.type == "access":
        # Reads only: the discovery is audited with the completion, in one transaction.
        # What garde itself keeps of the subject is theirs too (Art. 15); read on the run lock's
        # connection where it has one.
        with reading(store, session) as conn:
            held = garde_held(conn, request, footprint.identities, deployment.phone_region)
            shared, theirs = shared_and_listed(conn, deployment, footprint, request.subject_id)
        read = [found_event, *archive_reads(deployment, footprint, request.id, request.type,
                                            request.subject_id, actor)]
        answer = write_access(request, deployment, footprint, held, processed_for=forwardings, shared=shared)
        if theirs:  # for staff, who decide with the business; the answer shows the matched values alone
            answer["shared"] = theirs
        return (*_forwarded(answer, lambda _conn: read, request, forwardings, actor), located)
    if request.type == "portability":
        read = [found_event, *archive_reads(deployment, footprint, request.id, request.type,
                                            request.subject_id, actor)]
        with reading(store, session) as conn:
            shared, theirs = shared_and_listed(conn, deployment, footprint, request.subject_id)
        ported = write_portability(request, deployment, footprint, shared=shared)
        if theirs:
            ported["shared"] = theirs
        return (*_forwarded(ported, lambda _conn: read, request, forwardings, actor), located)
    raise GardeError(f"request {request.id}: a {request.type} request is not run here")


def _found(deployment: Deployment, request: Request, actor: str,
           ) -> tuple[Footprint, Footprint, list[Forwarding], audit.Event]:
    """The subject's footprint, the part of it that is the organisation's own and the forwardings of
    the rest, and the audit entry of what was found."""
    located = locate(deployment, request)
    # Data held only as a processor is not answered, nor its tables rectified, as the organisation's
    # own (Art. 28(3)(e)): the request is forwarded to its controller.
    footprint, forwardings = split(deployment, located)
    found_event = audit.Event("request.subject_found", {"request": request.id, "tables": footprint.counts(),
                                                        "hops": footprint.hops}, request.subject_id, actor)
    return located, footprint, forwardings, found_event


def _rectification(store: Engine, request: Request, deployment: Deployment, actor: str,
                   ) -> tuple[dict[str, Any], _Completion, Footprint | None]:
    """Rectify the subject's rows and move their identities in garde's store (under the subject's
    rectification lock)."""
    located, footprint, forwardings, found_event = _found(deployment, request, actor)
    retried(store, lambda conn: audit.record_many(conn, [found_event]), what=f"request {request.id}: found")
    asked = request.details.get("corrections") or {}
    # What only a client's data holds is its controller's to correct: the request is forwarded.
    corrections = own_corrections(deployment, located, asked) if forwardings else asked
    # Another person's rows holding the subject's identity are not the subject's to correct.
    with store.connect() as conn:
        shared, theirs = shared_and_listed(conn, deployment, footprint, request.subject_id)
    try:  # a new e-mail or phone is checked again in the transaction that writes it
        result: dict[str, Any] = (
            {"changed": {}, "identities": {}, "replaced": {}, "old_values_left_in": {}}
            if asked and not corrections else
            rectify(deployment, footprint, corrections,
                    guard=held_alone(deployment, located, corrections, identifier_data_key(store)),
                    leave=shared))
    except IdentityTaken as taken:  # for the DPO only, naming no subject, as confirmed() tells it
        kinds = taken.kinds
        retried(store, lambda conn: audit.record(
            conn, "request.identity_in_use", {"request": request.id, "identities": kinds, "when": "written"},
            subject_id=None, actor=actor), what=f"request {request.id}: a new value in use")
        raise

    def rectified(conn: sa.Connection) -> dict[str, str]:
        carried = {}
        if request.subject_id and result["identities"]:  # the old values unlinked, the new ones linked
            # every copy counted, those held for a client too: a kind is unlinked in full only when every
            # copy was rewritten; otherwise the values the corrected columns held
            old = replaced(conn, deployment, located, result["changed"], result["identities"],
                           request.identity_hashes, result["replaced"])
            carried = move_identities(conn, request.subject_id, result["identities"], old)
        audit.record(conn, "request.rectified", {"request": request.id, "changed": result["changed"],
                                                 "new_identities": carried},
                     subject_id=request.subject_id, actor=actor)
        return carried

    # Another transaction linking the new value at this moment (its holder's proof) meets the key: run
    # again, the move finds it theirs and leaves it (NOT_LINKED) rather than failing a written change.
    carried = retried(store, rectified, what=f"request {request.id}: its rectification", races_to_create=True)
    done = {"changed": result["changed"], **({"new_identities": carried} if carried else {}),
            **({"old_values_left_in": result["old_values_left_in"]} if result["old_values_left_in"] else {}),
            **({"shared": theirs} if theirs else {})}
    return (*_forwarded(done, _nothing, request, forwardings, actor), located)


def _passed_on(result: dict[str, Any], deployment: Deployment, request: Request,
               forwardings: list[Forwarding], actor: str) -> tuple[dict[str, Any], _Completion]:
    """:func:`_forwarded` for a request with no answer file (restriction, objection): the result also
    holds what the subject is told of each controller (the privacy center's page of the request)."""
    if forwardings:
        result["processed_for"] = subject_notes(deployment, forwardings, Wording(
            request.language, "en", deployment.vocabulary), request.language)
    return _forwarded(result, _nothing, request, forwardings, actor)


def served_by(deployment: Deployment, activity_id: str) -> set[str]:
    """The controllers an activity carried out as a processor serves (none for any other activity)."""
    for register in deployment.registers.values():
        activity = register.activity(activity_id)
        if activity is not None and register.role_of(activity) == "processor":
            return {c.name for c in activity.on_behalf_of}
    return set()


def _forwarded(result: dict[str, Any], complete: _Completion, request: Request, forwardings: list[Forwarding],
               actor: str) -> tuple[dict[str, Any], _Completion]:
    """The result and completion of a request that met data held as a processor: the result says, per
    client controller, what was found; the completion stores the forwardings to do."""
    if not forwardings:
        return result, complete
    result["forwarded"] = [f.to_data() for f in forwardings]

    def completing(conn: sa.Connection) -> list[audit.Event]:
        return [*forwarding.record(conn, request.id, request.subject_id, forwardings, actor), *complete(conn)]

    return result, completing


def identity_corrections_proven(request: Request, deployment: Deployment) -> None:
    """Changing an identity column (the e-mail an account logs in with) needs that identity proven.

    Checked against every table of the data map before the request starts, so
    a refused request stays ``verified``: prove the identity, then run it again.
    """
    corrections = request.details.get("corrections") or {}
    unproven = set()
    for table in deployment.datamap:
        for kind, column in table.identities.items():
            annotation = table.columns.get(column)
            if kind not in request.proofs and annotation is not None and any(
                    field in (annotation.category, where(table, column)) for field in corrections):
                unproven.add(kind)
    if unproven:
        kinds = ", ".join(sorted(unproven))
        raise GardeError(f"request {request.id} would change the {kinds} of the subject, but its {kinds} "
                         "is not proven; prove it (a code, or an agent's check), then run the request again")


def _json(result: dict[str, Any]) -> str:
    # One line, the C encoder: the store keeps it for machines (it is read back with json.loads);
    # the indented dump took three times as long.
    return dumps(result, indent=None)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The result as the completion's audit entry keeps it: an entry about the subject, which their
    later access answers show, so the shared rows are counted per table, never named by key; and
    without the reason a subject wrote (an objection's, a restriction's: their own words, which the
    log could never erase; the ``subject.*`` entry says one was given, by its digest)."""
    summary = {k: v for k, v in result.items() if k not in ("kept_reasons", "reason")}
    if "shared" in summary:
        summary["shared"] = for_subject(summary["shared"])
    return summary
