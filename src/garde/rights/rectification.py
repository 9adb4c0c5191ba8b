"""Rectification (GDPR Art. 16): a correction reaches every copy of the field.

A correction names a data category (``contact.phone``: every column of
that category in the subject's rows, in every database) or one column
(``shop.customers.phone``). One UPDATE per table and database, only on the
subject's rows, in one transaction per database.

When the corrected column is an identity (e-mail, phone), the new value is written only once it
was proven for this request (:mod:`garde.rights.new_identity`: a code sent to it, or staff's
recorded check). Once the run has written it in every copy, the transaction that records the
rectification moves the subject's link in garde's store (:func:`move_identities`): the old values
are unlinked (the subject's rows no longer hold them; whoever holds a recycled address next must
not open the subject's requests, answer files or consents, GDPR Art. 5(1)(f), 32) and the new value
is linked in their place, a proof for this request being as strong as a sign-in with it, unless
another subject of garde's holds it by then (:data:`NOT_LINKED`, said in the result). The subject's
refusals follow it either way (:func:`carry_refusals`): an objection to direct marketing or a
suppression puts the new value on the suppression list.

The new values are personal data too: once the request is closed, the
request keeps only a keyed digest of each (:func:`sealed`), enough to prove
which value was asked for (recompute it with the key), not to read it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection, Mapping
from contextlib import ExitStack
from contextlib import suppress as suppress_error
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from garde.consent.objections import DIRECT_MARKETING
from garde.datasets import Footprint, TableMap, TableRef, normalise_identity
from garde.datasets.sql import chunks, sql_table
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.rights.deployment import Deployment, where
from garde.rights.held_as_processor import held_for
from garde.rights.tables import identity_handovers, request_identities, requests
from garde.subjects import identifier_hash, now, objections, subject_identifiers
from garde.suppression import is_subject_suppressed, suppress


def targets(deployment: Deployment, footprint: Footprint,
            corrections: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(database, table): {column: new value}}`` for the subject's tables; a column held only as a
    processor is its controller's to correct (the request is forwarded), even where the category it
    shares with an own column of the same table is corrected there."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    matched: set[str] = set()
    for ref in footprint.tables():
        table = deployment.datamap.table(ref)
        held = held_for(deployment, table)
        for name, column in table.columns.items():
            if name in held:
                continue
            for field, value in corrections.items():
                if field in (column.category, where(table, name)):
                    out.setdefault((ref.database, ref.table), {})[name] = value
                    matched.add(field)
    unmatched = sorted(set(corrections) - matched)
    if unmatched and not footprint.tables():  # e.g. another rectification of the subject just rewrote it
        raise GardeError("no row holds the identities the request gave (any more): nothing to correct; "
                         "if another rectification changed them, ask again with the current ones")
    if unmatched:
        raise GardeError(f"no field of the subject's data matches {', '.join(unmatched)}; name a data "
                         "category (contact.phone) or a column (shop.customers.phone)")
    return out


# Called with each database and its transaction, after the UPDATEs: raising rolls every database back.
Guard = Callable[[str, sa.Connection], None]


def rectify(deployment: Deployment, footprint: Footprint, corrections: Mapping[str, Any], *,
            guard: Guard = lambda database, conn: None,
            leave: Mapping[TableRef, Collection[Any]] | None = None) -> dict[str, Any]:
    """Apply ``corrections`` to every copy; returns what was changed, per column. ``leave``: the keys
    of the rows that are another person's (:func:`garde.rights.shared.shared_rows`): only the subject's
    own rows are corrected.

    Every database's transaction stays open until all are written and ``guard`` passed in each database
    of the map, on the transaction that wrote it (:func:`garde.rights.new_identity.held_alone`: a new
    identity no one else holds): a guard that raises leaves every database as it was."""
    if not corrections:
        raise GardeError("a rectification needs corrections, e.g. --set contact.phone=+33612345678")
    plan = targets(deployment, footprint, corrections)
    old_values = held_before(deployment, footprint, plan)
    changed: dict[str, int] = {}
    identities: dict[str, str] = {}
    by_database: dict[str, list[tuple[TableMap, dict[str, Any]]]] = {}
    for (database, name), values in plan.items():
        by_database.setdefault(database, []).append((deployment.datamap.table((database, name)), values))
    with ExitStack() as stack:
        opened: dict[str, sa.Connection] = {}
        for database, tables in by_database.items():
            conn = opened[database] = stack.enter_context(deployment.engines[database].begin())
            for table, values in tables:
                clause = sql_table(table, [table.primary_key, *values])
                count = 0
                theirs = (leave or {}).get(table.ref, ())
                own = [k for k in footprint.primary_keys(database, table.name) if k not in theirs]
                for batch in chunks(own):
                    keyed = clause.c[table.primary_key].in_(list(batch))
                    result = conn.execute(sa.update(clause).where(keyed).values(values))
                    count += max(result.rowcount, 0)
                for column in values:
                    changed[where(table, column)] = count
                for kind, column in table.identities.items():
                    if column in values and values[column] is not None:
                        identities[kind] = normalise_identity(kind, str(values[column]))
        for database in deployment.datamap.datasets:
            conn = opened.get(database) or stack.enter_context(deployment.engines[database].begin())
            guard(database, conn)
    replaced_values = {kind: values for kind, values in old_values.items() if kind in identities}
    return {"changed": changed, "identities": identities, "replaced": replaced_values,
            "old_values_left_in": left_in(deployment, footprint, plan, replaced_values)}


def held_before(deployment: Deployment, footprint: Footprint,
                plan: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, set[str]]:
    """``{kind: values}``: what the identity columns about to be corrected hold in the subject's rows
    (as discovery read them), the values the rectification replaces."""
    out: dict[str, set[str]] = {}
    for (database, name), values in plan.items():
        table = deployment.datamap.table((database, name))
        columns = {kind: column for kind, column in table.identities.items() if column in values}
        if not columns:
            continue
        for row in footprint.rows(deployment.engines, TableRef(database, name), list(columns.values())):
            for kind, column in columns.items():
                if row.get(column) is not None:
                    with suppress_error(GardeError):  # a value no address or number reads as: never linked
                        out.setdefault(kind, set()).add(normalise_identity(kind, str(row[column])))
    return out


def left_in(deployment: Deployment, footprint: Footprint, plan: Mapping[tuple[str, str], Mapping[str, Any]],
            replaced_values: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """``{kind: columns}``: the identity columns not corrected whose subject's rows still hold a value
    the rectification replaced (a correction of one column: the CRM keeps the old address), for staff."""
    out: dict[str, list[str]] = {}
    for ref in footprint.tables():
        table = deployment.datamap.table(ref)
        kept = {kind: column for kind, column in table.identities.items()
                if kind in replaced_values and column not in plan.get((ref.database, ref.table), {})}
        if not kept:
            continue
        for row in footprint.rows(deployment.engines, ref, list(kept.values())):
            for kind, column in kept.items():
                with suppress_error(GardeError):
                    if row.get(column) is not None and \
                            normalise_identity(kind, str(row[column])) in replaced_values[kind]:
                        out.setdefault(kind, []).append(where(table, column))
    return {kind: sorted(set(columns)) for kind, columns in out.items()}


LINKED = "linked to the subject in garde's store in place of the value it replaced"
NOT_LINKED = ("held by another subject in garde's store: not linked to this one; "
              "the subject's refusals apply to it")


def replaced(conn: sa.Connection, deployment: Deployment, footprint: Footprint, changed: Mapping[str, int],
             identities: Mapping[str, str], given: Mapping[str, str],
             values: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The keyed digests of the old values of each identity kind the rectification rewrote: the values
    the corrected columns held (``values``, :func:`held_before`), even where other rows still hold them
    (a correction of one column: the subject said the value is theirs no more, and whoever holds a
    recycled address next must not open their records); and, for a kind rewritten in every copy, every
    value discovery found for the subject and the one the request gave (``given``: its digests)."""
    key = identifier_data_key(conn)
    out: dict[str, set[str]] = {}
    for kind in identities:
        digests = {identifier_hash(kind, value, key) for value in values.get(kind, ())}
        columns = [where(table, column) for ref in footprint.tables()
                   for table in (deployment.datamap.table(ref),)
                   for found, column in table.identities.items() if found == kind]
        if all(column in changed for column in columns):
            digests |= {given[kind]} if kind in given else set()
            for value in footprint.identities.get(kind, ()):
                with suppress_error(GardeError):  # a value no address or number reads as: never linked
                    digests.add(identifier_hash(kind, value, key))
        out[kind] = digests
    return out


def move_identities(conn: sa.Connection, subject_id: str, identities: Mapping[str, str],
                    old: Mapping[str, set[str]]) -> dict[str, str]:
    """Once a rectification wrote ``identities`` ({kind: new value}) in every copy, in the transaction
    that records it: the old values (``old``: {kind: digests}, :func:`replaced`) are no longer linked to
    ``subject_id`` (GDPR Art. 5(1)(f), 32: whoever holds a recycled address next must not open the
    subject's records), and each new value is linked in their place unless another subject holds it
    (:data:`LINKED`, :data:`NOT_LINKED`). The new value was proven for this request (a code sent to
    it, or staff's recorded check), as a sign-in proves it. The subject's refusals follow it either
    way (:func:`carry_refusals`)."""
    carry_refusals(conn, subject_id, identities)
    key = identifier_data_key(conn)
    i = subject_identifiers.c
    outcome: dict[str, str] = {}
    moved: list[str] = []
    for kind, value in sorted(identities.items()):
        digest = identifier_hash(kind, value, key)
        gone = old.get(kind, set()) - {digest}
        if gone:
            moved += conn.execute(subject_identifiers.delete().where(
                i.subject_id == subject_id, i.kind == kind, i.hash.in_(sorted(gone)))
                .returning(i.hash)).scalars()
        holder = conn.execute(sa.select(i.subject_id).where(i.kind == kind, i.hash == digest)).scalar()
        if holder is None:  # linked by another transaction meanwhile: the key refuses this one, run again
            # proven: its code (or staff's check) proved it for a request whose proofs vouched for
            # ``subject_id`` (garde.rights.vouching; or a subject of the request's own)
            conn.execute(subject_identifiers.insert().values(subject_id=subject_id, kind=kind, hash=digest,
                                                             proven=True))
            moved.append(digest)
        outcome[kind] = LINKED if holder in (None, subject_id) else NOT_LINKED
    handed_over(conn, moved)
    return outcome


def handed_over(conn: sa.Connection, digests: list[str]) -> None:
    """Record that ``digests`` changed hands now: a request never verified that named one before is its
    former holder's (or someone posing as them), never listed to whoever holds it from now on
    (:func:`garde.rights.self_service.my_requests`, :func:`garde.rights.held.garde_held`). The moments
    no longer needed go (:func:`forget_handovers`)."""
    if digests:
        unique, at = sorted(set(digests)), now()
        conn.execute(identity_handovers.delete().where(identity_handovers.c.digest.in_(unique)))
        conn.execute(identity_handovers.insert(), [{"digest": digest, "at": at} for digest in unique])
        forget_handovers(conn, at)


# A session opened before a move may still be used this long after it (its row's life,
# garde.rights.sessions.KEPT, two days): its "details changed" page reads the moment.
HANDOVER_SESSIONS = timedelta(days=2)


def forget_handovers(conn: sa.Connection, moment: datetime) -> int:
    """Delete the handovers no longer needed at ``moment`` (GDPR Art. 5(1)(e)); how many. A value's moment
    is needed while a request never verified that gave it before that moment exists (hidden from the
    value's holders since), and while a session opened before it may still be used; past both, the
    keyed digest of an old address and its date serve nothing. Called at each move and each session
    start (:func:`garde.rights.sessions.start_session`), as sessions forget their own rows."""
    h, given, r = identity_handovers.c, request_identities.c, requests.c
    named_before = sa.select(given.request_id).join(requests, r.id == given.request_id).where(
        given.digest == h.digest, r.subject_id.is_(None), r.received_at <= h.at)
    gone = conn.execute(identity_handovers.delete().where(
        h.at < moment - HANDOVER_SESSIONS, ~sa.exists(named_before)))
    return max(gone.rowcount or 0, 0)


def carry_refusals(conn: sa.Connection, subject_id: str, identities: Mapping[str, str]) -> None:
    """The subject's refusals applied to the new identity values of a rectification: suppressed when the
    subject objected to direct marketing or is on the suppression list (the list is read by value, so
    it holds whoever the value is linked to)."""
    if DIRECT_MARKETING in objections(conn, subject_id) or is_subject_suppressed(conn, subject_id):
        for kind, value in sorted(identities.items()):
            suppress(conn, {kind: value}, "objection")


def seal(field: str, value: Any, key: bytes) -> dict[str, str]:
    """``{"hmac_sha256": ...}`` of ``field=value`` under ``key``, the store's identifier data key
    (:func:`garde.keys.identifier_data_key`: it survives a rotation of ``GARDE_IDENTIFIER_KEY``)."""
    return {"hmac_sha256": hmac.digest(key, f"{field}={value}".encode(), "sha256").hex()}


def sealed(details: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """A rectification's details with each new value replaced by its :func:`seal` (idempotent)."""
    corrections = details.get("corrections") or {}
    return {**details, "corrections": {
        field: value if isinstance(value, dict) and "hmac_sha256" in value else seal(field, value, key)
        for field, value in corrections.items()}}
