"""The store's write paths meet real deadlocks on PostgreSQL and run again, whole (SQLSTATE 40P01).

Each test holds the audit log's head row in a transaction of its own (as another writer appending
does), lets a write path of garde take its first row and wait for the head, then asks for that first
row: two transactions each waiting for the other. PostgreSQL aborts the one that waited first (the
other connection's ``deadlock_timeout`` is set long, so it is always garde's): the path's
transaction is run again from the top (:func:`garde.store.transactions.retried`), once the other
has committed, and everything ends written once. A lock that times out (55P03) is an error of
another kind: it is raised at once, never run again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights import get_request, submit, verify_out_of_band
from garde.rights.intake import transition
from garde.rights.running import fail
from garde.store import connect, open_store
from garde.store.transactions import ATTEMPTS

pytestmark = pytest.mark.postgres
DEADLINE = 60.0  # seconds: a bound for a loaded machine, never a measure
RETRIED = "running it again"


@pytest.fixture
def store(migrated_postgres_url: str) -> Iterator[sa.Engine]:
    engine = open_store(migrated_postgres_url)
    yield engine
    engine.dispose()


def in_progress(store: sa.Engine) -> str:
    """A verified request, moved to in_progress; its id."""
    with store.begin() as conn:
        received = submit(conn, "access", {"email": "ana@example.org"})
        verify_out_of_band(conn, received.id, "passport checked", actor="agent:test", identities=["email"])
        transition(conn, get_request(conn, received.id), "in_progress", actor="garde")
    return received.id


def _waiting(store: sa.Engine) -> int:
    """The sessions of this test's database waiting for a lock."""
    with store.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one())


@contextmanager
def other_writer(store: sa.Engine) -> Iterator[sa.Connection]:
    """Another transaction holding the audit head; garde's is the one PostgreSQL aborts."""
    with store.connect() as conn:
        conn.execute(sa.text("SET deadlock_timeout = '60s'"))  # for the session
        conn.commit()
        with conn.begin():
            conn.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
            yield conn


def deadlocked(store: sa.Engine, work: Callable[[], Any], second_lock: str,
               parameters: dict[str, Any]) -> Any:
    """``work()`` in a thread while another transaction holds the audit head; once it waits for the head,
    that transaction asks for ``second_lock`` (a row ``work`` locked first) and commits. ``work``'s
    result, or its error raised here."""
    outcome: dict[str, Any] = {}

    def running() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # raised again in the test's thread
            outcome["error"] = error

    with other_writer(store) as other:
        thread = threading.Thread(target=running)
        thread.start()
        end = time.monotonic() + DEADLINE
        while _waiting(store) < 1 and thread.is_alive() and time.monotonic() < end:
            time.sleep(0.01)
        assert thread.is_alive(), outcome
        other.execute(sa.text(second_lock), parameters)  # the cycle: PostgreSQL aborts garde's side
    thread.join(DEADLINE)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _steps(store: sa.Engine, request_id: str) -> list[str]:
    with store.connect() as conn:
        return [step["status"] for step in get_request(conn, request_id).steps]


def test_a_request_failing_meets_a_deadlock_and_is_recorded_once(
        store: sa.Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A request's state change (its failure: the request row, then its step's audit entry)."""
    request_id = in_progress(store)
    with store.connect() as conn:
        request = get_request(conn, request_id)
    with caplog.at_level(logging.WARNING, "garde.store.transactions"):
        failed = deadlocked(store, lambda: fail(store, request, GardeError("a database refused"), "dpo"),
                            "SELECT id FROM requests WHERE id = :id FOR UPDATE", {"id": request_id})
    assert failed.status == "failed"
    assert [r.getMessage() for r in caplog.records] == [
        f"request {request_id}: its failure: aborted by the database (SQLSTATE 40P01), attempt 1 of "
        f"{ATTEMPTS}; {RETRIED}"]
    assert _steps(store, request_id) == ["received", "verified", "in_progress", "failed"]  # once, whole
    with store.connect() as conn:
        assert [e["kind"] for e in audit.entries(conn) if e["kind"] == "request.failed"] == ["request.failed"]
        assert audit.verify(conn).ok


def test_a_lock_timeout_is_not_run_again(migrated_postgres_url: str, store: sa.Engine,
                                         caplog: pytest.LogCaptureFixture) -> None:
    """Not a deadlock nor a conflict (55P03, lock_not_available): raised at once, nothing written."""
    request_id = in_progress(store)
    impatient = connect(migrated_postgres_url)
    sa.event.listen(impatient, "connect", lambda dbapi, _record: dbapi.execute("SET lock_timeout = '200ms'"))
    with store.connect() as conn:
        request = get_request(conn, request_id)
    try:
        with caplog.at_level(logging.WARNING, "garde.store.transactions"), other_writer(store), \
                pytest.raises(sa.exc.OperationalError) as raised:
            fail(impatient, request, GardeError("a database refused"), "dpo")
    finally:
        impatient.dispose()
    assert getattr(raised.value.orig, "sqlstate", None) == "55P03"
    assert [r for r in caplog.records if RETRIED in r.getMessage()] == []
    assert _steps(store, request_id) == ["received", "verified", "in_progress"]


def test_an_erasure_part_meets_a_deadlock_and_is_done_once(
        postgres_admin_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An erasure part (its row locked, its database's steps applied, then the audit): run again whole,
    the business database's erasure is not applied twice and what it changed is audited once."""
    from garde.jobs.requests import run_job
    from garde.rights.parts import parts_of, run_part
    from tests.requests_jobs_support import shop_world
    from tests.test_erasure_reference_shop import AS_OF

    with shop_world(postgres_admin_url, tmp_path / "w", customers=5) as world:
        request_id = world.request("erasure", "zoe.erasure@example.org")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in world.env.items():
                if name.startswith("GARDE_"):
                    patch.setenv(name, value)
            from garde.jobs import requests as request_jobs
            from garde.settings import get_settings

            get_settings.cache_clear()
            patch.setattr(request_jobs, "_deployments", {})
            try:
                planned = run_job(world.store, request_id=request_id, today=AS_OF.isoformat())
            finally:
                for deployment, _, _ in request_jobs._deployments.values():
                    deployment.dispose()
                get_settings.cache_clear()
        assert planned["parts"] == ["crm", "shop"]
        with caplog.at_level(logging.WARNING, "garde.store.transactions"):
            outcome = deadlocked(
                world.store, lambda: run_part(world.store, request_id, "crm", world.deployment),
                "SELECT id FROM request_parts WHERE request_id = :id AND part = 'crm' FOR UPDATE",
                {"id": request_id})
        assert outcome.applied and not outcome.last
        # Once, or more on a loaded machine: after the abort, the other transaction's row lock is taken
        # again only when its backend runs, and garde's next attempt may lock the row first (a second
        # cycle, aborted the same way). However many attempts, the part is applied and audited once.
        retries = [r.getMessage().split(":")[0] for r in caplog.records if RETRIED in r.getMessage()]
        assert retries and set(retries) == {f"request {request_id}"}
        with world.store.connect() as conn:
            assert [(p["part"], p["status"]) for p in parts_of(conn, request_id)] == [("crm", "done"),
                                                                                        ("shop", "pending")]
            [applied] = [e["payload"] for e in audit.entries(conn, kind="request.erasure_applied")]
        assert applied["database"] == "crm" and applied["rows_changed"] > 0  # the first attempt's
        assert world.chain_ok()
