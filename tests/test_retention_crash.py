"""Kill -9 the sweep at random points, again and again; the outcome is still exact.

``garde retention sweep`` runs in a process of its own (forked: tests.forked_commands) with tiny batches;
the test watches the journal and SIGKILLs it after a random number of
batches plus a random delay (so kills land anywhere: between the journal
commit and the business commit, inside either, after both), at least 20
times (``GARDE_CRASH_KILLS``), then lets one sweep finish. The final tables
must equal both oracles of ``test_retention_negomarkets`` (hand-written SQL
and ``Period.after`` row by row): the due rows gone, every other row
unchanged. The journal's batches must not overlap (key ranges on SQLite,
pages on PostgreSQL, where the tables are spread over many pages so that
there is something to interrupt) and must count every deleted row once,
each batch with one audit entry, and the audit chain must verify.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from itertools import pairwise
from pathlib import Path

import sqlalchemy as sa

from garde import audit
from garde.retention.journal import decode_keys, retention_batches, retention_runs
from tests.forked_commands import Command, Commands, forked_garde
from tests.test_retention_negomarkets import (
    DATASET,
    TABLES,
    TODAY,
    Deployment,
    business_url,
    expected_by_python,
    expected_by_sql,
    fill,
    snapshot,
)

KILLS = int(os.environ.get("GARDE_CRASH_KILLS", "20"))
ROOT = Path(__file__).resolve().parents[1]


# What a sweep command imports when it runs: imported once, before the forks (tests.forked_commands).
PRELOAD = ("garde.cli.retention", "garde.retention.sweep", "garde.datasets", "psycopg",
           "sqlalchemy.dialects.postgresql.psycopg", "sqlalchemy.dialects.sqlite")


@contextmanager
def sweeps(store_url: str, shop_url: str, folder: Path,
           url_env: str = "GARDE_NEGOMARKETS_URL") -> Iterator[Commands]:
    """`garde retention sweep` commands over the store and the shop, started by forking."""
    env = {**os.environ, "GARDE_DATABASE_URL": store_url, url_env: shop_url}
    with forked_garde(env, folder, PRELOAD) as commands:
        yield commands


def sweep_command(commands: Commands, batch_size: int, *, dataset: Path = DATASET,
                  today: date = TODAY) -> Command:
    return commands.start(["retention", "sweep", "--inline", "--datasets", str(dataset), "--today",
                           today.isoformat(), "--batch-size", str(batch_size), "--quiet"])


def killed_sweeps(store: sa.Engine, start: Callable[[], Command], rng: random.Random, kills: int,
                  most_batches: int) -> int:
    """Start sweeps and SIGKILL each after up to ``most_batches`` more batches in the journal and a
    random delay, until ``kills`` kills or until one ends first (nothing left to interrupt; it must
    have ended well). Returns the kills made."""
    made = 0
    while made < kills:
        target = _batches(store) + rng.randint(0, most_batches)
        process = start()
        deadline = time.monotonic() + 30
        while process.poll() is None and _batches(store) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.random() * 0.02)
        if process.poll() is not None:
            assert process.wait() == 0, process.output()
            break
        process.kill()
        made += 1
    return made


def _batches(store: sa.Engine) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(retention_batches)).scalar_one())


def test_sweep_killed_at_random_points_ends_exact(database_url: str, tmp_path: Path) -> None:
    shop_url = business_url(database_url, tmp_path)
    deployment = Deployment(database_url, shop_url)
    by_pages = deployment.shop.dialect.name == "postgresql"
    fill(deployment.shop, scale=2 if by_pages else 3)  # enough batches for 20 kills on a quick machine
    if by_pages:  # sweeps go page by page there: spread the rows over many pages
        with deployment.shop.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in TABLES:
                conn.exec_driver_sql(f"ALTER TABLE {name} SET (fillfactor = 10)")
                conn.exec_driver_sql(f"VACUUM FULL {name}")
    before = snapshot(deployment.shop)
    by_sql = expected_by_sql(deployment.shop)
    rng = random.Random(20260228)
    try:
        with sweeps(database_url, shop_url, tmp_path / "sweeps") as commands:
            kills = killed_sweeps(deployment.store, lambda: sweep_command(commands, batch_size=3), rng,
                                  KILLS, most_batches=4)
            final = sweep_command(commands, batch_size=100)
            assert final.wait() == 0, final.output()

        after = snapshot(deployment.shop)
        expected = expected_by_python(before)
        for name in before:
            assert after[name] == expected[name], name
            assert set(after[name]) == by_sql[name], name
        assert kills >= KILLS, f"the sweep finished after {kills} kills: give it more work"

        with deployment.store.connect() as conn:
            batches = conn.execute(sa.select(retention_batches)).all()
            runs = conn.execute(sa.select(retention_runs)).all()
            verification = audit.verify(conn)
            audited = Counter(e["payload"]["batch"] for e in audit.entries(conn, kind="retention.batch"))
        assert verification.ok, verification.reason
        assert all(r.status == "done" for r in runs)
        assert sum(r.resumed for r in runs) >= 1
        assert all(b.status == "done" for b in batches)
        assert audited == Counter({b.id: 1 for b in batches})
        journalled: dict[tuple[str, str], list[int]] = {}
        ranges: dict[tuple[str, str], list[tuple[int, int, bool, int]]] = {}
        for b in batches:
            keys, span = decode_keys(b.keys)
            if span is None:
                assert keys is not None and b.count == len(keys)
                journalled.setdefault((b.table_name, b.operation), []).extend(keys)
            else:
                ranges.setdefault((b.table_name, b.operation), []).append(
                    (span.low, span.high, span.blocks, b.count))
        for (table, operation), keys in journalled.items():
            assert len(keys) == len(set(keys)), f"a key of {table} was journalled twice"
            if operation == "delete":
                assert set(keys) == set(before[table]) - set(after[table]), table
        for (table, operation), spans in ranges.items():  # key ranges, or pages on PostgreSQL
            spans.sort()
            assert all(a[1] <= b[0] for a, b in pairwise(spans)), f"{table}: ranges overlap"
            if operation == "delete":
                gone = set(before[table]) - set(after[table])
                assert sum(count for *_, count in spans) == len(gone), table
                keyed = [(low, high) for low, high, pages, _ in spans if not pages]
                assert not keyed or all(any(low < key <= high for low, high in keyed) for key in gone), table
        assert ranges or journalled
    finally:
        deployment.close()
