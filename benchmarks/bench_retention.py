"""A retention sweep over 1 M due rows out of 10 M, against a raw SQL statement with the same predicate.

Run: ``python -m benchmarks.bench_retention [--rows 10000000] [--action delete|anonymise]
[--postgres URL] [--batch-size 50000]``.

Two identical tables are built with one bulk SQL statement each (recursive
CTE on SQLite, ``generate_series`` on PostgreSQL): ``rows`` web sessions,
every tenth one older than 13 months, hence due under "13 months after
collection". garde sweeps one table (``garde.retention.sweep``: keyset
batches, each journalled and audited in the engine store before it is
applied, then marked done); the baseline is one raw ``DELETE`` (or
``UPDATE`` for ``anonymise``) with the same predicate on the other table, in
the same run. Peak memory is the process's peak resident set during the
sweep (Linux ``VmHWM``, reset before the sweep; elsewhere ``getrusage``'s
peak of the whole process), an upper bound that includes SQLite's page
cache. ``make bench`` runs both actions on 10 M rows.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from benchmarks import Result
from garde import retention
from garde.datasets import connect_datamap, load_datamap
from garde.periods import Period
from garde.store import open_store

TODAY = date(2025, 6, 1)
BOUND = Period(13, "month").before(TODAY) + timedelta(days=1)

REGISTER = """
controller: {name: Bench}
activities:
  - id: web-audience
    name: Audience statistics
    data_subjects: [visitor]
    data_categories: [online.browsing_history, online.cookie_id]
    legal_bases: [consent]
    retention:
      - {rule: 13 months after collection, action: %(action)s}
"""

TABLE = """
  %(table)s:
    subject: visitor
    primary_key: id
    identities: {cookie_id: cookie_id}
    timestamps: {collection: visited_at}
    columns:
      cookie_id: {category: online.cookie_id, activities: [web-audience], erase: null}
      page: {category: online.browsing_history, activities: [web-audience],
             erase: {strategy: fixed, value: anonymised}}
"""
DATASET = "database: web\nurl: %(url)s\nregister: register.yaml\ntables:" + TABLE


def build(engine: sa.Engine, table: str, rows: int) -> None:
    """``rows`` sessions; ``id % 10 = 0`` are 400+ days old (due), the others under 380 days."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"CREATE TABLE {table} (id bigint PRIMARY KEY, cookie_id text, "
                                 "page text, visited_at date, amount integer)"))
            conn.execute(sa.text(
                f"INSERT INTO {table} SELECT i, 'ck' || i, '/p/' || (i % 97), DATE '{TODAY}' - "
                "(CASE WHEN i % 10 = 0 THEN 400 + i % 4000 ELSE (i * 7919) % 380 END)::int, i % 10000 "
                "FROM generate_series(1::bigint, :rows) AS i"), {"rows": rows})
            conn.execute(sa.text(f"ANALYZE {table}"))
        else:
            conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, cookie_id TEXT, page TEXT, "
                                 "visited_at TEXT, amount INTEGER)"))
            conn.execute(sa.text(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
                f"INSERT INTO {table} SELECT i, 'ck' || i, '/p/' || (i % 97), date('{TODAY}', '-' || "
                "(CASE WHEN i % 10 = 0 THEN 400 + i % 4000 ELSE (i * 7919) % 380 END) || ' days'), "
                "i % 10000 FROM n"), {"rows": rows})


def settle(engine: sa.Engine) -> None:
    """Start each timed part from the same state: on SQLite, the write-ahead log copied back into
    the database file (else the raw statement's 1 M-row log is checkpointed during garde's run)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")


def baseline(engine: sa.Engine, table: str, action: str) -> tuple[float, int]:
    """The raw statement with the same predicate; seconds and rows affected."""
    due = f"visited_at IS NOT NULL AND visited_at < '{BOUND.isoformat()}'"
    if action == "delete":
        statement = f"DELETE FROM {table} WHERE {due}"
    else:
        statement = (f"UPDATE {table} SET cookie_id = NULL, page = 'anonymised' WHERE {due} "
                     "AND (cookie_id IS NOT NULL OR page IS NOT NULL AND page != 'anonymised')")
    start = time.perf_counter()
    with engine.begin() as conn:
        affected = conn.execute(sa.text(statement)).rowcount
    return time.perf_counter() - start, int(affected)


def measure(rows: int, action: str, batch_size: int, postgres: str | None, folder: Path) -> list[Result]:
    url = postgres or f"sqlite:///{folder / 'web.db'}"
    (folder / "register.yaml").write_text(REGISTER % {"action": action})
    (folder / "web.yaml").write_text(DATASET % {"url": url, "table": "sessions"})
    datamap = load_datamap(folder / "web.yaml")
    engines = connect_datamap(datamap, create=True)
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    engine = engines["web"]
    start = time.perf_counter()
    build(engine, "sessions", rows)
    build(engine, "sessions_raw", rows)
    print(f"built 2 × {rows:,} rows in {time.perf_counter() - start:.1f} s", flush=True)
    settle(engine)
    raw_seconds, raw_rows = baseline(engine, "sessions_raw", action)
    print(f"raw {action}: {raw_rows:,} rows in {raw_seconds:.2f} s", flush=True)
    settle(engine)
    reset_peak()
    start = time.perf_counter()
    result = retention.sweep(store, datamap, engines, today=TODAY, batch_size=batch_size)
    garde_seconds = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    print(f"garde sweep: {result.total():,} rows in {result.batches} batches, {garde_seconds:.2f} s, "
          f"peak RSS {peak_mb:.0f} MB", flush=True)
    if result.total() != raw_rows:
        raise SystemExit(f"garde affected {result.total()} rows, the raw statement {raw_rows}")
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar_one()
        left_raw = conn.execute(sa.text("SELECT count(*) FROM sessions_raw")).scalar_one()
    if left != left_raw:
        raise SystemExit(f"garde left {left} rows, the raw statement {left_raw}")
    for e in (*engines.values(), store):
        e.dispose()
    name = f"retention {action} {raw_rows:,}/{rows:,} ({engine.dialect.name})"
    ratio = garde_seconds / raw_seconds
    return [Result(name, "time", garde_seconds, raw_seconds, "s", 1 / ratio, "≤ 1.3×", ratio <= 1.3,
                   f"{ratio:.2f}× the raw statement, batch {batch_size}"),
            Result(name, "peak RSS", peak_mb, 300, "MB", 300 / peak_mb, "< 300 MB", peak_mb < 300)]


def reset_peak() -> None:
    """Start the peak resident set from now (Linux: ``clear_refs`` 5), so that ``make bench``'s
    earlier benchmarks in this process do not count; elsewhere the peak is the process's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """The peak resident set since :func:`reset_peak` (``VmHWM``), else the process's, in MB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run() -> list[Result]:
    """``make bench``: the issue's measure, 1 M due rows out of 10 M, deleted and anonymised."""
    results = []
    for action in ("delete", "anonymise"):
        with tempfile.TemporaryDirectory() as folder:
            results += measure(10_000_000, action, retention.BATCH_SIZE, None, Path(folder))
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--action", choices=("delete", "anonymise"), default="delete")
    parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)
    parser.add_argument("--postgres", help="a PostgreSQL URL for the business database (default: SQLite)")
    parser.add_argument("--folder", type=Path, help="working folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for r in measure(args.rows, args.action, args.batch_size, args.postgres, folder):
            print(f"{r.benchmark} / {r.measure}: garde {r.garde:,.2f} {r.unit}, baseline {r.baseline:,.2f} "
                  f"{r.unit}, goal {r.goal}: {'met' if r.met else 'NOT met'}. {r.note}")


if __name__ == "__main__":
    main(sys.argv[1:])
