"""End to end over HTTP against a real `garde serve` process, on SQLite and on PostgreSQL:
a key created by the CLI, a consent recorded, a decision asked, the key revoked from another
process and refused by the server's next request.

The `garde keys` commands run in the test process (Typer's runner: the same command line, its
parsing, output and exit status), which is another process than the server's; a `garde` started for
each of them cost a Python start and garde's imports (≈ 1 – 1.5 s of CPU each). `garde serve` itself,
the entry point under test, is a process of its own, and its refusal below is a real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api_support import REGISTER, free_port, garde_serve
from tests.conftest import garde_here


def _garde(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "garde", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _keys(env: dict[str, str], *args: str) -> tuple[int, str]:
    """``garde keys ARGS`` in this process with ``env``'s settings: its exit status, its stdout."""
    done = garde_here(env, "keys", *args)
    return done.returncode, done.stdout


@pytest.fixture
def deployment(migrated_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "GARDE_DATABASE_URL": migrated_url, "GARDE_REGISTERS": str(REGISTER),
            "GARDE_OUTBOX": str(tmp_path / "outbox"), "GARDE_RESULTS": str(tmp_path / "results")}


@pytest.fixture
def server(deployment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with garde_serve(deployment, tmp_path) as base:
        yield base


def test_a_shop_records_a_consent_and_asks_a_decision(deployment: dict[str, str], tmp_path: Path,
                                                      server: str) -> None:
    status, created = _keys(deployment, "create", "--role", "service", "--name", "shop", "--format", "json")
    assert status == 0, created
    key = json.loads(created)["key"]
    headers = {"Authorization": f"Bearer {key}"}
    ana = {"email": "ana@example.com"}
    with httpx.Client(base_url=f"{server}/api/v1", headers=headers, timeout=30) as http:
        asked = {"activity": "newsletter", "subject": ana, "channel": "email"}
        given = http.post("/consents/give", json=asked)
        assert given.status_code == 201, given.text
        decision = http.post("/decisions", json=asked)
        assert decision.status_code == 200 and decision.json()["allowed"] is True
        status, listed = _keys(deployment, "list")
        assert status == 0 and "shop" in listed and key not in listed, listed
        status, revoked = _keys(deployment, "revoke", "shop")
        assert status == 0, revoked
        refused = http.post("/decisions", json={"activity": "newsletter", "subject": ana})
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"


def _two_workers(env: dict[str, str], cwd: Path, asks: int, within: float) -> tuple[list[int], str]:
    """`garde serve --workers 2` asked ``asks`` times (an auditor key's GET /registers) as soon as it
    answers, for at most ``within`` seconds: the statuses it gave, and everything it printed."""
    status, created = _keys(env, "create", "--role", "auditor", "--name", "audit")
    assert status == 0, created
    key = created.strip().splitlines()[-1]
    port = free_port()
    command = [sys.executable, "-m", "garde", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    answers: list[int] = []
    # one client for every poll (an `httpx.get` makes one and loads the CA certificates: ≈ 27 ms of CPU
    # a poll while the server starts), keeping no connection: each ask is a new connection, as before,
    # which either worker may accept
    polls = httpx.Client(timeout=5, headers={"Authorization": f"Bearer {key}"},
                         limits=httpx.Limits(max_keepalive_connections=0))
    try:
        deadline = time.monotonic() + within
        while len(answers) < asks and time.monotonic() < deadline and process.poll() is None:
            try:
                answers.append(polls.get(f"http://127.0.0.1:{port}/api/v1/registers").status_code)
            except httpx.TransportError:
                time.sleep(0.05)
    finally:
        polls.close()
        process.terminate()
        output = process.communicate(timeout=30)[0]
    return answers, output


def test_several_workers_share_one_store(deployment: dict[str, str], tmp_path: Path) -> None:
    answers, output = _two_workers(deployment, tmp_path, asks=6, within=60)
    assert answers == [200] * 6, output
    assert "Traceback" not in output, output


def test_workers_slow_to_start_are_not_killed(deployment: dict[str, str], tmp_path: Path) -> None:
    """On a loaded machine a worker process may take more than uvicorn's default five seconds to import
    and answer its supervisor's first ping; the supervisor then killed it and started another, forever,
    and `garde serve --workers 2` never came up. Here every worker process sleeps seven seconds before
    anything else (a `sitecustomize` on its path), as it would on a machine with a load of 18."""
    if "postgresql" in deployment["GARDE_DATABASE_URL"]:
        pytest.skip("the supervisor's patience is the same on both databases: read once, on SQLite")
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import sys, time\nif '--multiprocessing-fork' in sys.orig_argv:\n    time.sleep(7)\n")
    path = os.pathsep.join(filter(None, [str(slow), os.environ.get("PYTHONPATH")]))
    answers, output = _two_workers({**deployment, "PYTHONPATH": path}, tmp_path, asks=2, within=40)
    assert answers == [200, 200], output
    assert "died" not in output, output


def test_serve_refuses_a_missing_register_clearly(deployment: dict[str, str], tmp_path: Path) -> None:
    refused = _garde({**deployment, "GARDE_REGISTERS": str(tmp_path / "none.yaml")}, tmp_path, "serve")
    assert refused.returncode == 2 and "no register at" in refused.stderr
    assert "Traceback" not in refused.stderr
