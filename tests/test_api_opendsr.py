"""OpenDSR v2 over HTTP, against a real `garde serve` on SQLite and PostgreSQL: discovery, a request
sent by another privacy tool, its status in OpenDSR's words, resending it, cancelling it, and the
types and identities garde cannot take, refused with their names."""

from __future__ import annotations

import calendar
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api_support import Client, Served, api_client, audit_actors, bearer, problem_of
from tests.test_api_problems import JSON, SUBJECT

PROBLEM = "application/problem+json"
# Received six days ago at 10:00 UTC: within the three months a date of receipt may be back (92 days).
SUBMITTED = datetime.combine(date.today() - timedelta(days=6), time(10), UTC)


def _a_month_after(day: date) -> date:
    """The same day of the next month, or its last day (GDPR Art. 12(3)'s month, Regulation 1182/71)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _sent(kind: str, email: str, **more: Any) -> dict[str, Any]:
    return {"regulation": "gdpr", "subject_request_id": str(uuid.uuid4()), "subject_request_type": kind,
            "submitted_time": SUBMITTED.isoformat(),
            "subject_identities": [{"identity_type": "email", "identity_value": email,
                                    "identity_format": "raw"}],
            "api_version": "2.0", "status_callback_urls": ["https://tool.example.com/callbacks"], **more}


@pytest.fixture
def served(served_shared: Served) -> Served:
    """One `garde serve` for the tests of every module that shares it (per database and test worker):
    each asserts about what it sends only."""
    return served_shared


def test_a_privacy_tool_sends_an_access_request_and_follows_it(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["agent"])) as tool:
        discovery = tool.get("/opendsr/discovery").json()
        assert discovery["supported_subject_request_types"] == ["access", "portability", "erasure"]
        assert {"identity_type": "email", "identity_format": "raw"} in discovery["supported_identities"]
        assert all(i["identity_format"] == "raw" for i in discovery["supported_identities"])
        sent = _sent("access", served.customer)
        received = tool.post("/opendsr/requests", json=sent)
        assert received.status_code == 201, received.text
        request_id = sent["subject_request_id"]
        assert received.json()["subject_request_id"] == request_id
        # the deadline runs from the date of receipt the tool sent
        assert datetime.fromisoformat(received.json()["received_time"]) == SUBMITTED
        assert received.json()["expected_completion_time"].startswith(
            f"{_a_month_after(SUBMITTED.date()).isoformat()}T23:59:59")
        assert tool.post("/opendsr/requests", json=sent).json() == received.json()  # sent again: the same one
        status = tool.get(f"/opendsr/requests/{request_id}").json()
        assert status["request_status"] == "pending" and status["results_url"] is None
        assert status["extensions"] == {"garde": {"status": "verified", "type": "access"}}
        # the DPO runs it from the queue; the tool sees it completed, with where the files are
        with served.client("dpo") as dpo:
            shown = dpo.get(f"/requests/{request_id}").json()
            assert shown["proofs"]["email"]["by"] == "key:callcentre"
            assert served.run(dpo, request_id).json()["status"] == "completed"
        done = tool.get(f"/opendsr/requests/{request_id}").json()
        assert done["request_status"] == "completed" and done["expected_completion_time"] is None
        assert done["results_url"] == f"/api/v1/requests/{request_id}/files"
        answered = problem_of(tool.delete(f"/opendsr/requests/{request_id}"), 409)
        assert "only a request not yet started" in answered["detail"]
        assert tool.get(f"{done['results_url']}/access.json").status_code == 200
    assert audit_actors(served.store, "request.received", request_id) == ["key:callcentre"]


def test_an_opendsr_key_reaches_the_opendsr_routes_alone(served: Served) -> None:
    """sec27: a tool sending OpenDSR requests needs no agent key (which reads and runs every request)."""
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["opendsr"])) as tool:
        assert tool.get("/opendsr/discovery").status_code == 200
        sent = _sent("access", served.customer)
        assert tool.post("/opendsr/requests", json=sent).status_code == 201
        request_id = sent["subject_request_id"]
        assert tool.get(f"/opendsr/requests/{request_id}").json()["request_status"] == "pending"
        for method, path in (("GET", f"/api/v1/requests/{request_id}"), ("GET", "/api/v1/requests"),
                             ("GET", f"/api/v1/requests/{request_id}/files"),
                             ("POST", f"/api/v1/requests/{request_id}/run"),
                             ("POST", "/api/v1/consents/state")):
            assert tool.request(method, path, json={}).status_code == 403, (method, path)
        assert tool.delete(f"/opendsr/requests/{request_id}").status_code == 200
    assert audit_actors(served.store, "request.received", request_id) == ["key:consent-platform"]


def test_a_pending_request_is_cancelled_once(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["agent"])) as tool:
        sent = _sent("erasure", served.customer)
        assert tool.post("/opendsr/requests", json=sent).status_code == 201
        request_id = sent["subject_request_id"]
        cancelled = tool.delete(f"/opendsr/requests/{request_id}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["expected_completion_time"] is None
        assert tool.delete(f"/opendsr/requests/{request_id}").status_code == 200  # idempotent
        assert tool.get(f"/opendsr/requests/{request_id}").json()["request_status"] == "cancelled"
        with served.client() as agent:
            shown = agent.get(f"/requests/{request_id}").json()
            assert shown["status"] == "cancelled" and shown["steps"][-1]["actor"] == "key:callcentre"
            assert problem_of(agent.post(f"/requests/{request_id}/run"), 409)
        assert problem_of(tool.get(f"/opendsr/requests/{uuid.uuid4()}"), 404)
        assert problem_of(tool.get("/opendsr/requests/not-a-uuid"), 422)
        # a request sent through /api/v1 is not an OpenDSR request
        with served.client() as agent:
            own = agent.post("/requests", json={"type": "access", "subject": {"customer_id": "C-1"},
                                                "send_code": False}).json()["request"]["id"]
        assert problem_of(tool.delete(f"/opendsr/requests/{own}"), 404)
    assert audit_actors(served.store, "request.cancelled", request_id) == ["key:callcentre"]


@pytest.mark.parametrize(("change", "status", "named"), [
    ({"subject_request_type": "rectification"}, 400, "'rectification' has no garde equivalent"),
    ({"subject_request_type": "do_not_sell"}, 400, "'do_not_sell' has no garde equivalent"),
    ({"regulation": "ccpa"}, 400, "regulation 'ccpa'"),
    ({"subject_identities": [{"identity_type": "ios_advertising_id", "identity_value": "EA75-83CD"}]},
     400, "'ios_advertising_id' has no garde equivalent"),
    ({"subject_identities": [{"identity_type": "email", "identity_value": "ab" * 32,
                              "identity_format": "sha256"}]}, 400, "format 'sha256'"),
    ({"subject_identities": []}, 422, "body.subject_identities"),
    ({"subject_request_id": "123"}, 422, "body.subject_request_id"),
    ({"submitted_time": "2999-01-01T00:00:00Z"}, 400, "in the future"),
    ({"submitted_time": "0001-01-01T00:00:00+01:00"}, 400, "submitted_time 0001-01-01T00:00:00+01:00 is"),
    ({"submitted_time": (datetime.now(UTC) - timedelta(days=93)).isoformat()}, 400, "more than three months"),
    ({"unknown": 1}, 422, "body.unknown"),
])
def test_what_garde_cannot_take_is_refused_by_name(api: tuple[Client, dict[str, str], str],
                                                   change: dict[str, Any], status: int, named: str) -> None:
    client, keys, _ = api  # the module's app: a refusal writes nothing another test could see
    refused = client.post("/opendsr/requests", json={**_sent("access", "ana@example.org"), **change},
                          headers=bearer(keys["agent"]))
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert named in refused.text
    for role in ("service", "auditor"):
        assert client.get("/opendsr/discovery", headers=bearer(keys[role])).status_code == 403


def test_a_request_received_within_three_months_is_taken(api: tuple[Client, dict[str, str], str]) -> None:
    """The bound's edge (red28's backdated request): received 91 days ago, still within the longest
    three months of an extended deadline, is recorded with that date of receipt. On the module's own
    app: the request is overdue, and a shared server's overdue list belongs to other tests."""
    client, keys, _ = api
    received = datetime.now(UTC) - timedelta(days=91)
    sent = client.post("/opendsr/requests", headers=bearer(keys["agent"]), json=_sent(
        "access", f"old-{uuid.uuid4().hex[:8]}@example.org", submitted_time=received.isoformat()))
    assert sent.status_code == 201, sent.text
    assert datetime.fromisoformat(sent.json()["received_time"]) == received


IDENTITY = st.fixed_dictionaries({}, optional={
    "identity_type": st.sampled_from(["email", "phone_number", "controller_customer_id", "idfa"]) | JSON,
    "identity_value": st.sampled_from(["ana@example.org", "0612345678", "C-1", ""]) | st.text(max_size=20),
    "identity_format": st.sampled_from(["raw", "sha256"]) | JSON})
OPENDSR = st.fixed_dictionaries({}, optional={
    "regulation": st.sampled_from(["gdpr", "GDPR", "ccpa"]) | JSON,
    "subject_request_id": st.uuids().map(str) | st.text(max_size=40),
    "subject_request_type": st.sampled_from(["access", "erasure", "portability", "objection"]) | JSON,
    "subject_identities": st.lists(IDENTITY, max_size=3) | JSON,
    "submitted_time": st.sampled_from(["2026-12-01T10:00:00Z", "2026-12-01", "yesterday"]) | JSON})
REQUEST = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["access", "erasure", "rectification", "forget"]) | JSON,
    "subject": SUBJECT | JSON,
    "language": st.sampled_from(["fr", "de"]) | JSON, "corrections": JSON, "scope": JSON,
    "send_code": st.booleans() | JSON, "code": st.text(max_size=8) | JSON, "out_of_band": JSON,
    "checked": st.lists(st.sampled_from(["email", "customer_id", "iban"]), max_size=3) | JSON,
    "identity": st.sampled_from(["email", "phone", "fax"]) | JSON, "reason": st.text(max_size=10) | JSON})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, str], str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'garde.db'}"
    with api_client(url) as (client, keys):
        made = client.post("/api/v1/requests", json={"type": "access", "subject": {"customer_id": "C-1"},
                                                     "send_code": False}, headers=bearer(keys["agent"]))
        yield client, keys, made.json()["request"]["id"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["/opendsr/requests", "/api/v1/requests", "verify", "codes", "extend",
                              "reject"]), body=OPENDSR | REQUEST | JSON)
def test_no_request_body_makes_a_server_error(api: tuple[Client, dict[str, str], str], route: str,
                                              body: Any) -> None:
    client, keys, request_id = api
    path = route if route.startswith("/") else f"/api/v1/requests/{request_id}/{route}"
    response = client.post(path, json=body, headers=bearer(keys["agent"]))
    assert response.status_code < 500, (route, body, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM, response.text


def test_the_same_request_sent_at_once_is_recorded_once(served: Served) -> None:
    """A tool that retries at once (or two of its workers sending the same request) races the two
    submissions in the server: each gets the request recorded once, never a server error."""
    rounds, senders, sent_ids = 6, 3, set()
    received_before = len(audit_actors(served.store, "request.received"))
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["agent"])) as tool:
        for _ in range(rounds):
            sent = _sent("access", served.customer)
            sent_ids.add(sent["subject_request_id"])
            start = threading.Barrier(senders)

            def send(body: dict[str, Any] = sent, start: threading.Barrier = start) -> httpx.Response:
                start.wait(timeout=60)
                return tool.post("/opendsr/requests", json=body)

            with ThreadPoolExecutor(senders) as pool:
                answers = list(pool.map(lambda _: send(), range(senders)))
            assert [a.status_code for a in answers] == [201] * senders, [a.text for a in answers]
            assert len({a.text for a in answers}) == 1
        as_erasure = {**sent, "subject_request_type": "erasure"}
        other_type = problem_of(tool.post("/opendsr/requests", json=as_erasure), 409)
        assert "exists already, as access" in other_type["detail"]
    listed: list[dict[str, Any]] = []
    with served.client("dpo") as dpo:  # every page: the shared store holds other tests' requests too
        cursor = None
        while True:
            more = {"cursor": cursor} if cursor else {}
            page = dpo.get("/requests", params={"limit": 200, **more}).json()
            listed += page["items"]
            if (cursor := page["next_cursor"]) is None:
                break
    assert len([item for item in listed if item["id"] in sent_ids]) == rounds
    assert len(audit_actors(served.store, "request.received")) - received_before == rounds
