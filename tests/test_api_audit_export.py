"""``GET /audit/export``: the audit log as JSON lines, streamed, resumed from a sequence number."""

from __future__ import annotations

import json
from itertools import pairwise

from garde.audit import GENESIS
from tests.api_support import api_client, bearer

ANA = {"email": "ana@example.com"}


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_export_streams_the_chain_and_resumes_after_a_sequence(database_url: str) -> None:
    with api_client(database_url) as (client, keys):
        service, auditor = bearer(keys["service"]), bearer(keys["auditor"])
        client.post("/api/v1/consents/give", headers=service, json={"activity": "newsletter", "subject": ANA})
        client.post("/api/v1/decisions", headers=service, json={"activity": "newsletter", "subject": ANA})
        answer = client.get("/api/v1/audit/export", headers=auditor)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-ndjson"
        entries = _lines(answer.text)
        kinds = [e["kind"] for e in entries]
        assert "consent.given" in kinds and "decision" in kinds  # the buffered decision is flushed first
        assert entries[0]["prev_hash"] == GENESIS and entries[0]["seq"] == 1
        # the chain's links: a row's, or a decision batch's, given on its first entry (garde.audit.batches)
        links = [e.get("link") or e for e in entries if e.get("link") or "batch" not in e]
        assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(links))
        assert sum(1 + int(link.get("last_seq", link.get("seq")))  # type: ignore[call-overload]
                   - int(link.get("first_seq", link.get("seq"))) for link in links) == len(entries)
        middle = entries[len(entries) // 2]["seq"]
        rest = _lines(client.get("/api/v1/audit/export", headers=auditor, params={"after": middle}).text)
        assert rest == [e for e in entries if int(str(e["seq"])) > middle]
        decisions = _lines(client.get("/api/v1/audit/export", headers=auditor,
                                      params={"kind": "decision"}).text)
        assert [e["actor"] for e in decisions] == ["key:service-key"]
        assert client.get("/api/v1/audit/export", headers=auditor, params={"after": -1}).status_code == 422
        assert client.get("/api/v1/audit/export", headers=service).status_code == 403
