"""Lint and the documents agree: every gap a document prints is a lint finding, and back.

Every repository register is rendered in fr, en and it (the notice in HTML and Markdown, the
Art. 30 register in HTML). Each gap a document prints maps (``garde.documents.gaps.GAP_RULES``)
to a rule that fires on that register, on the same activity where the document says which; each
finding of a rule that answers a gap shows that gap in a document. So a register that lints clean
publishes no gap.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest

from garde.documents import build_register, export_register, render_notice
from garde.documents.art30 import Sheet
from garde.documents.gaps import GAP_RULES, UNTRANSLATED_RULE, WIDER_RULES
from garde.documents.wording import load_catalogue
from garde.lint import RULES, Finding, lint
from garde.problems import InputError
from garde.register import LoadedRegister
from garde.register.loading import read_register
from garde.taxonomy import LANGS

from .conftest import REGISTERS

DOCUMENTS = Path(__file__).parent.parent / "src" / "garde" / "documents"
# Gaps only an Art. 30 row prints (the notice has no place for them): a finding on an activity
# must show in that activity's row.
ROW_KEYS = {"dpia", "security", "roles.contract", "roles.sub_processors", "roles.sub_processor_authorisation",
            "roles.served_contact", "on_behalf_of"}
GAP_CALL = re.compile(r"""gap\((?:words,\s*)?["']([a-z_0-9]+)["']""")


def _plain(text: str) -> str:
    """The words of a gap as printed, whatever the typography (French spaces and apostrophes)."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(text.split())


def _gap_texts(lang: str) -> dict[str, str]:
    """Printed gap marker -> its key, for ``lang``."""
    catalogue = load_catalogue()
    marker = catalogue["common.gap.field"][lang]
    texts: dict[str, str] = {}
    for key, words in catalogue.items():
        for namespace, prefix in (("common.field.", ""), ("roles.field.", "roles.")):
            if key.startswith(namespace):
                texts[_plain(marker.replace("{field}", words[lang]))] = prefix + key[len(namespace):]
    return texts


def gap_keys(markers: list[str], lang: str) -> Counter[str]:
    texts = _gap_texts(lang)
    keys: Counter[str] = Counter()
    for marker in markers:
        plain = _plain(marker)
        assert plain in texts, f"a gap marker no key prints: {marker!r}"
        keys[texts[plain]] += 1
    return keys


def html_gaps(page: str, lang: str) -> Counter[str]:
    return gap_keys([html.unescape(m) for m in re.findall(r'<strong class="gap">(.*?)</strong>', page,
                                                           flags=re.DOTALL)], lang)


def md_gaps(page: str, lang: str) -> Counter[str]:
    markers = re.findall(r"\*\*(⚠.*?)\*\*", page)
    return gap_keys([re.sub(r"\\(.)", r"\1", m) for m in markers], lang)


def sheet_gaps(sheet: Sheet, lang: str) -> dict[str, set[str]]:
    """The gap keys of each activity's row of the Art. 30 register."""
    texts = _gap_texts(lang)
    return {activity: {texts[_plain(g)] for value in row.values() for g in value.gaps}
            for activity, row in zip(sheet.activity_ids, sheet.rows, strict=True)}


def _load(path: Path) -> LoadedRegister:
    try:
        return read_register(path)
    except InputError as problem:  # another test names it; nothing to render here
        pytest.skip(f"{path.name} does not load: {problem}")


def _answers(key: str, findings: list[Finding], activity: str | None = None) -> bool:
    return any(f.code in GAP_RULES[key] and (activity is None or f.activity in (activity, None))
               for f in findings)


@pytest.mark.parametrize("path", sorted(REGISTERS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_gap_a_document_prints_is_a_lint_finding_and_back(path: Path) -> None:
    loaded = _load(path)
    register = loaded.register
    findings = lint(loaded)
    shown: set[str] = set()  # in any document
    in_rows: dict[str, set[str]] = {}  # in an activity's row of the Art. 30 register
    untranslated = False
    for lang in LANGS:
        notice = render_notice(register, lang, "html")
        in_notice = html_gaps(notice, lang)
        assert md_gaps(render_notice(register, lang, "md"), lang) == in_notice, lang
        document = build_register(register, lang)
        in_register = html_gaps(export_register(register, "html", lang).decode(), lang)
        for key in {*in_notice, *in_register}:
            assert key in GAP_RULES, f"{lang}: the gap {key!r} has no rule in GAP_RULES"
            assert _answers(key, findings), f"{lang}: the documents print the gap {key!r} but no rule " \
                                            f"of {GAP_RULES[key]} fires"
            shown.add(key)
        for sheet in document.sheets:
            for activity, keys in sheet_gaps(sheet, lang).items():
                in_rows.setdefault(activity, set()).update(keys)
                for key in keys:
                    assert _answers(key, findings, activity), \
                        f"{lang}: {activity}'s row prints the gap {key!r}; no rule of {GAP_RULES[key]} " \
                        "fires on that activity"
        if lang in register.published_languages() and 'class="untranslated-mark"' in notice:
            untranslated = True
            assert any(f.code == UNTRANSLATED_RULE for f in findings), f"{lang}: untranslated, no GL090"
    for finding in findings:
        if finding.code == UNTRANSLATED_RULE:
            assert untranslated, f"{finding.code} fires but no published notice marks a text untranslated"
        answered = [key for key, codes in GAP_RULES.items() if finding.code in codes]
        if answered and finding.code not in WIDER_RULES:
            assert shown & set(answered), f"{finding.code} ({finding.activity}) fires but no document " \
                                          f"prints the gap {answered}"
            if finding.activity in in_rows and not set(answered) - ROW_KEYS:
                assert in_rows[finding.activity] & set(answered), \
                    f"{finding.code} fires on {finding.activity} but its Art. 30 row prints no {answered}"


def test_every_gap_the_documents_can_print_has_a_rule() -> None:
    """A new gap key without a rule fails here: add the rule (GL0xx) and map it in GAP_RULES."""
    used = {match for source in DOCUMENTS.glob("*.py") for match in GAP_CALL.findall(source.read_text())}
    catalogue = {key.removeprefix("common.field.") if key.startswith("common.field.")
                 else "roles." + key.removeprefix("roles.field.")
                 for key in load_catalogue() if key.startswith(("common.field.", "roles.field."))}
    roles_used = set(re.findall(r"""gap\(words,\s*["']([a-z_]+)["']""",
                                (DOCUMENTS / "roles.py").read_text()))
    used = {("roles." + key) if key in roles_used else key for key in used}
    assert used, "no gap call found: the pattern is out of date"
    assert used <= catalogue, used - catalogue
    assert catalogue - set(GAP_RULES) == set(), "gap keys with no rule"
    assert set(GAP_RULES) <= catalogue, "rules mapped to a gap no document can print"
    codes = {code for codes in GAP_RULES.values() for code in codes}
    assert codes <= set(RULES), codes - set(RULES)
    assert set(WIDER_RULES) <= codes
