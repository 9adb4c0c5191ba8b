"""``garde request`` driven the way users reach it: through the CLI, on a SQLite store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garde.cli import app
from garde.rights import FileMailer
from tests.conftest import mailed_code

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


def test_show_says_how_each_identity_was_proven(env: Path) -> None:
    output = garde("request", "submit", "--type", "access", "--email", "ana@example.org",
                   "--customer-id", "C-0042")
    assert "not proven yet: customer_id" in output
    request_id = re.search(r"request (\S+) received", output).group(1)  # type: ignore[union-attr]
    garde("request", "verify", request_id, "--code", mailed_code(env / "outbox"))
    shown = garde("request", "show", request_id)
    assert "identity email: proven by one-time code" in shown
    assert "identity customer_id: not proven: not used to find or act on data" in shown
    checked = garde("request", "verify", request_id, "--out-of-band", "customer card shown in store",
                    "--checked", "customer_id", "--actor", "agent:marie")
    assert "verified out of band: customer_id" in checked
    shown = garde("request", "show", request_id)
    assert "identity customer_id: proven by an agent's out-of-band check" in shown and "agent:marie" in shown
    nothing = runner.invoke(app, ["request", "verify", request_id, "--out-of-band", "ID card"])
    assert nothing.exit_code == 2 and "names no identity" in nothing.output


def test_a_short_id_is_refused_and_a_locked_request_is_listed_and_unlocked(env: Path) -> None:
    output = garde("request", "submit", "--type", "erasure", "--email", "bob@example.org")
    request_id = re.search(r"request (\S+) received", output).group(1)  # type: ignore[union-attr]
    short = runner.invoke(app, ["request", "show", request_id[:4]])
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    code = mailed_code(env / "outbox")
    for _ in range(5):
        runner.invoke(app, ["request", "verify", request_id[:8], "--code", "000000" if code != "000000"
                            else "111111"])
    assert "locked" in garde("request", "list")
    assert request_id[:8] in garde("request", "list", "--status", "locked")
    assert "LOCKED" in garde("request", "show", request_id)
    refused = runner.invoke(app, ["request", "verify", request_id, "--code", code])
    assert refused.exit_code == 2 and "locked" in refused.output
    assert "unlocked" in garde("request", "unlock", request_id, "--reason", "called back on file number")
    assert '"locked": false' in garde("request", "show", request_id, "--format", "json")
    assert request_id[:8] not in garde("request", "list", "--status", "locked")
