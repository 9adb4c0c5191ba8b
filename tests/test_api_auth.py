"""Who may call which route: a matrix read from the app's route table, and immediate revocation.

Every route of ``/api/v1`` must declare its roles with ``garde.api.auth.allow``; a route
added without one fails :func:`test_every_route_declares_its_roles`, and the matrix below
calls every route with every role and without a key.
"""

from __future__ import annotations

import inspect
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from garde.api import create_app
from garde.api.app import PUBLIC, route_table
from garde.api.auth import Allow, Public
from garde.api.keys import ROLES, authenticate, create_key, list_keys, revoke_key
from garde.api.subject_auth import SubjectOnly
from garde.problems import GardeError, NotFound
from garde.store import connect, migrate
from tests.api_support import Client, api_client, audit_actors, bearer, known_subject, subject_token

# Rules that are not roles: a data subject's session token, and no credential at all.
SUBJECT, ANYONE = "subject", "anyone"
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
    # A data subject's own routes: opening a session needs nothing (rate-limited); the rest a
    # subject session token, never a staff key.
    "POST /api/v1/me/session": {ANYONE},
    "POST /api/v1/me/session/confirm": {ANYONE},
    "POST /api/v1/me/logout": {SUBJECT},
    "GET /api/v1/me/requests": {SUBJECT},
    "POST /api/v1/me/requests": {SUBJECT},
    "GET /api/v1/me/requests/{request_id}": {SUBJECT},
    "GET /api/v1/me/requests/{request_id}/files/{name}": {SUBJECT},
    "POST /api/v1/me/requests/{request_id}/confirm": {SUBJECT},
    "GET /api/v1/me/consents": {SUBJECT},
    "GET /api/v1/me/files": {SUBJECT},
    # Public: the cookie banner (a shop page holds no key); it gives nothing away (tests/test_banner_api.py).
    "GET /banner/v1/banner.js": {ANYONE},
    "GET /banner/v1/{register_id}/config.json": {ANYONE},
    "POST /banner/v1/{register_id}/choices": {ANYONE},
    "GET /api/v1/registers/{register_id}/documents": {"dpo", "auditor"},
    "GET /api/v1/registers/{register_id}/documents/{name}": {"dpo", "auditor"},
    "POST /api/v1/consents/history": {"dpo", "agent", "service"},
    "GET /api/v1/consents/receipts/{event_id}": {"dpo", "agent"},  # a receipt names its subject
    "POST /api/v1/consents/gpc": {"dpo", "service"},
    "POST /api/v1/audiences": {"dpo", "service"},
    "GET /api/v1/retention/plan": {"dpo", "auditor"},
    "GET /api/v1/retention/runs": {"dpo", "auditor"},
    "POST /api/v1/retention/sweep": {"dpo"},
    "GET /api/v1/holds": {"dpo"},
    "POST /api/v1/holds": {"dpo"},
    "POST /api/v1/holds/{hold_id}/release": {"dpo"},
    "GET /api/v1/audit/export": {"dpo", "auditor"},
    # a call centre handles requests; an auditor reads registers and the audit log, not requests
    "POST /api/v1/requests": {"dpo", "agent"},
    "GET /api/v1/requests": {"dpo", "agent"},
    "GET /api/v1/requests/{request_id}": {"dpo", "agent"},
    "POST /api/v1/requests/{request_id}/codes": {"dpo", "agent"},
    "POST /api/v1/requests/{request_id}/verify": {"dpo", "agent"},
    "POST /api/v1/requests/{request_id}/run": {"dpo", "agent"},
    "POST /api/v1/requests/{request_id}/extend": {"dpo", "agent"},
    "POST /api/v1/requests/{request_id}/reject": {"dpo", "agent"},
    "GET /api/v1/requests/{request_id}/files": {"dpo", "agent"},
    "GET /api/v1/requests/{request_id}/files/{name}": {"dpo", "agent"},
    "POST /api/v1/requests/{request_id}/forward": {"dpo"},
    "POST /api/v1/requests/{request_id}/instructed-erasure": {"dpo"},
    "POST /api/v1/requests/{request_id}/instructed-restriction": {"dpo"},
    "POST /api/v1/requests/{request_id}/restriction-lifted": {"dpo"},
    # other privacy tools send requests as an agent does; an `opendsr` key reaches these alone
    "GET /opendsr/discovery": {"dpo", "agent", "opendsr"},
    "POST /opendsr/requests": {"dpo", "agent", "opendsr"},
    "GET /opendsr/requests/{subject_request_id}": {"dpo", "agent", "opendsr"},
    "DELETE /opendsr/requests/{subject_request_id}": {"dpo", "agent", "opendsr"},
}


def _rule(route: APIRoute) -> frozenset[str] | None:
    """The roles a route admits; a public route (``garde.api.auth.public``): ``{"anyone"}``."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, Allow):
            return dependency.call.roles
        if isinstance(dependency.call, SubjectOnly):
            return frozenset({SUBJECT})
        if isinstance(dependency.call, Public):
            return frozenset({ANYONE})
        pending.extend(dependency.dependencies)
    return None


def _routes() -> list[tuple[str, APIRoute]]:
    return [(f"{method} {path}", route) for method, path, route in route_table(create_app())
            if path not in PUBLIC and path.startswith(("/api/v1/", "/opendsr/", "/banner/"))]


def test_every_route_declares_its_roles() -> None:
    rules = {name: _rule(route) for name, route in _routes()}
    assert [name for name, rule in rules.items() if rule is None] == [], "routes without a rule"
    assert {name: set(rule or ()) for name, rule in rules.items()} == EXPECTED


def test_only_health_and_the_openapi_are_public() -> None:
    """Outside /api/v1, only the health checks and the routes that say they are public."""
    app = create_app()
    declared = {path for _, path, route in route_table(app) if _rule(route) == {ANYONE}}
    paths = {path for _, path, _ in route_table(app)} | {getattr(route, "path", "") for route in app.routes}
    web = ("/dpo/", "/privacy/", "/static")  # web pages: own matrices in tests/test_web_{dpo,privacy}.py
    outside = {path for path in paths if path and not path.startswith(("/api/v1/", "/opendsr/", *web))}
    assert outside - declared == {"/healthz", "/readyz"}
    assert all(path.startswith(("/banner/v1/", "/api/v1/me/session")) for path in declared)
    assert all(path.startswith(("/healthz", "/readyz", "/api/v1/openapi", "/api/v1/docs")) for path in PUBLIC)


def _call(client: Client, name: str, headers: dict[str, str]) -> Any:
    method, path = name.split(" ", 1)
    document = "notice-fr.html" if "/documents/" in path else "access.json"
    path = (path.replace("{register_id}", "reference-shop").replace("{name}", document)
            .replace("{request_id}", "0f0e0d0c-0b0a-4909-8807-060504030201")
            .replace("{event_id}", "0" * 32).replace("{hold_id}", "1")
            .replace("{subject_request_id}", str(uuid.UUID(int=0))))
    if name == "POST /banner/v1/{register_id}/choices":
        return client.request(method, path, content=b"{}", headers=headers)
    body = {} if method == "POST" else None
    return client.request(method, path, json=body, headers=headers)


def test_authorization_matrix(sqlite_url: str, tmp_path: Path) -> None:
    """Every route × every role, a subject's token, a made-up key, and no credential."""
    known_subject(sqlite_url, "ana@example.com")
    with api_client(sqlite_url, outbox=tmp_path / "outbox", results=tmp_path / "results") as (client, keys):
        subject = bearer(subject_token(client, "ana@example.com", tmp_path / "outbox"))
        # logging out last: it ends the session the other calls use
        for name, route in sorted(_routes(), key=lambda named: named[0].endswith("/logout")):
            allowed = _rule(route) or frozenset()
            for credential in ({}, bearer("gk_0000000000000000_" + "A" * 43), bearer("gs_" + "A" * 43)):
                status = _call(client, name, credential).status_code
                assert (status not in (401, 403)) if ANYONE in allowed else status == 401, (name, status)
            status = _call(client, name, subject).status_code
            if allowed & {SUBJECT, ANYONE}:
                assert status not in (401, 403), (name, "subject", status)
            else:  # a subject token is no key: staff routes do not know it
                assert status == 401, (name, "subject", status)
            for role in ROLES:
                status = _call(client, name, bearer(keys[role])).status_code
                if ANYONE in allowed or role in allowed:
                    assert status not in (401, 403), (name, role, status)
                elif SUBJECT in allowed:  # a staff key is no subject session
                    assert status == 401, (name, role, status)
                else:
                    assert status == 403, (name, role, status)


def test_a_revoked_key_is_refused_by_its_next_request(migrated_url: str) -> None:
    with api_client(migrated_url) as (client, keys):
        auditor = bearer(keys["auditor"])
        assert client.get("/api/v1/registers", headers=auditor).status_code == 200
        engine = connect(migrated_url)
        with engine.begin() as conn:
            revoke_key(conn, "auditor-key", actor="ops")
        engine.dispose()
        refused = client.get("/api/v1/registers", headers=auditor)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert audit_actors(migrated_url, "api_key.") == ["garde"] * len(ROLES) + ["ops"]


def test_a_decision_takes_one_hop_to_the_thread_pool() -> None:
    """The route and every dependency of ``POST /decisions``, the app's own (the query check)
    included, are ``async``: FastAPI hands none of them to its thread pool, so the route's own hop
    (the key check and the decision) is the only one."""
    app = create_app()
    route = next(route for method, path, route in route_table(app)
                 if (method, path) == ("POST", "/api/v1/decisions"))
    assert inspect.iscoroutinefunction(route.endpoint)
    app_wide = [depends.dependency for depends in app.router.dependencies]
    assert app_wide and all(inspect.iscoroutinefunction(call) for call in app_wide), app_wide
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        call = dependency.call
        assert inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__), call
        pending.extend(dependency.dependencies)


def test_a_decision_checks_its_key_in_the_store_every_time(migrated_url: str) -> None:
    """Revoked: the next decision is refused (401 problem+json); so are malformed and unknown keys."""
    asked = {"activity": "newsletter", "subject": {"email": "ana@example.com"}, "channel": "email"}
    with api_client(migrated_url) as (client, keys):
        service = bearer(keys["service"])
        assert client.post("/api/v1/decisions", json=asked, headers=service).status_code == 200
        assert client.post("/api/v1/decisions", json=asked, headers=bearer(keys["agent"])).status_code == 403
        unknown = "gk_" + "0" * 16 + "_" + keys["service"][-43:]
        last = "B" if keys["service"].endswith("A") else "A"  # the same id, another secret
        for wrong in ("nonsense", unknown, keys["service"][:-1] + last):
            refused = client.post("/api/v1/decisions", json=asked, headers=bearer(wrong))
            assert refused.status_code == 401, wrong
            assert refused.headers["www-authenticate"] == "Bearer"
        engine = connect(migrated_url)
        with engine.begin() as conn:
            revoke_key(conn, "service-key", actor="ops")
        engine.dispose()
        refused = client.post("/api/v1/decisions", json=asked, headers=service)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert audit_actors(migrated_url, "decision") == ["key:service-key"]


def test_keys_are_stored_as_hashes_and_checked_whole(sqlite_url: str) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        record, key = create_key(conn, "shop-checkout", "service")
        stored = conn.exec_driver_sql("SELECT key_hash FROM api_keys").scalar_one()
        assert key not in stored and key.split("_", 2)[2] not in stored  # the secret may hold "_"
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
