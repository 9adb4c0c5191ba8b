"""A customer garde knows nothing about asks for their data over HTTP, end to end, against a real
`garde serve` over the reference shop on SQLite and on PostgreSQL: a session by a one-time code
mailed to them, an access request submitted in it, answered by the call centre, and the answer
downloaded with the session's token — and nobody else's token reaches it.
"""

from __future__ import annotations

import json
import time

import httpx

from garde.rights import FileMailer
from tests.api_support import Served
from tests.conftest import mailed_code

ME = "/api/v1/me"


def _mails(served: Served) -> int:
    return len(FileMailer(served.outbox).messages()) if served.outbox.exists() else 0


def _session(served: Served, email: str) -> dict[str, str]:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        before = _mails(served)
        started = http.post(f"{ME}/session", json={"email": email, "language": "fr"})
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 30  # the code is mailed after the answer
        while _mails(served) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        confirmed = http.post(f"{ME}/session/confirm", json={
            "session": started.json()["session"], "code": mailed_code(served.outbox)})
        assert confirmed.status_code == 200, confirmed.text
        return {"Authorization": f"Bearer {confirmed.json()['token']}"}


def test_a_customer_asks_for_their_data_and_downloads_the_answer(served: Served) -> None:
    mine = _session(served, served.customer)  # a shop customer, unknown to garde's own store
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
        assert served.customer in json.dumps(answer.json(), ensure_ascii=False)

    stranger = _session(served, "someone.else@example.com")
    with httpx.Client(base_url=served.url, timeout=60, headers=stranger) as other:
        assert other.get(f"{ME}/requests").json() == []
        assert other.get(f"{ME}/files").json() == []
        for path in (f"{ME}/requests/{request_id}", f"{ME}/requests/{request_id}/files/access.json"):
            assert other.get(path).status_code == 404
