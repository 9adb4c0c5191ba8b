"""The erasure a client controller instructs of the data held for it as a processor (GDPR
Art. 28(3)(a), 29), after a request found it and the DPO forwarded the request
(:mod:`garde.rights.forwarding`).

The rows are those the request found (their keys, recorded with the forwarding), the columns those
held for that controller alone (:mod:`garde.rights.held_as_processor`): the organisation's own
columns and a column held for several controllers stay. Legal holds are honoured as in any
erasure. The plan, the instruction and who gave it are audited before anything changes; the
statements are the erasure's own (:func:`garde.rights.erasure.plan_steps`), one transaction per
database; run again, it changes nothing and answers the recorded erasure.

``decide()`` is told (recorded with the subject's other decision facts, as an instructed
restriction is): the activities carried out for that controller stay allowed, with the reason
``erased_on_instruction``. The erasure was of what was held then; what the controller sends since
(the subject ordering again through it) comes with its standing documented instructions
(Art. 28(3)(a), 29), and refusing it would stop what the controller asked. A controller that wants
no more processing of the subject instructs a restriction (:mod:`garde.rights.instructed_restriction`).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, TableRef
from garde.legal_holds import active_holds
from garde.problems import GardeError
from garde.rights.deployment import Deployment
from garde.rights.erasure import apply_steps, check_fits, plan_steps
from garde.rights.erasure_plan import plan_erasure
from garde.rights.forwarding import get, view
from garde.rights.intake import get_request
from garde.rights.tables import request_forwardings
from garde.store.transactions import retried
from garde.subjects import instructed_erasure_scope, now, objections, record_objection


def instruct_erasure(store: Engine, deployment: Deployment, request_id: str, controller: str, *,
                     instruction: str, instructed_by: str, actor: str) -> dict[str, Any]:
    """Erase, on ``controller``'s documented instruction (Art. 28(3)(a), 29), the rows a request found
    of the data held for it: those columns only, legal holds still honoured. The instruction, who gave
    it and the plan are audited before anything changes; run again, it changes nothing more."""
    if not instruction.strip() or not instructed_by.strip():
        raise GardeError("an instructed erasure records the instruction and who gave it")
    with store.connect() as conn:
        row = get(conn, request_id, controller)
        if row["erased_at"] is not None:
            return view(row)
        if row["forwarded_at"] is None:
            raise GardeError(f"request {request_id}: record its forwarding to {controller} first "
                             "(`garde request forward`): the erasure follows the controller's instruction")
        holds = active_holds(conn)
        subject_id = get_request(conn, request_id).subject_id
    keys = {TableRef(*table.split(".", 1)): set(rows) for table, rows in json.loads(row["keys"]).items()}
    footprint = Footprint(deployment.datamap, {}, keys=keys)
    plan = plan_erasure(deployment, footprint, holds, subject_id, now().date(), instructed=controller)
    check_fits(deployment, plan)
    steps = plan_steps(deployment, plan)
    report = plan.report()
    retried(store, lambda conn: audit.record(conn, "request.forwarding_erasure_planned", {
        "request": request_id, "controller": controller, "instruction": instruction,
        "instructed_by": instructed_by, "steps": len(steps), "erased": len(report["erased"]),
        "kept": [{k: v for k, v in item.items() if k != "key"} for item in report["kept"]][:200]},
        subject_id=subject_id, actor=actor), what=f"request {request_id}: its instructed erasure's plan")
    applied: dict[str, tuple[int, int]] = {}
    apply_steps(deployment, steps, applied)
    result = {"erased": len(report["erased"]), "kept": len(report["kept"]),
              "rows_changed": {database: changed for database, (_, changed) in applied.items()}}

    def done(conn: sa.Connection) -> dict[str, Any]:
        conn.execute(request_forwardings.update().where(
            request_forwardings.c.request_id == request_id, request_forwardings.c.controller == controller)
            .values(instruction=instruction, instructed_by=instructed_by, erased_at=now(),
                    erasure=json.dumps(result)))
        # told to decide(): its activities for this controller say what was held is erased
        scope = instructed_erasure_scope(controller)
        if subject_id is not None and scope not in objections(conn, subject_id):
            record_objection(conn, subject_id, scope, json.dumps({"controller": controller,
                                                                  "request": request_id}))
        audit.record(conn, "request.forwarding_erased", {"request": request_id, "controller": controller,
                                                         "instructed_by": instructed_by, **result},
                     subject_id=subject_id, actor=actor)
        return view(get(conn, request_id, controller))

    return retried(store, done, what=f"request {request_id}: its instructed erasure")
