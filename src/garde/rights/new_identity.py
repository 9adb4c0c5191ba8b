"""A rectified e-mail or phone is proven before garde writes it (GDPR Arts. 16 and 12(6)).

A rectification that changes an identifier garde finds or contacts the subject by (a column the
data map declares as an identity, or a column of the same category: every copy of
``contact.email``) would otherwise write a value nobody proved into the databases: the shop would
mail its order confirmations and password resets to whoever holds it, and a later sign-in with it
would find the subject's rows. So before such a change runs, each new value is proven on its own,
as a request's identities are (:mod:`garde.rights.verification`, the same codes, limits and lock):

- an e-mail or phone by a one-time code sent **to the new value**, checked as ``new_email`` /
  ``new_phone`` (``garde request verify ID --code CODE --identity new_email``);
- or, by staff only, by an out-of-band check naming it (``--out-of-band HOW --checked new_email``),
  audited with the reason like any agent's check (a customer number cannot receive a code).

Until then the run stops before it starts: the request stays ``verified``, marked as waiting
(``details.confirming``, a step ``awaiting`` the subject sees), and its deadline runs (Art. 12(3)
does not stop for a confirmation garde asks for). A new value that is already another person's, a
subject garde knows or rows of the databases that are not the requester's, is never written: the
requester is told nothing more than that the request waits (the code is sent all the same, so the
two cases look alike to them, and it warns the holder); the DPO is told by the run's error, the
request's ``details.conflict`` and an audit entry naming no subject (it must not reach the
requester's access answer).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, TableMap, find_subject
from garde.datasets.sql import sql_table
from garde.problems import GardeError
from garde.rights.deployment import Deployment, where
from garde.rights.intake import NEW, Request, RequestConflict, get_request, record_step
from garde.rights.mailer import Mailer, SmsSender
from garde.rights.rectification import Guard
from garde.rights.tables import requests, verification_codes
from garde.rights.verification import CODE_KINDS, send_new_identity_code
from garde.store import is_postgres
from garde.store.transactions import retried
from garde.subjects import find_subject as find_known
from garde.subjects import identifier_hash, normalise_identifier, now

NOUNS = {"email": "e-mail address", "phone": "telephone number", "customer_id": "customer number"}


class AwaitingConfirmation(RequestConflict):
    """The rectification waits for its new identities to be proven (or staff to look at a conflict)."""


def _identity_columns(deployment: Deployment) -> Iterator[tuple[TableMap, str, str]]:
    """``(table, column, kind)`` for each column declared as an identity, or of the category such a
    column has (a copy of it)."""
    categories = {table.columns[column].category: kind for table in deployment.datamap
                  for kind, column in table.identities.items() if column in table.columns}
    for table in deployment.datamap:
        declared = {column: kind for kind, column in table.identities.items()}
        for name, column in table.columns.items():
            kind = declared.get(name) or categories.get(column.category)
            if kind is not None:
                yield table, name, kind


def _new_values(deployment: Deployment, corrections: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``{kind: (new value normalised, as given)}`` for each identity kind ``corrections`` change."""
    found: dict[str, tuple[str, str]] = {}
    for table, name, kind in _identity_columns(deployment):
        for field, value in corrections.items():
            if value is not None and field in (table.columns[name].category, where(table, name)):
                found[kind] = (normalise_identifier(kind, str(value), deployment.phone_region), str(value))
    return found


def new_identities(deployment: Deployment, corrections: Mapping[str, Any]) -> dict[str, str]:
    """``{kind: new value, normalised}`` for each identity kind ``corrections`` change: a column
    declared as that identity, or any column of the category such a column has (a copy of it)."""
    return {kind: normalised for kind, (normalised, _) in _new_values(deployment, corrections).items()}


class IdentityTaken(GardeError):
    """A new identity was found another person's in the transaction that wrote it: nothing was written."""

    def __init__(self, kinds: list[str]) -> None:
        self.kinds = kinds
        super().__init__("the rectification was not written: its new value must be looked at by staff")


def held_alone(deployment: Deployment, footprint: Footprint, corrections: Mapping[str, Any],
               key: bytes) -> Guard:
    """The guard :func:`garde.rights.rectification.rectify` runs in each database's write transaction:
    raise :class:`IdentityTaken` when a row that is not the subject's holds a new e-mail or phone (an
    account created with it since :func:`confirmed` looked). It checks nothing when no identity changes.

    The check is exact among garde's own writers. On PostgreSQL (read committed) it first takes, in
    the writing transaction, an advisory lock on each new value's keyed digest (``key``: the store's
    identifier data key, so the lock's number tells ``pg_locks`` readers nothing about the address),
    held until the commit: a second rectification to the same value waits there, then reads the
    first one's committed row and refuses. Locks are taken in one order (databases in the map's
    order, values by digest), so two writers cannot hold one each and wait for the other. On SQLite
    the transaction's first UPDATE already holds the database's write lock until the commit, so
    writers run in turn and need nothing more. A row the shop itself inserts between the check and
    the commit is not locked out: only a unique index on the shop's column closes that."""
    wanted = _new_values(deployment, corrections)
    columns = [(table, name, kind) for table, name, kind in _identity_columns(deployment) if kind in wanted]
    locks = {kind: int(identifier_hash(kind, normalised, key)[:15], 16)  # fits a bigint
             for kind, (normalised, _) in wanted.items()}

    def guard(database: str, conn: sa.Connection) -> None:
        here = [(table, name, kind) for table, name, kind in columns if table.database == database]
        if is_postgres(conn):
            for number in sorted({locks[kind] for _, _, kind in here}):
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(number)))
        taken = set()  # no columns (no identity changed): no query
        for table, name, kind in here:
            clause = sql_table(table, [table.primary_key, name])
            spellings = sorted({value.strip().lower() for value in wanted[kind]})
            holders = conn.execute(sa.select(clause.c[table.primary_key]).where(
                sa.func.lower(clause.c[name]).in_(spellings))).scalars()
            if set(holders) - set(footprint.primary_keys(database, table.name)):
                taken.add(kind)
        if taken:
            raise IdentityTaken(sorted(taken))

    return guard


def others(store: Engine, deployment: Deployment, request: Request, footprint: Footprint,
           wanted: Mapping[str, str]) -> list[str]:
    """The kinds whose new value is already another person's: a subject garde knows that is not the
    request's, or rows of the databases that are not among the subject's own."""
    taken = []
    with store.connect() as conn:
        for kind, value in sorted(wanted.items()):
            known = find_known(conn, {kind: value})
            if known is not None and known != request.subject_id:
                taken.append(kind)
                continue
            if not deployment.datamap.with_identity(kind):
                continue
            holder = find_subject(deployment.datamap, deployment.engines, {kind: value})
            if any(set(holder.primary_keys(*ref)) - set(footprint.primary_keys(*ref))
                   for ref in holder.tables()):
                taken.append(kind)
    return taken


def confirmed(store: Engine, request: Request, deployment: Deployment, located: Callable[[], Footprint], *,
              mailer: Mailer | None, actor: str) -> None:
    """Return when every new identity of the rectification is proven and no one else's; otherwise
    mark the request as waiting (once), send each new e-mail or phone its code (once, with a
    ``mailer``), and raise :class:`AwaitingConfirmation` (committed first: the mark stays).
    ``located``: the subject's rows, asked for only when a new identity is to be checked."""
    wanted = new_identities(deployment, request.details.get("corrections") or {})
    if not wanted:
        return
    pending = sorted(kind for kind in wanted if NEW + kind not in request.proofs)
    taken = others(store, deployment, request, located(), wanted)
    if not pending and not taken:
        return

    def mark(conn: sa.Connection) -> None:
        current = get_request(conn, request.id)
        details = dict(current.details)
        first = sorted(set(pending) - set(details.get("confirming") or []))
        new_conflicts = sorted(set(taken) - set(details.get("conflict") or []))
        if first or new_conflicts:
            details["confirming"] = sorted({*(details.get("confirming") or []), *pending})
            if taken:
                details["conflict"] = sorted({*(details.get("conflict") or []), *taken})
            conn.execute(requests.update().where(requests.c.id == request.id).values(
                details=json.dumps(details, ensure_ascii=False, sort_keys=True)))
        if new_conflicts:  # for the DPO only: naming no subject, it is in no one's access answer
            audit.record(conn, "request.identity_in_use",
                         {"request": request.id, "identities": new_conflicts}, subject_id=None, actor=actor)
        if first:
            record_step(conn, request.id, "awaiting", actor, "waits for the new "
                        + " and ".join(NOUNS.get(kind, kind) for kind in first) + " to be confirmed",
                        payload={"identities": [NEW + kind for kind in first]})
        for kind in pending:  # a code to each new value that has none waiting (a first, or one expired)
            reachable = kind in CODE_KINDS and (kind != "phone" or isinstance(mailer, SmsSender))
            if mailer is not None and reachable and not _code_waiting(conn, request.id, NEW + kind):
                send_new_identity_code(conn, current, kind, wanted[kind], mailer, actor=actor)

    retried(store, mark, what=f"request {request.id}: waiting for its new identities")
    message = [f"request {request.id} does not run yet:"]
    if pending:
        kinds = ", ".join(NEW + kind for kind in pending)
        message.append(f"it waits for the new {' and '.join(NOUNS.get(k, k) for k in pending)} to be proven "
                       f"(the one-time code sent to it: verify ID --code CODE --identity {NEW + pending[0]}; "
                       f"or a staff check: verify ID --out-of-band HOW --checked {kinds})")
    if taken:
        message.append(f"the new {' and '.join(NOUNS.get(k, k) for k in taken)} already belongs to another "
                       "person (in garde or in a database); it is never written: reject the request with a "
                       "reason that names no one")
    raise AwaitingConfirmation(" ".join(message))


def _code_waiting(conn: sa.Connection, request_id: str, kind: str) -> bool:
    """A code for ``kind`` was sent, is unused and has not expired."""
    codes = verification_codes.c
    expires = conn.execute(sa.select(codes.expires_at).where(
        codes.request_id == request_id, codes.kind == kind, codes.used_at.is_(None))).scalar()
    return expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) > now()
