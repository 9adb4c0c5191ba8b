"""``POST /decisions`` is served by threads that keep their connections and decision point open
(:mod:`garde.api.decision_threads`): nothing they hold may outlive a revocation, mix up two callers
in the audit log, or break when the database drops a connection."""

from __future__ import annotations

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from garde.api.keys import revoke_key
from garde.store import connect
from tests.api_support import REGISTER, api_client, audit_actors, bearer, garde_serve, new_key

ASKED = {"activity": "newsletter", "subject": {"email": "ana@example.com"}, "channel": "email"}
THREADS = 3


def _at_once(base: str, key: str, count: int) -> list[int]:
    """``count`` decisions sent together (so that several decision threads serve them); their statuses."""
    def ask(_: int) -> int:
        return http.post(f"{base}/api/v1/decisions", json=ASKED).status_code

    # one client for the threads (an `httpx.post` makes one and loads the CA certificates: ≈ 27 ms of
    # CPU each), keeping no connection: each decision comes on a connection of its own, as before
    single_use = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(headers=bearer(key), timeout=60, limits=single_use) as http, \
            ThreadPoolExecutor(count) as pool:
        return list(pool.map(ask, range(count)))


def test_a_revocation_is_seen_by_every_decision_thread_of_every_server(migrated_url: str,
                                                                       tmp_path: Path) -> None:
    """Two server processes on one store, each with several decision threads holding open
    connections: after the key is revoked, no thread of either answers it again."""
    key = new_key(migrated_url, "service", "shop")
    env = {**os.environ, "GARDE_DATABASE_URL": migrated_url, "GARDE_REGISTERS": str(REGISTER),
           "GARDE_DECISION_THREADS": str(THREADS)}
    with garde_serve(env, tmp_path) as first, garde_serve(env, tmp_path) as second:
        for base in (first, second):
            assert _at_once(base, key, 4 * THREADS) == [200] * 4 * THREADS
        engine = connect(migrated_url)
        with engine.begin() as conn:
            revoke_key(conn, "shop", actor="ops")
        engine.dispose()
        for base in (first, second):
            assert _at_once(base, key, 4 * THREADS) == [401] * 4 * THREADS
    assert audit_actors(migrated_url, "decision") == ["key:shop"] * 8 * THREADS


def test_each_decision_is_audited_with_its_own_callers_key(migrated_url: str) -> None:
    """One decision thread serves callers one after the other: each decision names its own key."""
    first, second = new_key(migrated_url, "service", "shop-a"), new_key(migrated_url, "service", "shop-b")
    with api_client(migrated_url, decision_threads=1) as (client, keys):
        for key in (first, second, keys["dpo"], second, first):
            assert client.post("/api/v1/decisions", json=ASKED, headers=bearer(key)).status_code == 200
        batch = {"activity": "newsletter", "subjects": [{"email": "ana@example.com"}], "channel": "email"}
        assert client.post("/api/v1/decisions/batch", json=batch, headers=bearer(second)).status_code == 200
    assert audit_actors(migrated_url, "decision") == [
        "key:shop-a", "key:shop-b", "key:dpo-key", "key:shop-b", "key:shop-a", "key:shop-b"]


@pytest.mark.postgres
def test_a_decision_thread_whose_connections_were_dropped_connects_again(postgres_url: str) -> None:
    """PostgreSQL ends the server's connections (a restart, an idle timeout): the next decision is
    answered on new ones, its key checked again, rather than failing."""
    with api_client(postgres_url, decision_threads=1) as (client, keys):
        service = bearer(keys["service"])
        assert client.post("/api/v1/decisions", json=ASKED, headers=service).status_code == 200
        admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            ended = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        admin.dispose()
        assert ended
        answered = client.post("/api/v1/decisions", json=ASKED, headers=service)
        assert answered.status_code == 200, answered.text
        assert client.post("/api/v1/decisions", json=ASKED, headers=bearer(keys["agent"])).status_code == 403
    assert audit_actors(postgres_url, "decision") == ["key:service-key"] * 2


def test_the_server_freezes_its_heap_while_it_runs_and_thaws_it_at_the_end(sqlite_url: str) -> None:
    """What the started app holds is kept out of the collector's full passes (each walked it all,
    stalling every request of the worker), and given back to the collector when the app stops.
    (The test process froze its own heap: conftest; thawed here so the app is the one freezing.)"""
    gc.unfreeze()
    try:
        with api_client(sqlite_url) as (client, keys):
            assert gc.get_freeze_count() > 0
            answer = client.post("/api/v1/decisions", json=ASKED, headers=bearer(keys["service"]))
            assert answer.status_code == 200
        assert gc.get_freeze_count() == 0
    finally:
        gc.freeze()


def test_a_host_that_froze_its_heap_keeps_it_frozen_after_the_app_stops(sqlite_url: str) -> None:
    """A process that mounts the app after freezing its own heap: the app's start neither walks the
    host's heap nor thaws it at the end (seen failing: the count fell to 0 when the app stopped)."""
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    with api_client(sqlite_url) as (client, keys):
        answer = client.post("/api/v1/decisions", json=ASKED, headers=bearer(keys["service"]))
        assert answer.status_code == 200
    # still frozen (objects freed by their reference counts leave it: not an exact count); thawed is 0
    assert gc.get_freeze_count() > frozen // 2
