"""``garde jobs list|show|retry|cancel`` on a real queue (PostgreSQL), their JSON against their models,
and ``garde retention sweep`` queueing on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.cli.schemas import COMMANDS
from garde.jobs import submit
from garde.jobs.builtin import ping
from garde.settings import get_settings
from garde.store import open_store
from tests.jobs_support import NO_SCHEDULES, garde_worker, wait_for_job

runner = CliRunner()


def _json(*args: str, status: int = 0) -> Any:
    command = " ".join(args[:2])
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == status, result.output
    data = json.loads(result.stdout)
    COMMANDS[command].model.model_validate(data)
    return data


@pytest.fixture
def on_postgres(migrated_postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("GARDE_DATABASE_URL", migrated_postgres_url)
    get_settings.cache_clear()
    yield migrated_postgres_url
    get_settings.cache_clear()


@pytest.mark.postgres
def test_jobs_are_listed_shown_cancelled_and_retried(on_postgres: str, tmp_path: Path) -> None:
    store = open_store(on_postgres)
    try:
        waiting = submit(store, ping, {"message": "to cancel"}).job_id
        broken = submit(store, ping, {"message": "x", "unknown": 1}).job_id  # fails: no such argument
        assert waiting is not None and broken is not None
        listed = _json("jobs", "list")
        assert [(j["id"], j["kind"], j["status"]) for j in listed] == [(broken, "garde.ping", "todo"),
                                                                       (waiting, "garde.ping", "todo")]
        assert _json("jobs", "cancel", str(waiting), "--actor", "dpo")["status"] == "cancelled"
        refused = runner.invoke(app, ["jobs", "cancel", str(waiting)])
        assert refused.exit_code == 2 and "only a waiting job" in refused.output
        with garde_worker(on_postgres, tmp_path / "worker.log", env=NO_SCHEDULES):  # no tick's job.pruned
            assert wait_for_job(on_postgres, broken) == "failed"
        shown = _json("jobs", "show", str(broken))
        assert [e["type"] for e in shown["events"]][:2] == ["deferred", "started"]
        assert shown["events"][-1]["type"] == "failed" and shown["arguments"]["unknown"] == 1
        assert _json("jobs", "list", "--status", "failed")[0]["id"] == broken
        assert _json("jobs", "retry", str(broken), "--actor", "dpo")["status"] == "todo"
        assert runner.invoke(app, ["jobs", "retry", str(waiting)]).exit_code == 2  # cancelled, not failed
        assert "no job 999" in runner.invoke(app, ["jobs", "show", "999"]).output
        with store.connect() as conn:
            kinds = [(e["kind"], e["actor"]) for e in audit.entries(conn) if e["kind"].startswith("job.")]
        assert kinds == [("job.cancelled", "dpo"), ("job.retried", "dpo")]
    finally:
        store.dispose()


@pytest.mark.postgres
def test_retention_sweep_queues_on_postgresql(on_postgres: str) -> None:
    queued = _json("retention", "sweep", "--yes")
    assert set(queued) == {"job_id"}
    assert _json("jobs", "show", str(queued["job_id"]))["kind"] == "retention.sweep"
    refused = runner.invoke(app, ["retention", "sweep", "--yes", "--datasets", "datasets"])
    assert refused.exit_code == 2 and "--inline" in refused.output


def test_on_sqlite_no_job_waits_and_none_is_named(cli_env: Path) -> None:
    assert _json("jobs", "list") == []
    shown = runner.invoke(app, ["jobs", "show", "1"])
    assert shown.exit_code == 2 and "needs a PostgreSQL store" in shown.output
