"""What a batch of decision entries stored as one row would cost the audit writer, and a subject's
reader, against one row an entry (docs/audit.md, "Decision batches as one row: the design").

The writer's side, CPU µs an entry, 200 batches of 500 decision entries over 2,000 subjects after 20
warm-up batches, through ``sqlite3`` alone in WAL mode with ``synchronous=NORMAL`` (as garde opens a
store), the head row locked and moved in each batch's transaction:

- ``row an entry``: today's writer after migration 0033 (the table's key on ``seq``, no other
  index; each decision's payload formatted by ``garde.audit.utc_isoformat``, its entry's text
  built and hashed with SHA-256), and the subject runs built every 1,024 entries by an
  ``INSERT … SELECT … ORDER BY`` from the log;
- ``row a batch``: one row a batch (its first and last ``seq``, its time, the batch in a compact
  JSON: the decisions' payload parts once, each entry ``[kind, subject, actor, part, µs]``) hashed
  once with the previous batch's hash, and the same runs built from the subject pairs the writer
  keeps, sorted in Python (the batch rows since the last run decoded, in a real build);
- ``rows of 128``: the same, each append's batch cut into rows of at most 128 entries.

The body's encoding alone: 128 decision entries as the compact JSON above, or as the binary
records docs/audit.md describes (``struct``), CPU µs and bytes an entry.

The reader's side: a subject's entries when each sits in another batch, wall ms for 50 entries
(pages cached): a batch row read whole (SQLite reads a row's overflow pages even for ``substr``)
and its entry cut out with the offsets the row would keep, against 50 rows read by ``seq``.

``python -m benchmarks.profile_audit_batches built [ROUNDS]``: garde's own reader, built (migration
0036): a subject's 50 entries in 50 appends of 500 decisions, as the access answer reads them, in
batch rows against rows (:func:`built_reader`).

``python -m benchmarks.profile_audit_batches [ROUNDS [POSTGRES_URL]]``: the prototype, through
``sqlite3`` alone, not a benchmark of garde (no merges of runs, no seals, no pickling: the same on
both sides).
With a PostgreSQL URL (``postgresql://…``, a database of your own: it creates and drops ``p_*``
tables), the writer's client CPU there too: rows by ``COPY`` (as garde's writer), or batch rows of
at most 128 entries, each an ``INSERT`` with the body a binary parameter.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from garde.audit import utc_isoformat

PARTS = [
    ('{"activity":"orders","allowed":true,"at":', ',"categories":["contact.email","transaction"],'
     '"channel":null,"reasons":["legal_basis"],"requested":["contact.email","transaction"]}'),
    ('{"activity":"newsletter","allowed":true,"at":', ',"categories":["contact.email"],"channel":null,'
     '"reasons":["consent"],"requested":["contact.email"]}'),
    ('{"activity":"analytics","allowed":false,"at":', ',"categories":[],"channel":null,'
     '"reasons":["objection"],"requested":["usage"]}'),
]
SCHEMA = """
CREATE TABLE audit_log (seq BIGINT NOT NULL, at VARCHAR(32) NOT NULL, kind VARCHAR(64) NOT NULL,
  subject_id VARCHAR(36), actor VARCHAR(128) NOT NULL, payload TEXT NOT NULL,
  prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, seal VARCHAR(128), PRIMARY KEY (seq));
CREATE TABLE audit_batches (first_seq BIGINT NOT NULL PRIMARY KEY, last_seq BIGINT NOT NULL,
  at VARCHAR(32) NOT NULL, body BLOB NOT NULL, prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL,
  seal VARCHAR(128));
CREATE TABLE audit_subject_runs (run INTEGER NOT NULL, subject_id VARCHAR(36) NOT NULL, seq BIGINT NOT NULL,
  PRIMARY KEY (run, subject_id, seq)) WITHOUT ROWID;
CREATE TABLE audit_head (id INTEGER NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64) NOT NULL);
INSERT INTO audit_head VALUES (1, 0, '0');
"""
RUN_SIZE = 1024
AT = "2026-12-07T05:00:00.000000Z"
_quote = json.encoder.encode_basestring
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# an entry to append: (kind, part, POSIX seconds, subject, actor)
Entry = tuple[str, int, float, str, str]


class Log:
    """One of the two formats' appends, on a connection of its own to a new store."""

    def __init__(self, folder: str) -> None:
        self.conn = sqlite3.connect(os.path.join(folder, "audit.db"), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.seq, self.prev, self.frontier = 0, "0" * 64, 0
        self.pending: list[tuple[str, int]] = []

    def append(self, batch: list[Entry], as_one_row: bool, most: int = 500) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
        if as_one_row:
            for start in range(0, len(batch), most):
                self._one_row(batch[start:start + most])
        else:
            self._rows(batch)
        if self.seq - self.frontier >= RUN_SIZE:
            self._run(as_one_row)
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (self.seq, self.prev))
        conn.execute("COMMIT")

    def _rows(self, batch: list[Entry]) -> None:
        rows, seq, prev = [], self.seq, self.prev
        for kind, part, seconds, subject, actor in batch:
            seq += 1
            head, tail = PARTS[part]
            payload = f'{head}"{utc_isoformat(seconds)}"{tail}'
            body = (f'[{seq},{_quote(AT)},{_quote(kind)},{_quote(subject)},{_quote(actor)},'
                    f'{_quote(payload)},"{prev}"]')
            digest = hashlib.sha256(body.encode()).hexdigest()
            rows.append((seq, AT, kind, subject, actor, payload, prev, digest, None))
            prev = digest
        self.conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.seq, self.prev = seq, prev

    def _one_row(self, batch: list[Entry]) -> None:
        first = self.seq + 1
        entries = [[kind, subject, actor, part, round(seconds * 1e6)]
                   for kind, part, seconds, subject, actor in batch]
        body = _COMPACT.encode([first, AT, PARTS, entries]).encode()
        digest = hashlib.sha256(self.prev.encode() + body).hexdigest()
        self.seq += len(batch)
        self.conn.execute("INSERT INTO audit_batches VALUES (?, ?, ?, ?, ?, ?, NULL)",
                          (first, self.seq, AT, body, self.prev, digest))
        self.pending.extend((entry[1], first + n) for n, entry in enumerate(entries))
        self.prev = digest

    def _run(self, as_one_row: bool) -> None:
        if as_one_row:
            self.pending.sort()
            self.conn.executemany("INSERT INTO audit_subject_runs VALUES (?, ?, ?)",
                                  [(self.seq, subject, seq) for subject, seq in self.pending])
            self.pending.clear()
        else:
            self.conn.execute("INSERT INTO audit_subject_runs SELECT ?, subject_id, seq FROM audit_log "
                              "WHERE seq > ? AND seq <= ? ORDER BY subject_id, seq",
                              (self.seq, self.frontier, self.seq))
        self.frontier = self.seq


def batches(rng: random.Random, subjects: list[str], count: int, size: int = 500) -> list[list[Entry]]:
    start = datetime(2026, 12, 7, 5, tzinfo=UTC).timestamp()
    return [[("decision", rng.randrange(len(PARTS)), start + (b * size + n) * 1e-5, rng.choice(subjects),
              "garde") for n in range(size)] for b in range(count)]


def writer(as_one_row: bool, most: int = 500, count: int = 200, warm: int = 20) -> tuple[float, float]:
    """CPU µs an entry appended (``most`` entries a batch row), and bytes an entry in the store's files."""
    rng = random.Random(7)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2000)]
    work = batches(rng, subjects, count + warm)
    with tempfile.TemporaryDirectory() as folder:
        log = Log(folder)
        for batch in work[:warm]:
            log.append(batch, as_one_row, most)
        start = time.process_time()
        for batch in work[warm:]:
            log.append(batch, as_one_row, most)
        spent = (time.process_time() - start) / (count * 500) * 1e6
        size = sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))
        log.conn.close()
    return spent, size / ((count + warm) * 500)


def reader(as_one_row: bool, most: int = 500, entries: int = 50, rounds: int = 20) -> float:
    """Wall ms to read ``entries`` entries each in another batch (pages cached), best of ``rounds``."""
    rng = random.Random(3)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2000)]
    with tempfile.TemporaryDirectory() as folder:
        log = Log(folder)
        for batch in batches(rng, subjects, entries):
            log.append(batch, as_one_row, most)
        wanted = [b * 500 + 250 for b in range(entries)]
        read: Callable[[int], Any]
        if as_one_row:
            def read(seq: int) -> Any:
                ((first, body),) = log.conn.execute(
                    "SELECT first_seq, body FROM audit_batches WHERE first_seq <= ? "
                    "ORDER BY first_seq DESC LIMIT 1", (seq,)).fetchall()
                return body[(seq - first) * 80:(seq - first) * 80 + 80]  # the offsets' slice
        else:
            def read(seq: int) -> Any:
                return log.conn.execute("SELECT * FROM audit_log WHERE seq = ?", (seq,)).fetchall()
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            for seq in wanted:
                read(seq)
            best = min(best, (time.perf_counter() - start) * 1e3)
        log.conn.close()
    return best


_RECORD = struct.Struct("<HH16sHq")  # kind's and actor's string index, subject, part, µs


def binary_body(batch: list[Entry]) -> bytes:
    """docs/audit.md's binary records for decision entries (a subject that is a UUID's canonical
    text as its 16 bytes; the strings' table and the offsets left out: a few bytes a batch)."""
    strings: dict[str, int] = {}
    records = []
    pack, fromhex = _RECORD.pack, bytes.fromhex
    for kind, part, seconds, subject, actor in batch:
        kind_index = strings.get(kind)
        if kind_index is None:
            kind_index = strings[kind] = len(strings)
        actor_index = strings.get(actor)
        if actor_index is None:
            actor_index = strings[actor] = len(strings)
        records.append(pack(kind_index, actor_index, fromhex(subject.replace("-", "")), part,
                            round(seconds * 1e6)))
    return b"".join(records)


def json_body(batch: list[Entry]) -> bytes:
    """The compact JSON the ``row a batch`` measures store."""
    return _COMPACT.encode([1, AT, PARTS, [[kind, subject, actor, part, round(seconds * 1e6)]
                                           for kind, part, seconds, subject, actor in batch]]).encode()


def encodings(rounds: int = 2000) -> None:
    """CPU µs an entry and bytes an entry of 128 decision entries encoded each way."""
    rng = random.Random(5)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2000)]
    batch = batches(rng, subjects, 1, 128)[0]
    for name, encode in (("compact JSON", json_body), ("binary records", binary_body)):
        start = time.process_time()
        for _ in range(rounds):
            encode(batch)
        spent = (time.process_time() - start) / (rounds * len(batch)) * 1e6
        size = len(encode(batch)) / len(batch)
        print(f"encoding, {name:<15} {spent:5.2f} µs CPU an entry, {size:3.0f} bytes an entry")


_PG_TABLES = """
CREATE TABLE p_log (seq BIGINT PRIMARY KEY, at VARCHAR(32) NOT NULL, kind VARCHAR(64) NOT NULL,
  subject_id VARCHAR(36), actor VARCHAR(128) NOT NULL, payload TEXT NOT NULL, prev_hash VARCHAR(64) NOT NULL,
  hash VARCHAR(64) NOT NULL, seal VARCHAR(128));
CREATE INDEX ON p_log (at);
CREATE INDEX ON p_log (subject_id);
CREATE TABLE p_batches (first_seq BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL, at VARCHAR(32) NOT NULL,
  body BYTEA NOT NULL, prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, seal VARCHAR(128));
CREATE TABLE p_head (id INT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO p_head VALUES (1, 0, '0');
"""


def postgres(url: str, as_one_row: bool, count: int = 200, warm: int = 20, most: int = 128) -> float:
    """The writer's client CPU µs an entry on PostgreSQL (the server's work is not counted)."""
    import psycopg

    rng = random.Random(7)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2000)]
    work = batches(rng, subjects, count + warm)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS p_log, p_batches, p_head")
        for statement in filter(str.strip, _PG_TABLES.split(";")):
            conn.execute(statement)
        conn.commit()
        seq, prev, start = 0, "0" * 64, 0.0
        for number, batch in enumerate(work):
            if number == warm:
                start = time.process_time()
            conn.execute("UPDATE p_head SET seq = seq WHERE id = 1")
            if as_one_row:
                for first in range(0, len(batch), most):
                    chunk = batch[first:first + most]
                    records = [[kind, subject, actor, part, round(seconds * 1e6)]
                               for kind, part, seconds, subject, actor in chunk]
                    body = _COMPACT.encode([seq + 1, AT, PARTS, records]).encode()
                    digest = hashlib.sha256(prev.encode() + body).hexdigest()
                    conn.execute("INSERT INTO p_batches VALUES (%s, %s, %s, %s, %s, %s, NULL)",
                                 (seq + 1, seq + len(chunk), AT, body, prev, digest), binary=True)
                    seq, prev = seq + len(chunk), digest
            else:
                rows = []
                for kind, part, seconds, subject, actor in batch:
                    seq += 1
                    head, tail = PARTS[part]
                    payload = f'{head}"{utc_isoformat(seconds)}"{tail}'
                    text = (f'[{seq},{_quote(AT)},{_quote(kind)},{_quote(subject)},{_quote(actor)},'
                            f'{_quote(payload)},"{prev}"]')
                    prev = hashlib.sha256(text.encode()).hexdigest()
                    rows.append((seq, AT, kind, subject, actor, payload, prev, prev, None))
                with conn.cursor().copy("COPY p_log (seq, at, kind, subject_id, actor, payload, prev_hash, "
                                        "hash, seal) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            conn.execute("UPDATE p_head SET seq = %s, hash = %s WHERE id = 1", (seq, prev))
            conn.commit()
        spent = (time.process_time() - start) / (count * 500) * 1e6
        conn.execute("DROP TABLE p_log, p_batches, p_head")
        conn.commit()
    return spent


def built_reader(batched: bool, entries: int = 50, rounds: int = 20) -> float:
    """Garde's own reader, built (migration 0036): wall ms for a subject's ``entries`` entries, each
    in another append of 500 decisions (so in another batch row, or among 25,000 rows), read as the
    access answer reads them (:func:`garde.audit.batch_reading.subject_entries`: the index, then
    each batch's body read once and the entry cut out; rows: :func:`garde.audit.entries` by subject),
    pages cached, best of ``rounds``. Half the entries sit past the subject runs' frontier on
    SQLite at most (the runs index every 1,024)."""
    from garde import audit
    from garde.audit.batch_reading import subject_entries
    from garde.store import connect, migrate

    rng = random.Random(3)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2000)]
    wanted = subjects[0]
    head, tail = PARTS[0]
    with tempfile.TemporaryDirectory() as folder:
        engine = connect(f"sqlite:///{folder}/garde.db", create=True)
        migrate(engine)
        with engine.connect() as conn:
            for number in range(entries):
                items = [("decision", (head, 1_765_000_000.0 + number + n * 1e-5, tail),
                          wanted if n == 250 else rng.choice(subjects[1:]), "garde") for n in range(500)]
                with conn.begin():
                    audit._append(conn, items, None, batched=batched)
            def read() -> int:
                if batched:
                    return len(subject_entries(conn, wanted))
                return sum(1 for _ in audit.entries(conn, subject_id=wanted))
            assert read() == entries
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                read()
                best = min(best, (time.perf_counter() - start) * 1e3)
        engine.dispose()
    return best


def main(argv: list[str]) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f}")
    if argv and argv[0] == "built":  # garde's reader of a subject's entries, rows against batch rows
        for _ in range(int(argv[1]) if len(argv) > 1 else 3):
            print(f"built, 50 entries of a subject: rows {built_reader(False):5.2f} ms, "
                  f"batch rows {built_reader(True):5.2f} ms (wall, best of 20)")
        return
    for _ in range(int(argv[0]) if argv else 2):
        encodings()
        for name, as_one_row, most in (("row an entry", False, 0), ("row a batch", True, 500),
                                       ("rows of 128", True, 128)):
            spent, size = writer(as_one_row, most)
            print(f"{name:<14} writer {spent:5.2f} µs CPU an entry, {size:4.0f} bytes an entry; "
                  f"50 entries in 50 batches read in {reader(as_one_row, most):5.2f} ms")
        if len(argv) > 1:
            for name, as_one_row in (("PostgreSQL, rows by COPY", False), ("PostgreSQL, rows of 128", True)):
                print(f"{name:<26} writer {postgres(argv[1], as_one_row):5.2f} µs CPU an entry (client)")


if __name__ == "__main__":
    main(sys.argv[1:])
