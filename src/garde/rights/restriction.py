"""Restriction (GDPR Art. 18) and objection (Art. 21), recorded on the subject.

A restricted subject's data is only stored: ``decide()`` reads the state, for the organisation's
own activities. What it carries out as a processor is its controllers' to restrict: the request is
forwarded to them (:mod:`garde.rights.running`) and their instruction recorded
(:mod:`garde.rights.instructed_restriction`).
An objection is recorded with its scope (an activity id, or
``direct_marketing``). Objection to direct marketing is absolute (Art.
21(3)): the subject's hashed identifiers go on the suppression list, so they
are never contacted again, even after an erasure.

The reason a subject writes for either (free text: what they object about, often where they live
now) is their own words: the request's details and result and the objection keep it, which the
erasure reaches (:func:`forget_reasons`); the audit log, append-only, says only that a reason was
given, with its keyed digest (red30, fix31).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from garde import audit
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.rights.intake import Request
from garde.rights.tables import request_identities, requests
from garde.store.driver import driver_execute
from garde.subjects import (
    IDENTIFIER_KINDS,
    INSTRUCTED_ERASURE,
    INSTRUCTED_RESTRICTION,
    now,
    record_objection,
    set_state,
    subject_identifiers,
    subject_objections,
)
from garde.suppression import suppress, suppression_list

DIRECT_MARKETING = "direct_marketing"


def restrict(conn: sa.Connection, request: Request, *, actor: str = "garde") -> dict[str, Any]:
    """Mark the subject restricted; returns the result recorded on the request."""
    subject_id = _subject(request)
    set_state(conn, subject_id, "restricted")
    reason = request.details.get("reason")
    audit.record(conn, "subject.restricted", {"request": request.id, **said(conn, reason)},
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
    audit.record(conn, "subject.objected", {"request": request.id, "scope": scope, **said(conn, reason),
                                            "suppressed": suppressed}, subject_id=subject_id, actor=actor)
    return {"objection": scope, "reason": reason, "suppressed_identifiers": suppressed}


def said(conn: sa.Connection, reason: object) -> dict[str, Any]:
    """What the audit log says of a subject's reason: whether one was given, and its keyed digest
    under the store's identifier data key (a reason shown later can be proven the one given), never
    the words."""
    if not isinstance(reason, str) or not reason.strip():
        return {"reason_given": False}
    digest = hmac.digest(identifier_data_key(conn), f"reason:{reason}".encode(), "sha256").hex()
    return {"reason_given": True, "reason_hash": digest}


#: What an erasure leaves where a subject's reason was.
ERASED = "[erased]"
_REASONED = ("objection", "restriction")


def forget_reasons(conn: sa.Connection, subjects: Sequence[str], digests: Sequence[str]) -> int:
    """Replace by :data:`ERASED` the reasons the erased ``subjects`` wrote: in their objections, and
    in the details and result of their objection and restriction requests (and of those never
    verified that gave one of the identity ``digests``). Run by the erasure's completion, in its
    transaction; idempotent (a reason already erased is not read again). Returns the requests changed.

    One statement a table, built once and run on the driver (:mod:`garde.store.driver`), the JSON
    edited where it lies: most erasures meet no reason, and the completion holds the store's write
    lock (era31)."""
    if subjects:
        driver_execute(conn, _FORGET_OBJECTIONS, {"subjects": list(subjects)})
    statement = _FORGET_REQUESTS.get(conn.dialect.name)
    if statement is None:
        statement = _FORGET_REQUESTS[conn.dialect.name] = _forget_requests(conn.dialect.name)
    return driver_execute(conn, statement, {"subjects": list(subjects), "digests": list(digests)})


_O = subject_objections.c
_FORGET_OBJECTIONS = subject_objections.update().where(
    _O.subject_id.in_(sa.bindparam("subjects", expanding=True)), _O.reason.is_not(None), _O.reason != ERASED,
    ~_O.scope.startswith(INSTRUCTED_RESTRICTION, autoescape=True),
    ~_O.scope.startswith(INSTRUCTED_ERASURE, autoescape=True)).values(reason=ERASED)
_FORGET_REQUESTS: dict[str, sa.Update] = {}  # by dialect: their JSON functions differ


def _forget_requests(dialect: str) -> sa.Update:
    r = requests.c
    unverified = sa.and_(r.subject_id.is_(None), r.id.in_(sa.select(request_identities.c.request_id).where(
        request_identities.c.digest.in_(sa.bindparam("digests", expanding=True)))))
    details, new_details = _erasing(dialect, r.details)
    result, new_result = _erasing(dialect, r.result)
    return requests.update().where(
        r.type.in_(_REASONED), sa.or_(r.subject_id.in_(sa.bindparam("subjects", expanding=True)), unverified),
        sa.or_(details, result)).values(details=new_details, result=new_result)


def _erasing(dialect: str, column: sa.Column[Any]) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[Any]]:
    """Whether ``column`` (a JSON object as text) holds a reason to erase (one given and not
    :data:`ERASED` yet), and the column with that reason as :data:`ERASED` (unchanged otherwise),
    in the ``dialect``'s own JSON functions."""
    if dialect == "postgresql":
        document = sa.cast(column, postgresql.JSONB)
        given: sa.ColumnElement[Any] = document["reason"].astext
        replaced = sa.func.jsonb_set(document, sa.literal_column("'{reason}'"),
                                     sa.literal(ERASED, postgresql.JSONB))
        erased: sa.ColumnElement[Any] = sa.cast(replaced, sa.Text)
    else:
        given = sa.func.json_extract(column, "$.reason")
        erased = sa.func.json_set(column, "$.reason", ERASED)
    due = sa.and_(column.is_not(None), given.is_not(None), given != ERASED)
    return due, sa.case((due, erased), else_=column)


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
