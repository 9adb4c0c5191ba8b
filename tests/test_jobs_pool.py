"""The pool a worker's queue statements go through (:mod:`garde.jobs.pool`): a connection in use is
handed out without a round trip to check it and runs each statement without a ``COMMIT`` round
trip, and a connection the server ended is still never handed out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from garde.jobs import queue_app
from garde.jobs.pool import QUIET_SECONDS, ping_when_quiet
from garde.jobs.queue import conninfo
from garde.settings import get_settings
from garde.store import connect, open_store
from tests.own_loop import run_in_own_loop

MARK = "SELECT 'garde: the last statement of this session'"


def _last_statement(url: str, pid: int) -> str | None:
    with psycopg.connect(conninfo(url), autocommit=True) as admin:
        row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return None if row is None else str(row[0])


async def _take(pool: Any, pid: int) -> Any:
    """The pool's connection to backend ``pid`` (the others taken and given back meanwhile)."""
    for _ in range(2 * (pool.max_size + 1)):
        connection = await pool.getconn()
        if connection.info.backend_pid == pid:
            return connection
        await pool.putconn(connection)
    raise AssertionError(f"the pool never handed out the connection of backend {pid} again")


@pytest.fixture
def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's clock stands still: every connection looks just used (a loaded machine's pauses
    between two statements never reach the quiet delay)."""
    monkeypatch.setattr("garde.jobs.pool.monotonic", lambda: 1000.0)


@pytest.mark.postgres
def test_a_connection_in_use_is_handed_out_without_a_check_round_trip_and_in_autocommit(
        migrated_postgres_url: str, stopped_clock: None) -> None:
    open_store(migrated_postgres_url).dispose()
    app = queue_app(migrated_postgres_url, worker=get_settings())

    async def scenario() -> tuple[bool, str | None]:
        async with app.open_async():
            pool = app.connector.pool  # type: ignore[attr-defined]
            async with pool.connection() as connection:
                autocommit = connection.autocommit
                pid = connection.info.backend_pid
                await connection.execute(MARK)
            connection = await _take(pool, pid)  # handed out again: checked without a statement
            try:
                return autocommit, await asyncio.to_thread(_last_statement, migrated_postgres_url, pid)
            finally:
                await pool.putconn(connection)

    autocommit, last = run_in_own_loop(scenario())
    assert autocommit  # each of procrastinate's statements is atomic: no COMMIT round trip after it
    assert last == MARK  # procrastinate's own check would have sent an empty query first


@pytest.mark.postgres
def test_a_connection_the_server_ended_is_replaced_before_a_statement_uses_it(
        migrated_postgres_url: str, stopped_clock: None) -> None:
    """The server ends a pooled session (``pg_terminate_backend``, as a restart does to all): the next
    statements through the pool run on live connections, none fails."""
    open_store(migrated_postgres_url).dispose()
    app = queue_app(migrated_postgres_url, worker=get_settings())

    async def scenario() -> list[int]:
        async with app.open_async():
            pool = app.connector.pool  # type: ignore[attr-defined]
            async with pool.connection() as connection:
                victim = connection.info.backend_pid
            await asyncio.to_thread(_terminate, migrated_postgres_url, victim)
            answers = []
            for _ in range(2 * (pool.max_size + 1)):  # every connection of the pool handed out, twice
                row = await app.connector.execute_query_one_async(
                    "SELECT pg_backend_pid() AS pid")
                answers.append(int(row["pid"]))
            return [victim, *answers]

    victim, *served = run_in_own_loop(scenario())
    assert victim not in served


def _terminate(url: str, pid: int) -> None:
    """End backend ``pid`` and wait until the server has let it go (its goodbye is then on the socket)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as admin:
            assert admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            deadline = time.monotonic() + 60
            while admin.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                {"pid": pid}).scalar_one():
                assert time.monotonic() < deadline, f"backend {pid} still there after 60 s"
                time.sleep(0.01)
    finally:
        engine.dispose()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pool's clock, moved by the test (``clock[0]``)."""
    now = [1000.0]
    monkeypatch.setattr("garde.jobs.pool.monotonic", lambda: now[0])
    monkeypatch.setattr("garde.store.liveness.monotonic", lambda: now[0])
    return now


def _pid_after_mark(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        conn.execute(sa.text(MARK))
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.postgres
def test_a_worker_engine_hands_out_a_connection_just_used_without_a_ping(
        postgres_url: str, clock: list[float]) -> None:
    """The store and data-map engines of a worker (``ping_when_quiet``): no ping round trip for a
    connection returned a moment ago; one idle past the quiet delay is pinged before use."""
    engine = ping_when_quiet(open_store(postgres_url))
    try:
        pid = _pid_after_mark(engine)
        returned = _last_statement(postgres_url, pid)  # the pool's reset as it took it back
        with engine.connect() as conn:  # the same connection (the pool is LIFO), not pinged
            assert _last_statement(postgres_url, pid) == returned
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid
        clock[0] += QUIET_SECONDS + 1
        returned = _last_statement(postgres_url, pid)
        with engine.connect():  # quiet too long: pinged before it is handed out
            assert _last_statement(postgres_url, pid) != returned
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_worker_engine_replaces_a_connection_the_server_ended(postgres_url: str,
                                                                clock: list[float]) -> None:
    engine = ping_when_quiet(open_store(postgres_url))
    try:
        victim = _pid_after_mark(engine)
        _terminate(postgres_url, victim)
        with engine.connect() as conn:  # just used, but the server's goodbye is on its socket
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != victim
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_every_postgresql_engine_garde_opens_skips_the_ping_of_a_connection_just_used(
        postgres_url: str, clock: list[float]) -> None:
    """Not only a worker's: the store and each business database opened by ``garde.store.connect``
    (the CLI's, ``garde serve``'s, a benchmark's) hand out a connection returned a moment ago without
    the ping round trip SQLAlchemy's ``pool_pre_ping`` sends (three a request: the run lock, the store,
    each database), and still ping one idle past the quiet delay."""
    engine = connect(postgres_url)
    try:
        pid = _pid_after_mark(engine)
        returned = _last_statement(postgres_url, pid)
        with engine.connect() as conn:
            assert _last_statement(postgres_url, pid) == returned
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid
        clock[0] += QUIET_SECONDS + 1
        returned = _last_statement(postgres_url, pid)
        with engine.connect():
            assert _last_statement(postgres_url, pid) != returned
    finally:
        engine.dispose()
