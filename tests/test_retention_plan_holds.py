"""The retention plan an auditor reads names a subject's legal hold by its keyed digest, never in clear.

Red team of 2026-12-08 (red31, medium). ``GET /api/v1/retention/plan`` is open to ``auditor`` keys
(a role trusted with registers, findings, retention plans and the audit log: no request, no subject).
Its ``holds`` listed every hold in force as the DPO placed it: a subject hold's ``scope``
``email:p1@example.com`` in clear, with the rows it keeps in each table of that person. red30 took
the same identity out of the audit log for that reason (``legal_hold.placed`` names it by its keyed
digest); the plan still gave it to the auditor. Now the plan an auditor reads names a subject hold as
the log does (``email:hmac-sha256:<digest>``, the form a released hold takes); the DPO's plan (a
``dpo`` key, the dashboard, ``garde retention plan``) still names the value. On SQLite and
PostgreSQL, through the real API.
"""

from __future__ import annotations

from garde.keys import identifier_data_key
from garde.legal_holds import digested_scope
from garde.store import connect
from tests.api_support import Client, bearer
from tests.test_api_retention import AS_OF, deployment, http  # noqa: F401  (the fixtures)


def test_an_auditor_reads_a_subject_hold_in_the_plan_by_its_digest(http: tuple[Client, dict[str, str]],  # noqa: F811
                                                                     migrated_url: str) -> None:
    client, keys = http
    dpo, auditor = bearer(keys["dpo"]), bearer(keys["auditor"])
    placed = client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "subject", "scope": "email:P1@Example.com", "reason": "litigation"})
    assert placed.status_code == 201, placed.text
    table = client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "table", "scope": "shop.web_sessions", "reason": "CNIL inspection"})
    assert table.status_code == 201, table.text
    seen = client.get("/api/v1/retention/plan", headers=auditor, params={"today": AS_OF})
    assert seen.status_code == 200, seen.text
    assert "p1@example.com" not in seen.text.lower()
    engine = connect(migrated_url)
    with engine.connect() as conn:
        digested = digested_scope(identifier_data_key(conn), "email:p1@example.com")
    engine.dispose()
    holds = {hold["id"]: hold for hold in seen.json()["holds"]}
    assert holds[placed.json()["id"]]["scope"] == digested
    assert holds[table.json()["id"]]["scope"] == "shop.web_sessions"  # a table is no one's identity
    own = client.get("/api/v1/retention/plan", headers=dpo, params={"today": AS_OF}).json()
    assert {hold["id"]: hold["scope"] for hold in own["holds"]}[placed.json()["id"]] == "email:p1@example.com"
    assert {h["id"]: h["rows"] for h in own["holds"]} == {h["id"]: h["rows"] for h in seen.json()["holds"]}

