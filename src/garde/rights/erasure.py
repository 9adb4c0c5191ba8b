"""Executing an erasure (GDPR Art. 17): plan first, then change, resumable and idempotent.

1. The plan (:mod:`garde.rights.erasure_plan`) is written to ``erasure_steps``
   with an audit entry, and the field-by-field report to ``erasure.json``,
   and committed BEFORE any business row changes.
2. Each database's steps run in one transaction there; before it commits,
   the rows each step changed are recorded on the step in the store. Then, in
   the store transaction that completes the request, the steps are marked
   done, each database's changes audited (the recorded counts) and the
   subject marked erased.
3. Re-running the request reuses the stored plan and runs only the steps not
   done. The statements themselves skip what is already erased (a masked
   value is not masked again, a deleted row is gone), so a crash between a
   database's commit and the store's leaves nothing done twice, and the
   counts recorded before that commit stand (the run again changes nothing):
   what the audit says was changed is the same with or without a crash.

Before the plan is stored, every mask it will write is checked against the
live columns (:mod:`garde.datasets.live`): a mask that does not fit stops
the erasure before anything changes. A database that still refuses a write
(a constraint the map does not know) rolls back its own transaction;
:class:`ErasureFailed` carries what the databases before it committed, so
the request is marked ``failed`` with the reason and those steps ``done``,
and running it again resumes with the rest.

Statements are built once per table and column set (keys are an expanding
parameter) and reused for every subject.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, Masking, TableMap, TableRef, masking_expression
from garde.datasets.live import plan_problems, reflect_table, unlink_problem
from garde.datasets.sql import chunks, is_masked, sql_table
from garde.documents.wording import Wording
from garde.keys import identifier_data_key
from garde.legal_holds import forget_held_identities, holds_for_erasure
from garde.private_files import opened_within, write_private_files
from garde.problems import GardeError, Problem
from garde.rights import copies, forwarding
from garde.rights.deployment import Deployment, dumps, pretty
from garde.rights.erasure_plan import (
    ROW_PLACEHOLDER,
    ErasurePlan,
    deletion_order,
    plan_erasure,
    staying_masking,
)
from garde.rights.held import engine_subjects
from garde.rights.held_as_processor import Forwarding, subject_notes
from garde.rights.intake import Request
from garde.rights.rectification import seal
from garde.rights.restriction import forget_reasons
from garde.rights.shared import Shared, listing, shared_rows
from garde.rights.tables import erasure_steps, requests, subject_sessions
from garde.store.transactions import retried
from garde.subjects import now, set_state, subject_identifiers


class _Step(NamedTuple):
    dataset: str
    table_name: str
    action: str  # unlink, mask, shared (a mask of another person's row), delete
    columns: Any  # mask: [column, ...]; unlink: {"column": ..., "targets": [...] | null}
    keys: list[Any]
    id: int | None = None  # the stored step's, once stored
    #: PostgreSQL: the business transaction that recorded the step's rows changed, as the step was read
    #: from the store (a run killed before its business commit left it); None for a step just planned
    business_xact: str | None = None


@dataclass
class Erasure:
    """An applied erasure, and what the store transaction completing the request must record."""

    request: Request
    result: dict[str, Any]
    actor: str
    applied: dict[str, tuple[int, int]] = field(default_factory=dict)  # database: (steps, rows changed)
    removed: list[str] = field(default_factory=list)  # garde's own files the erasure removed
    keyed: frozenset[str] = frozenset()  # tables keyed by an identity (identity_keyed)
    # the person's engine subjects besides the request's own (garde.rights.held.engine_subjects, as the
    # plan's report records them): a request proven with a subject of its own (garde.rights.vouching)
    # erases the subject the shop linked their identities to when discovery found every one theirs
    subjects: tuple[str, ...] = ()
    #: whether a subject hold that keeps nothing still named an identity in clear when this run planned
    #: (None: not planned by this run, its completion reads the holds); False: the completion reads none
    holds_in_clear: bool | None = None

    def record_applied(self, conn: sa.Connection) -> list[audit.Event]:
        """Mark the steps of the databases that committed done; their audit entries to append."""
        request = self.request
        if not self.applied:
            return []
        marked = conn.execute(_MARK_DONE, {"request": request.id, "databases": list(self.applied),
                                           "at": now()}).all()
        _seal_done_keys(conn, request.id, self.keyed)
        recorded: dict[str, list[int | None]] = defaultdict(list)
        for database, rows in marked:
            recorded[database].append(rows)
        # what the steps recorded before their database committed: a run resumed after that commit
        # changes nothing and reports what the run that committed changed
        return [audit.Event("request.erasure_applied", {
            "request": request.id, "database": database, "steps": steps,
            "rows_changed": _recorded_rows(recorded.get(database, []), changed)},
            request.subject_id, self.actor) for database, (steps, changed) in self.applied.items()]

    def complete(self, conn: sa.Connection) -> list[audit.Event]:
        """Mark the applied steps done and the subject erased; the audit entries to append."""
        request = self.request
        events = self.record_applied(conn)
        whose = sorted({s for s in (request.subject_id, *self.subjects) if s is not None})
        for subject_id in whose:
            set_state(conn, subject_id, "erased")
        events += _end_sessions(conn, request, self.actor, whose)
        from garde.consent.confirmations import forget  # it counts on garde.rights's mailbox: imported late

        proven = [(kind, digest) for kind, digest in request.identity_hashes.items()
                  if kind in request.proofs]
        forget(conn, proven)  # the confirmations asked of what this erasure proved
        forget_reasons(conn, whose, [digest for _kind, digest in proven])  # the words they wrote
        if self.holds_in_clear is not False:  # the plan saw a hold that keeps nothing still in clear
            _forget_held(conn, whose, proven)
        if self.removed:
            events.append(audit.Event("request.copies_removed", {"request": request.id,
                                                                 "files": self.removed},
                                      request.subject_id, self.actor))
        events.append(audit.Event("subject.erased", {"request": request.id, "erased": self.result["erased"],
                                                     "kept": self.result["kept"]},
                                  request.subject_id, self.actor))
        return events


# Built once (an erasure's completion runs them every time), the values bound
_MARK_DONE = erasure_steps.update().where(
    erasure_steps.c.request_id == sa.bindparam("request"), erasure_steps.c.status == "planned",
    erasure_steps.c.dataset.in_(sa.bindparam("databases", expanding=True))).values(
    status="done", done_at=sa.bindparam("at", type_=erasure_steps.c.done_at.type)).returning(
    erasure_steps.c.dataset, erasure_steps.c.rows_changed)
_SESSIONS = subject_sessions.c
_WHOSE = sa.or_(_SESSIONS.identity_hash.in_(sa.bindparam("proven", expanding=True)),
                _SESSIONS.subject_id.in_(sa.bindparam("subjects", expanding=True)))
_END_SESSIONS = subject_sessions.update().where(_WHOSE, _SESSIONS.ended_at.is_(None)).values(
    ended_at=sa.bindparam("at", type_=_SESSIONS.ended_at.type), identity=None).returning(_SESSIONS.id)
_WIPE_ENDED = subject_sessions.update().where(_WHOSE, _SESSIONS.identity.is_not(None)).values(identity=None)
_HAS_PLAN = sa.select(erasure_steps.c.id).where(
    erasure_steps.c.request_id == sa.bindparam("request")).limit(1)


def _forget_held(conn: sa.Connection, whose: list[str], proven: list[tuple[str, str]]) -> None:
    """In the transaction completing the erasure (idempotent, as a resumed run completes it again),
    the identity of the holds naming the erased subjects that keep nothing any more, by its digest
    (:func:`garde.legal_holds.forget_held_identities`): those ended since the last sweep, or released
    before fix31 (the sweep digests them all: :func:`garde.legal_holds.digest_ended_holds`)."""

    def digests() -> dict[str, set[str]]:  # read only when a hold that keeps nothing is left to look at
        found: dict[str, set[str]] = defaultdict(set)
        for kind, digest in proven:
            found[kind].add(digest)
        if whose:
            ids = subject_identifiers.c
            for kind, digest in conn.execute(sa.select(ids.kind, ids.hash).where(ids.subject_id.in_(whose))):
                found[kind].add(digest)
        return found

    forget_held_identities(conn, digests)


def _recorded_rows(recorded: list[int | None], changed: int) -> int:
    """The rows the database's steps recorded (their sum), or ``changed`` (this run's count) when a
    step has none (stored before migration 0035)."""
    if not recorded or None in recorded:
        return changed
    return sum(row for row in recorded if row is not None)


def _end_sessions(conn: sa.Connection, request: Request, actor: str,
                  subjects: list[str]) -> list[audit.Event]:
    """End the erased subject's open sessions (privacy center, API): each holds the raw identity it
    was opened with until it ends, expires or the next session start wipes it. Those of the erased
    ``subjects``, or opened with an identity this erasure proved."""
    whose = {"proven": sorted(digest for kind, digest in request.identity_hashes.items()
                              if kind in request.proofs), "subjects": subjects}
    ended = list(conn.execute(_END_SESSIONS, {**whose, "at": now()}).scalars())
    # and any ended earlier whose identity the next start has not wiped yet
    conn.execute(_WIPE_ENDED, whose)
    return [audit.Event("subject_session.ended", {"session": session, "by": "erasure",
                                                  "request": request.id}, request.subject_id, actor)
            for session in sorted(ended)]


def identity_keyed(deployment: Deployment) -> frozenset[str]:
    """The tables (``database.table``) whose primary key is one of their identity columns (a list
    keyed by e-mail address): the keys of their rows name the subject, so the erasure's report
    holds them, and its stored steps once applied, as keyed digests (GDPR Art. 17(1), 5(1)(c)).
    Found once per deployment."""
    return deployment.cached("identity_keyed", lambda: frozenset(
        str(t.ref) for t in deployment.datamap if t.primary_key in t.identities.values()))


def _sealed(table: str, key: Any, data_key: bytes) -> Any:
    return key if isinstance(key, dict) and "hmac_sha256" in key else seal(table, key, data_key)


def _seal_report_keys(conn: sa.Connection, report: dict[str, Any], keyed: frozenset[str]) -> None:
    if keyed:
        data_key = identifier_data_key(conn)
        for section in ("erased", "kept", "unlinked"):
            for item in report.get(section, []):
                if item["table"] in keyed and "key" in item:  # another person's rows are only counted
                    item["key"] = _sealed(item["table"], item["key"], data_key)


def _seal_done_keys(conn: sa.Connection, request_id: str, keyed: frozenset[str]) -> None:
    """The applied steps' keys of tables keyed by an identity, as keyed digests: a step done is never
    run again, and its keys only say which rows it changed."""
    if not keyed:
        return
    data_key = identifier_data_key(conn)
    done = conn.execute(sa.select(erasure_steps.c.id, erasure_steps.c.dataset, erasure_steps.c.table_name,
                                  erasure_steps.c["keys"]).where(erasure_steps.c.request_id == request_id,
                                                              erasure_steps.c.status == "done")).all()
    for step in done:
        table = f"{step.dataset}.{step.table_name}"
        if table in keyed:
            keys = [_sealed(table, key, data_key) for key in json.loads(step.keys)]
            conn.execute(erasure_steps.update().where(erasure_steps.c.id == step.id).values(
                keys=json.dumps(keys, default=str)))


class ErasureFailed(GardeError):
    """A database refused the erasure; ``erasure.applied`` is what the databases before it committed."""

    def __init__(self, message: str, erasure: Erasure) -> None:
        super().__init__(message)
        self.erasure = erasure


def has_plan(conn: sa.Connection, request_id: str) -> bool:
    """Whether the request's erasure plan is stored (the run is a resumption)."""
    return conn.execute(_HAS_PLAN, {"request": request_id}).first() is not None


def erase(store: Engine, request: Request, deployment: Deployment, footprint: Footprint | None, *,
          today: date | None = None, actor: str = "garde",
          processed_for: Sequence[Forwarding] = ()) -> Erasure:
    """Plan (unless a plan is stored), then apply the pending steps, one transaction per database.

    ``processed_for``: what the subject's data held as a processor was found for each client
    controller; the report names them (:func:`garde.rights.forwarding.subject_notes`).

    The store is told the steps are done, and the subject erased, by
    :meth:`Erasure.complete` in the transaction completing the request.
    """
    report_path = deployment.folder(request.id) / "erasure.json"
    planned = _plan_once(store, request, deployment, footprint, today=today, actor=actor,
                         processed_for=processed_for)
    if planned is not None:  # this run's plan: its report, steps and staff's list as it stored them
        report, pending = planned.report, planned.steps
    else:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        pending = _stored_steps(store, request.id)
    erasure = Erasure(request, {}, actor, keyed=identity_keyed(deployment),
                      subjects=tuple(report.get("subjects", ())),
                      holds_in_clear=planned.holds_in_clear if planned is not None else None)
    # Whatever stops it from here (a database refusing a write, a file garde cannot remove), what
    # the databases already committed travels with the error, to be audited (ErasureFailed).
    try:
        apply_steps(deployment, pending, erasure.applied, store=store)
        erasure.removed = copies.remove(report.get("own_copies", []))
    except (sa.exc.SQLAlchemyError, GardeError, OSError) as exc:
        reason = _reason(exc)
        report["status"] = "failed"
        report["error"] = reason
        with contextlib.suppress(OSError):  # the reason still reaches the request's steps and the audit
            _replace_report(deployment, request.id, report)
        what = "written" if isinstance(exc, sa.exc.SQLAlchemyError) else "completed"
        raise ErasureFailed(f"the erasure could not be {what}: {reason}", erasure) from exc
    for copy in report.get("own_copies", []):
        copy["removed"] = True  # now or by an earlier, interrupted run
    report["status"] = "completed"
    # Every step of the plan, whichever run (or part, garde.rights.parts) applied it: this run's plan
    # is the steps it stored, all pending.
    report["statements"] = len(pending) if planned is not None else _count_steps(store, request.id)
    # A resumed run reads it: replaced whole (never a half-written file, whatever stops the write) and
    # on the disk before the request's completion commits
    _replace_report(deployment, request.id, report)
    erasure.result = {"file": str(report_path), "erased": len(report["erased"]), "kept": len(report["kept"]),
                      "unlinked": len(report.get("unlinked", [])),
                      "own_copies_removed": len(report.get("own_copies", [])),
                      "kept_reasons": sorted({k["reason"] for k in report["kept"]})}
    theirs = planned.shared if planned is not None else _planned_shared(store, request.id)
    if theirs:  # for staff, who decide with the business (garde.rights.shared); not in the subject's report
        erasure.result["shared"] = theirs
    return erasure


def _planned_shared(store: Engine, request_id: str) -> list[dict[str, Any]]:
    """Staff's list of the shared rows, as the plan's transaction stored it on the request."""
    with store.connect() as conn:
        result = conn.execute(sa.select(requests.c.result).where(requests.c.id == request_id)).scalar()
    return list((json.loads(result) if result else {}).get("shared") or [])


def _keep_shared_for_staff(conn: sa.Connection, request: Request, deployment: Deployment,
                           plan: ErasurePlan) -> list[dict[str, Any]]:
    """Staff's list of the shared rows (table and key, a keyed digest where the key is an identity),
    stored on the request with the plan: the subject's report only counts them, and a resumed run
    reads it here (a failure keeps it: garde.rights.running.fail). Returns it as stored (read back,
    it is the same data: :func:`_planned_shared`)."""
    rows = plan.shared_rows()
    if not rows:
        return []
    grouped: Shared = defaultdict(dict)
    for row in rows:
        grouped[row.table][row.key] = row
    stored = dumps({"shared": listing(conn, deployment, grouped)}, indent=None)
    conn.execute(requests.update().where(requests.c.id == request.id).values(result=stored))
    return list(json.loads(stored)["shared"])


class _Planned(NamedTuple):
    """A plan this run stored: the subject's report, its steps (all pending) and staff's list of the
    shared rows, as its transaction committed them (a resumed run reads them back instead)."""

    report: dict[str, Any]
    steps: list[_Step]
    shared: list[dict[str, Any]]
    holds_in_clear: bool  # a subject hold that keeps nothing still named an identity in clear


def store_plan(store: Engine, request: Request, deployment: Deployment, footprint: Footprint | None, *,
               today: date | None = None, actor: str = "garde",
               processed_for: Sequence[Forwarding] = ()) -> tuple[dict[str, Any] | None, list[_Step] | None]:
    """Plan the erasure and commit the plan (and its report file) unless a plan is stored already.

    Returns the report and the steps just planned, or ``(None, None)`` when nothing was planned.
    """
    planned = _plan_once(store, request, deployment, footprint, today=today, actor=actor,
                         processed_for=processed_for)
    return (planned.report, planned.steps) if planned is not None else (None, None)


def _plan_once(store: Engine, request: Request, deployment: Deployment, footprint: Footprint | None, *,
               today: date | None = None, actor: str = "garde",
               processed_for: Sequence[Forwarding] = ()) -> _Planned | None:
    """:func:`store_plan`: this run's plan as it committed it, or None when nothing was planned."""
    if footprint is None:
        return None
    if today is not None and today > now().date():
        # as a sweep: as of a later day, what the law still keeps (invoices, 10 years) would be erased
        raise GardeError(f"an erasure as of {today.isoformat()} is after today ({now().date().isoformat()}): "
                         "it would erase what a legal obligation still keeps")

    def planning(conn: sa.Connection) -> _Planned | None:
        if has_plan(conn, request.id):
            return None
        holds, holds_in_clear = holds_for_erasure(conn)
        plan = plan_erasure(deployment, footprint, holds, request.subject_id,
                            today or now().date(),
                            shared=shared_rows(conn, deployment, footprint, request.subject_id))
        check_fits(deployment, plan)
        subjects = sorted(engine_subjects(conn, request.subject_id, footprint.identities))
        report = {"request": request.id, "subject": request.subject_id, "subjects": subjects,
                  "date": plan.today.isoformat(), **plan.report(),
                  "own_copies": _own_copies(conn, deployment, request, footprint, subjects)}
        if processed_for:
            words = Wording(request.language, "en", deployment.vocabulary)
            report["processed_for"] = subject_notes(deployment, processed_for, words, request.language)
        pending, planned = _store_plan(conn, request, plan, deployment, report, actor)
        theirs = _keep_shared_for_staff(conn, request, deployment, plan)
        _seal_report_keys(conn, report, identity_keyed(deployment))  # the steps keep them until applied
        # With the plan, what it keeps for each client controller: a resumed run finds it stored.
        events = [planned, *forwarding.record(conn, request.id, request.subject_id, list(processed_for),
                                              actor)]
        # Written and on the disk before the plan commits: the report exists for every stored plan,
        # even after the machine stops (a resumed run reads it: it cannot be made again).
        write_private_files(deployment.folder(request.id), {"erasure.json": pretty(report)},
                            within=deployment.results, durable=True)
        # The plan's entries in one append, the transaction's last statement (on PostgreSQL its COMMIT
        # rides with it): the log's head is locked once, for that round trip only.
        audit.record_many(conn, events, last=True)
        return _Planned(report, pending, theirs, holds_in_clear)

    # run again whole, the plan is made again from the top and its report file written over
    return retried(store, planning, what=f"request {request.id}: its erasure plan")


def _replace_report(deployment: Deployment, request_id: str, report: dict[str, Any]) -> None:
    """Write ``report`` over the request's ``erasure.json`` whole or not at all, flushed (its plan's run
    made the folder and the file)."""
    with opened_within(deployment.folder(request_id), deployment.results) as folder:
        folder.replace("erasure.json", pretty(report), durable=True)


def apply_database(store: Engine, request: Request, deployment: Deployment, database: str,
                   actor: str = "garde") -> Erasure:
    """Apply the stored plan's pending steps of one database (one transaction there): a part of a
    split erasure. The caller records :meth:`Erasure.record_applied` in the store."""
    erasure = Erasure(request, {}, actor, keyed=identity_keyed(deployment))
    steps = [step for step in _stored_steps(store, request.id) if step.dataset == database]
    try:
        apply_steps(deployment, steps, erasure.applied, store=store)
    except (sa.exc.SQLAlchemyError, GardeError, OSError) as exc:
        raise ErasureFailed(f"the erasure could not be written: {_reason(exc)}", erasure) from exc
    return erasure


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc  # the driver's own error says what was refused
    return f"{type(cause).__name__}: {str(cause).strip().splitlines()[0]}"


def _own_copies(conn: sa.Connection, deployment: Deployment, request: Request, footprint: Footprint,
                subjects: list[str]) -> list[dict[str, Any]]:
    """garde's files holding the subject's data (section "garde's own copies" of the report);
    ``subjects``: the person's engine subjects (:func:`garde.rights.held.engine_subjects`), asked once
    for the report and its copies."""
    others = copies.subject_requests(conn, request, footprint.identities, subjects)
    emails, phones = ({*footprint.identities.get(kind, set()), *filter(None, [request.identities.get(kind)])}
                      for kind in ("email", "phone"))
    return copies.own_copies(deployment, request, others, emails, deployment.outbox, phones)


def check_fits(deployment: Deployment, plan: ErasurePlan) -> None:
    """Stop before anything changes when a mask of the plan does not fit its live column.

    Column facts are reflected once per process; before refusing, they are
    read again, so a column widened since (the fix) is seen by a long-running worker.
    """
    problems = _misfits(deployment, plan)
    if problems:
        reflect_table.cache_clear()
        problems = _misfits(deployment, plan)
    if problems:
        raise GardeError("the erasure cannot be written, nothing was changed: "
                         + "; ".join(str(p) for p in problems))


def _misfits(deployment: Deployment, plan: ErasurePlan) -> list[Problem]:
    maskings = {ref: {name: decision.table.columns[name].erase for name in
                      {c for columns in decision.updates() for c in columns}}
                for ref, decision in plan.tables.items()}
    problems = plan_problems(deployment.datamap, deployment.engines,
                             {ref: chosen for ref, chosen in maskings.items() if chosen})
    for unlink in plan.unlinks:
        facts = (reflect_table(deployment.engines[unlink.table.database], unlink.table.name) or {}).get(
            unlink.column)
        if facts is not None and not facts.nullable:
            problems.append(Problem(deployment.datamap.datasets[unlink.table.database].file, None,
                                    f"tables.{unlink.table.name}.references.{unlink.column}",
                                    unlink_problem(unlink.table, unlink.column, facts)))
    return problems


def _store_plan(conn: sa.Connection, request: Request, plan: ErasurePlan, deployment: Deployment,
                report: dict[str, Any], actor: str) -> tuple[list[_Step], audit.Event]:
    """Write the plan's steps; the steps, as a resumed run reads them back, and the plan's audit entry
    (appended by the caller with the plan's other entries)."""
    at = now()
    rows: list[dict[str, Any]] = [
        {"request_id": request.id, "dataset": step.dataset, "table_name": step.table_name,
         "status": "planned", "planned_at": at, "action": step.action,
         "columns": json.dumps(step.columns, default=str),
         "keys": json.dumps(step.keys, default=str)} for step in plan_steps(deployment, plan)]
    # their ids, in order: each step's rows are recorded on it before its database commits
    ids = _insert_steps(conn, request.id, rows) if rows else []
    planned = audit.Event("request.erasure_planned", {
        "request": request.id, "steps": len(rows), "erased": len(report["erased"]),
        "unlinked": len(report["unlinked"]), "shared": sum(table["rows"] for table in report["shared"]),
        "own_copies": [c["file"] for c in report["own_copies"]],
        "kept": [{k: v for k, v in item.items() if k != "key"} for item in report["kept"]][:200]},
        request.subject_id, actor)
    return [_step({**row, "id": step}) for row, step in zip(rows, ids, strict=True)], planned


def _insert_steps(conn: sa.Connection, request_id: str, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the request's first steps; their ids, in the order of ``rows``.

    SQLite does not promise the order of a multi-row ``RETURNING``, so SQLAlchemy keeps it there by
    inserting one row a statement: one ``executemany`` instead, then the request's ids read back in
    order. A new rowid is one more than the table's largest, so the rows of one statement ascend in
    the order inserted, and the request had none before (:func:`has_plan`, in this transaction,
    under the run's lock)."""
    if conn.dialect.name != "sqlite":
        inserting = erasure_steps.insert().returning(erasure_steps.c.id, sort_by_parameter_order=True)
        return list(conn.execute(inserting, rows).scalars())
    conn.execute(erasure_steps.insert(), rows)
    ids = list(conn.execute(sa.select(erasure_steps.c.id).where(erasure_steps.c.request_id == request_id)
                            .order_by(erasure_steps.c.id)).scalars())
    if len(ids) != len(rows):  # a plan stored meanwhile: has_plan's guard did not hold
        raise GardeError(f"request {request_id}: its erasure plan was stored twice; nothing was changed")
    return ids


def plan_steps(deployment: Deployment, plan: ErasurePlan) -> list[_Step]:
    """The plan's statements in the order they run: links first (another person's row must stop
    pointing at a row before it is deleted), then each table's masks and deletion, children first."""
    steps = [_Step(u.table.database, u.table.name, "unlink", {"column": u.column, "targets": u.targets},
                   u.keys) for u in plan.unlinks]
    order = deployment.cached("deletion_rank", lambda: {
        ref: i for i, ref in enumerate(deletion_order(deployment))})
    for ref in sorted(plan.tables, key=order.__getitem__):
        decision = plan.tables[ref]
        for columns, keys in sorted(decision.updates(shared=False).items()):
            steps.append(_Step(ref.database, ref.table, "mask", list(columns), sorted(keys, key=str)))
        # another person's rows: the requester's identity columns alone (run as a mask is)
        for columns, keys in sorted(decision.updates(shared=True).items()):
            steps.append(_Step(ref.database, ref.table, "shared", list(columns), sorted(keys, key=str)))
        if decision.deleted:
            steps.append(_Step(ref.database, ref.table, "delete", [], sorted(decision.deleted, key=str)))
    return steps


def _step(row: Any) -> _Step:
    return _Step(row["dataset"], row["table_name"], row["action"], json.loads(row["columns"]),
                 json.loads(row["keys"]), row["id"], row.get("business_xact"))


def _stored_steps(store: Engine, request_id: str) -> list[_Step]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(erasure_steps).where(
            erasure_steps.c.request_id == request_id, erasure_steps.c.status == "planned")
            .order_by(erasure_steps.c.id)).all()
    return [_step(row._mapping) for row in rows]


def _count_steps(store: Engine, request_id: str) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(erasure_steps).where(
            erasure_steps.c.request_id == request_id)).scalar_one())


def stored_databases(store: Engine, request_id: str) -> list[str]:
    """The databases the request's stored plan has steps in (done or not)."""
    with store.connect() as conn:
        return sorted(conn.execute(sa.select(erasure_steps.c.dataset).distinct().where(
            erasure_steps.c.request_id == request_id)).scalars())


def apply_steps(deployment: Deployment, steps: Sequence[_Step], applied: dict[str, tuple[int, int]],
                store: Engine | None = None) -> None:
    """Run the steps, one transaction per database; ``applied[database] = (steps, rows changed)``.

    ``store``: the stored steps' rows changed are recorded there before their database commits
    (:func:`_record_rows`)."""
    by_database: dict[str, list[_Step]] = defaultdict(list)
    for step in steps:
        by_database[step.dataset].append(step)
    for database, pending in by_database.items():
        counts = []
        engine = deployment.engines[database]
        if store is not None and engine.dialect.name == "postgresql":
            _void_aborted(store, engine, pending)
        with engine.begin() as conn:
            for step in pending:
                table = deployment.datamap.table(TableRef(database, step.table_name))
                counts.append((step.id, _run_step(conn, deployment, table, step.action, step.columns,
                                                  step.keys)))
            if store is not None:  # logged, then committed
                xact = conn.execute(_XACT).scalar() if conn.dialect.name == "postgresql" else None
                _record_rows(store, database, counts, xact)
        applied[database] = (len(pending), sum(changed for _, changed in counts))


_XACT = sa.text("SELECT pg_current_xact_id()::text")
_XACT_STATUS = sa.text("SELECT pg_xact_status(CAST(:xact AS xid8))")


def _void_aborted(store: Engine, business: Engine, steps: Sequence[_Step]) -> None:
    """Forget the rows changed recorded by a business transaction that aborted (PostgreSQL): its run was
    killed between the record and the commit, so those rows were never changed by it; this run's own
    count, 0 included (someone else changed them meanwhile), is the step's. A transaction committed,
    still running or too old to tell keeps its count (:func:`_record_rows`).

    The transactions are the steps' as this run read them from the store (:func:`_stored_steps`; the
    run lock keeps any other run of the request from recording one since): a step just planned has
    none, and a run that resumes nothing asks neither the store nor the business database."""
    recorded = [step for step in steps if step.id is not None and step.business_xact is not None]
    if not recorded:
        return
    with business.connect() as conn:
        status = {xact: conn.execute(_XACT_STATUS, {"xact": xact}).scalar()
                  for xact in {row.business_xact for row in recorded}}
    void = [row.id for row in recorded if status[row.business_xact] == "aborted"]
    if void:
        def forget(conn: sa.Connection) -> None:
            conn.execute(erasure_steps.update().where(erasure_steps.c.id.in_(void)).values(
                rows_changed=None, business_xact=None))

        retried(store, forget, what="the erasure's steps: counts of a transaction that aborted")


_CHANGED = sa.bindparam("changed", type_=sa.Integer)
_TAKEN = sa.or_(_CHANGED > 0, erasure_steps.c.rows_changed.is_(None))
_RECORD_ROWS = erasure_steps.update().where(
    erasure_steps.c.id == sa.bindparam("step"), erasure_steps.c.status == "planned").values(
    rows_changed=sa.case((_TAKEN, _CHANGED), else_=erasure_steps.c.rows_changed),
    business_xact=sa.case((_TAKEN, sa.bindparam("xact", type_=sa.String)),
                          else_=erasure_steps.c.business_xact))


def _record_rows(store: Engine, database: str, counts: list[tuple[int | None, int]],
                 xact: str | None = None) -> None:
    """Each stored step's rows changed, written to the store before its database's transaction commits
    (``xact``: that transaction's id, PostgreSQL).

    A step still ``planned`` after that commit (the run killed before the store marked it done) is run
    again and changes nothing, its statements skipping what is erased: it keeps the count of the run
    that committed. A count above zero is always this run's (the earlier run's transaction did not
    commit, or its rows would be erased). On PostgreSQL a count whose transaction aborted was
    forgotten before the run again (:func:`_void_aborted`), so its 0 stands when someone else changed
    the rows meanwhile; on SQLite that case keeps the earlier count (docs/security.md)."""
    recorded = [{"step": step, "changed": changed, "xact": xact}
                for step, changed in counts if step is not None]
    if not recorded:
        return

    def record(conn: sa.Connection) -> None:
        conn.execute(_RECORD_ROWS, recorded)

    retried(store, record, what=f"the erasure's steps in {database}: their rows changed")


def _run_step(conn: sa.Connection, deployment: Deployment, table: TableMap, action: str, columns: Any,
              keys: list[Any]) -> int:
    dialect = conn.dialect.name
    statement: sa.Executable
    if action == "unlink":
        return _unlink(conn, table, columns["column"], keys, columns["targets"])
    if action == "delete":
        statement = deployment.cached(("delete", table.database, table.name), lambda: _delete(table))
    else:
        def build() -> sa.Update:
            maskings = {name: staying_masking(conn.engine, table, table.columns[name]) for name in columns}
            return masking_update(table, maskings, sa.bindparam("keys", expanding=True), dialect)

        statement = deployment.cached(("mask", table.database, table.name, tuple(columns)), build)
    changed = 0
    for batch in chunks(keys):
        changed += max(conn.execute(statement, {"keys": list(batch)}).rowcount, 0)
    return changed


def _unlink(conn: sa.Connection, table: TableMap, column: str, keys: list[Any],
            targets: list[Any] | None) -> int:
    """``SET column = NULL`` on the rows ``keys`` (still pointing at ``targets``, when given)."""
    clause = sql_table(table, [table.primary_key, column])
    changed = 0
    for batch in chunks(keys):
        statement = sa.update(clause).where(clause.c[table.primary_key].in_(list(batch)),
                                            clause.c[column].is_not(None))
        if targets is not None:
            statement = statement.where(clause.c[column].in_(targets))
        changed += max(conn.execute(statement.values({column: None})).rowcount, 0)
    return changed


def _delete(table: TableMap) -> sa.Delete:
    clause = sql_table(table, [table.primary_key])
    return sa.delete(clause).where(clause.c[table.primary_key].in_(sa.bindparam("keys", expanding=True)))


def masking_update(table: TableMap, maskings: dict[str, Masking], keys: Any, dialect: str) -> sa.Update:
    """UPDATE masking each column of the rows with ``keys`` unless already masked.

    ``SET c = CASE WHEN <c already masked> THEN c ELSE <masked c> END`` and a
    WHERE that skips rows where every column is already masked: rows are not
    touched twice and a hash is never hashed again.
    """
    clause = sql_table(table, [table.primary_key, *maskings])
    values: dict[str, Any] = {}
    pending: list[sa.ColumnElement[bool]] = []
    for name, masking in maskings.items():
        column = clause.c[name]
        if masking == ROW_PLACEHOLDER:
            prefix = f"erased:{table.database}.{table.name}:"
            target = sa.literal(prefix, sa.String) + sa.cast(clause.c[table.primary_key], sa.String)
            done = column.is_not_distinct_from(target)
        else:
            target = masking_expression(masking, column, dialect)
            done = is_masked(masking, column, dialect)
        values[name] = sa.case((done, column), else_=target)
        pending.append(sa.not_(done))
    keyed = clause.c[table.primary_key].in_(keys if isinstance(keys, sa.BindParameter) else list(keys))
    return sa.update(clause).where(keyed, sa.or_(*pending)).values(values)
