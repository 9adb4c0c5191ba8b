"""Meta-tests of the linter: every rule is complete, worded in each language, tested and documented."""

from __future__ import annotations

import importlib.util
import re
import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from garde import i18n
from garde.lint import LANGS, RULES, SEVERITIES, rules_markdown
from garde.lint.wording import RULE_TEXTS

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
    for lang in LANGS:
        assert entry.title(lang).strip()
        assert entry.template(lang).strip()
        assert placeholders(entry.template(lang)) == placeholders(entry.template("en")), lang


def test_rule_names_are_unique() -> None:
    names = [entry.name for entry in RULES.values()]
    assert len(names) == len(set(names))


def test_every_rule_has_its_title_and_message_in_fr_en_and_it() -> None:
    """Each rule's title and message are entries of the gettext catalogues (msgctxt: the rule id),
    translated, not empty and not fuzzy, in French, English and Italian: never an English
    fallback in an Italian report."""
    assert set(LANGS) == {"fr", "en", "it"}
    for lang in LANGS:
        with i18n.catalogue_path(lang).open("rb") as handle:
            entries = {(m.context, m.id): m for m in read_po(handle, locale=lang) if m.id}
        for code, (title, message) in RULE_TEXTS.items():
            for text in (title, message):
                entry = entries.get((code, text))
                assert entry is not None, f"{lang}: no entry for {code} {text!r}"
                assert entry.string and not entry.fuzzy, f"{lang}: {code} {text!r} untranslated or fuzzy"


def test_no_rule_counts_with_a_bracketed_plural() -> None:
    """"{count} transfer(s)", "trasferimento/i": a count reads in the language's own plural, or the
    sentence is worded so that it needs none."""
    for lang in LANGS:
        with i18n.catalogue_path(lang).open("rb") as handle:
            worded = [m for m in read_po(handle, locale=lang) if m.id and m.context in RULE_TEXTS]
        for entry in worded:
            bracketed = re.search(r"\w\((s|e|i)\)|\w/(i|e)\b", str(entry.string))
            assert not bracketed, (lang, entry.context, entry.string)


def test_rule_wording_has_no_orphans() -> None:
    assert set(RULE_TEXTS) == set(RULES)


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
