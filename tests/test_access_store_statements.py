"""The engine store's share of an access run (issue 14): few statements, the same trail.

An access request's store work is the move to ``in_progress`` and the completion, each with its
audit append, the request's reads and the registers' versions. Counted with SQLAlchemy's
``before_cursor_execute`` on the store's engine (every statement garde sends through it); the
audit chain must verify and hold the same entries, in the same order, as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde import audit
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import run
from tests.test_discovery_driver import shop  # noqa: F401  (the 10-customer shop, on both databases)


def _verified(store: sa.Engine, email: str) -> str:
    with store.begin() as conn:
        request = submit(conn, "access", {"email": email})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    return request.id


def _statements(store: sa.Engine, action: Any) -> tuple[Any, list[str]]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sa.event.listen(store, "before_cursor_execute", count)
    try:
        return action(), sent
    finally:
        sa.event.remove(store, "before_cursor_execute", count)


def test_an_access_run_sends_few_statements_to_the_store(shop: tuple[sa.Engine, Deployment, str],  # noqa: F811
                                                          ) -> None:
    """31 statements before on both databases (the first request of its subject): the
    request read three times with its steps, the audit log's head locked in three statements per
    append (two on PostgreSQL), each register's version read on its own. Then 20: what garde holds
    of the subject took seven statements, one now."""
    store, deployment, email = shop
    with deployment.engines["shop"].connect() as conn:
        other = conn.execute(sa.text("SELECT email FROM customers WHERE id = 2")).scalar_one()
    run(store, _verified(store, other), deployment)  # the registers' versions are recorded once
    request_id = _verified(store, email)
    done, sent = _statements(store, lambda: run(store, request_id, deployment))
    assert done.status == "completed"
    lock = 2 if store.dialect.name == "postgresql" else 0  # the run lock: taken, released
    assert len(sent) <= 14 + lock, "\n".join(sent)


def test_an_access_run_leaves_the_same_trail(shop: tuple[sa.Engine, Deployment, str]) -> None:  # noqa: F811
    """The request's steps and its audit entries, in order, and a chain that verifies."""
    store, deployment, email = shop
    request_id = _verified(store, email)
    done = run(store, request_id, deployment)
    assert [step["status"] for step in done.steps] == ["received", "verified", "in_progress", "completed"]
    assert done.result is not None and done.result["files"]
    with store.connect() as conn:
        kinds = [entry["kind"] for entry in audit.entries(conn)]
        assert audit.verify(conn).ok
    assert kinds[kinds.index("request.in_progress"):] == [
        "request.in_progress", "request.subject_found", "request.completed"]


def test_an_access_run_reads_on_the_run_lock_s_connection(shop: tuple[sa.Engine, Deployment, str],  # noqa: F811
                                                           ) -> None:
    """On PostgreSQL each checkout from the store's pool is a ping (a round trip): what garde holds
    of the subject is read, and the move to in_progress and the completion are written, on the run
    lock's connection, held for the run anyway: one checkout (4 before the held reads moved to it,
    3 before the two transactions did). SQLite: no lock connection, no ping; its three checkouts
    stay."""
    store, deployment, email = shop
    request_id = _verified(store, email)
    checkouts: list[int] = []

    def count(*_args: Any) -> None:
        checkouts.append(1)

    sa.event.listen(store.pool, "checkout", count)
    try:
        done = run(store, request_id, deployment)
    finally:
        sa.event.remove(store.pool, "checkout", count)
    assert done.status == "completed" and done.result is not None
    assert len(checkouts) == (1 if store.dialect.name == "postgresql" else 3)
    held = done.result["held"]
    assert held["requests"] == 1 and held["audit"] >= 2  # the reads on the lock's connection found them


@pytest.mark.postgres
def test_a_run_s_start_reads_the_request_and_the_registers_in_one_round_trip(
        shop: tuple[sa.Engine, Deployment, str], tmp_path: Path) -> None:  # noqa: F811
    """On PostgreSQL the start's three reads (the request, its steps, the registers' versions) go to
    the server together, in one pipeline: libpq's protocol trace of the store's connection shows no
    answer from the server between the first and the last of them (before: an answer after each,
    two round trips more a request)."""
    store, deployment, email = shop
    if store.dialect.name != "postgresql":
        pytest.skip("round trips: PostgreSQL's")
    run(store, _verified(store, email), deployment)  # the registers' versions are recorded once
    request_id = _verified(store, email)
    trace = tmp_path / "store.trace"
    with trace.open("w") as out:
        def traced(raw: Any, _record: Any, _proxy: Any) -> None:
            raw.prepare_threshold = None  # each statement's text in the trace, not a prepared one's name
            raw.pgconn.trace(out.fileno())

        sa.event.listen(store, "checkout", traced)
        try:
            done = run(store, request_id, deployment)
        finally:
            sa.event.remove(store, "checkout", traced)
            store.pool.dispose()  # its connections stop tracing with it
    assert done.status == "completed"
    text = trace.read_text()  # a line per message, a statement's text over several
    first = text.index("\"SELECT requests.id, ")
    last = text.index("FROM register_versions")
    assert first < last
    answered = [line.split("\t")[3] for line in text[first:last].splitlines() if line.count("\t") > 2
                and line.split("\t")[1] == "B"]
    assert answered == [], answered
