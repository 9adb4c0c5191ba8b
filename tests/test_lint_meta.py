"""Meta-tests of the linter: every rule is complete, worded in each language, tested and documented."""

from __future__ import annotations

import importlib.util
import re
import string
from pathlib import Path
from typing import Any

import pytest

from garde.lint import LANGS, RULES, SEVERITIES, rules_markdown
from garde.lint.model import messages

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).parent


def _test_lint_tables() -> tuple[dict[str, Any], dict[str, str]]:
    """CASES and TESTED_ELSEWHERE of test_lint.py, loaded by path (tests/ may or may not be a package)."""
    spec = importlib.util.spec_from_file_location("_lint_cases", TESTS / "test_lint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES, module.TESTED_ELSEWHERE


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_has_code_severity_reference_and_wording(code: str) -> None:
    entry = RULES[code]
    assert re.fullmatch(r"GL\d{3}", entry.code) and entry.code == code
    assert entry.severity in SEVERITIES
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.name)
    assert entry.reference.strip()
    assert entry.url is None or entry.url.startswith("https://")
    wording = messages()[code]
    for lang in LANGS:
        assert entry.title(lang).strip()
        assert wording["message"][lang].strip()
    assert placeholders(wording["message"]["en"]) == placeholders(wording["message"]["fr"])


def test_rule_names_are_unique() -> None:
    names = [entry.name for entry in RULES.values()]
    assert len(names) == len(set(names))


def test_messages_file_has_no_orphans() -> None:
    assert set(messages()) - {"report"} == set(RULES)


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_is_tested_both_ways(code: str) -> None:
    cases, elsewhere = _test_lint_tables()
    if code in elsewhere:
        assert f"def {elsewhere[code]}(" in (TESTS / "test_lint.py").read_text()
    else:
        assert code in cases, f"add a triggering and a quiet register for {code} to CASES"


def test_docs_list_every_rule() -> None:
    doc = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    table = doc.split("<!-- rules:start -->\n")[1].split("\n<!-- rules:end -->")[0]
    assert table == rules_markdown(), (
        "docs/lint.md is out of date: replace the table between the rules markers with the output of "
        "python -c 'from garde.lint import rules_markdown; print(rules_markdown())'"
    )
