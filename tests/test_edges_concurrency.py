"""The edges' writes meet other transactions on PostgreSQL and run again, whole; what still fails is
a 503 with Retry-After, never a 500.

Each race is made to happen, not hoped for: another transaction takes the rows first (as a worker
appending to the audit log, or another client recording the same visitor, does) and the edge's
transaction is let in while that one waits or holds. The app runs over ASGI, its sync routes in
their threads, against a real PostgreSQL store.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from garde import audit
from garde.api import create_app
from garde.consent import consent_events
from garde.rights import submit
from garde.settings import Settings
from garde.store import open_store
from garde.subjects import VISITOR, ensure_subject
from tests.api_support import Client, api_client, bearer, problem_of
from tests.banner_support import REGISTER_ID, banner_register
from tests.test_store_deadlocks import _waiting

pytestmark = pytest.mark.postgres
DEADLINE = 60.0  # seconds: a bound for a loaded machine, never a measure
CHOICES = f"/banner/v1/{REGISTER_ID}/choices"
CONFIG = f"/banner/v1/{REGISTER_ID}/config.json"


@pytest.fixture
def store(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = open_store(migrated_postgres_url)
    yield engine
    engine.dispose()


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def running() -> None:
        try:
            outcome["response"] = call()
        except BaseException as error:  # raised again in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=running)
    thread.start()
    return thread, outcome


def _until_waiting(store: sa.Engine, thread: threading.Thread) -> None:
    end = time.monotonic() + DEADLINE
    while _waiting(store) < 1 and thread.is_alive() and time.monotonic() < end:
        time.sleep(0.01)
    assert thread.is_alive(), "the edge's transaction never waited for the other"


def _answer(thread: threading.Thread, outcome: dict[str, Any]) -> Any:
    thread.join(DEADLINE)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


# --- the banner: two clients recording the same visitor ---------------------------------------

@pytest.fixture
def banner(migrated_postgres_url: str, tmp_path: Path) -> Iterator[Client]:
    folder = tmp_path / "registers"
    folder.mkdir()
    app = create_app(Settings(database_url=migrated_postgres_url, registers=banner_register(folder)))
    with Client(app).running() as running:
        yield running


def _choice(client: Client, visitor: str) -> httpx.Response:
    version = client.get(CONFIG, params={"lang": "fr"}).json()["version"]
    return client.post(CHOICES, json={"visitor_id": visitor, "lang": "fr", "version": version,
                                      "choices": {"cookie.analytics": True, "cookie.advertising": False}})


def test_two_clients_recording_the_same_new_visitor_both_succeed(
        banner: Client, store: sa.Engine) -> None:
    """Another client's choice has created the visitor and not committed yet; this one's transaction
    finds no visitor, creates it too and waits on the identity's unique key; the other commits: this
    one fails (a unique violation) and runs again, finding the visitor now, and records its choice on
    it. Before: a 500."""
    visitor = str(uuid.uuid4())
    with store.connect() as other:
        with other.begin():
            first = ensure_subject(other, {VISITOR: visitor}, kind=VISITOR)
            thread, outcome = _in_thread(lambda: _choice(banner, visitor))
            _until_waiting(store, thread)
        recorded = _answer(thread, outcome)
    assert recorded.status_code == 201, recorded.text
    with store.connect() as conn:
        holders = set(conn.execute(sa.select(consent_events.c.subject_id)).scalars())
        assert audit.verify(conn).ok
    assert holders == {first}  # on the visitor the other created


def test_many_pairs_of_clients_on_the_same_visitor_never_fail(banner: Client) -> None:
    """Two clients posting the same visitor's choice at once, 10 visitors: every answer is a 201."""
    statuses: list[int] = []
    for _ in range(10):
        visitor = str(uuid.uuid4())
        start = threading.Barrier(2)

        def post(visitor: str = visitor, start: threading.Barrier = start) -> httpx.Response:
            start.wait()
            return _choice(banner, visitor)

        pair = [_in_thread(post) for _ in range(2)]
        statuses += [_answer(thread, outcome).status_code for thread, outcome in pair]
    assert statuses == [201] * 20


# --- DPO actions racing a worker ----------------------------------------------------------------

@pytest.fixture
def staff(migrated_postgres_url: str) -> Iterator[tuple[Client, dict[str, str]]]:
    with api_client(migrated_postgres_url) as running:
        yield running


def _received(store: sa.Engine) -> str:
    with store.begin() as conn:
        return submit(conn, "access", {"email": "ana@example.org"}).id


def _worker_holding_the_audit_head(store: sa.Engine, request_id: str,
                                   call: Callable[[], Any]) -> Any:
    """A worker's transaction holds the audit head (appending, as a run's completion does); the edge's
    transaction takes the request's row and waits for the head; the worker then asks for that row:
    a deadlock, and PostgreSQL aborts the edge's side (the worker's ``deadlock_timeout`` is long)."""
    with store.connect() as worker:
        worker.execute(sa.text("SET deadlock_timeout = '60s'"))
        worker.commit()
        with worker.begin():
            worker.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
            thread, outcome = _in_thread(call)
            _until_waiting(store, thread)
            worker.execute(sa.text("SELECT id FROM requests WHERE id = :id FOR UPDATE"), {"id": request_id})
        return _answer(thread, outcome)


@pytest.mark.parametrize(("action", "reason", "field", "expected"), [
    ("extend", "several systems", "extension_reason", "several systems"),
    ("reject", "manifestly unfounded", "status", "rejected")])
def test_a_dpo_changing_a_request_while_a_worker_appends_is_run_again(
        staff: tuple[Client, dict[str, str]], store: sa.Engine, action: str, reason: str, field: str,
        expected: str) -> None:
    """Extend or reject (the request's row, then the audit head) against a worker holding the head:
    PostgreSQL aborts the DPO's transaction, which runs again and answers 200, recorded once."""
    client, keys = staff
    request_id = _received(store)
    changed = _worker_holding_the_audit_head(store, request_id, lambda: client.post(
        f"/api/v1/requests/{request_id}/{action}", json={"reason": reason}, headers=bearer(keys["dpo"])))
    assert changed.status_code == 200, changed.text
    assert changed.json()[field] == expected
    kind = {"extend": "request.extended", "reject": "request.rejected"}[action]
    with store.connect() as conn:
        assert [e["kind"] for e in audit.entries(conn) if e["kind"] == kind] == [kind]
        assert audit.verify(conn).ok


def test_a_conflict_that_outlasts_the_retries_is_a_503_with_retry_after(
        staff: tuple[Client, dict[str, str]], store: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one attempt allowed, the deadlock is the answer: a problem 503 saying to try again, with
    Retry-After, and nothing written."""
    from garde.store import transactions

    monkeypatch.setattr(transactions, "ATTEMPTS", 1)
    client, keys = staff
    request_id = _received(store)
    refused = _worker_holding_the_audit_head(store, request_id, lambda: client.post(
        f"/api/v1/requests/{request_id}/extend", json={"reason": "several systems"},
        headers=bearer(keys["dpo"])))
    body = problem_of(refused, 503)
    assert refused.headers["Retry-After"].isdigit()
    assert "try again" in body["detail"]
    with store.connect() as conn:
        assert [e for e in audit.entries(conn) if e["kind"] == "request.extended"] == []


@pytest.mark.parametrize("attempts", [5, 1])
def test_the_cli_runs_a_deadlocked_extension_again_or_says_to_run_it_again(
        store: sa.Engine, migrated_postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        attempts: int) -> None:
    """``garde request extend`` racing a worker: done once (exit 0); with one attempt allowed, a line
    saying to run the command again (exit 2), no traceback, nothing written."""
    from typer.testing import CliRunner

    from garde.cli import app
    from garde.settings import get_settings
    from garde.store import transactions

    monkeypatch.setattr(transactions, "ATTEMPTS", attempts)
    for name, value in {"GARDE_DATABASE_URL": migrated_postgres_url, "GARDE_OUTBOX": str(tmp_path / "outbox"),
                        "GARDE_RESULTS": str(tmp_path / "results"), "GARDE_MAILER": "file"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    request_id = _received(store)
    try:
        result = _worker_holding_the_audit_head(store, request_id, lambda: CliRunner().invoke(
            app, ["request", "extend", request_id, "--reason", "several systems"]))
    finally:
        get_settings.cache_clear()
    with store.connect() as conn:
        extended = [e for e in audit.entries(conn) if e["kind"] == "request.extended"]
    if attempts > 1:
        assert result.exit_code == 0, result.output
        assert len(extended) == 1
        return
    assert result.exit_code == 2, result.output
    assert "concurrent change" in result.output and "run the command again" in result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception,
                                                                                        SystemExit)
    assert extended == []
