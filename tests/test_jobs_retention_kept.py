"""A split sweep on a worker: the coordinator job sweeps the first part itself and queues the others;
the worker keeps its sweeper between the jobs (data map, registers and business connections opened once
per worker, not once per job)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import audit
from garde.jobs.retention import close_sweepers, keep_sweepers, kept_sweeper, sweep, sweep_part
from garde.settings import get_settings
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment, expected_by_python, fill, snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture
def deployment(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    monkeypatch.setenv("GARDE_DATASETS", str(DATASET))
    monkeypatch.setenv("GARDE_NEGOMARKETS_URL", postgres_url)
    get_settings.cache_clear()
    found = Deployment(postgres_url, postgres_url)
    try:
        yield found
    finally:
        close_sweepers()
        found.close()
        get_settings.cache_clear()


def _sessions(store: sa.Engine) -> set[int]:
    """The server sessions open on the store's database (the business tables are beside it)."""
    with store.connect() as conn:
        return set(conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()")).scalars())


def test_the_jobs_of_a_split_sweep_share_the_worker_s_sweeper(deployment: Deployment, tmp_path: Path) -> None:
    fill(deployment.shop)
    before = snapshot(deployment.shop)
    keep_sweepers()
    kept = kept_sweeper(deployment.store)
    with kept.engines["shop"].connect() as conn:
        business = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    started = sweep(deployment.store, today=TODAY.isoformat(), batch_size=5)
    # the coordinator swept the first part itself and queued the four others
    assert len(started["parts"]) == 5 and len(started["jobs"]) == 4 and not started["closed"]
    for part in started["parts"][1:]:  # as a worker takes them, one after the other, in this process
        sweep_part(deployment.store, run=started["run"], tables=part, batch_size=5)
        assert kept_sweeper(deployment.store) is kept
    # the business database's session the coordinator opened is still open, the one the parts used
    assert business in _sessions(deployment.store)
    with kept.engines["shop"].connect() as conn:
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == business
    assert snapshot(deployment.shop) == expected_by_python(before)
    with deployment.store.connect() as conn:
        assert audit.verify(conn).ok
