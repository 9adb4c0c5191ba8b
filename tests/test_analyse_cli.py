"""``garde analyse``: the report as JSON (its schema), text, and errors as exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from garde.analyse.art13 import ELEMENTS
from garde.cli import app
from garde.cli.schemas import COMMANDS
from tests.analyse_support import write_docx, write_pdf

runner = CliRunner()

NOTICE = """# Privacy notice

Acme SAS, whose registered office is at 1 Main Street, Dublin, is the controller of your personal data.
By using this website, you accept this notice.

# Your rights

You have the right of access, the right to rectification and the right to erasure.
You may lodge a complaint with a supervisory authority.
"""


def test_json_has_exactly_the_issue_s_shape_and_fits_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "notice.md"
    path.write_text(NOTICE, encoding="utf-8")
    result = runner.invoke(app, ["analyse", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output  # GA001 is an error
    data = json.loads(result.stdout)
    COMMANDS["analyse"].model.model_validate(data)
    assert list(data) == ["language", "kind", "art13", "activities", "findings"]
    assert data["language"] == "en" and data["kind"] == "notice"
    assert list(data["art13"]) == list(ELEMENTS)
    assert data["art13"]["right_erasure"]["present"] is True
    assert data["art13"]["right_erasure"]["evidence"] in NOTICE
    assert data["art13"]["retention"] == {"present": False, "evidence": ""}
    assert data["activities"] == []
    assert [f["code"] for f in data["findings"]] == ["GA001"]


def test_text_report_and_lang_option(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "notice.pdf", [("Your rights", ["You have the right to data portability."])])
    result = runner.invoke(app, ["analyse", str(path), "--lang", "it"])
    assert result.exit_code == 0, result.output
    assert "language it" in result.stdout
    assert "found    right_portability" in result.stdout


def test_docx_through_the_command(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "notice.docx", "Vos droits", ["Vous disposez d'un droit d'opposition."], [])
    result = runner.invoke(app, ["analyse", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["art13"]["right_objection"]["present"] is True


def test_unreadable_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notice.pdf"
    bad.write_bytes(b"garbage")
    result = runner.invoke(app, ["analyse", str(bad)])
    assert result.exit_code == 2 and "not a readable PDF" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["analyse", str(tmp_path / "absent.txt")])
    assert result.exit_code == 2 and "cannot read it" in result.output


TWO_PURPOSES = """# Privacy notice

## Newsletter
We send you our newsletter on the basis of your consent. We keep your e-mail address until you
unsubscribe.

## Orders
We process your orders because it is necessary for the performance of our contract with you.
"""


def test_the_json_carries_the_activities_and_the_yaml_is_a_draft_register_lint_reads(tmp_path: Path) -> None:
    notice = tmp_path / "notice.md"
    notice.write_text(TWO_PURPOSES, encoding="utf-8")
    result = runner.invoke(app, ["analyse", str(notice), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    pairs = {(a["purpose"], tuple(a["legal_bases"])) for a in json.loads(result.stdout)["activities"]}
    assert ("Newsletter", ("consent",)) in pairs and ("Orders", ("contract",)) in pairs
    for activity in json.loads(result.stdout)["activities"]:
        assert all(e["excerpt"] in TWO_PURPOSES for e in activity["evidence"])
    draft = runner.invoke(app, ["analyse", str(notice), "--format", "yaml"])
    assert draft.exit_code == 0, draft.output
    assert "# " in draft.stdout and "consent" in draft.stdout
    (tmp_path / "draft.yaml").write_text(draft.stdout, encoding="utf-8")
    linted = runner.invoke(app, ["lint", str(tmp_path / "draft.yaml"), "--format", "json"])
    assert linted.exit_code in (0, 1), linted.output  # findings, not a file lint cannot read
    assert "GL000" not in linted.stdout
