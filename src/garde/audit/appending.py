"""The audit writer's append with its decision entries in batch rows (:mod:`garde.audit.batches`).

One append, one transaction, one time, one seal, as :func:`garde.audit._append`'s: its items in
order, each run of consecutive decision entries cut into batch rows of at most
:data:`~garde.audit.batches.MOST` entries, every other entry a row of ``audit_log``, all chained
after the head (a batch's ``prev_hash`` the link before it, a row's too). The seal goes on the
append's last link, row or batch. On PostgreSQL the batches' subjects are indexed in
``audit_batch_subjects`` (by ``COPY``); on SQLite the subject runs read them from the batches
(:func:`garde.audit.runs.build_runs_sqlite`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from garde.audit import (
    _chain,
    _insert_entries,
    _Item,
    _lock_head,
    _timestamp,
    payload_text,
)
from garde.audit.batches import (
    BATCHED_KINDS,
    MOST,
    UNTIL,
    Record,
    audit_batch_subjects,
    audit_batches,
    batch_hash,
    encode,
    record_of,
    remember,
)
from garde.audit.keys import AuditKey
from garde.audit.runs import build_runs_sqlite
from garde.store.driver import driver_many

_BATCH_COLUMNS = ("first_seq", "last_seq", "at", "body", "prev_hash", "hash", "seal")


def _batched(item: _Item) -> bool:
    kind, _data, subject_id, actor = item
    return (type(kind) is str and kind in BATCHED_KINDS and type(actor) is str
            and (subject_id is None or type(subject_id) is str))


def _records(items: Sequence[_Item], index: int, most: int,
             first: int) -> tuple[list[Record], list[tuple[str, int]], int]:
    """The records of the batched items from ``index`` (up to ``most``, exclusive), the (subject,
    seq) of those naming a subject, and where they end: one pass, each item checked and made a record
    as :func:`_batched` and :func:`~garde.audit.batches.record_of` do (a decision's time as POSIX
    seconds, the usual item, without a call an item: ≈ 0.5 µs an entry of the writer's, 2026-12-07)."""
    records: list[Record] = []
    named: list[tuple[str, int]] = []
    add, name, modf = records.append, named.append, math.modf
    end = index
    while end < most:
        kind, data, subject_id, actor = items[end]
        if not (type(kind) is str and kind in BATCHED_KINDS and type(actor) is str):
            break
        if subject_id is not None:
            if type(subject_id) is not str:
                break
            name((subject_id, first + end - index))
        if type(data) is tuple and type(data[1]) is float and 0.0 <= data[1] < UNTIL:
            head, seconds, tail = data[0], data[1], data[2]
            if type(head) is str and type(tail) is str:
                fraction, whole = modf(seconds)  # as batches.micros
                add((kind, subject_id, actor, (head, tail, int(whole) * 1_000_000 + round(fraction * 1e6))))
                end += 1
                continue
        add(record_of(kind, data, subject_id, actor, payload_text))
        end += 1
    return records, named, end


def append_links(conn: sa.Connection, items: Sequence[_Item], key: AuditKey | None, encoded: bool = False,
                 last: bool = False) -> int:
    """Append ``items`` after the head, decisions as batch rows; returns the last seq."""
    seq, prev = _lock_head(conn)
    if not items:
        return seq
    start, at = seq, _timestamp()
    sqlite = conn.dialect.name == "sqlite"
    rows: list[tuple[Any, ...]] = []
    batches: list[list[Any]] = []
    pairs: list[tuple[str, int]] = []
    index, count = 0, len(items)
    while index < count:
        end = index
        if _batched(items[index]):
            first = seq + 1
            records, named, end = _records(items, index, min(count, index + MOST), first)
            body = encode(records)
            final = seq + len(records)
            digest = batch_hash(first, final, at, prev, body)
            batches.append([first, final, at, body, prev, digest, None])
            pairs.extend(named)
            if sqlite:
                remember(first, digest, named)
            seq, prev = final, digest
        else:
            while end < count and not _batched(items[end]):
                end += 1
            chained = _chain(items[index:end], seq, prev, at, encoded)
            rows.extend(chained)
            seq, prev = chained[-1][0], chained[-1][7]
        index = end
    if key is not None:  # one HMAC per append, on its last link (garde.audit.verification tiles them)
        seal = f"{key.id}:{start + 1}:{key.seal(start + 1, prev)}"
        if batches and batches[-1][1] == seq:
            batches[-1][6] = seal
        else:
            rows[-1] = (*rows[-1][:8], seal)
    _insert_batches(conn, batches, pairs)
    _insert_entries(conn, rows, {"new_seq": seq, "new_hash": prev}, last)
    if sqlite:
        build_runs_sqlite(conn.connection.dbapi_connection, seq)
    return seq


def _insert_batches(conn: sa.Connection, batches: list[list[Any]], pairs: list[tuple[str, int]]) -> None:
    if not batches:
        return
    dialect = conn.dialect
    if dialect.name == "sqlite":
        driver_many(conn, _SQLITE_INSERT, batches)
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        # one statement: the batch rows (each body a binary parameter: not hex-escaped) and their
        # subjects as two arrays, unnested by the server
        driver_many(conn, _psycopg_insert(len(batches)),
                    [(*(value for batch in batches for value in batch),
                      _array_text(subject for subject, _ in pairs),
                      f"{{{','.join([str(seq) for _, seq in pairs])}}}")])
    else:
        conn.execute(audit_batches.insert(),
                     [dict(zip(_BATCH_COLUMNS, batch, strict=True)) for batch in batches])
        if dialect.name != "sqlite" and pairs:
            conn.execute(audit_batch_subjects.insert(), [{"subject_id": s, "seq": n} for s, n in pairs])


_SQLITE_INSERT = f"INSERT INTO audit_batches ({', '.join(_BATCH_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _array_text(texts: Iterable[str]) -> str:
    """PostgreSQL's text form of an array of ``texts``, each quoted (psycopg's dumper of a list checks
    each element with a regular expression: ≈ 2 µs of the writer's CPU an entry). Joined whole when
    none holds a quote or a backslash (engine ids are UUIDs: one scan, not two replaces an element)."""
    texts = list(texts)
    if not texts:
        return "{}"
    if '"' not in (whole := "".join(texts)) and "\\" not in whole:
        return '{"' + '","'.join(texts) + '"}'
    quoted = ['"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' for text in texts]
    return "{" + ",".join(quoted) + "}"


@lru_cache(maxsize=32)
def _psycopg_insert(count: int) -> str:
    """PostgreSQL through psycopg: ``count`` batch rows and the subjects of their entries in one
    statement (a data-modifying ``WITH``: run whether or not the outer statement reads it)."""
    rows = ", ".join(["(%s, %s, %s, %b, %s, %s, %s)"] * count)
    return (f"WITH batches AS (INSERT INTO audit_batches ({', '.join(_BATCH_COLUMNS)}) VALUES {rows}) "
            "INSERT INTO audit_batch_subjects (subject_id, seq) "
            "SELECT * FROM unnest(%s::text::varchar[], %s::text::bigint[])")
