"""``garde hold place|list|release``, driven like a user drives it, on NEGOMARKETS' tables.

A table hold keeps the table out of the sweep; once released, the next
sweep takes what it kept. Subject scopes must be identities ``kind:value``;
placing and releasing are audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.settings import get_settings
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment, business_url, fill, snapshot

REGISTER = Path(__file__).parents[1] / "registers" / "negomarkets.yaml"

runner = CliRunner()


@pytest.fixture
def deployment(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    shop_url = business_url(sqlite_url, tmp_path)
    monkeypatch.setenv("GARDE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GARDE_NEGOMARKETS_URL", shop_url)
    monkeypatch.setenv("GARDE_DATASETS", str(DATASET))
    monkeypatch.setenv("GARDE_REGISTERS", str(REGISTER))
    get_settings.cache_clear()
    found = Deployment(sqlite_url, shop_url)
    fill(found.shop)
    yield found
    found.close()
    get_settings.cache_clear()


def garde(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def sweep() -> str:
    return garde("retention", "sweep", "--datasets", str(DATASET), "--today", TODAY.isoformat(), "--quiet")


def test_a_held_table_is_skipped_until_the_hold_is_released(deployment: Deployment) -> None:
    before = snapshot(deployment.shop)
    assert "hold 1 placed on table shop.web_sessions" in garde(
        "hold", "place", "--scope", "table", "shop.web_sessions", "--reason", "CNIL inspection")
    holds = json.loads(garde("hold", "list", "--format", "json"))
    assert [(h["id"], h["scope_kind"], h["scope"], h["reason"]) for h in holds] == [
        (1, "table", "shop.web_sessions", "CNIL inspection")]
    plan = json.loads(garde("retention", "plan", "--datasets", str(DATASET), "--today", TODAY.isoformat(),
                            "--format", "json"))
    sessions = next(s for s in plan["steps"] if s["table"] == "shop.web_sessions")
    assert sessions["today"] == 0 and sessions["held"] > 0
    assert "shop.web_sessions" not in sweep()
    assert snapshot(deployment.shop)["web_sessions"] == before["web_sessions"]

    assert "hold 1 released" in garde("hold", "release", "1")
    assert json.loads(garde("hold", "list", "--format", "json")) == []
    assert json.loads(garde("hold", "list", "--all", "--format", "json"))[0]["released_at"] is not None
    assert f"shop.web_sessions:delete: {sessions['held']}" in sweep()
    assert len(snapshot(deployment.shop)["web_sessions"]) == len(before["web_sessions"]) - sessions["held"]
    with deployment.store.connect() as conn:
        kinds = [e["kind"] for e in audit.entries(conn) if e["kind"].startswith("legal_hold.")]
        assert audit.verify(conn).ok
    assert kinds == ["legal_hold.placed", "legal_hold.released"]


def test_subject_and_end_date(deployment: Deployment) -> None:
    garde("hold", "place", "--scope", "subject", "email:p1@example.com", "--reason", "litigation",
          "--until", "2999-12-31")
    (hold,) = json.loads(garde("hold", "list", "--format", "json"))
    assert hold["scope"] == "email:p1@example.com" and hold["ends_at"].startswith("3000-01-01T00:00:00")
    text = garde("hold", "list")
    assert "subject" in text and "litigation" in text


@pytest.mark.parametrize(("args", "message"), [
    (["--scope", "subject", "2f1c0d4e-0000", "--reason", "fraud"], "kind:value"),
    (["--scope", "table", "web_sessions", "--reason", "audit"], "database.table"),
    (["--scope", "activity", "recruitment", "--reason", " "], "needs a reason"),
    (["--scope", "activity", "recruitment", "--reason", "x", "--until", "2001-01-01"], "in the future"),
    (["--scope", "activity", "recruitment", "--reason", "x", "--until", "soon"], "not a date"),
])
def test_bad_holds_are_refused_clearly(deployment: Deployment, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["hold", "place", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert json.loads(garde("hold", "list", "--all", "--format", "json")) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--scope", "table", "shop.web_session", "--reason", "audit"],
     "'shop.web_session' is not a known table (did you mean 'shop.web_sessions'?)"),
    (["--scope", "subject", "mail:p1@example.com", "--reason", "fraud"],
     "'mail' is not a known identity kind (did you mean 'email'?)"),
    (["--scope", "activity", "recruitement", "--reason", "claim"],
     "'recruitement' is not a known activity (did you mean 'recruitment'?)"),
])
def test_a_hold_on_something_the_data_map_or_register_does_not_know_is_refused(
        deployment: Deployment, args: list[str], message: str) -> None:
    """A misspelt table, identity kind or activity would keep nothing while the DPO believes it does."""
    result = runner.invoke(app, ["hold", "place", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert json.loads(garde("hold", "list", "--all", "--format", "json")) == []


def test_releasing_an_unknown_hold_is_an_error(deployment: Deployment) -> None:
    result = runner.invoke(app, ["hold", "release", "42"])
    assert result.exit_code != 0 and "no active legal hold 42" in result.output
