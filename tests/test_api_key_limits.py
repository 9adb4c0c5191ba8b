"""Staff keys are rate-limited per key where a call sends mail or creates a request: submitting a
request (``/api/v1/requests``, ``/opendsr/requests``: one budget) and sending codes. The count
is the store's, so it holds for every server process: here another process's hits are written
to the store directly, and the server refuses the next call. Decisions are not limited."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime

import pytest

from garde.api.keys import authenticate
from garde.api.ratelimits import LIMITS, key_counter
from garde.ratelimit import RateLimited, hit
from garde.store import connect
from tests.api_support import api_client, bearer, problem_of

SUBMIT = {"type": "access", "subject": {"email": "ana@example.com"}, "send_code": False}


@pytest.fixture(autouse=True)
def one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counters' clock stands still: a test never straddles two windows."""
    moment = datetime.now(UTC)
    monkeypatch.setattr("garde.ratelimit.now", lambda: moment)


def _use_up(url: str, key: str, scope: str) -> None:
    """The hits left in ``key``'s window under ``scope``, as other server processes would make them."""
    engine = connect(url)
    with engine.begin() as conn:
        record = authenticate(conn, key)
        assert record is not None
        with contextlib.suppress(RateLimited):
            for _ in range(LIMITS[scope].limit):
                hit(conn, LIMITS[scope], key_counter(record))
    engine.dispose()


def _opendsr() -> dict[str, object]:
    return {"regulation": "gdpr", "subject_request_id": str(uuid.uuid4()), "subject_request_type": "access",
            "subject_identities": [{"identity_type": "email", "identity_value": "ana@example.com"}]}


@pytest.mark.parametrize("role", ["agent", "dpo"])
def test_a_key_past_its_request_budget_is_refused_and_another_is_not(migrated_url: str, role: str) -> None:
    with api_client(migrated_url) as (client, keys):
        made = client.post("/api/v1/requests", json=SUBMIT, headers=bearer(keys[role]))
        assert made.status_code == 201, made.text
        request_id = made.json()["request"]["id"]
        _use_up(migrated_url, keys[role], "requests.submit.key")
        refused = problem_of(client.post("/api/v1/requests", json=SUBMIT, headers=bearer(keys[role])), 429)
        assert refused["type"] == "urn:garde:problem:rate-limited" and "per hour" in refused["detail"]
        assert problem_of(client.post("/opendsr/requests", json=_opendsr(), headers=bearer(keys[role])), 429)
        other = "dpo" if role == "agent" else "agent"
        assert client.post("/api/v1/requests", json=SUBMIT, headers=bearer(keys[other])).status_code == 201
        sent = client.post("/opendsr/requests", json=_opendsr(), headers=bearer(keys[other]))
        assert sent.status_code == 201, sent.text
        # the other routes of the key still answer: reading, and sending a code has its own budget
        assert client.get(f"/api/v1/requests/{request_id}", headers=bearer(keys[role])).status_code == 200
        codes = client.post(f"/api/v1/requests/{request_id}/codes", json={}, headers=bearer(keys[role]))
        assert codes.status_code == 200, codes.text
        _use_up(migrated_url, keys[role], "requests.send_code.key")
        answer = client.post(f"/api/v1/requests/{request_id}/codes", json={}, headers=bearer(keys[role]))
        assert problem_of(answer, 429) and answer.headers["retry-after"].isdigit()
        if role == "dpo":  # decisions are not limited per key
            assert client.post("/api/v1/decisions", headers=bearer(keys[role]), json={
                "activity": "newsletter", "subject": {"email": "ana@example.com"}}).status_code == 200


def test_each_call_counts_once_for_its_key(sqlite_url: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        for _ in range(3):
            client.post("/api/v1/requests", json=SUBMIT, headers=bearer(keys["agent"]))
        client.post("/opendsr/requests", json=_opendsr(), headers=bearer(keys["agent"]))
        engine = connect(sqlite_url)
        with engine.begin() as conn:
            record = authenticate(conn, keys["agent"])
            assert record is not None
            counted = hit(conn, LIMITS["requests.submit.key"], key_counter(record))
        engine.dispose()
        assert counted == 5  # four calls, then this hit


def test_the_per_key_budget_is_a_setting(sqlite_url: str) -> None:
    with api_client(sqlite_url, api_key_mail_and_requests_per_hour=2) as (client, keys):
        for _ in range(2):
            made = client.post("/api/v1/requests", json=SUBMIT, headers=bearer(keys["agent"]))
            assert made.status_code == 201
        refused = problem_of(client.post("/api/v1/requests", json=SUBMIT, headers=bearer(keys["agent"])), 429)
        assert "2 " in refused["detail"] and "per hour" in refused["detail"]
