"""The restriction a client controller instructs of the data held for it as a processor (GDPR
Art. 18, 28(3)(a), 29), after a subject's restriction request found that data and the DPO
forwarded the request (:mod:`garde.rights.forwarding`).

A subject's own restriction request restricts what the organisation does as a controller
(:func:`garde.rights.restriction.restrict`); a processor decides nothing on a client's data, so
for the activities it carries out as a processor the request is passed on, and only the
controller's instruction restricts them. What an instructed restriction covers: every activity
the register says the organisation carries out as a processor on behalf of that controller, for
that subject, from then on (``decide()`` refuses them, except an activity that declares
``legal.claim``: Art. 18(2)); neither the organisation's own activities nor what it does for
another controller. It changes no row (restriction is storage only) and is recorded with the
subject's other decision facts, so a decision point sees it as soon as it commits. The
instruction and who gave it are audited (``request.forwarding_restricted``); run again, it
changes nothing and answers the recorded restriction.

An objection (Art. 21) to an activity carried out as a processor is passed on the same way; the
controller that upholds it instructs the processing for it to stop, recorded here as the same
restriction (it covers every activity carried out for that controller, not only the one objected
to: processing less than the controller may have asked, never more).

The controller lifts its restriction (Art. 18(3); informing the subject before is its duty):
:func:`lift_restriction` records its instruction to lift and who gave it on the forwarding, and
removes the restriction of that subject for that controller, so ``decide()`` allows those activities
again from the next decision (a decision point's kept facts see the deletion as any other write).
There is one restriction per subject and controller, whichever request carried it: the lift ends it
and marks every forwarding of the subject's requests to that controller that it restricted. Audited
(``request.forwarding_restriction_lifted``); run again, it changes nothing and answers the recorded
lift. The controller may restrict again after a lift (its new instruction, on the same forwarding):
the forwarding then holds that restriction, and the audit log each restriction and lift in turn.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.problems import GardeError
from garde.register import Register
from garde.rights.forwarding import get, view
from garde.rights.intake import get_request
from garde.rights.tables import request_forwardings, requests
from garde.store.transactions import retried
from garde.subjects import instructed_restriction_scope, now, objections, record_objection, subject_objections


def covered(registers: list[Register], controller: str) -> list[str]:
    """The ids of the activities a restriction ``controller`` instructs covers: those the registers
    carry out as a processor on its behalf."""
    return sorted({a.id for register in registers for a in register.as_processor()
                   if any(c.name == controller for c in a.on_behalf_of)})


def instruct_restriction(store: Engine, registers: list[Register], request_id: str, controller: str, *,
                         instruction: str, instructed_by: str, actor: str) -> dict[str, Any]:
    """Restrict, on ``controller``'s documented instruction, the processing the organisation carries
    out for it as a processor of the subject of a forwarded restriction request; audited, once."""
    if not instruction.strip() or not instructed_by.strip():
        raise GardeError("an instructed restriction records the instruction and who gave it")

    def restricting(conn: sa.Connection) -> dict[str, Any]:
        row = get(conn, request_id, controller)
        request = get_request(conn, request_id)
        if request.type not in ("restriction", "objection"):
            raise GardeError(f"request {request_id} is a {request.type} request: a controller instructs a "
                             "restriction on a forwarded restriction or objection request")
        if row["forwarded_at"] is None:
            raise GardeError(f"request {request_id}: record its forwarding to {controller} first (`garde "
                             "request forward`): the restriction follows the controller's instruction")
        scope = instructed_restriction_scope(controller)
        if (row["instruction"] is not None and row["lifted_at"] is None) or request.subject_id is None:
            return view(row)  # restricted already (this instruction's retry, or an earlier one's)
        if scope not in objections(conn, request.subject_id):
            record_objection(conn, request.subject_id, scope, json.dumps(
                {"controller": controller, "request": request_id}))
        # restricted again after a lift: the forwarding holds the restriction in force; each
        # restriction and lift before it is in the audit log
        conn.execute(request_forwardings.update().where(
            request_forwardings.c.request_id == request_id, request_forwardings.c.controller == controller)
            .values(instruction=instruction, instructed_by=instructed_by, lifted_at=None,
                    lift_instruction=None, lifted_by=None))
        audit.record(conn, "request.forwarding_restricted", {
            "request": request_id, "controller": controller, "instruction": instruction,
            "instructed_by": instructed_by, "activities": covered(registers, controller)},
            subject_id=request.subject_id, actor=actor)
        return view(get(conn, request_id, controller))

    return retried(store, restricting, what=f"request {request_id}: its instructed restriction")


def lift_restriction(store: Engine, registers: list[Register], request_id: str, controller: str, *,
                     instruction: str, instructed_by: str, actor: str) -> dict[str, Any]:
    """Lift, on ``controller``'s documented instruction (Art. 18(3), 28(3)(a)), the restriction it
    instructed of the subject of a forwarded request; audited, once."""
    if not instruction.strip() or not instructed_by.strip():
        raise GardeError("a lifted restriction records the controller's instruction and who gave it")

    def lifting(conn: sa.Connection) -> dict[str, Any]:
        row = get(conn, request_id, controller)
        if row["lifted_at"] is not None:
            return view(row)
        subject_id = get_request(conn, request_id).subject_id
        if row["instruction"] is None or row["erased_at"] is not None or subject_id is None:
            raise GardeError(f"request {request_id}: no restriction instructed by {controller} to lift "
                             "(`garde request instruct-restriction` records one)")
        conn.execute(subject_objections.delete().where(
            subject_objections.c.subject_id == subject_id,
            subject_objections.c.scope == instructed_restriction_scope(controller)))
        f = request_forwardings.c
        conn.execute(request_forwardings.update().where(
            f.controller == controller, f.instruction.is_not(None), f.erased_at.is_(None),
            f.lifted_at.is_(None),
            f.request_id.in_(sa.select(requests.c.id).where(requests.c.subject_id == subject_id)))
            .values(lifted_at=now(), lift_instruction=instruction, lifted_by=instructed_by))
        audit.record(conn, "request.forwarding_restriction_lifted", {
            "request": request_id, "controller": controller, "instruction": instruction,
            "instructed_by": instructed_by, "activities": covered(registers, controller)},
            subject_id=subject_id, actor=actor)
        return view(get(conn, request_id, controller))

    return retried(store, lifting, what=f"request {request_id}: lifting its instructed restriction")
