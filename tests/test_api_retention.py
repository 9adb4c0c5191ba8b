"""``/retention`` and ``/holds`` over NEGOMARKETS' tables, on SQLite and PostgreSQL: the plan,
a sweep only with an explicit confirmation, past runs page by page, holds placed and released;
every change audited with the key's name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_support import Client, api_client, audit_actors, bearer
from tests.test_retention_negomarkets import (
    DATASET,
    TODAY,
    Deployment,
    business_url,
    expected_by_python,
    fill,
    snapshot,
)

REGISTER = Path(__file__).parents[1] / "registers" / "negomarkets.yaml"
AS_OF = TODAY.isoformat()


@pytest.fixture
def deployment(migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    shop_url = business_url(migrated_url, tmp_path)
    monkeypatch.setenv("GARDE_NEGOMARKETS_URL", shop_url)
    found = Deployment(migrated_url, shop_url)
    fill(found.shop)
    yield found
    found.close()


@pytest.fixture
def http(deployment: Deployment, migrated_url: str) -> Iterator[tuple[Client, dict[str, str]]]:
    with api_client(migrated_url, datasets=DATASET, registers=REGISTER) as found:
        yield found


def test_plan_then_a_confirmed_sweep_audited_with_the_key(http: tuple[Client, dict[str, str]],
                                                          deployment: Deployment, migrated_url: str) -> None:
    client, keys = http
    dpo = bearer(keys["dpo"])
    before = snapshot(deployment.shop)
    plan = client.get("/api/v1/retention/plan", headers=bearer(keys["auditor"]),
                      params={"today": AS_OF, "days": 3})
    assert plan.status_code == 200, plan.text
    due = sum(step["today"] for step in plan.json()["steps"])
    assert due > 0 and plan.json()["today"] == AS_OF

    for body in ({}, {"confirm": False}, {"today": AS_OF}):
        refused = client.post("/api/v1/retention/sweep", headers=dpo, json=body)
        assert refused.status_code == 400 and "confirm" in refused.json()["detail"], refused.text
    for loose in ("yes", "true", 1):  # only JSON true confirms a destructive sweep
        assert client.post("/api/v1/retention/sweep", headers=dpo, json={"confirm": loose}).status_code == 422
    assert client.post("/api/v1/retention/sweep", headers=bearer(keys["auditor"]),
                       json={"confirm": True}).status_code == 403
    dry = client.post("/api/v1/retention/sweep", headers=dpo, json={"dry_run": True, "today": AS_OF})
    assert dry.status_code == 200 and sum(dry.json()["affected"].values()) == due
    assert snapshot(deployment.shop) == before

    swept = client.post("/api/v1/retention/sweep", headers=dpo,
                        json={"confirm": True, "today": AS_OF, "batch_size": 50})
    assert swept.status_code == 200, swept.text
    assert sum(swept.json()["affected"].values()) == due and swept.json()["dry_run"] is False
    assert snapshot(deployment.shop) == expected_by_python(before)
    again = client.post("/api/v1/retention/sweep", headers=dpo, json={"confirm": True, "today": AS_OF})
    assert sum(again.json()["affected"].values()) == 0  # idempotent: nothing is due twice
    later = client.post("/api/v1/retention/sweep", headers=dpo, json={"confirm": True, "today": "2999-01-01"})
    assert later.status_code == 400  # the library refuses a sweep ahead of today
    actors = set(audit_actors(migrated_url, "retention."))
    assert actors == {"key:dpo-key"}


def test_runs_page_newest_first(http: tuple[Client, dict[str, str]]) -> None:
    client, keys = http
    dpo, auditor = bearer(keys["dpo"]), bearer(keys["auditor"])
    made = [client.post("/api/v1/retention/sweep", headers=dpo, json={"dry_run": True, "today": AS_OF})
            .json()["run"] for _ in range(3)]
    seen, cursor = [], None
    while True:
        answer = client.get("/api/v1/retention/runs", headers=auditor,
                            params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        seen += [run["id"] for run in answer.json()["items"]]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
    bad = client.get("/api/v1/retention/runs", headers=auditor, params={"cursor": "WzFd"})  # [1]
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.cursor"


def test_holds_placed_listed_released_by_the_dpo_alone(http: tuple[Client, dict[str, str]],
                                                        migrated_url: str) -> None:
    client, keys = http
    dpo = bearer(keys["dpo"])
    placed = client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "table", "scope": "shop.web_sessions", "reason": "CNIL inspection"})
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert (hold["scope"], hold["ends_at"], hold["released_at"]) == ("shop.web_sessions", None, None)
    plan = client.get("/api/v1/retention/plan", headers=dpo, params={"today": AS_OF}).json()
    sessions = next(s for s in plan["steps"] if s["table"] == "shop.web_sessions")
    assert sessions["today"] == 0 and sessions["held"] > 0
    subject = client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "subject", "scope": "email:P1@Example.com", "reason": "litigation",
        "until": "2999-12-31"})
    assert subject.json()["scope"] == "email:p1@example.com"
    assert subject.json()["ends_at"].startswith("3000-01-01T00:00:00")  # the whole last day
    unknown = client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "activity", "scope": "newsletter", "reason": "dispute"})
    assert unknown.status_code == 400 and "newsletter-consent" in unknown.json()["detail"]
    typo = client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "table", "scope": "shop.web_session", "reason": "typo"})
    assert typo.status_code == 400 and "shop.web_sessions" in typo.json()["detail"]
    assert client.post("/api/v1/holds", headers=dpo, json={
        "scope_kind": "table", "scope": "shop.web_sessions", "reason": ""}).status_code == 422

    first = client.get("/api/v1/holds", headers=dpo, params={"limit": 1}).json()
    assert [h["id"] for h in first["items"]] == [hold["id"]] and first["next_cursor"]
    rest = client.get("/api/v1/holds", headers=dpo,
                      params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [h["id"] for h in rest["items"]] == [subject.json()["id"]]

    released = client.post(f"/api/v1/holds/{hold['id']}/release", headers=dpo)
    assert released.status_code == 200 and released.json()["released_at"] is not None
    assert client.post(f"/api/v1/holds/{hold['id']}/release", headers=dpo).status_code == 404
    assert client.post("/api/v1/holds/999/release", headers=dpo).status_code == 404
    active = [h["id"] for h in client.get("/api/v1/holds", headers=dpo).json()["items"]]
    assert hold["id"] not in active and subject.json()["id"] in active
    everything = client.get("/api/v1/holds", headers=dpo, params={"all": True}).json()["items"]
    assert hold["id"] in [h["id"] for h in everything]
    for role in ("agent", "auditor", "service"):
        assert client.get("/api/v1/holds", headers=bearer(keys[role])).status_code == 403
    assert set(audit_actors(migrated_url, "legal_hold.")) == {"key:dpo-key"}


@pytest.mark.parametrize("today", ["0001-01-05", "9999-12-31"])
def test_a_plan_asked_at_the_calendars_ends_is_an_answer_not_a_500(http: tuple[Client, dict[str, str]],
                                                                   today: str) -> None:
    """Schemathesis found it: a retention period reaching before year 1 raised ValueError (500)."""
    client, keys = http
    plan = client.get("/api/v1/retention/plan", headers=bearer(keys["auditor"]), params={"today": today})
    assert plan.status_code == 200, plan.text


def test_a_forecast_past_the_calendars_last_day_is_a_400_not_a_500(
        http: tuple[Client, dict[str, str]]) -> None:
    """red28: ``today=9999-12-31&days=1`` overflowed Python's dates in the forecast (500, a traceback in
    the server's log)."""
    client, keys = http
    plan = client.get("/api/v1/retention/plan", headers=bearer(keys["auditor"]),
                      params={"today": "9999-12-31", "days": 1})
    assert plan.status_code == 400, plan.text
    assert plan.headers["content-type"] == "application/problem+json"
    assert "9999-12-31" in plan.json()["detail"]
    assert client.get("/api/v1/retention/plan", headers=bearer(keys["auditor"]),
                      params={"today": "9999-12-30", "days": 1}).status_code == 200
