"""``garde retention plan|sweep|runs`` driven like a user drives them, on NEGOMARKETS' tables."""

from __future__ import annotations

import json
from datetime import date, timedelta

from typer.testing import CliRunner

from garde.cli import app
from tests.test_hold_cli import deployment  # noqa: F401 (fixture: store and data through the environment)
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment, expected_by_python, snapshot

runner = CliRunner()
AS_OF = ["--datasets", str(DATASET), "--today", TODAY.isoformat()]


def garde(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_json_dry_run_sweep_and_runs(deployment: Deployment) -> None:  # noqa: F811
    before = snapshot(deployment.shop)
    plan = json.loads(garde("retention", "plan", *AS_OF, "--days", "3", "--format", "json"))
    assert plan["today"] == TODAY.isoformat() and plan["days"] == 3
    steps = {f"{s['table']}:{s['operation']}": s for s in plan["steps"]}
    sessions = steps["shop.web_sessions:delete"]
    days = [(TODAY + timedelta(days=i)).isoformat() for i in (1, 2, 3)]
    assert [d["date"] for d in sessions["by_day"]] == days
    assert sessions["today"] == len(before["web_sessions"]) - len(expected_by_python(before)["web_sessions"])
    pages = next(c for c in sessions["columns"] if c["column"] == "pages")
    assert pages["due_when"] == ["13 months after collection"]
    assert {k["table"] for k in plan["kept"]} == {"shop.suppression_entries"}
    assert "customer-relationship-contract" in plan["activities"]

    dry = garde("retention", "sweep", *AS_OF, "--dry-run")
    total = sum(s["today"] for s in plan["steps"])
    assert f"{total} rows would affect" in dry
    assert snapshot(deployment.shop) == before

    swept = garde("retention", "sweep", *AS_OF, "--batch-size", "50")
    assert f"{total} rows affected" in swept
    assert f"shop.web_sessions:delete: {sessions['today']}" in swept
    assert snapshot(deployment.shop) == expected_by_python(before)

    runs = json.loads(garde("retention", "runs", "--format", "json"))
    assert [(r["status"], r["dry_run"], r["today"]) for r in runs] == [
        ("done", False, TODAY.isoformat()), ("done", True, TODAY.isoformat())]
    assert sum(runs[0]["summary"]["affected"].values()) == total
    assert sum(runs[1]["summary"]["affected"].values()) == total
    text = garde("retention", "runs")
    assert "dry" in text and str(total) in text


def test_a_sweep_as_of_a_later_day_is_refused_and_deletes_nothing(deployment: Deployment) -> None:  # noqa: F811
    """`--today` a day ahead would delete what the register still keeps (a customer record before
    its five years, a typo in the year): only a dry run or a plan may look ahead."""
    before = snapshot(deployment.shop)
    ahead = (date.today() + timedelta(days=1)).isoformat()
    result = runner.invoke(app, ["retention", "sweep", "--datasets", str(DATASET), "--today", ahead,
                                 "--quiet"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{ahead} is after today" in " ".join(result.output.split())
    assert snapshot(deployment.shop) == before
    assert "rows would affect" in garde("retention", "sweep", "--datasets", str(DATASET), "--today", ahead,
                                        "--dry-run")
