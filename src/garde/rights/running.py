"""Executing a verified request over every dataset, then completing it.

``run`` moves the request to ``in_progress`` (audited), finds the subject
across every database from the request's identities, executes the request's
type and completes it with a summary of the result. A request left
``in_progress`` by an interrupted run is resumed by running it again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, find_subject
from garde.problems import GardeError
from garde.rights.access import write_access
from garde.rights.deployment import Deployment, dumps
from garde.rights.erasure import erase
from garde.rights.intake import Request, get_request, transition
from garde.rights.portability import write_portability
from garde.rights.rectification import rectify
from garde.rights.restriction import DIRECT_MARKETING, object_to, restrict
from garde.rights.tables import erasure_steps
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
    """Execute a verified (or interrupted) request and complete it."""
    with store.begin() as conn:
        request = get_request(conn, request_id)
        if request.status not in ("verified", "in_progress"):
            hint = " (verify the requester's identity first)" if request.status == "received" else ""
            raise GardeError(f"request {request.id} is {request.status}; it cannot be run{hint}")
        note = "resumed" if request.status == "in_progress" else None
        request = transition(conn, request, "in_progress", actor=actor, note=note)
    result = _execute(store, request, deployment, actor, today)
    with store.begin() as conn:
        return transition(conn, get_request(conn, request.id), "completed", actor=actor,
                          values={"result": _json(result)}, payload={"result": _summary(result)})


def _execute(store: Engine, request: Request, deployment: Deployment, actor: str,
             today: date | None) -> dict[str, Any]:
    if request.type == "erasure":
        with store.connect() as conn:
            planned = conn.execute(sa.select(erasure_steps.c.id).where(
                erasure_steps.c.request_id == request.id).limit(1)).first()
        footprint = None if planned else locate(deployment, request)
        return erase(store, request, deployment, footprint, today=today, actor=actor)
    if request.type == "restriction":
        with store.begin() as conn:
            return restrict(conn, request, actor=actor)
    if request.type == "objection":
        # Art. 21(3): every identifier the datasets hold for the subject goes on the suppression list.
        found: dict[str, set[str]] = {}
        if request.details.get("scope", DIRECT_MARKETING) == DIRECT_MARKETING:
            found = locate(deployment, request).identities
        with store.begin() as conn:
            return object_to(conn, request, also=found, actor=actor)
    footprint = locate(deployment, request)
    with store.begin() as conn:
        audit.record(conn, "request.subject_found", {"request": request.id, "tables": footprint.counts(),
                                                     "hops": footprint.hops},
                     subject_id=request.subject_id, actor=actor)
    if request.type == "access":
        return write_access(request, deployment, footprint)
    if request.type == "portability":
        return write_portability(request, deployment, footprint)
    result = rectify(deployment, footprint, request.details.get("corrections") or {})
    with store.begin() as conn:
        audit.record(conn, "request.rectified", {"request": request.id, "changed": result["changed"]},
                     subject_id=request.subject_id, actor=actor)
        if request.subject_id and result["identities"]:
            link_identifiers(conn, request.subject_id, result["identities"].items())
    return {"changed": result["changed"]}


def _json(result: dict[str, Any]) -> str:
    return dumps(result)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("kept_reasons",)}
