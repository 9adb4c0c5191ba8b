"""``garde request`` driven the way users reach it: through the CLI, on a SQLite store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garde.cli import app
from garde.rights import FileMailer

runner = CliRunner()


@pytest.fixture
def env(cli_env: Path) -> Path:
    return cli_env


def garde(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_submit_verify_extend_and_list(env: Path) -> None:
    output = garde("request", "submit", "--type", "access", "--email", "ana@example.org", "--lang", "fr")
    request_id = re.search(r"request (\S+) received", output).group(1)  # type: ignore[union-attr]
    body = FileMailer(env / "outbox").messages()[0].get_body()
    assert body is not None
    code = re.search(r"\b(\d{6})\b", body.get_content()).group(1)  # type: ignore[union-attr]
    wrong = runner.invoke(app, ["request", "verify", request_id[:8], "--code", "000000" if code != "000000"
                                else "111111"])
    assert wrong.exit_code == 2 and "wrong code" in wrong.output
    assert "identity verified" in garde("request", "verify", request_id[:8], "--code", code)
    assert "now due" in garde("request", "extend", request_id, "--reason", "several systems to search")
    shown = garde("request", "show", request_id, "--format", "json")
    assert '"status": "verified"' in shown and '"extension_reason": "several systems to search"' in shown
    assert "ana@example.org" not in shown
    assert request_id[:8] in garde("request", "list")
    assert request_id[:8] not in garde("request", "list", "--overdue")


def test_reject_and_errors_are_clean(env: Path) -> None:
    output = garde("request", "submit", "--type", "erasure", "--customer-id", "C-1")
    request_id = re.search(r"request (\S+) received", output).group(1)  # type: ignore[union-attr]
    assert "rejected" in garde("request", "reject", request_id, "--reason", "not a customer")
    again = runner.invoke(app, ["request", "reject", request_id, "--reason", "again"])
    assert again.exit_code == 2 and "cannot become rejected" in again.output
    bad = runner.invoke(app, ["request", "submit", "--type", "forget", "--email", "a@b.c"])
    assert bad.exit_code == 2 and "unknown request type" in bad.output
    unverified = runner.invoke(app, ["request", "show", "does-not-exist"])
    assert unverified.exit_code == 2 and "no request" in unverified.output
