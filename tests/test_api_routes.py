"""The first routers of /api/v1, each a thin edge over the library, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import json

import sqlalchemy as sa

from garde.audit.verification import verify_store
from garde.store import connect
from tests.api_support import api_client, audit_actors, bearer

ANA = {"email": "ana@example.com"}


def test_consent_then_decision_audited_with_the_keys_names(migrated_url: str) -> None:
    with api_client(migrated_url) as (client, keys):
        service, agent = bearer(keys["service"]), bearer(keys["agent"])
        asked = {"activity": "newsletter", "subject": ANA, "channel": "email",
                 "categories": ["contact.email"]}
        before = client.post("/api/v1/decisions", json=asked, headers=service)
        assert before.status_code == 200 and before.json()["allowed"] is False
        given = client.post("/api/v1/consents/give", headers=agent, json={
            "activity": "newsletter", "subject": ANA, "channel": "email", "method": "call_centre"})
        assert given.status_code == 201, given.text
        assert given.json()["actor"] == "key:agent-key" and given.json()["action"] == "given"
        after = client.post("/api/v1/decisions", json=asked, headers=service).json()
        assert after["allowed"] is True and after["categories"] == ["contact.email"]
        state = client.post("/api/v1/consents/state", json={"subject": ANA}, headers=agent).json()
        assert [(s["activity"], s["status"], s["receipt"]) for s in state] == [
            ("newsletter", "given", given.json()["event_id"])]
        withdrawn = client.post("/api/v1/consents/withdraw", headers=service, json={
            "activity": "newsletter", "subject": ANA, "channel": "email"})
        assert withdrawn.status_code == 201 and withdrawn.json()["actor"] == "key:service-key"
        assert client.post("/api/v1/decisions", json=asked, headers=service).json()["allowed"] is False
        verified = client.get("/api/v1/audit/verify", headers=bearer(keys["auditor"])).json()
        assert verified["ok"] is True and verified["checked"] > 0
    assert audit_actors(migrated_url, "consent.") == ["key:agent-key", "key:service-key"]
    assert set(audit_actors(migrated_url, "decision")) == {"key:service-key"}
    assert len(audit_actors(migrated_url, "decision")) == 3
    engine = connect(migrated_url)
    assert verify_store(engine).ok
    engine.dispose()


def test_batch_decides_each_subject_in_order(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        service = bearer(keys["service"])
        client.post("/api/v1/consents/give", headers=service, json={
            "activity": "newsletter", "subject": {"email": "b@example.com"}, "channel": "email"})
        subjects = [{"email": f"s{i}@example.com"} for i in range(999)] + [{"email": "b@example.com"}]
        answer = client.post("/api/v1/decisions/batch", headers=service, json={
            "activity": "newsletter", "channel": "email", "subjects": subjects})
        assert answer.status_code == 200, answer.text
        allowed = [d["allowed"] for d in answer.json()["decisions"]]
        assert allowed == [False] * 999 + [True]
        too_many = client.post("/api/v1/decisions/batch", headers=service, json={
            "activity": "newsletter", "subjects": [*subjects, {"email": "c@example.com"}]})
        assert too_many.status_code == 422
        assert too_many.json()["errors"][0]["field"] == "body.subjects"


def test_registers_list_show_and_findings(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        auditor = bearer(keys["auditor"])
        listed = client.get("/api/v1/registers", headers=auditor).json()
        assert listed == [{"id": "reference-shop", "controller": listed[0]["controller"],
                           "activities": listed[0]["activities"]}] and listed[0]["activities"] > 10
        shown = client.get("/api/v1/registers/reference-shop", headers=auditor).json()
        assert "newsletter" in {a["id"] for a in shown["activities"]}
        findings = client.get("/api/v1/registers/reference-shop/findings?lang=fr", headers=auditor)
        assert findings.status_code == 200
        assert all(f["file"] == "reference-shop.yaml" for f in findings.json())
        missing = client.get("/api/v1/registers/reference-shopp", headers=auditor)
        assert missing.status_code == 404 and "reference-shop" in missing.json()["detail"]


def test_health_and_readiness(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, _):
        assert client.get("/healthz").json() == {"status": "ok", "detail": None}
        assert client.get("/readyz").json()["status"] == "ok"
        engine = connect(sqlite_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
        engine.dispose()
        unready = client.get("/readyz")
        assert unready.status_code == 503 and "0001" in unready.json()["detail"]


def test_a_lost_store_is_not_described_to_anyone_who_asks(postgres_url: str,
                                                           postgres_admin_url: str) -> None:
    """Red team: /readyz and every route's 503 are public (the banner, the privacy center); the
    driver's words name the store's host, port, database and role. They go to the server's log;
    the answer says only that the store is unavailable."""
    database = sa.make_url(postgres_url).database
    assert database is not None
    # The server's shutdown cannot flush to a dropped store either: that is not what is tested.
    with contextlib.suppress(sa.exc.OperationalError), api_client(postgres_url) as (client, keys):
        assert client.get("/readyz").status_code == 200
        admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:  # the store goes away under the running server
            conn.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()
        answers = [client.get("/readyz"), client.get("/readyz"),
                   client.get("/api/v1/registers", headers=bearer(keys["auditor"]))]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert database not in answer.text and "54329" not in answer.text and "127.0.0.1" not in answer.text


def test_openapi_documents_every_route_with_its_errors(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, _):
        spec = client.get("/api/v1/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert any(status.startswith("2") for status in operation["responses"]), (method, path)
            if path.startswith("/api/v1/me/"):  # a subject's routes: no role, so no 403
                assert {"401", "404", "422", "429"} <= set(operation["responses"]), (method, path)
            elif path.startswith("/api/v1/"):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
                assert "application/problem+json" in operation["responses"]["403"]["content"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_withdraw_with_unsubscribe_suppresses_the_subject(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        agent = bearer(keys["agent"])
        bob = {"email": "bob@example.com"}
        given = client.post("/api/v1/consents/give", headers=agent, json={
            "activity": "newsletter", "subject": bob, "channel": "email", "ip": "203.0.113.7"}).json()
        assert given["ip_hash"] and "203.0.113.7" not in str(given)
        withdrawn = client.post("/api/v1/consents/withdraw", headers=agent, json={
            "activity": "newsletter", "subject": bob, "unsubscribe": True})
        assert withdrawn.status_code == 201 and withdrawn.json()["channel"] is None
        decision = client.post("/api/v1/decisions", headers=bearer(keys["service"]), json={
            "activity": "newsletter", "subject": bob, "channel": "email"}).json()
        assert decision["allowed"] is False and "suppressed" in json.dumps(decision["reasons"])
        unknown = client.post("/api/v1/consents/state", headers=agent,
                              json={"subject": {"email": "x@example.com"}})
        assert unknown.status_code == 404
