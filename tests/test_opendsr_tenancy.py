"""red28: an ``opendsr`` key reaches the OpenDSR requests its own tool sent, not another tool's.

Two privacy tools send requests to one garde, each with its own ``opendsr`` key (docs/security.md:
"give each system and privacy tool its own key"). Before, either key read the other's requests
(status, type, dates) and cancelled them: a tool acting in the name of subjects it never spoke for.
Staff keys (``agent``, ``dpo``) still reach every OpenDSR request. Against a real `garde serve`,
SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api_support import Served, audit_actors, bearer, new_keys, problem_of


def _sent(kind: str, email: str) -> dict[str, Any]:
    return {"regulation": "gdpr", "subject_request_id": str(uuid.uuid4()), "subject_request_type": kind,
            "subject_identities": [{"identity_type": "email", "identity_value": email,
                                    "identity_format": "raw"}]}


def test_one_tools_opendsr_key_neither_reads_nor_cancels_another_tools_requests(
        served_shared: Served) -> None:
    served = served_shared
    other = new_keys(served.store, {"opendsr": f"other-tool-{uuid.uuid4().hex[:8]}"})["opendsr"]
    mine = _sent("erasure", served.customers[-1])
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["opendsr"])) as tool:
        assert tool.post("/opendsr/requests", json=mine).status_code == 201
    request_id = mine["subject_request_id"]
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(other)) as stranger:
        # the same 404 as an id no one sent
        assert problem_of(stranger.get(f"/opendsr/requests/{request_id}"), 404)
        assert problem_of(stranger.delete(f"/opendsr/requests/{request_id}"), 404)
        # sending its id again does not answer with the other tool's request
        again = stranger.post("/opendsr/requests", json=mine)
        assert again.status_code in (404, 409), again.text
        assert "received_time" not in again.text
        # its own requests it follows and cancels as before
        own = _sent("access", served.customers[-1])
        assert stranger.post("/opendsr/requests", json=own).status_code == 201
        followed = stranger.get(f"/opendsr/requests/{own['subject_request_id']}")
        assert followed.json()["request_status"] == "pending"
        assert stranger.delete(f"/opendsr/requests/{own['subject_request_id']}").status_code == 200
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["opendsr"])) as tool:
        assert tool.get(f"/opendsr/requests/{request_id}").json()["request_status"] == "pending"
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["agent"])) as staff:
        assert staff.get(f"/opendsr/requests/{request_id}").json()["request_status"] == "pending"
        assert staff.delete(f"/opendsr/requests/{request_id}").status_code == 200  # staff reach every one
    assert audit_actors(served.store, "request.cancelled", request_id) == ["key:callcentre"]
