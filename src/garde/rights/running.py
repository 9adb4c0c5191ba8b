"""Executing a verified request over every dataset, then completing it.

``run`` moves the request to ``in_progress`` (audited), finds the subject
across every database from the request's identities, executes the request's
type and completes it with a summary of the result. A request left
``in_progress`` by an interrupted run is resumed by running it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, find_subject
from garde.problems import GardeError
from garde.register.versions import note_register, register_hash
from garde.rights.access import write_access
from garde.rights.deployment import Deployment, dumps
from garde.rights.erasure import erase, has_plan
from garde.rights.intake import Request, get_request, transition
from garde.rights.portability import write_portability
from garde.rights.rectification import rectify
from garde.rights.restriction import DIRECT_MARKETING, object_to, restrict
from garde.subjects import link_identifiers


def locate(deployment: Deployment, request: Request) -> Footprint:
    """Every row of the request's subject, in every database (set-based discovery)."""
    usable = {k: v for k, v in request.identities.items() if deployment.datamap.with_identity(k)}
    if not usable:
        raise GardeError(f"request {request.id}: none of its identities ({', '.join(request.identities)}) "
                         "is declared by a dataset")
    return find_subject(deployment.datamap, deployment.engines, usable)


def run(store: Engine, request_id: str, deployment: Deployment, *, actor: str = "garde",
        today: date | None = None) -> Request:
    """Execute a verified (or interrupted) request and complete it.

    The store sees two transactions on the way (three for an erasure: its plan
    is committed before any change): the move to ``in_progress``, then the
    completion with the audit entries of what was done.
    """
    with store.begin() as conn:
        request = get_request(conn, request_id)
        if request.status not in ("verified", "in_progress"):
            hint = " (verify the requester's identity first)" if request.status == "received" else ""
            raise GardeError(f"request {request.id} is {request.status}; it cannot be run{hint}")
        note_registers(conn, deployment)
        note = "resumed" if request.status == "in_progress" else None
        request = transition(conn, request, "in_progress", actor=actor, note=note, reread=False)
        planned = request.type == "erasure" and has_plan(conn, request.id)
    result, complete = _execute(store, request, deployment, actor, today, planned)
    with store.begin() as conn:
        events = complete(conn)
        completed = transition(conn, get_request(conn, request.id), "completed", actor=actor,
                               values={"result": _json(result)}, payload={"result": _summary(result)},
                               preceding=events)
    if request.type == "erasure":  # the log's head after a destructive job, outside the store (if configured)
        audit.checkpoint_configured(store)
    return completed


_Completion = Callable[[sa.Connection], list[audit.Event]]


def note_registers(conn: sa.Connection, deployment: Deployment) -> None:
    """Audit the version of each register the request is answered under (once per change)."""
    for database, register in deployment.registers.items():
        source = deployment.datamap.datasets[database].register or f"datasets:{database}"
        digest = deployment.cached(("register_hash", database), partial(register_hash, register))
        note_register(conn, register, source, digest=digest)


def _nothing(_conn: sa.Connection) -> list[audit.Event]:
    return []


def _execute(store: Engine, request: Request, deployment: Deployment, actor: str,
             today: date | None, planned: bool) -> tuple[dict[str, Any], _Completion]:
    """The request's result, and what its completing transaction must also write and audit."""
    if request.type == "erasure":
        erasure = erase(store, request, deployment, None if planned else locate(deployment, request),
                        today=today, actor=actor)
        return erasure.result, erasure.complete
    if request.type == "restriction":
        with store.begin() as conn:
            return restrict(conn, request, actor=actor), _nothing
    if request.type == "objection":
        # Art. 21(3): every identifier the datasets hold for the subject goes on the suppression list.
        found: dict[str, set[str]] = {}
        if request.details.get("scope", DIRECT_MARKETING) == DIRECT_MARKETING:
            found = locate(deployment, request).identities
        with store.begin() as conn:
            return object_to(conn, request, also=found, actor=actor), _nothing
    footprint = locate(deployment, request)
    found_event = audit.Event("request.subject_found", {"request": request.id, "tables": footprint.counts(),
                                                        "hops": footprint.hops}, request.subject_id, actor)
    if request.type in ("access", "portability"):
        # Reads only: the discovery is audited with the completion, in one transaction.
        write = write_access if request.type == "access" else write_portability
        return write(request, deployment, footprint), lambda _conn: [found_event]
    with store.begin() as conn:
        audit.record_many(conn, [found_event])
    result = rectify(deployment, footprint, request.details.get("corrections") or {})
    with store.begin() as conn:
        audit.record(conn, "request.rectified", {"request": request.id, "changed": result["changed"]},
                     subject_id=request.subject_id, actor=actor)
        if request.subject_id and result["identities"]:
            link_identifiers(conn, request.subject_id, result["identities"].items())
    return {"changed": result["changed"]}, _nothing


def _json(result: dict[str, Any]) -> str:
    return dumps(result)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("kept_reasons",)}
