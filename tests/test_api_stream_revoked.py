"""A stream already answering stops when its key is revoked (sec27; before, it ran to its end on the
key read when the call began): its last piece says it was cut, and the cut is audited. The audit
export through a real `garde serve` process on SQLite and PostgreSQL; the audience through the
route's own wrapper on a real store (an audience large enough to outlast a socket's buffers takes
minutes to build)."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from garde import audit, consent, subjects
from garde.api.keys import authenticate, create_key, revoke_key
from garde.api.routers import audiences
from garde.api.streams import INTERRUPTED, watched
from garde.audience import audience_rows
from garde.decide.model import DecisionModel
from garde.store import connect, migrate
from tests.api_support import REGISTER
from tests.test_api_serve import deployment, server  # noqa: F401 (fixtures: a running server)

ENTRIES = 4000
PAYLOAD = "x" * 3000  # 4,000 lines of ≈ 3 kB: ≈ 12 MB, far more than the socket buffers hold


def _interruptions(engine: sa.Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(e) for e in audit.entries(conn, kind=INTERRUPTED)]


def test_an_audit_export_is_cut_when_its_key_is_revoked(deployment: dict[str, str],  # noqa: F811
                                                        server: str) -> None:  # noqa: F811
    engine = connect(deployment["GARDE_DATABASE_URL"], create=True)
    migrate(engine)
    with engine.begin() as conn:
        audit.record_many(conn, [audit.Event("test.filler", {"i": i, "text": PAYLOAD})
                                 for i in range(ENTRIES)])
        key = create_key(conn, "archiver", "auditor")[1]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=f"{server}/api/v1", headers=headers, timeout=60) as http, \
            http.stream("GET", "/audit/export") as answer:
        assert answer.status_code == 200
        lines = answer.iter_lines()
        first = [next(lines)]
        with engine.begin() as conn:
            revoke_key(conn, "archiver", actor="test")
        time.sleep(1.5)  # the server, held by the full buffers, reads the key again when it goes on
        rest = [json.loads(line) for line in lines]
    assert json.loads(first[0])["seq"] == 1
    assert rest[-1] == {"interrupted": "key_revoked", "complete": False}
    assert all("seq" in e for e in rest[:-1]) and len(rest) < ENTRIES
    [cut] = _interruptions(engine)
    assert cut["actor"] == "key:archiver"
    assert cut["payload"]["route"] == "GET /api/v1/audit/export"  # type: ignore[index]
    assert cut["payload"]["reason"] == "key_revoked"  # type: ignore[index]
    engine.dispose()


def test_an_audit_export_of_a_live_key_is_whole(deployment: dict[str, str], server: str) -> None:  # noqa: F811
    engine = connect(deployment["GARDE_DATABASE_URL"], create=True)
    migrate(engine)
    with engine.begin() as conn:
        audit.record_many(conn, [audit.Event("test.filler", {"i": i}) for i in range(300)])
        key = create_key(conn, "archiver", "auditor")[1]
    with httpx.Client(base_url=f"{server}/api/v1", headers={"Authorization": f"Bearer {key}"},
                      timeout=60) as http, http.stream("GET", "/audit/export") as answer:
        lines = [json.loads(line) for line in answer.iter_lines()]
    assert all("seq" in e for e in lines) and len(lines) >= 300
    assert _interruptions(engine) == []
    engine.dispose()


def test_an_audience_is_cut_when_its_key_is_revoked(migrated_url: str, tmp_path: Path) -> None:
    engine = connect(migrated_url)
    with engine.begin() as conn:
        for i in range(60):
            subject_id = subjects.ensure_subject(conn, {"email": f"s{i}@example.com"})
            consent.give(conn, subject_id, "newsletter", channel="email", actor="import")
        key = create_key(conn, "mailer", "service")[1]
    with engine.connect() as conn:
        caller = authenticate(conn, key)
    assert caller is not None
    rows = audience_rows(engine, DecisionModel.load(REGISTER), "newsletter", "email", actor=caller.actor,
                         exports=tmp_path)
    # pieces of about 100 characters (a row or two each): the route's wrapper, read as the route does
    pieces = watched(audiences.audience_csv(next(rows), rows, size=100), engine=engine, key=caller,
                     token=key, route="POST /api/v1/audiences", marker=audiences._cut, every=0)
    sent = [next(pieces), next(pieces)]
    with engine.begin() as conn:
        revoke_key(conn, "mailer", actor="test")
    sent += list(pieces)
    table = list(csv.reader(io.StringIO("".join(sent))))
    assert table[0] == ["subject_id", "basis"]
    assert table[-1][:2] == ["#interrupted", "key_revoked"] and len(table) < 62
    [cut] = _interruptions(engine)
    assert cut["actor"] == "key:mailer" and cut["payload"]["pieces_sent"] == 2  # type: ignore[index]
    with engine.connect() as conn:  # the audience was not whole: no entry says it was sent
        assert list(audit.entries(conn, kind="audience")) == []
    engine.dispose()
