"""Kill -9 a sweep that archives, again and again: every due invoice ends in the archive exactly once,
whole, and nothing else moves (the archive's key refuses a duplicate; a lost row would be missing).

As in ``test_retention_crash``: ``python -m garde retention sweep`` in a subprocess with tiny
batches, killed after a random number of batches plus a random delay, then one sweep that finishes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from garde import audit
from garde.retention.journal import retention_batches, retention_runs
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
from tests.test_retention_crash import _batches, _sweep_process

KILLS = max(3, int(os.environ.get("GARDE_CRASH_KILLS", "20")) // 4)

def _sweep(store_url: str, shop_url: str, batch_size: int) -> subprocess.Popen[bytes]:
    return _sweep_process(store_url, shop_url, batch_size, dataset=DATASET, url_env="GARDE_ARCHIVE_TEST_URL",
                          today=FIRST)


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
        kills = 0
        while kills < KILLS:
            target = _batches(world.store) + rng.randint(0, 6)
            process = _sweep(database_url, shop_url, batch_size=2)
            deadline = time.monotonic() + 30
            while process.poll() is None and _batches(world.store) < target and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.random() * 0.02)
            if process.poll() is not None:
                _, err = process.communicate()
                assert process.returncode == 0, err.decode()
                break
            os.kill(process.pid, signal.SIGKILL)
            process.communicate()
            kills += 1
        final = _sweep(database_url, shop_url, batch_size=50)
        _, err = final.communicate(timeout=120)
        assert final.returncode == 0, err.decode()

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
