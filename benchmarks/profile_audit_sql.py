"""Where the audit writer process's SQL goes: batches of decision entries appended to a table
shaped as ``audit_log`` (its primary key and its indexes on ``at`` and ``subject_id``), through
``sqlite3`` alone, in WAL mode with ``synchronous=NORMAL`` as garde opens a store; then the same
without the index on ``subject_id``, without either index, with ``seq`` as the rowid, with a
64 MB page cache, and with ``synchronous=OFF``. CPU µs a row (the rows' hashing included,
≈ 1.5 µs), 60 batches of 500 entries over 2,000 subjects.

``python -m benchmarks.profile_audit_sql``: a measure of what a schema change would buy (the
indexes are the migrations' own), not a benchmark of garde.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid

TABLE = """
CREATE TABLE audit_log (seq BIGINT NOT NULL, at VARCHAR(32) NOT NULL, kind VARCHAR(64) NOT NULL,
  subject_id VARCHAR(36), actor VARCHAR(128) NOT NULL, payload TEXT NOT NULL,
  prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, seal VARCHAR(128), PRIMARY KEY (seq));
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_audit_log_subject_id ON audit_log (subject_id);
CREATE TABLE audit_head (id INTEGER NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64) NOT NULL);
INSERT INTO audit_head VALUES (1, 0, '0');
"""
# ``seq`` as SQLite's rowid (``INTEGER PRIMARY KEY``): the table's own B-tree is the key's, one
# B-tree less a row than ``BIGINT`` primary key's separate unique index (a table rebuilt: a migration)
ROWID = "seq = rowid"
VARIANTS = {
    "as the migrations make it": [],
    "seq as the rowid": [ROWID],
    "seq as the rowid, no subject_id index": [ROWID, "DROP INDEX ix_audit_log_subject_id"],
    "without the index on subject_id": ["DROP INDEX ix_audit_log_subject_id"],
    "without either index": ["DROP INDEX ix_audit_log_subject_id", "DROP INDEX ix_audit_log_at"],
    "64 MB page cache": ["PRAGMA cache_size=-65536"],
    "synchronous=OFF": ["PRAGMA synchronous=OFF"],
}
PAYLOAD = ('{"activity":"orders","allowed":true,"at":"2026-12-06T11:20:00.123456+00:00","categories":'
           '["contact.email","transaction"],"channel":null,"reasons":["legal_basis"],'
           '"requested":["contact.email","transaction"]}')
INSERT = ("INSERT INTO audit_log (seq, at, kind, subject_id, actor, payload, prev_hash, hash, seal) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def decision_rows(rng: random.Random, subjects: list[str], seq: int, prev: str, at: str,
                  size: int) -> tuple[list[tuple[object, ...]], int, str]:
    """``size`` chained decision rows after ``seq``, ``prev`` (SHA-256 a row, as the chain's cost),
    and the last seq and hash."""
    rows: list[tuple[object, ...]] = []
    for _ in range(size):
        seq += 1
        digest = hashlib.sha256(f"{seq}{prev}".encode()).hexdigest()
        rows.append((seq, at, "decision", rng.choice(subjects), "garde", PAYLOAD, prev, digest, None))
        prev = digest
    return rows, seq, prev


def per_row(statements: list[str], batches: int = 60, size: int = 500) -> float:
    """CPU µs a row appended, as the writer appends a batch: head locked, rows, head moved, commit."""
    rng = random.Random(1)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(2000)]
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(os.path.join(folder, "audit.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(TABLE.replace("seq BIGINT", "seq INTEGER") if ROWID in statements else TABLE)
        for statement in statements:
            if statement != ROWID:
                conn.execute(statement)
        seq, prev = 0, "0" * 64
        start = time.process_time()
        for batch in range(batches):
            at = f"2026-12-06T11:{batch // 60:02d}:{batch % 60:02d}.000000Z"
            rows, seq, prev = decision_rows(rng, subjects, seq, prev, at, size)
            conn.execute("BEGIN")
            conn.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
            conn.executemany(INSERT, rows)
            conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
            conn.execute("COMMIT")
        spent = time.process_time() - start
        conn.close()
    return spent / seq * 1e6


def main(argv: list[str]) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f}")
    for name, statements in VARIANTS.items():
        print(f"{name:<40} {per_row(statements):6.2f} µs CPU a row")


if __name__ == "__main__":
    main(sys.argv[1:])
