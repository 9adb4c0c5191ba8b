"""``garde audit verify`` names the first bad entry; ``garde audit export`` writes JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.settings import get_settings
from garde.store import connect, migrate

from .conftest import mode


@pytest.fixture
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    monkeypatch.setenv("GARDE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    engine = connect(database_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        audit.record_many(conn, [audit.Event("decision", {"i": i}, subject_id="s1") for i in range(5)])
        audit.record(conn, "consent.given", {"activity": "newsletter"}, subject_id="s2")
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_verify_ok_then_names_the_modified_entry(engine: sa.Engine) -> None:
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and "6 entries" in result.output
    with engine.begin() as conn:
        conn.execute(audit.audit_log.update().where(audit.audit_log.c.seq == 3).values(payload='{"i":9}'))
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "entry 3" in result.output and "modified" in result.output


def test_verify_detects_a_deleted_entry(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(audit.audit_log.delete().where(audit.audit_log.c.seq == 2))
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "entry 2" in result.output


def test_export_jsonl_since_and_kind(engine: sa.Engine, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(app, ["audit", "export", "--since", "2000-01-01", "--format", "jsonl",
                                      "-o", str(target)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[0]["payload"] == {"i": 0} and len(lines[0]["hash"]) == 64
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    result = CliRunner().invoke(app, ["audit", "export", "--kind", "consent.given"])
    assert [json.loads(line)["seq"] for line in result.output.splitlines()] == [6]
    result = CliRunner().invoke(app, ["audit", "export", "--since", "2999-01-01"])
    assert result.output == ""
    result = CliRunner().invoke(app, ["audit", "export", "--format", "csv"])
    assert result.exit_code == 2


@pytest.mark.usefixtures("umask_022")
def test_export_file_is_owner_only(engine: sa.Engine, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(app, ["audit", "export", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
