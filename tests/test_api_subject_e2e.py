"""A customer garde knows nothing about asks for their data over HTTP, end to end, against a real
`garde serve` over the reference shop on SQLite and on PostgreSQL: a session by a one-time code
mailed to them, an access request submitted in it, answered by the call centre, and the answer
downloaded with the session's token — and nobody else's token reaches it.

The served shop is shared with other modules' tests: this one takes a customer of its own.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api_support import Served
from tests.web_support import mailed_code_to, mails_to

ME = "/api/v1/me"


@pytest.fixture
def served(served_shared: Served) -> Served:
    return served_shared


def _session(served: Served, email: str) -> dict[str, str]:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        before = len(mails_to(served.outbox, email))
        started = http.post(f"{ME}/session", json={"email": email, "language": "fr"})
        assert started.status_code == 202, started.text
        confirmed = http.post(f"{ME}/session/confirm", json={  # the code is mailed after the answer
            "session": started.json()["session"], "code": mailed_code_to(served.outbox, email, before)})
        assert confirmed.status_code == 200, confirmed.text
        return {"Authorization": f"Bearer {confirmed.json()['token']}"}


def test_a_customer_asks_for_their_data_and_downloads_the_answer(served: Served) -> None:
    customer = served.customers[1]  # a shop customer, unknown to garde's own store (no other test's)
    mine = _session(served, customer)
    with httpx.Client(base_url=served.url, timeout=120, headers=mine) as subject:
        assert subject.get(f"{ME}/requests").json() == []
        submitted = subject.post(f"{ME}/requests", json={"type": "access", "language": "fr"})
        assert submitted.status_code == 201, submitted.text
        request_id = submitted.json()["id"]
        assert submitted.json()["status"] == "verified"  # proven by the session's code
        with served.client("agent") as agent:  # the call centre runs the queue
            ran = served.run(agent, request_id)
            assert ran.status_code == 200, ran.text
        files = subject.get(f"{ME}/files").json()
        assert {f["name"] for f in files if f["request_id"] == request_id} >= {"access.json", "access.html"}
        answer = subject.get(f"{ME}/requests/{request_id}/files/access.json")
        assert answer.status_code == 200
        assert customer in json.dumps(answer.json(), ensure_ascii=False)

    stranger = _session(served, "someone.else.e2e@example.com")
    with httpx.Client(base_url=served.url, timeout=60, headers=stranger) as other:
        assert other.get(f"{ME}/requests").json() == []
        assert other.get(f"{ME}/files").json() == []
        for path in (f"{ME}/requests/{request_id}", f"{ME}/requests/{request_id}/files/access.json"):
            assert other.get(path).status_code == 404
