"""Where a retention sweep's time goes, batch by batch: the business statement, the journal, the audit
append, the commits; the statements and round trips per batch.

Run: ``python -m benchmarks.profile_sweep [--rows 1000000] [--batch-size 50000] [--postgres URL]``
(SQLite files in a temporary folder without ``--postgres``; with it, two databases of its own on that
server, dropped at the end). One table of ``rows`` web sessions, one tenth due (as
``bench_retention``), swept inline by ``garde.retention.sweep``. The phases are timed by wrapping the
sweep's own functions in this process (a profiler, not a measure of the sweep's speed: the wrapping
costs a few microseconds per call); statements and commits are counted by SQLAlchemy's events.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_retention import REGISTER, TABLE, TODAY, build, settle

# the sweep's functions timed, as (module, attribute, phase)
PHASES = (
    ("garde.retention.batches", "apply_batch", "business statement (DELETE of a range, or by key)"),
    ("garde.retention.batches", "select_batch", "select the keys (select-then-apply batches)"),
    ("garde.retention.batches", "take_batch", "DELETE ... RETURNING the keys (keyed batches)"),
    ("garde.retention.sweep", "Sweeper._journal", "store transaction: journal + audit + commit"),
    ("garde.retention.journal", "log_batch", "  journal row (keys or range encoded, INSERT)"),
    ("garde.retention.journal", "batch_done", "  previous batch marked done (UPDATE)"),
    ("garde.audit", "record", "  audit append (head locked, entry, head moved)"),
    # once per sweep or per step
    ("garde.retention.sweep", "Sweeper.holds", "once: legal holds gathered"),
    ("garde.retention.sweep", "Sweeper.policy", "once: policy (columns reflected at the first)"),
    ("garde.retention.sweep", "Sweeper.start", "once: run started and audited"),
    ("garde.retention.batches", "Batches.__init__", "per step: table's top key and pages"),
    ("garde.retention.sweep", "Sweeper.finish", "once: totals, run closed, head checkpointed"),
)


def _wrap(times: dict[str, list[float]], module: str, attribute: str, phase: str) -> Callable[[], None]:
    owner: Any = importlib.import_module(module)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = owner.__dict__[name]

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times[phase].append(time.perf_counter() - start)

    setattr(owner, name, timed)
    return lambda: setattr(owner, name, original)


@contextmanager
def counted(engines: dict[str, sa.Engine]) -> Iterator[Counter[str]]:
    """Statements and commits per engine while the block runs."""
    seen: Counter[str] = Counter()
    hooks: list[tuple[sa.Engine, str, Callable[..., None]]] = []
    for label, engine in engines.items():
        def statement(*_: Any, label: str = label) -> None:
            seen[f"{label} statements"] += 1

        def commit(*_: Any, label: str = label) -> None:
            seen[f"{label} commits"] += 1
        hooks += [(engine, "before_cursor_execute", statement), (engine, "commit", commit)]
    for engine, event, hook in hooks:
        sa.event.listen(engine, event, hook)
    try:
        yield seen
    finally:
        for engine, event, hook in hooks:
            sa.event.remove(engine, event, hook)


def profile(store_url: str, shop_url: str, rows: int, batch_size: int, folder: Path) -> None:
    from garde import retention
    from garde.datasets import connect_datamap, load_datamap
    from garde.store import open_store
    from garde.store.upgrade import upgrade

    (folder / "register.yaml").write_text(REGISTER % {"action": "delete"})
    (folder / "web.yaml").write_text(f"database: web\nurl: {shop_url}\nregister: register.yaml\n"
                                     "tables:" + TABLE % {"table": "sessions"})
    upgrade(store_url)
    datamap = load_datamap(folder / "web.yaml")
    engines = connect_datamap(datamap, create=True)
    store = open_store(store_url)
    try:
        started = time.perf_counter()
        build(engines["web"], "sessions", rows)
        settle(engines["web"])
        print(f"built {rows:,} rows in {time.perf_counter() - started:.1f} s ({engines['web'].dialect.name})")
        times: dict[str, list[float]] = defaultdict(list)
        undo = [_wrap(times, *phase) for phase in PHASES]
        try:
            with counted({"store": store, "business": engines["web"]}) as seen:
                cpu, started = time.process_time(), time.perf_counter()
                result = retention.sweep(store, datamap, engines, today=TODAY, batch_size=batch_size)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            for restore in undo:
                restore()
        batches = max(result.batches, 1)
        print(f"swept {result.total():,} rows in {result.batches} batches of ≤ {batch_size:,}: "
              f"wall {wall:.3f} s, CPU of this process {cpu:.3f} s; load {os.getloadavg()[0]:.1f}")
        print("\n| phase | calls | total s | per batch ms | share of wall |\n|---|---|---|---|---|")
        for _, _, phase in PHASES:
            spent = times.get(phase, [])
            if spent:
                print(f"| {phase} | {len(spent)} | {sum(spent):.3f} | {sum(spent) / batches * 1000:.1f} | "
                      f"{sum(spent) / wall:.0%} |")
        print("\n" + ", ".join(f"{name}: {n} ({n / batches:.1f} per batch)"
                               for name, n in sorted(seen.items())))
    finally:
        for engine in (store, *engines.values()):
            engine.dispose()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--postgres", help="a PostgreSQL server URL whose user may create databases")
    args = parser.parse_args(argv)
    os.environ.setdefault("GARDE_IDENTIFIER_KEY", f"bench-{uuid.uuid4().hex}")
    from garde import retention

    batch_size = args.batch_size or retention.BATCH_SIZE
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.postgres:
            profile(f"sqlite:///{folder / 'store.db'}", f"sqlite:///{folder / 'shop.db'}", args.rows,
                    batch_size, folder)
            return
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        names = [f"garde_profile_sweep_{uuid.uuid4().hex[:8]}_{n}" for n in ("store", "shop")]
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            base = sa.make_url(args.postgres)
            urls = [base.set(database=n).render_as_string(hide_password=False) for n in names]
            profile(urls[0], urls[1], args.rows, batch_size, folder)
        finally:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
