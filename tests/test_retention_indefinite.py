"""A register that keeps data "indefinitely" is loaded, published as it says, never swept, and linted.

Storage limitation (GDPR Art. 5(1)(e)) and the notice's retention period (Art.
13(2)(a)) make "without limit" an error to report (GL027), not a file garde
refuses to read: refusing would hide every other finding of the register.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from garde.cli import app
from garde.consent.state import ConsentState
from garde.decide.model import ActivityRules
from garde.decide.rules import SubjectFacts, past_retention
from garde.documents import export_register, render_notice
from garde.lint import lint, lint_paths
from garde.register import parse_register
from garde.register.model import RetentionRule
from garde.retention import build_policy
from garde.retention_rule import RetentionPeriod
from tests.test_retention_negomarkets import Deployment, snapshot
from tests.test_retention_negomarkets import deployment as deployment  # the same fixture

WORDS = ["indefinitely", "Indefinitely.", "no limit", "No-limit", "unlimited", "permanent", "forever",
         "sans limite", "Sans limitation de durée", "indéfiniment", "illimitato", "a tempo indeterminato",
         "per sempre"]
REGISTER: dict[str, Any] = {
    "language": "fr",
    "controller": {"name": "Boutique", "country": "FR", "contact": {"email": "dpo@boutique.example"}},
    "activities": [{"id": "customers", "name": "Clients", "purposes": ["Gérer les clients"],
                    "data_subjects": ["customer"], "data_categories": ["contact.email", "identity.name"],
                    "legal_bases": ["contract"],
                    "retention": [{"rule": "sans limite", "categories": ["identity.name"]},
                                  {"rule": "3 years after last_contact", "categories": ["contact.email"]}]}],
}


def text_of(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.mark.parametrize("words", WORDS)
def test_every_way_of_saying_no_limit_is_an_indefinite_rule(words: str) -> None:
    rule = RetentionPeriod.parse(words)
    assert rule.indefinite and rule.period is None and rule.approx_days() is None
    assert RetentionPeriod.parse(str(rule)) == rule  # the register's words, kept
    assert str(rule) == words.strip().rstrip(".")


def test_an_indefinite_rule_loads_and_the_rest_of_the_register_is_still_linted(tmp_path: Path) -> None:
    data = json.loads(json.dumps(REGISTER))
    data["activities"][0]["legal_bases"] = []  # another problem in the same register
    path = tmp_path / "shop.yaml"
    path.write_text(text_of(data))
    found = lint_paths([path])
    codes = {f.code for f in found}
    assert "GL000" not in codes and {"GL001", "GL027"} <= codes
    gl027 = next(f for f in found if f.code == "GL027")
    assert gl027.severity == "error" and "5(1)(e)" in gl027.reference and "13(2)(a)" in gl027.reference
    rule_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "sans limite" in line)
    assert "sans limite" in gl027.message and gl027.activity == "customers"
    assert gl027.line == rule_line


def test_a_dated_rule_is_not_gl027() -> None:
    data = json.loads(json.dumps(REGISTER))
    data["activities"][0]["retention"] = ["3 years after last_contact"]
    assert "GL027" not in {f.code for f in lint(parse_register(text_of(data), "shop.yaml"))}


def test_register_show_json_keeps_the_registers_words(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(text_of(REGISTER))
    shown = CliRunner().invoke(app, ["register", "show", str(path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["activities"][0]["retention"][0]["rule"] == "sans limite"
    again = parse_register(shown.stdout, "again.json").register
    assert again == parse_register(text_of(REGISTER), "shop.yaml").register


@pytest.mark.parametrize(("lang", "statement"), [
    ("fr", "Sans limite de durée ; le registre indique : « sans limite »"),
    ("en", "No time limit; the register states: “sans limite”"),
    ("it", "Senza limite di tempo; il registro indica: “sans limite”"),
])
def test_documents_print_the_registers_statement_not_a_gap_or_a_period(lang: str, statement: str) -> None:
    register = parse_register(text_of(REGISTER), "shop.yaml").register
    notice = render_notice(register, lang, "md", today=date(2026, 1, 1))
    table = export_register(register, "csv", lang, today=date(2026, 1, 1)).decode()
    for document in (notice, table):
        assert statement in document
        assert "then deleted" not in document.split(statement)[1][:20]
    gap = {"fr": "Non renseigné dans le registre : durée", "en": "Not stated in the register: retention",
           "it": "Non indicato nel registro: periodo"}[lang]
    assert gap not in notice


def test_decide_never_finds_indefinitely_kept_data_past_retention() -> None:
    data = json.loads(json.dumps(REGISTER))
    data["activities"][0]["retention"] = [{"rule": "indefinitely", "categories": ["identity.name"]},
                                          {"rule": "1 day after collection", "categories": ["contact.email"]}]
    rules = ActivityRules.from_activity(parse_register(text_of(data), "shop.yaml").register.activities[0])
    created = datetime(2000, 1, 1, tzinfo=UTC)
    facts = SubjectFacts("s1", "active", created_at=created, last_contact_at=created)
    consent = ConsentState("customers", None, "none")  # type: ignore[arg-type]
    now = datetime(2099, 1, 1, tzinfo=UTC)
    assert past_retention(rules, ["identity.name", "contact.email"], facts, consent, now) == ["contact.email"]


class _In2099(date):
    """The clock in 2099: a sweep as of a day after the real today is refused, so the clock moves."""

    @classmethod
    def today(cls) -> _In2099:
        return cls(2099, 1, 1)


def test_the_sweep_never_deletes_on_an_indefinite_rule(deployment: Deployment,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # `garde.retention.sweep` names the package's function: the module is reached through sys.modules.
    monkeypatch.setattr(sys.modules["garde.retention.sweep"], "date", _In2099)
    register = deployment.registers["shop"]
    recruitment = register.activity("recruitment")
    assert recruitment is not None
    recruitment.retention = [RetentionRule.model_validate("indefinitely")]
    policy = build_policy(deployment.datamap, deployment.registers)
    cv = policy.table(deployment.datamap.table(("shop", "candidates")).ref).columns["cv"]
    assert not cv.sweepable and cv.blocked == (
        "recruitment: 'indefinitely': the register keeps it without limit",)
    before = snapshot(deployment.shop)
    deployment.sweep(today=date(2099, 1, 1), batch_size=50)
    after = snapshot(deployment.shop)
    assert after["candidates"] == before["candidates"]
    assert len(after["web_sessions"]) < len(before["web_sessions"])  # the other periods still apply
