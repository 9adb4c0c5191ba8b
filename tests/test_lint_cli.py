"""``garde lint`` as users run it, and linting the seed registers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from garde.cli import app
from garde.lint import RULES, Finding, lint_paths

ROOT = Path(__file__).resolve().parents[1]
REGISTERS = ROOT / "registers"
runner = CliRunner()

COMPLETE = {
    "controller": {"name": "Shop", "country": "FR", "contact": {"email": "privacy@shop.example"},
                   "dpo": {"email": "dpo@shop.example"}},
    "rights": {"route": {"email": "rights@shop.example"}},
    "security_measures": ["Access restricted by role"],  # for every activity
    "updated": "2026-11-30", "no_transfer": True, "sources": ["data_subject"],
    "activities": [{
        "id": "orders", "name": "Orders", "purposes": ["Deliver orders"], "data_subjects": ["customer"],
        "data_categories": ["contact.email"], "legal_bases": ["contract"],
        "retention": ["5 years after relationship_end"],
        "provision": {"requirement": "contractual", "consequences": "No delivery without an address"},
        "automated_decisions": False, "automated_means": True, "recipients": [{"kind": "internal"}],
        "dpia": {"required": False, "reason": "No Art. 35(3) criterion"},
    }],
}


def write(path: Path, **activity: Any) -> Path:
    data = json.loads(json.dumps(COMPLETE))
    data["activities"][0].update(activity)
    path.write_text(yaml.safe_dump(data))
    return path


def id_line(path: Path) -> int:
    """The line of the activity's ``id``, where activity findings point."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "id: orders" in line)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "clean": write(tmp_path / "clean.yaml"),
        "warning": write(tmp_path / "warning.yaml", legal_bases=["legal_obligation"]),
        "error": write(tmp_path / "error.yaml", legal_bases=[], retention=[]),
    }


def test_a_clean_register_exits_0(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["lint", str(files["clean"])])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings and 0 information notes in 1 file" in result.output


def test_warnings_alone_exit_0(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["lint", str(files["warning"])])
    assert result.exit_code == 0, result.output
    assert "GL003 warning orders" in result.output


def test_text_is_grouped_by_file_with_location_code_severity_activity_and_reference(
        files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["lint", str(files["error"]), str(files["warning"])])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == str(files["error"])
    line = id_line(files["error"])
    assert lines[1] == (f"  {files['error']}:{line} GL001 error orders no Art. 6(1) legal basis is declared "
                        "for this activity (GDPR Art. 6(1), 13(1)(c))")
    assert lines[2].startswith(f"  {files['error']}:{line} GL006 error orders ")
    assert lines[3] == str(files["warning"])
    assert lines[-1] == "2 errors, 1 warning and 0 information notes in 2 files"


def test_french_messages(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["lint", str(files["error"]), "--lang", "fr"])
    assert "aucune base légale (art. 6(1)) n'est déclarée pour ce traitement" in result.output
    assert ("2\u00a0erreurs, 0\u00a0avertissement et 0\u00a0note d’information dans 1\u00a0fichier"
            in result.output)


def test_json_is_a_list_of_findings(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["lint", str(files["error"]), "--format", "json"])
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert [f["code"] for f in found] == ["GL001", "GL006"]
    assert found[0] == Finding(**found[0]).to_data()
    assert found[0]["activity"] == "orders" and found[0]["line"] == id_line(files["error"])
    assert found[0]["url"] == "https://gdpr-info.eu/art-6-gdpr/"


def assert_valid_sarif(log: dict[str, Any]) -> None:
    """The SARIF 2.1.0 properties code-scanning tools rely on (the schema's required ones and more)."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "garde" and isinstance(driver["version"], str)
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for descriptor in driver["rules"]:
        assert descriptor["shortDescription"]["text"]
        assert descriptor["defaultConfiguration"]["level"] in {"none", "note", "warning", "error"}
        assert "helpUri" not in descriptor or descriptor["helpUri"].startswith("https://")
    for result in run["results"]:
        assert result["ruleId"] in ids
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in {"none", "note", "warning", "error"}
        assert result["message"]["text"]
        for location in result["locations"]:
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            if "region" in physical:
                assert isinstance(physical["region"]["startLine"], int)
                assert physical["region"]["startLine"] >= 1


def test_sarif(files: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("controller: [\n")
    result = runner.invoke(app, ["lint", str(tmp_path), "--format", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert_valid_sarif(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert {r["id"] for r in driver["rules"]} == set(RULES)
    gl001 = next(r for r in driver["rules"] if r["id"] == "GL001")
    assert gl001["helpUri"] == "https://gdpr-info.eu/art-6-gdpr/"
    assert gl001["shortDescription"]["text"] == "Missing legal basis"
    results = log["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["GL001"]["level"] == "error"
    assert by_rule["GL003"]["level"] == "warning"
    location = by_rule["GL001"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == files["error"].as_uri()
    assert location["region"] == {"startLine": id_line(files["error"])}
    assert by_rule["GL000"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}


def test_bad_files_are_findings_never_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("controller: {name: [\n")
    (tmp_path / "wrong.yaml").write_text("- just\n- a list\n")
    for format in ("text", "json", "sarif"):
        result = runner.invoke(app, ["lint", str(tmp_path), str(tmp_path / "missing.yaml"),
                                     "--format", format])
        assert result.exit_code == 1
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["lint", str(tmp_path), str(tmp_path / "missing.yaml")])
    assert "GL000 error" in result.output and "file not found" in result.output
    assert "a register is a mapping" in result.output


def test_unknown_format_is_a_usage_error(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["lint", str(files["clean"]), "--format", "xml"])
    assert result.exit_code == 2


# ---------------------------------------------------------------- the seed registers


def seed(name: str) -> Path:
    path = REGISTERS / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"{path} is not written yet")
    return path


def activity_ids(path: Path) -> list[str]:
    return [a["id"] for a in yaml.safe_load(path.read_text(encoding="utf-8"))["activities"]]


def by_code(findings: list[Finding], code: str) -> list[str | None]:
    return [f.activity for f in findings if f.code == code]


def test_seed_registers_lint_without_unreadable_files_or_unknown_terms() -> None:
    if not REGISTERS.exists() or not list(REGISTERS.glob("*.yaml")):
        pytest.skip("no seed registers yet")
    found = lint_paths([REGISTERS])
    assert by_code(found, "GL000") == []
    assert by_code(found, "GL016") == []


def test_seed_000_dior_couture_has_no_retention_for_any_activity() -> None:
    path = seed("dior-couture")
    found = lint_paths([path])
    assert sorted(by_code(found, "GL006")) == sorted(activity_ids(path))
    assert len(activity_ids(path)) == 20


def test_seed_004_deskmanager_has_no_legal_basis_for_any_use() -> None:
    path = seed("deskmanager")
    found = lint_paths([path])
    assert sorted(by_code(found, "GL001")) == sorted(activity_ids(path))


def test_negomarkets_never_states_its_legitimate_interests() -> None:
    path = seed("negomarkets")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    relying = {a["id"] for a in data["activities"]
               if any((b if isinstance(b, str) else b["basis"]) == "legitimate_interests"
                      for b in a.get("legal_bases", []))}
    assert relying, "negomarkets relies on legitimate interests somewhere"
    assert set(by_code(lint_paths([path]), "GL002")) == relying


def test_negomarkets_newsletter_until_unsubscription_outlasts_the_cnil_prospect_period() -> None:
    path = seed("negomarkets")
    found = [f for f in lint_paths([path]) if f.code == "GL007"]
    assert any("cnil-prospects" in f.message and f.url and "cnil.fr" in f.url for f in found)


def test_lint_in_italian_gives_every_message_in_italian() -> None:
    """`garde lint --lang it`: the findings' messages, the summary and the HTML report in Italian."""
    result = runner.invoke(app, ["lint", str(REGISTERS / "negomarkets.yaml"), "--lang", "it"])
    assert "errori" in result.output and " in 1 file" in result.output
    italian = json.loads(runner.invoke(app, ["lint", str(REGISTERS / "negomarkets.yaml"), "--lang", "it",
                                             "--format", "json"]).output)
    english = json.loads(runner.invoke(app, ["lint", str(REGISTERS / "negomarkets.yaml"),
                                             "--format", "json"]).output)
    assert italian and len(italian) == len(english)
    for it, en in zip(italian, english, strict=True):
        assert it["code"] == en["code"] and it["message"] != en["message"], it
        assert it["message"] in result.output
    page = runner.invoke(app, ["lint", str(REGISTERS / "negomarkets.yaml"), "--lang", "it",
                               "--format", "html"]).output
    assert '<html lang="it">' in page and 'lang="en"' not in page
