"""Kill -9 a sweep that archives, again and again: every due invoice ends in the archive exactly once,
whole, and nothing else moves (the archive's key refuses a duplicate; a lost row would be missing).

As in ``test_retention_crash``: ``garde retention sweep`` in a process of its own (forked) with tiny
batches, killed after a random number of batches plus a random delay, then one sweep that finishes.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from garde import audit
from garde.retention.journal import retention_batches, retention_runs
from tests.forked_commands import Command, Commands
from tests.test_retention_archive import (
    DATASET,
    FIRST,
    World,
    business_url,
    expected,
    fill,
    invoices,
    invoices_archive,
    table_rows,
)
from tests.test_retention_crash import killed_sweeps, sweep_command, sweeps

KILLS = max(3, int(os.environ.get("GARDE_CRASH_KILLS", "20")) // 4)

def _sweep(commands: Commands, batch_size: int) -> Command:
    return sweep_command(commands, batch_size, dataset=DATASET, today=FIRST)


def test_archiving_killed_at_random_points_moves_each_row_once(database_url: str, tmp_path: Path) -> None:
    shop_url = business_url(database_url, tmp_path)
    world = World(database_url, shop_url)
    try:
        fill(world.shop, n=400)
        if world.shop.dialect.name == "postgresql":  # sweeps go page by page there: many pages
            with world.shop.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ALTER TABLE invoices SET (fillfactor = 10)")
                conn.exec_driver_sql("VACUUM FULL invoices")
        before = table_rows(world.shop, invoices)
        stay, move, _ = expected(before, FIRST)
        rng = random.Random(20261205)
        with sweeps(database_url, shop_url, tmp_path / "sweeps", "GARDE_ARCHIVE_TEST_URL") as commands:
            kills = killed_sweeps(world.store, lambda: _sweep(commands, batch_size=2), rng, KILLS,
                                  most_batches=6)
            final = _sweep(commands, batch_size=50)
            assert final.wait() == 0, final.output()

        live = table_rows(world.shop, invoices)
        archived = table_rows(world.shop, invoices_archive)
        assert set(live) == stay
        assert set(archived) == move
        assert all(archived[key][:-1] == before[key] for key in move)
        assert kills >= 1, "the sweep finished before any kill: give it more work"
        with world.store.connect() as conn:
            batches = conn.execute(sa.select(retention_batches)).all()
            runs = conn.execute(sa.select(retention_runs)).all()
            assert audit.verify(conn).ok
            audited = Counter(e["payload"]["batch"] for e in audit.entries(conn, kind="retention.batch"))
        assert all(r.status == "done" for r in runs) and all(b.status == "done" for b in batches)
        assert audited == Counter({b.id: 1 for b in batches})
        # each batch journals the rows it treated (`affected` is 0 where a resumed run re-applied one)
        assert sum(b.count for b in batches if b.operation == "archive") == len(move)
    finally:
        world.close()
