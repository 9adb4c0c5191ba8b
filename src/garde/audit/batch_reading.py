"""Reading the entries of the batch rows (:mod:`garde.audit.batches`): in order for the exports, and a
subject's through the subject index.

A subject's entries in batches: the index gives their ``seq`` (SQLite: the subject runs,
:mod:`garde.audit.runs`, which index the batches' entries as the rows'; PostgreSQL:
``audit_batch_subjects``), each with the batch holding it (the one whose ``first_seq`` is the
greatest at or below it); the bodies are read once a batch and each entry cut out by its offset. On
SQLite the entries past the runs' frontier are the rows' and batches' appended since: those batches
(fewer than a run's worth of entries) are decoded whole.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from garde.audit.batches import (
    MOST,
    audit_batch_subjects,
    audit_batches,
    decode,
    entry_at,
    entry_data,
    needle_of,
)
from garde.audit.runs import audit_runs, audit_subject_runs

_b = audit_batches.c


def batch_seqs(dialect: str, subjects: Any) -> sa.Select[Any]:
    """(seq, first_seq of its batch, subject) of each entry of a batch the index says names one of
    ``subjects`` (a subquery of subject ids), up to the runs' frontier on SQLite."""
    if dialect == "sqlite":
        runs, rows = audit_runs.c, audit_subject_runs.c
        log = sa.table("audit_log", sa.column("seq"))
        seq, subject = rows.seq, rows.subject_id
        found = sa.select(seq).where(rows.run.in_(sa.select(runs.id).where(runs.level >= 0)),
                                     rows.subject_id.in_(subjects),
                                     ~sa.exists().where(log.c.seq == rows.seq))
    else:
        seq, subject = audit_batch_subjects.c.seq, audit_batch_subjects.c.subject_id
        found = sa.select(seq).where(audit_batch_subjects.c.subject_id.in_(subjects))
    inner = audit_batches.alias("holding")
    holder = (sa.select(sa.func.max(inner.c.first_seq)).where(inner.c.first_seq <= seq)
              .scalar_subquery())
    return found.add_columns(holder.label("first_seq"), subject.label("subject_id"))


def entries_at(conn: sa.Connection, wanted: Iterable[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """The entries ``(seq, first_seq of its batch, subject the index names)``, cut out of their batches
    (each read once); one that names another subject is left out: an index row altered (the store
    written around garde) never shows someone else's entry in an access answer (red27)."""
    by_batch: dict[int, list[tuple[int, str]]] = {}
    for seq, first, subject in wanted:
        by_batch.setdefault(int(first), []).append((int(seq), str(subject)))
    if not by_batch:
        return []
    found = []
    for first, last, at, body in conn.execute(
            sa.select(_b.first_seq, _b.last_seq, _b.at, _b.body).where(_b.first_seq.in_(sorted(by_batch)))):
        body = bytes(body)
        for seq, subject in by_batch[int(first)]:
            if seq <= last and (record := entry_at(body, seq - first))[1] == subject:
                found.append(entry_data(first, at, seq - first, record))
    return found


def _frontier() -> sa.ScalarSelect[Any]:
    return sa.select(sa.func.coalesce(sa.func.max(audit_runs.c.hi), 0)).scalar_subquery()


def tail_batched() -> sa.ColumnElement[bool]:
    """SQLite: whether batches were appended past the runs' frontier (their entries are not indexed yet)."""
    return sa.exists().where(_b.first_seq > _frontier())


def tail_entries(conn: sa.Connection, subjects: Collection[str]) -> list[dict[str, Any]]:
    """SQLite: the entries of the batches past the runs' frontier naming one of ``subjects``."""
    if conn.dialect.name != "sqlite" or not subjects:
        return []
    found = []
    query = sa.select(_b.first_seq, _b.at, _b.body).where(_b.first_seq > _frontier())
    needles = [needle_of(subject) for subject in subjects]
    for first, at, body in conn.execute(query):
        body = bytes(body)
        if not any(needle in body for needle in needles):  # a body naming none of them is not decoded
            continue
        for offset, record in enumerate(decode(body)):
            if record[1] in subjects:
                found.append(entry_data(first, at, offset, record))
    return found


def subject_entries(conn: sa.Connection, subject_id: str) -> list[dict[str, Any]]:
    """The entries of the batches naming ``subject_id``, in order (payload as JSON text)."""
    subjects = sa.select(sa.literal(subject_id, sa.String(36))).scalar_subquery()
    wanted = conn.execute(batch_seqs(conn.dialect.name, subjects)).all()
    found = entries_at(conn, [(seq, first, subject) for seq, first, subject in wanted if first is not None])
    found += tail_entries(conn, {subject_id})
    return sorted(found, key=lambda entry: int(entry["seq"]))


def ordered_entries(conn: sa.Connection, since: str | None = None, kind: str | None = None,
                    after: int | None = None, yield_per: int = 50) -> Iterator[dict[str, Any]]:
    """Every entry of the batch rows in order, from ``after`` on, of ``kind``, appended ``since``;
    a batch's first entry carries its link (``link``: bounds, time, hashes, seal and body in
    base64), every one its batch's ``first_seq`` (``batch``), and no hash of its own."""
    query = sa.select(_b.first_seq, _b.last_seq, _b.at, _b.body, _b.prev_hash, _b.hash, _b.seal)
    if since:
        query = query.where(_b.at >= since)
    if after is not None:  # the batch holding ``after`` (by the key) and those after it
        holding = sa.select(sa.func.max(_b.first_seq)).where(_b.first_seq <= after).scalar_subquery()
        query = query.where(sa.or_(_b.first_seq > after, _b.first_seq == holding))
    with conn.execution_options(yield_per=yield_per).execute(query.order_by(_b.first_seq)) as result:
        for first, last, at, body, prev_hash, digest, seal in result:
            body = bytes(body)
            for offset, record in enumerate(decode(body)):
                if (after is not None and first + offset <= after) or (kind and record[0] != kind):
                    continue
                entry = {**entry_data(first, at, offset, record), "prev_hash": None, "hash": None,
                         "seal": None, "batch": first}
                if offset == 0:  # the batch's link, on its first entry: a copy verifies outside garde
                    entry["link"] = {"first_seq": first, "last_seq": last, "at": at, "prev_hash": prev_hash,
                                     "hash": digest, "seal": seal, "body": base64.b64encode(body).decode()}
                yield entry


__all__ = ["MOST", "batch_seqs", "entries_at", "ordered_entries", "subject_entries", "tail_entries"]
