"""Who may call which route: a matrix read from the app's route table, and immediate revocation.

Every route of ``/api/v1`` must declare its roles with ``garde.api.auth.allow``; a route
added without one fails :func:`test_every_route_declares_its_roles`, and the matrix below
calls every route with every role and without a key.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from garde.api import create_app
from garde.api.app import PUBLIC, route_table
from garde.api.auth import Allow
from garde.api.keys import ROLES, authenticate, create_key, list_keys, revoke_key
from garde.problems import GardeError, NotFound
from garde.store import connect, migrate
from tests.api_support import Client, api_client, audit_actors, bearer

# What issue 12 says each role may do; the routes' rules must say the same.
EXPECTED = {
    "GET /api/v1/registers": {"dpo", "auditor"},
    "GET /api/v1/registers/{register_id}": {"dpo", "auditor"},
    "GET /api/v1/registers/{register_id}/findings": {"dpo", "auditor"},
    "POST /api/v1/decisions": {"dpo", "service"},
    "POST /api/v1/decisions/batch": {"dpo", "service"},
    "POST /api/v1/consents/give": {"dpo", "agent", "service"},
    "POST /api/v1/consents/withdraw": {"dpo", "agent", "service"},
    "POST /api/v1/consents/state": {"dpo", "agent", "service"},
    "GET /api/v1/audit/verify": {"dpo", "auditor"},
}


def _rule(route: APIRoute) -> frozenset[str] | None:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Allow):
            return dependency.call.roles
        pending.extend(dependency.dependencies)
    return None


def _routes() -> list[tuple[str, APIRoute]]:
    return [(f"{method} {path}", route) for method, path, route in route_table(create_app())
            if path not in PUBLIC and path.startswith("/api/v1/")]


def test_every_route_declares_its_roles() -> None:
    rules = {name: _rule(route) for name, route in _routes()}
    assert [name for name, rule in rules.items() if rule is None] == [], "routes without a rule"
    assert {name: set(rule or ()) for name, rule in rules.items()} == EXPECTED


def test_only_health_and_the_openapi_are_public() -> None:
    app = create_app()
    paths = {path for _, path, _ in route_table(app)} | {getattr(route, "path", "") for route in app.routes}
    web = ("/dpo/", "/static")  # the web pages: their own matrix is in tests/test_web_dpo.py
    outside = {path for path in paths if path and not path.startswith(("/api/v1/", *web))}
    assert outside == {"/healthz", "/readyz"}
    assert all(path.startswith(("/healthz", "/readyz", "/api/v1/openapi", "/api/v1/docs")) for path in PUBLIC)


def _call(client: Client, name: str, headers: dict[str, str]) -> Any:
    method, path = name.split(" ", 1)
    path = path.replace("{register_id}", "reference-shop")
    body = {} if method == "POST" else None
    return client.request(method, path, json=body, headers=headers)


def test_authorization_matrix(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        for name, route in _routes():
            allowed = _rule(route) or frozenset()
            assert _call(client, name, {}).status_code == 401, name
            assert _call(client, name, bearer("gk_0000000000000000_" + "A" * 43)).status_code == 401, name
            for role in ROLES:
                status = _call(client, name, bearer(keys[role])).status_code
                if role in allowed:
                    assert status not in (401, 403), (name, role, status)
                else:
                    assert status == 403, (name, role, status)


def test_a_revoked_key_is_refused_by_its_next_request(database_url: str) -> None:
    with api_client(database_url) as (client, keys):
        auditor = bearer(keys["auditor"])
        assert client.get("/api/v1/registers", headers=auditor).status_code == 200
        engine = connect(database_url)
        with engine.begin() as conn:
            revoke_key(conn, "auditor-key", actor="ops")
        engine.dispose()
        refused = client.get("/api/v1/registers", headers=auditor)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert audit_actors(database_url, "api_key.") == ["garde"] * len(ROLES) + ["ops"]


def test_keys_are_stored_as_hashes_and_checked_whole(sqlite_url: str) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        record, key = create_key(conn, "shop-checkout", "service")
        stored = conn.exec_driver_sql("SELECT key_hash FROM api_keys").scalar_one()
        assert key not in stored and key.split("_")[2] not in stored
        assert authenticate(conn, key) == record
        assert authenticate(conn, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert authenticate(conn, f"gk_{record.id}_") is None
        with pytest.raises(GardeError, match="exists already"):
            create_key(conn, "shop-checkout", "dpo")
        with pytest.raises(GardeError, match="role"):
            create_key(conn, "other", "admin")
        with pytest.raises(NotFound):
            revoke_key(conn, "nobody")
        revoked = revoke_key(conn, record.id)
        assert revoke_key(conn, "shop-checkout") == revoked  # idempotent
        assert authenticate(conn, key) is None
        assert [k.revoked_at for k in list_keys(conn)] == [revoked.revoked_at]
    engine.dispose()


def test_a_route_added_without_a_rule_is_caught() -> None:
    app = create_app()

    @app.get("/api/v1/unguarded")
    def unguarded() -> dict[str, str]:
        return {}

    unruled = [f"{method} {path}" for method, path, route in route_table(app)
               if path not in PUBLIC and path.startswith("/api/v1/") and _rule(route) is None]
    assert unruled == ["GET /api/v1/unguarded"]


def test_revoking_by_a_name_that_is_another_keys_id_revokes_the_named_key(sqlite_url: str) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        first, first_key = create_key(conn, "first", "service")
        create_key(conn, first.id, "agent")  # a name that reads like the first key's id
        assert revoke_key(conn, first.id).name == first.id
        assert authenticate(conn, first_key) == first
    engine.dispose()
