"""Long commands show progress on a terminal, and nothing else anywhere else.

The library functions behind them take a progress callback that adds up to the work done
(entries verified, tables checked, contacts written); the CLI draws it as a bar on stderr,
only when stderr is a terminal and without ``--quiet``.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde import audit, consent, subjects
from garde.audience import PROGRESS_EVERY, write_contacts_csv
from garde.datasets.live import check_databases
from tests.test_audience_contacts import column, shop_urls, store_url, world  # noqa: F401 (fixtures)
from tests.test_audit_checkpoint import fill, store  # noqa: F401 (fixture)
from tests.test_hold_cli import deployment  # noqa: F401 (fixture)
from tests.test_retention_negomarkets import DATASET, Deployment

ROOT = Path(__file__).parents[1]


def test_audit_verification_reports_every_entry_it_checks(store: sa.Engine) -> None:  # noqa: F811
    fill(store, appends=5, per_append=5)
    calls: list[int] = []
    with store.connect() as conn:
        result = audit.verify(conn, batch=10, progress=calls.append)
    assert result.ok and result.checked == 25
    assert calls == [10, 10, 5]


def test_datasets_check_reports_each_table_checked(deployment: Deployment) -> None:  # noqa: F811
    calls: list[int] = []
    assert check_databases(deployment.datamap, progress=calls.append) == []
    assert sum(calls) == len(deployment.datamap.tables()) > 1


def test_an_audience_reports_every_contact_written(world: dict[str, Any]) -> None:  # noqa: F811
    crm = world["engines"]["crm"]
    people = column(crm, "SELECT c.email FROM contacts c "
                         "JOIN newsletter_subscriptions n ON n.contact_id = c.id ORDER BY c.id")[:3]
    with world["store"].begin() as conn:
        for address in people:
            consent.give(conn, subjects.ensure_subject(conn, {"email": address}), "newsletter",
                         channel="email")
    calls: list[int] = []
    count = write_contacts_csv(io.StringIO(), world["store"], world["model"], world["datamap"],
                               world["engines"], "newsletter", "email", progress=calls.append,
                               exports=world["exports"])
    assert count >= 3 and sum(calls) == count and all(n <= PROGRESS_EVERY for n in calls)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {**os.environ, "GARDE_DATABASE_URL": f"sqlite:///{tmp_path / 'garde.db'}", "COLUMNS": "120"}


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``garde ARGS`` with stderr on a pseudo-terminal: (exit status, what the terminal showed)."""
    main, secondary = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-m", "garde", *args], stderr=secondary,
                                 stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=120, env=env,
                                 cwd=ROOT, check=False)
        os.set_blocking(main, False)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
        os.close(secondary)
    return process.returncode, shown.decode(errors="replace")


def test_a_long_command_shows_progress_on_a_terminal_only(env: dict[str, str]) -> None:
    status, shown = run_on_a_terminal(["audit", "verify"], env)
    assert status == 0 and "verifying the audit log" in shown
    status, shown = run_on_a_terminal(["audit", "verify", "--quiet"], env)
    assert status == 0 and "verifying the audit log" not in shown
    piped = subprocess.run([sys.executable, "-m", "garde", "audit", "verify"], capture_output=True, text=True,
                           timeout=120, env=env, cwd=ROOT, check=False)
    assert piped.returncode == 0 and "verifying" not in piped.stderr + piped.stdout


def test_datasets_check_json_is_alone_on_stdout(deployment: Deployment) -> None:  # noqa: F811
    process = subprocess.run([sys.executable, "-m", "garde", "datasets", "check", str(DATASET), "--format",
                              "json"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
                             env={**os.environ})
    assert process.returncode == 0, process.stderr
    assert process.stdout.lstrip().startswith("{") and process.stdout.rstrip().endswith("}")
