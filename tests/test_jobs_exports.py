"""``garde audience --job``: the export as a job, written owner-only to the `exports` folder of
whoever runs it (a ``garde worker`` process on PostgreSQL, the command itself on SQLite)."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from garde import consent, subjects
from garde.cli import app
from garde.jobs.exports import export_path
from garde.problems import GardeError
from garde.settings import get_settings
from tests.conftest import mode
from tests.jobs_support import DEADLINE, garde_worker
from tests.test_audience_contacts import ROOT, column, shop_urls, store_url, world  # noqa: F401 (fixtures)


def test_an_audience_export_job_writes_its_csv_owner_only(world: dict[str, Any],  # noqa: F811
                                                         shop_urls: dict[str, str],  # noqa: F811
                                                         store_url: str, tmp_path: Path,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    crm = world["engines"]["crm"]
    first = column(crm, "SELECT email FROM newsletter_subscriptions ORDER BY id")[0]
    with world["store"].begin() as conn:
        consent.give(conn, subjects.ensure_subject(conn, {"email": first}), "newsletter", channel="email")
    exports = tmp_path / "exports"
    env = {"GARDE_DATABASE_URL": store_url, "GARDE_SHOP_URL": shop_urls["shop"], "GARDE_CRM_URL":
           shop_urls["crm"], "GARDE_DATASETS": str(ROOT / "datasets"), "GARDE_EXPORTS": str(exports),
           "GARDE_REGISTERS": str(ROOT / "registers" / "reference-shop.yaml")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        command = ["audience", "newsletter", "--channel", "email", "--job"]
        refused = CliRunner().invoke(app, [*command, "-o", "x"])
        assert refused.exit_code == 2 and "--job" in refused.output
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
        if store_url.startswith("postgresql"):
            assert "queued as job" in result.output and not exports.exists()
            log = tmp_path / "worker.log"
            with garde_worker(store_url, log, env={**env, "GARDE_RETENTION_SWEEP_SCHEDULE": ""}):
                end = time.monotonic() + DEADLINE
                while not list(exports.glob("*.csv")):
                    assert time.monotonic() < end, log.read_text()
                    time.sleep(0.05)
    finally:
        get_settings.cache_clear()
    (written,) = exports.glob("audience-newsletter-email-*.csv")
    assert mode(written) == 0o600 and mode(exports) == 0o700
    assert not list(exports.glob("*.part"))
    with written.open(newline="", encoding="utf-8") as handle:
        assert [r["email"] for r in csv.DictReader(handle)] == [first.lower()]


def test_an_export_name_is_a_plain_file_name(tmp_path: Path) -> None:
    for name in ("../x.csv", "/etc/x.csv", "x.txt", "a/b.csv", ".hidden.csv", ""):
        with pytest.raises(GardeError, match="not an export file name"):
            export_path(tmp_path, name)
    assert export_path(tmp_path, "audience-a-b.csv") == tmp_path / "audience-a-b.csv"
    assert os.sep not in export_path(tmp_path, "a.csv").name
