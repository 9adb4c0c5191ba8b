"""The privacy notice as a reader and a publisher meet it (issue 11, "Privacy notices").

Draft banner and exit code, the layered reading (summary, contents, details), the version and
"last updated" date, untranslated passages, typography and accessibility. Run on the
repository's registers in fr, en and it.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import build_notice, notice_version, render_notice
from garde.documents.notice_layout import french_typography
from garde.publish import publish
from garde.register import load_register, parse_register
from garde.register.model import Register

REGISTERS = Path(__file__).parent.parent / "registers"
SHOP = REGISTERS / "reference-shop.yaml"
LANGS = ("fr", "en", "it")
runner = CliRunner()


def shop_data() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(SHOP.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def parsed(data: dict) -> Register:  # type: ignore[type-arg]
    return parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml").register


def register_files() -> list[Path]:
    return sorted(REGISTERS.glob("*.yaml"))


# -- 1. a notice with gaps is a draft -------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_notice_with_gaps_carries_a_visible_draft_banner(lang: str) -> None:
    register = load_register(SHOP)
    notice = build_notice(register, lang)
    assert notice.counts.gaps > 0
    page = render_notice(register, lang, "html")
    banner = re.search(r'<p class="draft" role="note">([^<]*)</p>', page)
    assert banner and str(notice.counts.gaps) in banner[1]
    assert page.index('class="draft"') < page.index("<h1>")  # before anything else
    assert f"**{notice.draft}**" in render_notice(register, lang, "md")


def test_a_notice_without_gaps_has_no_banner() -> None:
    notice = build_notice(load_register(SHOP), "en")
    assert notice.draft is not None
    # A notice whose lines hold no gap and no untranslated passage is not a draft.
    from garde.documents.notice_layout import Counts
    assert not Counts(0, 0).draft and Counts(0, 1).draft and Counts(1, 0).draft


@pytest.mark.parametrize("lang", LANGS)
def test_garde_notice_exits_1_with_the_counts_unless_allow_gaps(lang: str, tmp_path: Path) -> None:
    out = tmp_path / f"notice-{lang}.html"
    counts = build_notice(load_register(SHOP), lang).counts
    result = runner.invoke(app, ["notice", str(SHOP), "--lang", lang, "-o", str(out)])
    assert result.exit_code == 1
    assert f"gaps (fields the register does not state): {counts.gaps}" in result.output
    assert "--allow-gaps" in result.output and not out.exists()  # nothing half-published
    result = runner.invoke(app, ["notice", str(SHOP), "--lang", lang, "-o", str(out), "--allow-gaps"])
    assert result.exit_code == 0, result.output
    assert 'class="draft"' in out.read_text(encoding="utf-8")


def test_publish_says_in_the_index_which_notices_are_drafts(tmp_path: Path) -> None:
    publications = publish([SHOP], tmp_path)
    assert set(publications[0].drafts) == set(LANGS)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Draft notices" in index
    for lang, counts in publications[0].drafts.items():
        assert f"{lang}: draft — gaps: {counts.gaps}, untranslated: {counts.untranslated}" in index


# -- 2. layered reading, version, last updated -------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_summary_table_and_the_contents_come_before_the_details(lang: str) -> None:
    register = load_register(SHOP)
    page = render_notice(register, lang, "html")
    summary, contents, details = (page.index('<section id="summary">'), page.index('<nav class="contents"'),
                                  page.index('<section id="controller">'))
    assert summary < contents < details
    table = page[summary:contents]
    assert table.count("<tr>") == len(register.as_controller()) + 1  # one line per activity
    for section in build_notice(register, lang).sections:
        assert f'<a href="#{section.key}">' in page[contents:details]
    assert {"fr": "Durée de conservation", "en": "Retention", "it": "Conservazione"}[lang] in table


@pytest.mark.parametrize("lang", LANGS)
def test_the_version_is_a_hash_of_the_content_stable_across_builds(lang: str) -> None:
    register = load_register(SHOP)
    first = build_notice(register, lang, today=date(2026, 1, 1))
    later = build_notice(register, lang, today=date(2027, 6, 30))
    assert first.version == later.version == notice_version(register, lang)
    assert re.fullmatch(r"[0-9a-f]{16}", first.version)
    assert first.version in render_notice(register, lang, "html") and first.version in render_notice(
        register, lang, "md")
    data = shop_data()
    data["activities"][0]["purposes"][0] = {"fr": "Autre", "en": "Other", "it": "Altro"}
    assert notice_version(parsed(data), lang) != first.version  # the content changed
    others = {notice_version(register, other) for other in LANGS if other != lang}
    assert first.version not in others  # one version per language


@pytest.mark.parametrize("lang", LANGS)
def test_last_updated_is_the_registers_date_never_the_build_date(lang: str) -> None:
    data = shop_data()
    data.pop("updated", None)
    page = render_notice(parsed(data), lang, "md", today=date(2026, 3, 4))
    gap = {"fr": "date de dernière mise à jour", "en": "date of last update",
           "it": "data dell'ultimo aggiornamento"}[lang]
    assert gap in page
    data["updated"] = "2026-11-30"
    page = render_notice(parsed(data), lang, "md", today=date(2026, 3, 4))
    assert {"fr": "30 novembre 2026", "en": "November 30, 2026", "it": "30 novembre 2026"}[lang] in page
    assert gap not in page


def test_consent_give_records_the_current_notice_version(database_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from garde.settings import get_settings
    monkeypatch.setenv("GARDE_DATABASE_URL", database_url)
    monkeypatch.setenv("GARDE_REGISTERS", str(SHOP))
    get_settings.cache_clear()
    try:
        for lang in LANGS:
            email = f"ana-{lang}@example.com"
            result = runner.invoke(app, ["consent", "give", "newsletter", "--email", email,
                                         "--channel", "email", "--notice-lang", lang])
            assert result.exit_code == 0, result.output
            receipt_id = result.output.rsplit("receipt ", 1)[1].strip()
            receipt = runner.invoke(app, ["consent", "receipt", receipt_id])
            assert notice_version(load_register(SHOP), lang) in receipt.output
        result = runner.invoke(app, ["consent", "give", "newsletter", "--email", "bo@example.com",
                                     "--channel", "email", "--notice-version", "v-legal-2026"])
        assert result.exit_code == 0, result.output
        receipt = runner.invoke(app, ["consent", "receipt", result.output.rsplit("receipt ", 1)[1].strip()])
        assert json.loads(receipt.output)["events"][0]["evidence"]["notice_version"] == "v-legal-2026"
    finally:
        get_settings.cache_clear()


# -- 3. one language per notice ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_reference_shop_speaks_one_language_per_notice(lang: str) -> None:
    notice = build_notice(load_register(SHOP), lang)
    assert notice.counts.untranslated == 0
    page = render_notice(load_register(SHOP), lang, "html")
    assert "Create and manage customer accounts" not in page or lang == "en"


@pytest.mark.parametrize("lang", LANGS)
def test_a_text_missing_in_the_notice_language_is_marked_not_switched_silently(lang: str) -> None:
    data = shop_data()
    other = "it" if lang != "it" else "fr"
    data["activities"][0]["purposes"] = [{other: "SOLO-" + other}]
    page = render_notice(parsed(data), lang, "html")
    marker = {"fr": "[non traduit]", "en": "[not translated]", "it": "[non tradotto]"}[lang]
    assert f'<span lang="{other}">SOLO-{other}</span> {marker}' in page
    assert build_notice(parsed(data), lang).counts.untranslated >= 1


def test_lint_names_each_text_missing_in_a_published_language() -> None:
    from garde.lint import lint
    from garde.register import read_register
    data = shop_data()
    data["activities"][0]["purposes"][0] = {"fr": "Vendre", "en": "Sell"}  # no Italian
    assert [f for f in lint(read_register(SHOP)) if f.code == "GL090"] == []
    loaded = parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml")
    found = [f for f in lint(loaded) if f.code == "GL090"]
    assert len(found) == 1 and "activities.0.purposes.0" in found[0].message and " it," in found[0].message
    data["publishes_in"] = ["fr", "en"]  # Italian not published: nothing to say
    assert not [f for f in lint(parse_register(yaml.safe_dump(data, allow_unicode=True), "s.yaml"))
                if f.code == "GL090"]


@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_a_register_in_one_language_gets_no_translation_finding(path: Path) -> None:
    from garde.lint import lint
    from garde.register import read_register
    loaded = read_register(path)
    assert not [f for f in lint(loaded) if f.code == "GL090"]
    for lang in loaded.register.published_languages():
        assert build_notice(loaded.register, lang).counts.untranslated == 0 or path.stem != "reference-shop"


# -- 7. typography and accessibility ----------------------------------------------------------------------

def test_french_typography() -> None:
    assert french_typography("Droit d'accès : obtenir") == "Droit d’accès\u00a0: obtenir"
    assert french_typography("« sans limite »") == "«\u00a0sans limite\u00a0»"
    assert french_typography("a ; b ! c ?") == "a\u202f; b\u202f! c\u202f?"
    assert french_typography("https://example.fr/a?b=1 10:30") == "https://example.fr/a?b=1 10:30"


@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_french_pages_use_french_spacing_and_apostrophes(path: Path) -> None:
    page = render_notice(load_register(path), "fr", "html")
    body = re.sub(r'<span lang="(?!fr)[a-z]+"[^>]*>[^<]*</span>', "", page.split("<body>")[1])  # not French
    text = re.sub(r"<[^>]+>", "", body)
    assert not re.search(r"\w '\w|\w'\w", text.replace("&#39;", "'")), "straight apostrophe in French text"
    assert " :" not in text and "\u00a0:" in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_every_scrolling_table_is_reachable_by_keyboard_and_a_viewport_is_set(path: Path, lang: str) -> None:
    page = render_notice(load_register(path), lang, "html")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    scrolls = re.findall(r'<div class="table-scroll"[^>]*>', page)
    assert scrolls
    for div in scrolls:
        assert 'tabindex="0"' in div and 'role="region"' in div and re.search(r'aria-label="[^"]+"', div)


@pytest.mark.parametrize("lang", LANGS)
def test_the_controller_name_is_printed_once_in_its_section(lang: str) -> None:
    page = render_notice(load_register(SHOP), lang, "html")
    section = page[page.index('<section id="controller">'):page.index('<section id="dpo">')]
    assert section.count("Maison Exemple SAS") == 1
    header = page[page.index("<header>"):page.index("</header>")]
    assert header.count("Maison Exemple SAS") == 1  # the intro names it; the meta line does not repeat it


# -- 5, 6. links, France, privacy center ---------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_addresses_urls_and_the_complaint_page_are_links(lang: str) -> None:
    data = shop_data()
    data["controller"]["privacy_center_url"] = "https://maison-exemple.example/privacy"
    data["controller"]["cookie_settings_url"] = "https://maison-exemple.example/cookies"
    page = render_notice(parsed(data), lang, "html")
    assert '<a href="mailto:dpo@maison-exemple.example">' in page
    assert '<a href="https://maison-exemple.example/privacy">' in page
    assert '<a href="https://maison-exemple.example/cookies">' in page
    complaint = page[page.index('<section id="complaint">'):]
    assert '<a href="https://www.cnil.fr' in complaint


@pytest.mark.parametrize("lang", LANGS)
def test_instructions_after_death_only_for_a_french_controller(lang: str) -> None:
    words = {"fr": "Directives après le décès", "en": "Instructions after death",
             "it": "Disposizioni dopo il decesso"}[lang]
    data = shop_data()
    assert words in render_notice(parsed(data), lang, "md")
    data["controller"]["country"] = "IT"
    data["controller"]["supervisory_authority"] = "Garante"
    assert words not in render_notice(parsed(data), lang, "md")


# -- 4. nothing internal on the public page -----------------------------------------------------------------

INTERNAL = "INTERNAL-NOTE-7Q"


def with_internal_markers(data: dict) -> dict:  # type: ignore[type-arg]
    data = copy.deepcopy(data)
    data["notes"] = INTERNAL
    data["source"] = INTERNAL
    for activity in data["activities"]:
        activity["notes"] = INTERNAL
        activity["ref"] = INTERNAL
        activity["dpia"] = {"required": False, "reason": INTERNAL}
        activity["security_measures"] = [INTERNAL]
        rules = activity.get("retention") or ["1 year after collection"]
        activity["retention"] = [r if isinstance(r, dict) else {"rule": r} for r in rules]
        for rule in activity["retention"]:
            rule["reference"] = INTERNAL
        for basis in activity.get("legal_bases", []):
            if isinstance(basis, dict) and basis.get("law"):
                # The law's short form (a text, or a text per language) is its `text`.
                law = basis["law"]
                is_text = isinstance(law, str) or "text" not in law
                basis["law"] = {"text": law if is_text else law["text"], "reference": INTERNAL}
    return data


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_no_internal_field_reaches_any_notice(path: Path, fmt: str) -> None:
    data = with_internal_markers(yaml.safe_load(path.read_text(encoding="utf-8")))
    register = parse_register(yaml.safe_dump(data, allow_unicode=True), path.name).register
    for lang in LANGS:
        assert INTERNAL not in render_notice(register, lang, fmt)


@pytest.mark.parametrize("path", register_files(), ids=lambda p: p.stem)
def test_no_encoding_remark_in_any_published_notice(path: Path) -> None:
    for lang in LANGS:
        text = render_notice(load_register(path), lang, "md").lower()
        for remark in ("seed 00", "to verify", "à vérifier", "da verificare"):
            assert remark not in text, (path.name, lang, remark)


@pytest.mark.parametrize("lang", LANGS)
def test_an_activity_without_a_source_shows_a_gap_not_a_default(lang: str) -> None:
    data = shop_data()
    data["activities"][0].pop("sources", None)
    gap = {"fr": "provenance des données", "en": "where the data comes from (you or elsewhere)",
           "it": "provenienza dei dati"}[lang]
    page = render_notice(parsed(data), lang, "html")
    entry = page[page.index('<section id="purposes">'):]
    assert gap in entry[:entry.index("</dl>")]
    data["activities"][0]["sources"] = ["data_subject"]
    page = render_notice(parsed(data), lang, "html")
    entry = page[page.index('<section id="purposes">'):]
    assert gap not in entry[:entry.index("</dl>")]


@pytest.mark.parametrize("lang", LANGS)
def test_addresses_written_inside_a_text_are_links_and_hostile_ones_stay_text(lang: str) -> None:
    data = shop_data()
    data["activities"][0]["purposes"] = [{
        "fr": "Écrire à privacy@maison-exemple.example ; voir https://maison-exemple.example/p?x=1.",
        "en": "Write to privacy@maison-exemple.example; see https://maison-exemple.example/p?x=1.",
        "it": "Scrivere a privacy@maison-exemple.example; vedi https://maison-exemple.example/p?x=1.",
    }, {"fr": "javascript:alert(1) x", "en": "javascript:alert(1) x", "it": "javascript:alert(1) x"}]
    page = render_notice(parsed(data), lang, "html")
    assert '<a href="mailto:privacy@maison-exemple.example">privacy@maison-exemple.example</a>' in page
    assert '<a href="https://maison-exemple.example/p?x=1">https://maison-exemple.example/p?x=1</a>.' in page
    assert 'href="javascript' not in page and "javascript:alert(1) x" in page


def test_new_fields_round_trip_and_keep_the_version() -> None:
    register = load_register(SHOP)
    again = parsed(register.to_data())
    assert again.publishes_in == ["fr", "en", "it"] and again.updated == date(2026, 11, 30)
    assert again.controller.privacy_center_url == register.controller.privacy_center_url
    assert all(notice_version(again, lang) == notice_version(register, lang) for lang in LANGS)


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("publishes_in", ["fr", "de"], "publishes_in[1]: expected 'fr', 'en' or 'it'"),
    ("updated", "30/11/2026", "updated: Input should be a valid date"),
])
def test_bad_new_fields_are_errors_naming_file_line_and_field(field: str, value: object, expected: str,
                                                             tmp_path: Path) -> None:
    data = shop_data()
    data[field] = value
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["notice", str(path), "--allow-gaps"])
    assert result.exit_code == 2 and f"{path}:" in result.output and expected in result.output
    assert "Traceback" not in result.output
