"""The audit writer's cost an entry and a subject's read as the log grows, per subject index.

Through ``sqlite3`` alone, on a table shaped as ``audit_log`` (WAL, ``synchronous=NORMAL``, as garde
opens a store), filled to N entries over 200,000 subjects, then 40 batches of 500 decision entries
appended as the writer appends them (head locked, rows, head moved, commit; SHA-256 a row), CPU µs
an entry; then 100 subjects' entries read (best and mean ms). Variants:

- ``subject``: the index on ``subject_id`` the migrations made before 0029 (PostgreSQL keeps it);
- ``runs``: garde's index in sorted runs (:mod:`garde.audit.runs`: no index on the log's
  ``subject_id``, the runs built and merged by the append that fills a run; the unindexed tail read
  by a bounded scan); its cost includes the runs' building and merging, amortised over the batches;
- ``none``: no subject index at all (the floor; a subject's read is a scan of the log).

``python -m benchmarks.profile_audit_runs FOLDER N [variant …]``: FOLDER keeps the filled stores
(``audit-<variant>-<N>.db``) from one run to the next (10 M entries take minutes to fill).
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
import uuid

from benchmarks.profile_audit_sql import INSERT, PAYLOAD, decision_rows
from garde.audit.runs import RUN_SIZE, build_runs_sqlite, subject_seqs_sql

TABLE = """
CREATE TABLE audit_log (seq BIGINT NOT NULL, at VARCHAR(32) NOT NULL, kind VARCHAR(64) NOT NULL,
  subject_id VARCHAR(36), actor VARCHAR(128) NOT NULL, payload TEXT NOT NULL,
  prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, seal VARCHAR(128), PRIMARY KEY (seq));
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE TABLE audit_head (id INTEGER NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64) NOT NULL);
CREATE TABLE audit_runs (id INTEGER NOT NULL PRIMARY KEY, level INTEGER NOT NULL, lo BIGINT NOT NULL,
  hi BIGINT NOT NULL);
CREATE TABLE audit_subject_runs (run INTEGER NOT NULL, subject_id VARCHAR(36) NOT NULL, seq BIGINT NOT NULL,
  PRIMARY KEY (run, subject_id, seq)) WITHOUT ROWID;
"""
SUBJECTS = 200_000


def _subjects() -> list[str]:
    rng = random.Random(1)
    return [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(SUBJECTS)]


def _open(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def fill(path: str, count: int, variant: str, subjects: list[str]) -> None:
    """``count`` entries, then the variant's index built in one go (as a migration would)."""
    if os.path.exists(path):
        return
    conn = _open(path)
    conn.executescript(TABLE)
    rng = random.Random(2)
    conn.execute("BEGIN")
    prev = "0" * 64
    for start in range(0, count, 10_000):
        rows = [(seq, "2026-12-06T10:00:00.000000Z", "decision", rng.choice(subjects), "garde", PAYLOAD,
                 prev, prev, None) for seq in range(start + 1, min(count, start + 10_000) + 1)]
        conn.executemany(INSERT, rows)
    conn.execute("INSERT INTO audit_head VALUES (1, ?, ?)", (count, prev))
    if variant == "subject":
        conn.execute("CREATE INDEX ix_audit_log_subject_id ON audit_log (subject_id)")
    elif variant == "runs":
        build_runs_sqlite(conn, count, initial=True)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def append(path: str, variant: str, subjects: list[str], batches: int = 40,
           size: int = 500) -> tuple[float, float]:
    """CPU µs an entry, as the writer appends a batch (the runs' upkeep included), and the runs'
    upkeep's part."""
    conn = _open(path)
    rng = random.Random(time.time_ns())
    ((seq, prev),) = conn.execute("SELECT seq, hash FROM audit_head").fetchall()
    spent = runs_spent = 0.0
    for batch in range(batches):
        at = f"2026-12-07T02:{batch // 60:02d}:{batch % 60:02d}.000000Z"
        start = time.process_time()
        conn.execute("BEGIN")
        conn.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
        rows, seq, prev = decision_rows(rng, subjects, seq, prev, at, size)
        conn.executemany(INSERT, rows)
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
        if variant == "runs":
            runs_start = time.process_time()
            build_runs_sqlite(conn, seq)
            runs_spent += time.process_time() - runs_start
        conn.execute("COMMIT")
        spent += time.process_time() - start
    conn.close()
    return spent / (batches * size) * 1e6, runs_spent / (batches * size) * 1e6


def read(path: str, variant: str, subjects: list[str], count: int = 100) -> tuple[float, float, float]:
    """Best, median and mean wall ms to find a subject's entries (seq, at, kind, payload)."""
    conn = _open(path)
    rng = random.Random(3)
    if variant == "runs":
        sql = (f"SELECT seq, at, kind, payload FROM audit_log WHERE seq IN ({subject_seqs_sql('?1')}) "
               "ORDER BY seq")
    else:
        sql = "SELECT seq, at, kind, payload FROM audit_log WHERE subject_id = ?1 ORDER BY seq"
    times = []
    for _ in range(count):
        subject = rng.choice(subjects)
        start = time.perf_counter()
        found = conn.execute(sql, (subject,)).fetchall()
        times.append(time.perf_counter() - start)
        assert found is not None
    conn.close()
    return min(times) * 1e3, sorted(times)[len(times) // 2] * 1e3, sum(times) / len(times) * 1e3


def main(argv: list[str]) -> None:
    folder, count = argv[0], int(argv[1])
    batches = int(os.environ.get("BATCHES", "40"))
    variants = argv[2:] or ["subject", "runs"]
    subjects = _subjects()
    print(f"load average {os.getloadavg()[0]:.2f}; {count:,} entries; runs of {RUN_SIZE}")
    for variant in variants:
        path = os.path.join(folder, f"audit-{variant}-{count}.db")
        fill(path, count, variant, subjects)
    for variant in variants:
        path = os.path.join(folder, f"audit-{variant}-{count}.db")
        cpu, runs = append(path, variant, subjects, batches)
        best, median, mean = read(path, variant, subjects, 20 if variant == "none" else 100)
        print(f"{variant:<8} writer {cpu:6.2f} µs CPU an entry (runs {runs:5.2f}); "
              f"a subject read {best:7.3f} best / "
              f"{median:7.3f} median / {mean:7.3f} mean ms")


if __name__ == "__main__":
    main(sys.argv[1:])
