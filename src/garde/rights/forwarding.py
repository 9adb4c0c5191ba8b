"""Data held as a processor: a request forwarded to the controller it is processed for.

A register may declare activities its organisation carries out as a processor for other
controllers (``role: processor``, ``on_behalf_of``). The processor does not decide on that data:
it acts only on the controller's documented instructions (GDPR Art. 28(3)(a), 29) and assists the
controller in answering the subjects' requests (Art. 28(3)(e)). So a request does not answer or
erase that data as the organisation's own:

- Which data is held as a processor: :mod:`garde.rights.held_as_processor` (a column that a
  controller activity also uses is the organisation's own, answered as such).
- The request records, per client controller, the rows found per table (``found``) and, for the
  store only, their keys, so that an erasure the controller instructs is exact
  (:func:`instruct_erasure`); the subject's answer names the controller and its contact, from the
  register, and says the request is passed on to it (:func:`subject_notes`), never a value.
- The DPO forwards it (:func:`mark_forwarded`, audited) and, when the controller instructs it,
  erases those rows (:func:`garde.rights.instructed_erasure.instruct_erasure`: the instruction and
  who gave it recorded, audited before anything changes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.documents.wording import Wording
from garde.problems import NotFound
from garde.register import Register
from garde.rights.held_as_processor import Forwarding, contact_text, served
from garde.rights.tables import request_forwardings
from garde.store.transactions import retried
from garde.subjects import now


def record(conn: sa.Connection, request_id: str, subject_id: str | None, forwardings: list[Forwarding],
           actor: str) -> list[audit.Event]:
    """Store the request's forwardings to do (a run resumed keeps the ones already stored); the
    audit entries to append."""
    if not forwardings:
        return []
    stored = set(conn.execute(sa.select(request_forwardings.c.controller).where(
        request_forwardings.c.request_id == request_id)).scalars())
    new = [f for f in forwardings if f.controller not in stored]
    if new:
        at = now()
        conn.execute(request_forwardings.insert(), [
            {"request_id": request_id, "controller": f.controller, "found": json.dumps(f.found),
             "keys": json.dumps(f.keys, default=str), "noted_at": at} for f in new])
    return [audit.Event("request.forwarding_due", {"request": request_id, "controller": f.controller,
                                                   "found": f.found}, subject_id, actor) for f in new]


def listed(conn: sa.Connection, request_id: str) -> list[dict[str, Any]]:
    """The request's forwardings, as the DPO sees them (no keys, no value)."""
    rows = conn.execute(sa.select(request_forwardings).where(
        request_forwardings.c.request_id == request_id).order_by(request_forwardings.c.controller)).all()
    return [view(row._mapping) for row in rows]


def pending(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every forwarding not yet done, oldest first, with its request (the DPO's queue)."""
    rows = conn.execute(sa.select(request_forwardings).where(request_forwardings.c.forwarded_at.is_(None))
                        .order_by(request_forwardings.c.noted_at, request_forwardings.c.request_id)).all()
    return [{"request": row.request_id, **view(row._mapping)} for row in rows]


def view(row: Any) -> dict[str, Any]:
    def at(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    # an instruction with no erasure is a restriction the controller instructed, until it lifts it
    # (garde.rights.instructed_restriction)
    status = ("erased" if row["erased_at"] else "lifted" if row["lifted_at"] else
              "restricted" if row["instruction"] else "forwarded" if row["forwarded_at"] else "to_forward")
    return {"controller": row["controller"], "status": status, "found": json.loads(row["found"]),
            "noted_at": at(row["noted_at"]), "forwarded_at": at(row["forwarded_at"]),
            "forwarded_by": row["forwarded_by"], "note": row["forward_note"],
            "instruction": row["instruction"], "instructed_by": row["instructed_by"],
            "erased_at": at(row["erased_at"]),
            "erasure": json.loads(row["erasure"]) if row["erasure"] else None,
            "lifted_at": at(row["lifted_at"]), "lift_instruction": row["lift_instruction"],
            "lifted_by": row["lifted_by"]}


def with_contacts(registers: Iterable[Register], views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The DPO's view of forwardings, each with the controller's contact and DPO from the registers."""
    words = Wording("en", "en")
    registers = list(registers)
    out = []
    for view in views:
        entry = served(registers, view["controller"])
        out.append({**view, "contact": contact_text(entry.contact if entry else None, words),
                    "dpo": contact_text(entry.dpo if entry else None, words)})
    return out


def get(conn: sa.Connection, request_id: str, controller: str) -> Any:
    row = conn.execute(sa.select(request_forwardings).where(
        request_forwardings.c.request_id == request_id,
        request_forwardings.c.controller == controller)).first()
    if row is None:
        raise NotFound(f"request {request_id} has no forwarding to {controller!r}")
    return row._mapping


def mark_forwarded(store: Engine, request_id: str, controller: str, *, actor: str,
                   note: str | None = None) -> dict[str, Any]:
    """Record that the request was passed on to ``controller`` (audited); once only."""
    def forwarding(conn: sa.Connection) -> dict[str, Any]:
        row = get(conn, request_id, controller)
        if row["forwarded_at"] is not None:
            return view(row)
        conn.execute(request_forwardings.update().where(
            request_forwardings.c.request_id == request_id, request_forwardings.c.controller == controller)
            .values(forwarded_at=now(), forwarded_by=actor, forward_note=note))
        audit.record(conn, "request.forwarded", {"request": request_id, "controller": controller,
                                                 "note": note}, actor=actor)
        return view(get(conn, request_id, controller))

    return retried(store, forwarding, what=f"request {request_id}: its forwarding to {controller}")
