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
from garde.retention import journal
from garde.retention.parts import part_done
from garde.retention.sweep import SweepResult
from garde.settings import get_settings
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment, expected_by_python, fill, snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture
def deployment(migrated_postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    monkeypatch.setenv("GARDE_DATASETS", str(DATASET))
    monkeypatch.setenv("GARDE_NEGOMARKETS_URL", migrated_postgres_url)
    get_settings.cache_clear()
    found = Deployment(migrated_postgres_url, migrated_postgres_url)
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


def _editable_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The data map and its register copied where the test may edit them, as GARDE_DATASETS."""
    register = tmp_path / "registers" / "negomarkets.yaml"
    register.parent.mkdir()
    register.write_bytes((DATASET.parent / "../../../registers/negomarkets.yaml").resolve().read_bytes())
    datasets = tmp_path / "data" / "shop.yaml"
    datasets.parent.mkdir()
    text = DATASET.read_text(encoding="utf-8")
    datasets.write_text(text.replace("../../../registers/", "../registers/"), encoding="utf-8")
    monkeypatch.setenv("GARDE_DATASETS", str(datasets))
    get_settings.cache_clear()
    return datasets, register


def _edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def test_a_kept_sweeper_is_opened_again_when_its_register_or_data_map_changes(
        deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A register edited while the worker runs (a retention period lengthened, a legal hold) is what the
    next sweep job acts on: it kept the old rules until a restart, and would delete what the new ones keep."""
    datasets, register = _editable_copy(tmp_path, monkeypatch)
    keep_sweepers()
    kept = kept_sweeper(deployment.store)
    assert kept_sweeper(deployment.store) is kept  # nothing changed: the same one
    _edit(register)
    renewed = kept_sweeper(deployment.store)
    assert renewed is not kept and kept_sweeper(deployment.store) is renewed
    _edit(datasets)
    assert kept_sweeper(deployment.store) is not renewed


def test_a_request_worker_s_data_map_is_opened_again_when_a_register_changes(
        deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from garde.jobs import requests as request_jobs

    _, register = _editable_copy(tmp_path, monkeypatch)
    monkeypatch.setattr(request_jobs, "_deployments", {})
    try:
        kept = request_jobs.worker_deployment(None, None)
        assert request_jobs.worker_deployment(None, None) is kept
        _edit(register)
        assert request_jobs.worker_deployment(None, None) is not kept
    finally:
        for opened, _, _ in request_jobs._deployments.values():
            opened.dispose()


def test_a_run_is_closed_once_when_a_retried_part_reaches_its_end_first(deployment: Deployment) -> None:
    """The last part marks itself done, then is delayed before it closes the run (a stopped worker);
    meanwhile the retried job of a part done earlier (its worker killed before the queue heard of
    it) finds every part done and closes the run. The delayed part then closes nothing: one
    ``retention.run.finished`` entry, the run done once. The kill test met it under a heavy load."""
    fill(deployment.shop)
    keep_sweepers()
    started = sweep(deployment.store, today=TODAY.isoformat(), batch_size=5)
    run, (first, *middle, last) = started["run"], started["parts"]
    for part in middle:
        sweep_part(deployment.store, run=run, tables=part, batch_size=5)
    with deployment.store.begin() as conn:  # the last part's worker: its part done, the run not closed yet
        assert part_done(conn, run, last[0])
    again = sweep_part(deployment.store, run=run, tables=first, batch_size=5)  # a retried job's second run
    delayed = kept_sweeper(deployment.store)
    with deployment.store.connect() as conn:
        closing = SweepResult(run, journal.get_run(conn, run).today, False, False)
    assert again["closed"] and not delayed.finish(closing)  # the delayed part closes nothing
    with deployment.store.connect() as conn:
        finished = [e for e in audit.entries(conn, kind="retention.run.finished")
                    if e["payload"]["run"] == run]
        assert len(finished) == 1 and journal.get_run(conn, run).status == "done"
        assert audit.verify(conn).ok
