"""Rectification (GDPR Art. 16): a correction reaches every copy of the field.

A correction names a data category (``contact.phone``: every column of
that category in the subject's rows, in every database) or one column
(``shop.customers.phone``). One UPDATE per table and database, only on the
subject's rows, in one transaction per database.

When the corrected column is an identity (e-mail, phone), the new value is written only once it
was proven for this request (:mod:`garde.rights.new_identity`: a code sent to it, or staff's
recorded check), and even then it is NOT linked to the subject in garde's store
(:func:`carry_refusals`): a proof for one rectification is not a sign-in, and linking would show the
subject whatever garde records under that value (consents, objections) and answer decisions about
it with the subject's own consents. Only the subject's refusals follow it: an objection to direct
marketing or a suppression puts the new value on the suppression list. A later sign-in or request
with the new value proves it on its own.

The new values are personal data too: once the request is closed, the
request keeps only a keyed digest of each (:func:`sealed`), enough to prove
which value was asked for (recompute it with the key), not to read it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any

import sqlalchemy as sa

from garde.consent.objections import DIRECT_MARKETING
from garde.datasets import Footprint, TableMap, normalise_identity
from garde.datasets.sql import chunks, sql_table
from garde.problems import GardeError
from garde.rights.deployment import Deployment, where
from garde.subjects import objections
from garde.suppression import is_subject_suppressed, suppress


def targets(deployment: Deployment, footprint: Footprint,
            corrections: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(database, table): {column: new value}}`` for the subject's tables."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    matched: set[str] = set()
    for ref in footprint.tables():
        table = deployment.datamap.table(ref)
        for name, column in table.columns.items():
            for field, value in corrections.items():
                if field in (column.category, where(table, name)):
                    out.setdefault((ref.database, ref.table), {})[name] = value
                    matched.add(field)
    unmatched = sorted(set(corrections) - matched)
    if unmatched:
        raise GardeError(f"no field of the subject's data matches {', '.join(unmatched)}; name a data "
                         "category (contact.phone) or a column (shop.customers.phone)")
    return out


# Called with each database and its transaction, after the UPDATEs: raising rolls every database back.
Guard = Callable[[str, sa.Connection], None]


def rectify(deployment: Deployment, footprint: Footprint, corrections: Mapping[str, Any], *,
            guard: Guard = lambda database, conn: None) -> dict[str, Any]:
    """Apply ``corrections`` to every copy; returns what was changed, per column.

    Every database's transaction stays open until all are written and ``guard`` passed in each database
    of the map, on the transaction that wrote it (:func:`garde.rights.new_identity.held_alone`: a new
    identity no one else holds): a guard that raises leaves every database as it was."""
    if not corrections:
        raise GardeError("a rectification needs corrections, e.g. --set contact.phone=+33612345678")
    plan = targets(deployment, footprint, corrections)
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
                for batch in chunks(footprint.primary_keys(database, table.name)):
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
    return {"changed": changed, "identities": identities}


NOT_LINKED = "not linked to the subject in garde's store; the subject's refusals apply to it"


def carry_refusals(conn: sa.Connection, subject_id: str, identities: Mapping[str, str]) -> dict[str, str]:
    """The new identity values of a rectification, never linked to ``subject_id``: suppressed when the
    subject objected to direct marketing or is on the suppression list; ``{kind: what was done}``."""
    refused = DIRECT_MARKETING in objections(conn, subject_id) or is_subject_suppressed(conn, subject_id)
    if refused:
        for kind, value in sorted(identities.items()):
            suppress(conn, {kind: value}, "objection")
    return dict.fromkeys(sorted(identities), NOT_LINKED)


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
