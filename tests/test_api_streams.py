"""The streamed answers (audiences as CSV, the audit export) from a real `garde serve` process on
SQLite and PostgreSQL: read piece by piece over HTTP, larger than one piece, complete and in order."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx

from garde import consent, subjects
from garde.store import connect, migrate
from tests.test_api_serve import _garde, deployment, server  # noqa: F401 (fixtures: a running server)

SUBJECTS = 1500  # about 70 kB of CSV: more than one 64 kB piece of the stream


def test_audience_and_audit_export_stream_whole(deployment: dict[str, str], tmp_path: Path,  # noqa: F811
                                                server: str) -> None:  # noqa: F811
    engine = connect(deployment["GARDE_DATABASE_URL"], create=True)
    migrate(engine)
    with engine.begin() as conn:
        for i in range(SUBJECTS):
            subject_id = subjects.ensure_subject(conn, {"email": f"s{i}@example.com"})
            consent.give(conn, subject_id, "newsletter", channel="email", actor="import")
    engine.dispose()
    created = _garde(deployment, tmp_path, "keys", "create", "--role", "dpo", "--name", "dpo-office",
                     "--format", "json")
    headers = {"Authorization": f"Bearer {json.loads(created.stdout)['key']}"}
    with httpx.Client(base_url=f"{server}/api/v1", headers=headers, timeout=60) as http:
        with http.stream("POST", "/audiences", json={"activity": "newsletter", "channel": "email",
                                                     "subject_ids": True}) as answer:
            assert answer.status_code == 200
            pieces = list(answer.iter_raw())
        rows = list(csv.DictReader(io.StringIO(b"".join(pieces).decode())))
        assert len(rows) == SUBJECTS and {r["basis"] for r in rows} == {"consent"}
        assert len({r["subject_id"] for r in rows}) == SUBJECTS
        with http.stream("GET", "/audit/export") as answer:
            lines = [json.loads(line) for line in answer.iter_lines()]
        assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
        assert sum(e["kind"] == "consent.given" for e in lines) == SUBJECTS
        assert lines[-1]["kind"] == "audience" and lines[-1]["actor"] == "key:dpo-office"
