"""Register versions in the audit log: every change to the register the engine enforces is proven.

The engine enforces whatever register it loads; the DPO must be able to show
which version was in force when. :func:`note_register` hashes the normalised
register and, when the hash differs from the last one recorded for that
source (kept in ``register_versions``, one row per source, so the check is
one primary-key read), appends a ``register.changed`` audit entry saying
which activities were added, removed or changed. Loading the same register
again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.register.inherit import inherited_statements
from garde.register.model import Register
from garde.store import metadata
from garde.store.driver import driver_rows
from garde.subjects import now


def register_hash(register: Register) -> str:
    """SHA-256 of the normalised register (its canonical JSON)."""
    canonical = json.dumps(register.to_data(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _activity_hashes(register: Register) -> dict[str, str]:
    """Per activity, the hash of what it says and of the register-level statements it inherits, so that
    a recipient added for the whole register shows every activity it applies to as changed."""
    hashes = {}
    for a in register.activities:
        data: dict[str, Any] = a.model_dump(mode="json")
        inherited = inherited_statements(register, a)
        if inherited:  # an activity that inherits nothing keeps the hash it always had
            data = {"activity": data, "inherited": inherited}
        hashes[a.id] = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return hashes


register_versions = sa.Table(
    "register_versions",
    metadata,
    sa.Column("source", sa.String(500), primary_key=True),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("activities", sa.Text, nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)


def last_version(conn: sa.Connection, source: str) -> dict[str, Any] | None:
    """The last recorded version of ``source``: its hash, activity hashes and audit entry."""
    row = conn.execute(sa.select(register_versions).where(register_versions.c.source == source)).first()
    if row is None:
        return None
    return {"hash": row.hash, "activities": json.loads(row.activities), "audit_seq": row.audit_seq}


def recorded_hashes(conn: sa.Connection, sources: Sequence[str]) -> dict[str, str]:
    """The last recorded hash of each of ``sources`` that was ever recorded, in one statement (on the
    driver's cursor: every request and sweep reads it)."""
    return {source: digest for source, digest in driver_rows(conn, _HASHES, {"sources": list(sources)})}


def versions_read(sources: Sequence[str]) -> tuple[sa.ClauseElement, dict[str, Any]]:
    """:func:`recorded_hashes`' statement and parameters, for a caller that sends it with other reads
    (:func:`garde.store.driver.driver_rows_together`): its rows are (source, hash)."""
    return _HASHES, {"sources": list(sources)}


_HASHES = sa.select(register_versions.c.source, register_versions.c.hash).where(
    register_versions.c.source.in_(sa.bindparam("sources", expanding=True)))


def note_register(conn: sa.Connection, register: Register, source: str, *, actor: str = "garde",
                  digest: str | None = None) -> bool:
    """Audit the register if it changed since it was last recorded; returns whether it did.

    Call it wherever the engine starts enforcing a register (decisions, requests,
    sweeps): the audit log then shows which version was in force for every entry.
    ``digest``: the register's :func:`register_hash`, when the caller keeps it.
    """
    digest = digest or register_hash(register)
    previous = last_version(conn, source)
    for _ in range(3):
        if previous is not None and previous["hash"] == digest:
            return False
        # Appending takes the audit log's lock, which a concurrent noter of the same register (another
        # worker starting) holds until it commits: read the version again once we have it, and if it
        # moved meanwhile, undo the append and start again from what was recorded.
        with conn.begin_nested() as attempt:
            seq = _audit_change(conn, register, source, digest, previous, actor)
            latest = last_version(conn, source)
            if latest != previous:
                attempt.rollback()
                previous = latest
                continue
            values = {"hash": digest, "activities": json.dumps(_activity_hashes(register)), "audit_seq": seq,
                      "recorded_at": now()}
            if previous is None:
                conn.execute(register_versions.insert().values(source=source, **values))
            else:
                conn.execute(register_versions.update().where(register_versions.c.source == source)
                             .values(**values))
            return True
    raise GardeError(f"the register {source!r} kept changing while garde recorded it; try again")


def _audit_change(conn: sa.Connection, register: Register, source: str, digest: str,
                  previous: dict[str, Any] | None, actor: str) -> int:
    """The ``register.changed`` entry: which activities were added, removed or changed."""
    activities = _activity_hashes(register)
    before: dict[str, str] = previous["activities"] if previous else {}
    return audit.record(conn, "register.changed", {
        "source": source,
        "controller": register.controller.name,
        "hash": digest,
        "previous_hash": previous["hash"] if previous else None,
        "added": sorted(set(activities) - set(before)),
        "removed": sorted(set(before) - set(activities)),
        "changed": sorted(a for a in set(activities) & set(before) if activities[a] != before[a]),
    }, actor=actor)
