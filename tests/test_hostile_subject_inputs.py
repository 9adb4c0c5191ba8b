"""Text no store can keep is refused as the client's, never an unexpected error (red team of
2026-12-07, red22).

JSON may escape half a UTF-16 surrogate pair (``"\\ud800"``): Python's decoder and pydantic take it
as a ``str``, and a subject's request ``details`` (a free object: a reason, corrections) carried it
to the store's driver, which cannot encode it: a 500 and a traceback in the log, on SQLite and
PostgreSQL. A NUL in a staff key's free text (an out-of-band check, an extension or rejection
reason) did the same on PostgreSQL, whose text cannot hold one. Both are now a 400 problem saying
why, with nothing written; SQLite keeps a NUL as the text it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde.store import connect
from tests.api_support import api_client, bearer, known_subject, subject_token

ANA = "ana.inputs@example.com"


@pytest.fixture
def signed_in(migrated_url: str, tmp_path: Path) -> Any:
    known_subject(migrated_url, ANA)
    with api_client(migrated_url, outbox=tmp_path / "outbox", results=tmp_path / "results") as (client, keys):
        yield client, keys, bearer(subject_token(client, ANA, tmp_path / "outbox"))


def _requests(url: str) -> int:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM requests")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("body", [
    '{"type": "access", "details": {"reason": "my reason \\ud800"}}',
    '{"type": "rectification", "details": {"corrections": {"contact.phone\\udfff": "+33612345678"}}}',
    '{"type": "rectification", "details": {"corrections": {"identity.name": "Ana \\udbff"}}}',
], ids=["reason", "field", "value"])
def test_half_a_surrogate_pair_in_a_subjects_details_is_refused(signed_in: Any, migrated_url: str,
                                                                body: str) -> None:
    client, _, session = signed_in
    before = _requests(migrated_url)
    answer = client.post("/api/v1/me/requests", content=body,
                         headers={**session, "Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "surrogate" in answer.json()["detail"]
    assert _requests(migrated_url) == before


def test_a_nul_in_staffs_free_text_is_kept_or_refused_never_an_error(signed_in: Any,
                                                                     migrated_url: str) -> None:
    client, keys, _ = signed_in
    staff = bearer(keys["agent"])
    made = client.post("/api/v1/requests", headers=staff, json={"type": "access",
                                                                "subject": {"email": "bo@example.com"}})
    request_id = made.json()["request"]["id"]
    postgres = migrated_url.startswith("postgresql")
    for path, body in (("verify", {"out_of_band": "ID card\x00 shown", "checked": ["email"]}),
                       ("extend", {"reason": "several\x00 systems"}),
                       ("reject", {"reason": "not\x00 known"})):
        answer = client.post(f"/api/v1/requests/{request_id}/{path}", headers=staff, json=body)
        assert answer.status_code == (400 if postgres else 200), (path, answer.text)
        if postgres:
            assert "NUL" in answer.json()["detail"]
    status = client.get(f"/api/v1/requests/{request_id}", headers=staff).json()["status"]
    assert status == ("received" if postgres else "rejected")
