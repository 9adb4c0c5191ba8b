"""A retention sweep and an erasure append the log's head to GARDE_AUDIT_CHECKPOINT_FILE when they end."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.rights.running import run
from garde.settings import get_settings
from tests.test_hold_cli import deployment  # noqa: F401 (fixture: store and data through the environment)
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401 (fixture)


@pytest.fixture
def checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "checkpoints" / "audit.jsonl"
    path.parent.mkdir()
    monkeypatch.setenv("GARDE_AUDIT_CHECKPOINT_FILE", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def head(store: sa.Engine) -> tuple[int, str]:
    with store.connect() as conn:
        row = conn.execute(sa.select(audit.audit_head.c.seq, audit.audit_head.c.hash)).one()
    return int(row.seq), str(row.hash)


def test_a_retention_sweep_ends_with_a_checkpoint(deployment: Deployment, checkpoints: Path) -> None:  # noqa: F811
    as_of = ["--datasets", str(DATASET), "--today", TODAY.isoformat()]
    assert CliRunner().invoke(app, ["retention", "sweep", *as_of, "--dry-run"]).exit_code == 0
    assert lines(checkpoints) == []  # a dry run destroys nothing
    result = CliRunner().invoke(app, ["retention", "sweep", *as_of])
    assert result.exit_code == 0, result.output
    [line] = lines(checkpoints)
    assert (line["seq"], line["hash"]) == head(deployment.store)
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o600
    verdict = CliRunner().invoke(app, ["audit", "verify"])
    assert verdict.exit_code == 0 and "consistent with 1 checkpoints" in verdict.output


def test_an_erasure_ends_with_a_checkpoint(shop: Shop, checkpoints: Path) -> None:  # noqa: F811
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    [line] = lines(checkpoints)
    assert (line["seq"], line["hash"]) == head(shop.store)


def test_an_erasure_done_stays_done_when_its_checkpoint_cannot_be_written(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The checkpoint is written after the erasure committed: before, a checkpoint file that could
    not be written made `request run` fail for an erasure already done."""
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("GARDE_AUDIT_CHECKPOINT_FILE", str(tmp_path / "a-file" / "audit.jsonl"))
    get_settings.cache_clear()
    try:
        request_id = verified(shop, "erasure", {"email": "ana@example.org"})
        with pytest.warns(audit.CheckpointWarning, match="the job is done"):
            done = run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
        assert done.status == "completed"
    finally:
        get_settings.cache_clear()
