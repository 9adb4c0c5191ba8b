"""Every command that reports prints, with ``--format json``, one JSON document on stdout that its
model in :mod:`garde.cli.schemas` accepts; docs/cli.md is generated from those models.

The scenario drives every reporting command the way a user does, on NEGOMARKETS' register
and database, and checks that stdout alone parses (messages go to stderr, so ``| jq`` works).
A command added to the schemas without a run here, or to the CLI without a schema (or a
reason it prints a document), fails a test.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from garde.cli import app
from garde.cli.schema_doc import example, generated, page
from garde.cli.schemas import COMMANDS, DOCUMENTS
from garde.settings import get_settings
from tests.test_cli_meta import _commands
from tests.test_hold_cli import REGISTER, deployment  # noqa: F401 (fixture: store and NEGOMARKETS' data)
from tests.test_retention_negomarkets import DATASET, TODAY, Deployment

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def test_every_command_has_a_json_schema_or_prints_a_document() -> None:
    names = {name for name, _ in _commands(typer.main.get_command(app))}
    assert names - set(COMMANDS) - set(DOCUMENTS) == set(), "commands with no JSON schema nor document"
    assert set(COMMANDS) - names == set() and set(DOCUMENTS) - names == set(), "schemas of no command"
    assert set(COMMANDS) & set(DOCUMENTS) == set()


def test_every_reporting_command_takes_format_json() -> None:
    commands = dict(_commands(typer.main.get_command(app)))
    missing = []
    for name in COMMANDS:
        option = next((p for p in commands[name].params if "--format" in getattr(p, "opts", ())), None)
        kind = getattr(getattr(option, "type_descriptor", None), "annotation", None)
        if not (isinstance(kind, type) and issubclass(kind, Enum) and "json" in {m.value for m in kind}):
            missing.append(name)
    assert missing == [], f"reporting commands without --format json: {missing}"


def test_every_command_help_states_its_exit_statuses() -> None:
    for name, command in _commands(typer.main.get_command(app)):
        assert command.epilog and "Exit status: 0 done" in command.epilog, name
    assert "1 not allowed" in dict(_commands(typer.main.get_command(app)))["decide"].epilog


def test_docs_cli_md_is_generated_from_the_schemas() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page(doc) == doc and generated() in doc, \
        "docs/cli.md is stale: run `python -m garde.cli.schema_doc --write docs/cli.md`"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_documented_example_fits_its_schema(command: str) -> None:
    model = COMMANDS[command].model
    model.model_validate(example(model))


@pytest.fixture
def env(cli_env: Path, deployment: Deployment) -> Path:  # noqa: F811 (the fixture imported above)
    """The CLI's outbox and results in a temporary folder, NEGOMARKETS' store and database."""
    return cli_env


class Scenario:
    """Runs commands as a user does and checks their JSON against their models."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def json(self, *args: str, status: int = 0) -> Any:
        """Run ``garde ARGS --format json``; stdout must be one document its command's model accepts."""
        command = " ".join(args[:2]) if " ".join(args[:2]) in COMMANDS else args[0]
        result = runner.invoke(app, [*args, "--format", "json"])
        assert result.exit_code == status, (command, result.output)
        data = json.loads(result.stdout)
        model: type[BaseModel] = COMMANDS[command].model
        model.model_validate(data)
        self.seen.add(command)
        return data


def test_every_reporting_command_prints_json_its_schema_accepts(env: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    run = Scenario()
    ana = ["--email", "c1@example.com"]
    findings = run.json("lint", str(REGISTER), status=1)
    assert all(f["file"] for f in findings)
    run.json("consent", "give", "newsletter-consent", *ana, "--channel", "email")
    assert run.json("decide", "newsletter-consent", *ana, "--channel", "email")["allowed"] is True
    assert run.json("consent", "withdraw", "newsletter-consent", *ana, "--channel", "email")["action"] \
        == "withdrawn"
    assert run.json("decide", "newsletter-consent", *ana, "--channel", "email", status=1)["allowed"] is False
    assert run.json("consent", "show", *ana)[0]["status"] == "withdrawn"
    assert run.json("consent", "gpc", *ana) == {"recorded": True}
    csv = env / "export.csv"
    csv.write_text("email,activity,action,at\nc2@example.com,newsletter-consent,given,2025-01-02\n"
                   "c3@example.com,newsletter-consent,given,not a date\n", encoding="utf-8")
    imported = run.json("consent", "import", str(csv), status=1)
    assert imported["added"] == 1 and len(imported["problems"]) == 1

    submitted = run.json("request", "submit", "--type", "access", *ana)
    request_id = submitted["request"]["id"]
    assert submitted["codes_sent"] == ["email"]
    for _ in range(5):  # five wrong codes lock the request
        runner.invoke(app, ["request", "verify", request_id, "--code", "000000", "--identity", "email"])
    assert run.json("request", "unlock", request_id, "--reason", "called back")["locked"] is False
    assert run.json("request", "send-code", request_id)["sent"] == ["email"]
    verified = run.json("request", "verify", request_id, "--out-of-band", "ID card", "--checked", "email")
    assert verified["method"] == "out_of_band"
    assert run.json("request", "run", request_id, "--datasets", str(DATASET))["status"] == "completed"
    assert run.json("request", "show", request_id[:8])["id"] == request_id
    other = run.json("request", "submit", "--type", "erasure", *ana, "--no-code")["request"]["id"]
    assert run.json("request", "extend", other, "--reason", "several systems")["extended_deadline"]
    assert run.json("request", "reject", other, "--reason", "manifestly unfounded")["status"] == "rejected"
    assert len(run.json("request", "list")) == 2

    as_of = ["--datasets", str(DATASET), "--today", TODAY.isoformat()]
    run.json("retention", "plan", *as_of)
    hold = run.json("hold", "place", "--scope", "table", "shop.invoices", "--reason", "audit",
                    "--datasets", str(DATASET), "--registers", str(REGISTER))["hold"]
    assert [h["id"] for h in run.json("hold", "list")] == [hold["id"]]
    assert sum(run.json("retention", "sweep", *as_of, "--yes")["affected"].values()) > 0
    assert run.json("hold", "release", str(hold["id"])) == {"id": hold["id"], "released": True}
    assert run.json("retention", "runs")[0]["status"] == "done"

    assert run.json("audit", "verify")["ok"] is True
    assert run.json("audit", "checkpoint", "--to", str(env / "audit.jsonl"))["checkpoint"]["seq"] > 0
    assert run.json("audit", "export-head", "--to", str(env / "heads.jsonl"))["written"] is True
    assert run.json("request", "remind", "--within", "31", "--dry-run")["why_not"] == "nothing due"
    assert run.json("consent", "renewals", "--within", "30")["within_days"] == 30
    assert run.json("keys", "show")["matches"] is True
    created = run.json("keys", "create", "--role", "service", "--name", "shop-checkout")
    assert created["key"].startswith("gk_") and created["revoked_at"] is None
    assert [k["name"] for k in run.json("keys", "list")] == ["shop-checkout"]
    assert run.json("keys", "revoke", "shop-checkout")["revoked_at"]
    monkeypatch.setenv("NEW_KEY", "a-new-identifier-key-long-enough-to-be-one-0123456789")
    rotation = run.json("keys", "rotate-identifier", "--new-key-env", "NEW_KEY", "--yes")
    assert rotation["old_fingerprint"] != rotation["new_fingerprint"]
    monkeypatch.setenv("GARDE_IDENTIFIER_KEY", "a-new-identifier-key-long-enough-to-be-one-0123456789")
    get_settings.cache_clear()

    assert run.json("datasets", "check", str(DATASET))["live"] is True
    assert run.json("datasets", "find", "email=c1@example.com", "--datasets", str(DATASET))["tables"]
    urls = ["--shop-url", f"sqlite:///{env / 'generated-shop.db'}"]
    assert run.json("shop", "generate", "--customers", "12", *urls, "--crm-url",
                    f"sqlite:///{env / 'generated-crm.db'}", "--yes")["customers"] == 12
    assert len(run.json("shop", "sample", "--count", "2", *urls)) == 2
    assert {"contact.email"} <= {t["id"] for t in run.json("taxonomy", "categories", "--lang", "fr")}
    notice = env / "notice.md"
    notice.write_text("# Your rights\n\nYou have the right of access to your personal data.\n",
                      encoding="utf-8")
    assert run.json("analyse", str(notice))["art13"]["right_access"]["present"] is True
    upgraded = run.json("db", "upgrade")
    assert upgraded["before"] == upgraded["after"] and upgraded["queue_schema"] is None  # SQLite: inline
    assert run.json("jobs", "list") == []  # no queue on SQLite: jobs ran inline
    # a job id names something only on PostgreSQL: tests/test_jobs_cli.py runs those there
    postgres_only = {"jobs show", "jobs retry", "jobs cancel", "jobs prune"}  # prune: test_jobs_cleanup.py
    # data held as a processor: NEGOMARKETS holds none (tests/test_processor_forwarding.py and
    # tests/test_processor_decide.py run them)
    processor = {"request forward", "request instruct-erasure", "request instruct-restriction",
                 "request lift-restriction"}
    assert run.seen == set(COMMANDS) - postgres_only - processor, f"not run here: {set(COMMANDS) - run.seen}"
