"""Restriction (GDPR Art. 18) and objection (Art. 21), recorded on the subject.

A restricted subject's data is only stored: ``decide()`` reads the state, for the organisation's
own activities. What it carries out as a processor is its controllers' to restrict: the request is
forwarded to them (:mod:`garde.rights.running`) and their instruction recorded
(:mod:`garde.rights.instructed_restriction`).
An objection is recorded with its scope (an activity id, or
``direct_marketing``). Objection to direct marketing is absolute (Art.
21(3)): the subject's hashed identifiers go on the suppression list, so they
are never contacted again, even after an erasure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights.intake import Request
from garde.subjects import IDENTIFIER_KINDS, now, record_objection, set_state, subject_identifiers
from garde.suppression import suppress, suppression_list

DIRECT_MARKETING = "direct_marketing"


def restrict(conn: sa.Connection, request: Request, *, actor: str = "garde") -> dict[str, Any]:
    """Mark the subject restricted; returns the result recorded on the request."""
    subject_id = _subject(request)
    set_state(conn, subject_id, "restricted")
    reason = request.details.get("reason")
    audit.record(conn, "subject.restricted", {"request": request.id, "reason": reason},
                 subject_id=subject_id, actor=actor)
    return {"state": "restricted", "reason": reason}


def object_to(conn: sa.Connection, request: Request, *, also: Mapping[str, Iterable[str]] | None = None,
              actor: str = "garde") -> dict[str, Any]:
    """Record the objection; for direct marketing, suppress every identifier of the subject.

    ``also`` adds identifiers found in the datasets ({kind: values}), e.g. the
    phone number of a subject who wrote with their e-mail only.
    """
    subject_id = _subject(request)
    scope = str(request.details.get("scope") or DIRECT_MARKETING)
    reason = request.details.get("reason")
    record_objection(conn, subject_id, scope, reason)
    suppressed = 0
    if scope == DIRECT_MARKETING:
        suppressed = suppress(conn, request.identities, "objection")
        for kind, values in (also or {}).items():
            if kind in IDENTIFIER_KINDS:
                for value in sorted(values):
                    suppressed += suppress(conn, {kind: value}, "objection")
        suppressed += _suppress_known_hashes(conn, subject_id)
    audit.record(conn, "subject.objected", {"request": request.id, "scope": scope, "reason": reason,
                                            "suppressed": suppressed}, subject_id=subject_id, actor=actor)
    return {"objection": scope, "reason": reason, "suppressed_identifiers": suppressed}


def _suppress_known_hashes(conn: sa.Connection, subject_id: str) -> int:
    """Every identifier hash the engine links to the subject, in one INSERT ... SELECT."""
    ids = subject_identifiers.c
    missing = sa.select(ids.kind, ids.hash, sa.literal("objection"),
                        sa.literal(now(), sa.DateTime(timezone=True))).where(
        ids.subject_id == subject_id,
        ~sa.exists().where(suppression_list.c.kind == ids.kind, suppression_list.c.hash == ids.hash))
    result = conn.execute(suppression_list.insert().from_select(["kind", "hash", "reason", "added_at"],
                                                                missing))
    return max(result.rowcount, 0)


def _subject(request: Request) -> str:
    if request.subject_id is None:
        raise GardeError(f"request {request.id} has no verified subject")
    return request.subject_id
