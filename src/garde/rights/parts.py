"""A request split in parts that several workers share: one part per database of the data map.

An erasure over several databases is planned once (the plan committed before anything changes, as
inline); when the plan has steps in more than one database, each database's steps are one part,
which any worker may take: :func:`run_part` applies that database's pending steps in one transaction
there, then, in one store transaction, marks the steps and the part done and audits what it changed.
The part's row is locked (``SELECT ... FOR UPDATE``) for the whole part, so a part taken twice (a
worker killed and its job retried while another runs it) waits for the first and then finds it done:
nothing is deleted, audited or mailed twice.

Which part is the last is decided in the store, without a race: every part, in the transaction
marking it done, locks the request's row and counts the parts not done. These transactions follow
one another, so exactly one of them counts none; that one completes the request
(:func:`garde.rights.running.finish`), which assembles the answer once: the completion moves the
request from ``in_progress`` to ``completed`` only from that status. A worker killed after its last
part committed leaves the request in progress; the part's job, retried, finds its part done and
every part done, and completes it then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.rights.deployment import Deployment
from garde.rights.erasure import Erasure, ErasureFailed, apply_database, stored_databases
from garde.rights.intake import Request, get_request, record_step, transition
from garde.rights.tables import requests
from garde.store import metadata
from garde.store.transactions import retried
from garde.subjects import now

request_parts = sa.Table(
    "request_parts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False, index=True),
    sa.Column("part", sa.String(64), nullable=False),  # a database of the data map
    sa.Column("status", sa.String(16), nullable=False),  # pending, done, failed
    sa.Column("result", sa.Text),  # JSON: what the part changed, or why it failed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("request_id", "part", name="uq_request_parts_part"),
)


@dataclass(frozen=True)
class PartOutcome:
    """What one run of a part did: ``applied`` (this run did the part's work) and ``last`` (every part
    of the request is done: complete the request)."""

    applied: bool
    last: bool
    failed: str | None = None


def divisible(request: Request, deployment: Deployment) -> bool:
    """Whether the request is split: an erasure over a data map of several databases."""
    return request.type == "erasure" and len(deployment.engines) > 1


def store_parts(store: Engine, request: Request) -> list[str]:
    """One part per database the stored erasure plan touches (created once; a failed part is pending
    again): the parts to hand to the workers. No part: nothing to split, and a plan in one database
    is not split either (the run does it, as inline: a second job would only add the queue's round
    trips and the parts' transactions), unless an earlier run split it already."""
    databases = stored_databases(store, request.id)

    def stored(conn: sa.Connection) -> list[str]:
        known = {row.part: row.status for row in conn.execute(
            sa.select(request_parts.c.part, request_parts.c.status)
            .where(request_parts.c.request_id == request.id))}
        if len(databases) < 2 and not known:
            return []
        new = [{"request_id": request.id, "part": database, "status": "pending", "created_at": now()}
               for database in databases if database not in known]
        if new:
            conn.execute(request_parts.insert(), new)
        conn.execute(request_parts.update().where(request_parts.c.request_id == request.id,
                                                  request_parts.c.status == "failed")
                     .values(status="pending", result=None))
        return sorted(set(known) | set(databases))

    return retried(store, stored, what=f"request {request.id}: its parts")


def run_part(store: Engine, request_id: str, part: str, deployment: Deployment,
             actor: str = "garde") -> PartOutcome:
    """Do the part ``part`` of the request once, however many workers run it (see the module).

    The part's store transaction is run again, whole, if the database aborts it to break a deadlock
    (:func:`garde.store.transactions.retried`): its row locked and read again, then marked done with
    what the database's own transaction changed. That transaction committed there (the store's
    rollback did not undo it): it is not applied twice, and what it changed is audited once."""
    committed: list[Erasure] = []  # the business database's commit, which outlives an aborted attempt

    def do(conn: sa.Connection) -> PartOutcome | tuple[int, str]:
        row = conn.execute(sa.select(request_parts).where(
            request_parts.c.request_id == request_id, request_parts.c.part == part)
            .with_for_update()).first()
        if row is None:
            raise ValueError(f"request {request_id} has no part {part!r}")
        if row.status != "pending":
            return PartOutcome(False, row.status == "done" and _all_done(conn, request_id))
        if not committed:
            try:
                request = get_request(conn, request_id)
                committed.append(apply_database(store, request, deployment, part, actor))
            except ErasureFailed as exc:
                return row.id, str(exc)
        erasure = committed[0]
        audit.record_many(conn, erasure.record_applied(conn))
        _mark(conn, row.id, "done", {"applied": {db: list(v) for db, v in erasure.applied.items()}})
        return PartOutcome(True, _all_done(conn, request_id))

    done = retried(store, do, what=f"request {request_id}: its part {part}")
    if isinstance(done, PartOutcome):
        return done
    row_id, failed = done
    # the refused write rolled back; the part says why, and stays to redo
    retried(store, lambda conn: _mark(conn, row_id, "failed", {"error": failed}),
            what=f"request {request_id}: its part {part} failed")
    return PartOutcome(False, False, failed)


def cancel_part(conn: sa.Connection, request_id: str, part: str, *, job: int, actor: str) -> None:
    """The job of a part was cancelled before it ran: the part is marked failed and the request says so
    (:func:`stopped`), so that the DPO's lists show it needs attention; running the request again queues
    the part again. A part already done (a retried job's twin) or already failed needs nothing more; an
    unknown one (a forged row) is left alone."""
    row = conn.execute(sa.select(request_parts).where(
        request_parts.c.request_id == request_id, request_parts.c.part == part).with_for_update()).first()
    if row is None or row.status != "pending":
        return
    reason = (f"part {part}: its job {job} was cancelled by {actor} before it ran; run the request again "
              "to resume it")
    _mark(conn, row.id, "failed", {"error": reason})
    stopped(conn, request_id, reason, actor)


def cancel_run(conn: sa.Connection, request_id: str, *, job: int, actor: str) -> None:
    """The job running a request was cancelled before it ran (a run queued again after its worker was
    killed, or one the DPO queued): a request already ``in_progress`` would stay so, with nobody to finish
    it and nobody told. It says why it stopped (:func:`stopped`); running it again resumes it (an erasure
    from its stored plan, its parts done not redone). An unknown request (a forged row) is left alone."""
    if conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id)).first() is None:
        return
    stopped(conn, request_id, f"its job {job} was cancelled by {actor} before it ran; run the request again "
                              "to resume it", actor)


def stopped(conn: sa.Connection, request_id: str, reason: str, actor: str) -> None:
    """A request's work stopped for ``reason``: an ``in_progress`` request becomes ``failed`` (a step with
    the reason, audited: ``garde request list --status failed`` and the DPO dashboard show it); any other
    gets the reason in its steps (a failed one by another part, a verified one whose run never started,
    a closed one)."""
    request = get_request(conn, request_id)
    if request.status == "in_progress":
        transition(conn, request, "failed", actor=actor, note=reason,
                   values={"result": json.dumps({"error": reason}, sort_keys=True)})
    else:
        record_step(conn, request.id, request.status, actor, reason, subject_id=request.subject_id)


def _mark(conn: sa.Connection, part_id: int, status: str, result: dict[str, Any]) -> None:
    conn.execute(request_parts.update().where(request_parts.c.id == part_id).values(
        status=status, result=json.dumps(result, sort_keys=True), done_at=now()))


def _all_done(conn: sa.Connection, request_id: str) -> bool:
    """Every part of the request done: asked under the request row's lock, so that of the parts
    ending together exactly one sees the others done (their transactions follow one another)."""
    conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id).with_for_update())
    left = conn.execute(sa.select(sa.func.count()).select_from(request_parts).where(
        request_parts.c.request_id == request_id, request_parts.c.status != "done")).scalar_one()
    return left == 0


def parts_of(conn: sa.Connection, request_id: str) -> list[dict[str, Any]]:
    """The request's parts: database, status, result (for ``garde request show`` and the tests)."""
    rows = conn.execute(sa.select(request_parts).where(request_parts.c.request_id == request_id)
                        .order_by(request_parts.c.part)).all()
    return [{"part": r.part, "status": r.status, "result": json.loads(r.result) if r.result else None,
             "done_at": r.done_at} for r in rows]
