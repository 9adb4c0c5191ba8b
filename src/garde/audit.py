"""The tamper-evident audit log: append-only, hash-chained.

Every decision, consent event, request step, retention action and register
change is an entry. Each entry's hash is SHA-256 over a canonical
serialisation of its fields and the previous entry's hash, so changing,
deleting, inserting or reordering any entry breaks the chain from that point,
and :func:`verify` names the first bad entry. ``audit_head`` holds the last
sequence number and hash: cutting entries off the end is detected too, and
the head row's lock serialises concurrent writers on PostgreSQL.

Entries are written inside the caller's transaction (:func:`record`), so a
destructive step and its audit entry commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from garde.store import is_postgres, metadata

GENESIS = "0" * 64

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject_id", sa.String(36)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


@dataclass(frozen=True)
class Event:
    """An entry to append: what happened, to whom, by whom, with details."""

    kind: str
    payload: Mapping[str, Any]
    subject_id: str | None = None
    actor: str = "garde"


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str | None = None


def canonical_payload(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(seq: int, at: str, kind: str, subject_id: str | None, actor: str, payload: str,
               prev_hash: str) -> str:
    """SHA-256 over the canonical serialisation of one entry and its predecessor's hash."""
    body = json.dumps([seq, at, kind, subject_id, actor, payload, prev_hash], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_head(conn: sa.Connection) -> tuple[int, str]:
    query = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if is_postgres(conn):
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        if is_postgres(conn):
            conn.execute(sa.text("LOCK TABLE audit_head IN EXCLUSIVE MODE"))
            row = conn.execute(query).first()
        if row is None:
            conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS))
            return 0, GENESIS
    return int(row.seq), str(row.hash)


def record_many(conn: sa.Connection, events: Sequence[Event]) -> int:
    """Append ``events`` in order inside the caller's transaction; returns the last seq."""
    seq, prev = _lock_head(conn)
    if not events:
        return seq
    rows = []
    at = _timestamp()
    for event in events:
        seq += 1
        payload = canonical_payload(event.payload)
        digest = entry_hash(seq, at, event.kind, event.subject_id, event.actor, payload, prev)
        rows.append({"seq": seq, "at": at, "kind": event.kind, "subject_id": event.subject_id,
                     "actor": event.actor, "payload": payload, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(audit_log.insert(), rows)
    conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=prev))
    return seq


def record(conn: sa.Connection, kind: str, payload: Mapping[str, Any], *, subject_id: str | None = None,
           actor: str = "garde") -> int:
    """Append one entry inside the caller's transaction; returns its seq."""
    return record_many(conn, [Event(kind, payload, subject_id, actor)])


def verify(conn: sa.Connection, batch: int = 10_000) -> Verification:
    """Recompute the chain; name the first entry that was changed, removed, added or moved."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    result = conn.execution_options(yield_per=batch).execute(
        sa.select(audit_log.c.seq, audit_log.c.at, audit_log.c.kind, audit_log.c.subject_id,
                  audit_log.c.actor, audit_log.c.payload, audit_log.c.prev_hash, audit_log.c.hash)
        .order_by(audit_log.c.seq))
    with result:
        for seq, at, kind, subject_id, actor, payload, prev_hash, digest in result:
            if seq != expected_seq:
                what = "missing" if seq > expected_seq else "duplicated"
                return Verification(False, checked, expected_seq, f"entry {expected_seq} is {what}")
            if prev_hash != prev:
                return Verification(False, checked, seq, f"entry {seq} does not follow entry {seq - 1}")
            if entry_hash(seq, at, kind, subject_id, actor, payload, prev_hash) != digest:
                return Verification(False, checked, seq, f"entry {seq} was modified")
            prev = digest
            expected_seq += 1
            checked += 1
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    head_seq, head_hash = (0, GENESIS) if head is None else (int(head.seq), str(head.hash))
    if (head_seq, head_hash) != (checked, prev):
        return Verification(False, checked, checked + 1,
                            f"the log ends at entry {checked} but the head says {head_seq}: entries removed")
    return Verification(True, checked)


def entries(conn: sa.Connection, since: str | None = None, subject_id: str | None = None,
            kind: str | None = None) -> Iterator[dict[str, Any]]:
    """Entries in order, as plain data (``payload`` decoded); ``since`` is an ISO timestamp."""
    query = sa.select(audit_log).order_by(audit_log.c.seq)
    if since:
        query = query.where(audit_log.c.at >= since)
    if subject_id:
        query = query.where(audit_log.c.subject_id == subject_id)
    if kind:
        query = query.where(audit_log.c.kind == kind)
    with conn.execution_options(yield_per=5000).execute(query) as result:
        for row in result:
            data = dict(row._mapping)
            data["payload"] = json.loads(data["payload"])
            yield data
