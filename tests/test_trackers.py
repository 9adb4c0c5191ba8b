"""The register's cookies and trackers: loading, the consent rule, lifetimes, documents, the banner's view."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from garde.documents import render_notice
from garde.documents.art30 import build_register
from garde.lint import lint
from garde.problems import InputError
from garde.register import banner_view, parse_register

SITE = {"id": "site", "name": "Web site", "purposes": ["Run the shop's site"], "data_subjects": ["visitor"],
        "data_categories": ["online.cookie_id"], "legal_bases": ["contract"],
        "retention": ["13 months after collection"]}
AUDIENCE = {**SITE, "id": "audience", "name": "Audience", "legal_bases": ["consent"],
            "consent": {"capture": ["cookie_banner"], "withdrawal": ["cookie_banner"]}}
SESSION = {"name": "sid", "provider": "first", "purpose": "Keep the visitor signed in", "activity": "site",
           "lifetime": "session", "strictly_necessary": True, "category": "cookie.necessary"}
GA = {"name": "_ga", "provider": {"party": "third", "name": "Google Ireland Ltd"},
      "purpose": {"en": "Count visits", "fr": "Compter les visites"}, "activity": "audience",
      "lifetime": "13 months", "strictly_necessary": False, "category": "cookie.analytics"}


def text(*trackers: dict[str, Any], country: str = "FR",
         activities: list[dict[str, Any]] | None = None) -> str:
    data = {"language": "en", "controller": {"name": "Shop", "country": country},
            "activities": copy.deepcopy(activities or [SITE, AUDIENCE]), "trackers": list(trackers)}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def codes(*trackers: dict[str, Any], **options: Any) -> list[tuple[str, str | None]]:
    loaded = parse_register(text(*trackers, **options), "site.yaml")
    return [(f.code, f.activity) for f in lint(loaded) if f.code in {"GL024", "GL075", "GL076", "GL077",
                                                                       "GL078"}]


def test_a_tracker_loads_with_its_provider_lifetime_and_category_and_round_trips() -> None:
    register = parse_register(text(SESSION, GA), "site.yaml").register
    sid, ga = register.trackers
    assert sid.provider is not None
    assert (sid.lifetime, sid.provider.party, sid.needs_consent) == ("session", "first", False)
    assert ga.lifetime_period is not None and str(ga.lifetime_period) == "13 months"
    assert ga.provider is not None and ga.provider.name == "Google Ireland Ltd" and ga.needs_consent
    again = parse_register(json.dumps(register.to_data()), "again.json").register
    assert again == register


def test_a_plain_provider_name_is_a_third_party() -> None:
    loaded = parse_register(text({**GA, "provider": "Meta Platforms Ireland"}), "s.yaml")
    tracker = loaded.register.trackers[0]
    assert tracker.provider is not None and (tracker.provider.party, tracker.provider.name) == (
        "third", "Meta Platforms Ireland")


@pytest.mark.parametrize(("change", "field"), [
    ({"lifetime": "forever"}, "trackers[1].lifetime"),
    ({"activity": "newsletter"}, "trackers[1].activity"),
    ({"category": "advertising"}, "trackers[1].category"),
    ({"category": "cookie.tracking"}, "trackers[1].category"),
    ({"lifespan": "1 year"}, "trackers[1].lifespan"),
])
def test_a_wrong_tracker_field_is_named_with_its_line(change: dict[str, Any], field: str) -> None:
    source = text(SESSION, {**GA, **change})
    with pytest.raises(InputError) as caught:
        parse_register(source, "site.yaml")
    [problem] = caught.value.problems
    assert problem.field == field and problem.line is not None
    key, value = next(iter(change.items()))
    assert source.splitlines()[problem.line - 1].strip() == f"{key}: {value}", problem


def test_a_tracker_listed_twice_is_refused() -> None:
    with pytest.raises(InputError, match="listed twice"):
        parse_register(text(GA, {**GA, "purpose": "Again"}), "site.yaml")


def test_trackers_without_consent_skips_the_exempt_ones() -> None:
    # Regression: the rule looked at the activity's categories only, so a site whose one cookie is a
    # strictly necessary session cookie was told to rest on consent.
    assert codes(SESSION) == []


def test_trackers_without_consent_reports_each_listed_tracker_that_needs_consent() -> None:
    on_contract = {**GA, "name": "_gcl", "activity": "site"}
    unattached = {**GA, "name": "_gid", "activity": None}
    assert [c for c in codes(SESSION, GA, on_contract, unattached) if c[0] == "GL024"] == [
        ("GL024", "site"), ("GL024", None)]


def test_a_tracker_not_stated_exempt_needs_consent() -> None:
    assert ("GL024", "site") in codes({**SESSION, "strictly_necessary": None})


def test_an_activity_with_tracker_categories_and_no_listed_tracker_is_still_reported() -> None:
    assert codes() == [("GL024", "site")]


@pytest.mark.parametrize(("tracker", "expected"), [
    ({**GA, "lifetime": "13 months"}, False),
    ({**GA, "lifetime": "395 days"}, False),  # not longer than 13 months whatever the start day
    ({**GA, "lifetime": "14 months"}, True),
    ({**GA, "lifetime": "2 years"}, True),
    ({**GA, "lifetime": "2 years", "strictly_necessary": True}, True),  # exempt audience: 13 months too
    ({**SESSION, "lifetime": "2 years"}, False),  # a strictly necessary cookie: no reference lifetime
])
def test_tracker_lifetime_is_compared_with_the_cnil_reference(
    tracker: dict[str, Any], expected: bool
) -> None:
    assert (("GL075", tracker["activity"]) in codes(tracker)) is expected


def test_tracker_lifetime_reference_is_the_french_controllers_only() -> None:
    # National rules apply by the controller's country: the CNIL's 13 months is not an Italian rule.
    assert not [c for c, _ in codes({**GA, "lifetime": "2 years"}, country="IT") if c == "GL075"]


def test_advertising_claimed_strictly_necessary_is_an_error_and_audience_is_to_check() -> None:
    advertising = {**GA, "category": "cookie.advertising", "strictly_necessary": True}
    audience = {**GA, "strictly_necessary": True}
    found = codes(advertising, {**audience, "name": "_pk_id"})
    assert ("GL076", "audience") in found and ("GL078", "audience") in found
    assert [c for c, _ in found].count("GL076") == 1 and [c for c, _ in found].count("GL078") == 1


def test_a_tracker_without_provider_or_lifetime_is_reported() -> None:
    source = text({**GA, "provider": {"party": "third"}, "lifetime": None})
    [finding] = [f for f in lint(parse_register(source, "site.yaml")) if f.code == "GL077"]
    assert "provider, lifetime" in finding.message and finding.line is not None
    assert source.splitlines()[finding.line - 1].strip() == "- name: _ga"


def register_with_trackers() -> Any:
    return parse_register(text(SESSION, GA, {**GA, "name": "_gid", "provider": None, "lifetime": None,
                                             "activity": None}), "site.yaml").register


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_notice_prints_the_tracker_table_from_the_register_fields(lang: str) -> None:
    html = render_notice(register_with_trackers(), lang, "html")
    table = html.split('<section id="trackers">')[1].split("</section>")[0]
    assert "<table>" in table and "sid" in table and "_ga" in table and "Google Ireland Ltd" in table
    assert table.count("<tr>") == 4  # header and three trackers
    assert "Compter les visites" in table if lang == "fr" else "Count visits" in table
    assert table.count('class="gap"') == 2  # _gid: its provider and its lifetime


def test_the_notice_has_no_tracker_section_when_the_register_lists_none() -> None:
    register = parse_register(text(), "site.yaml").register
    assert 'id="trackers"' not in render_notice(register, "en", "html")


def test_the_markdown_notice_has_the_tracker_table() -> None:
    markdown = render_notice(register_with_trackers(), "en", "md")
    assert "| Name | Provider | Purpose | Category | Lifetime | Consent needed |" in markdown
    assert "| sid | Us (first party) |" in markdown and "| No (strictly necessary) |" in markdown


def test_the_art30_register_lists_trackers_beside_their_activity_and_the_others_on_the_cover() -> None:
    document = build_register(register_with_trackers(), "en")
    [sheet] = document.sheets
    rows = dict(zip(sheet.activity_ids, sheet.rows, strict=True))
    assert "sid" in rows["site"]["trackers"].plain() and "_ga" in rows["audience"]["trackers"].plain()
    cover = dict(document.cover)
    assert "_gid" in cover["Trackers with no activity named"].plain()


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_a_tracker_naming_no_activity_is_a_gap_not_a_tracker_tied_to_none(lang: str) -> None:
    """The register not saying which activity a tracker serves is a gap to fill (Art. 30(1)(b)), not a
    statement that it serves none."""
    unattached = {**GA, "name": "_gid", "activity": None}
    register = parse_register(text(SESSION, GA, unattached), "site.yaml").register
    [(_, trackers)] = [(k, v) for k, v in build_register(register, lang).cover if "_gid" in v.plain()]
    [line] = trackers.lines
    assert "_gid" in line[0].text and any(piece.gap for piece in line)


def test_the_art30_register_has_no_tracker_column_without_trackers() -> None:
    [sheet] = build_register(parse_register(text(), "site.yaml").register, "en").sheets
    assert "trackers" not in {c.key for c in sheet.columns}


def test_the_banner_asks_per_category_for_the_trackers_that_need_consent() -> None:
    view = banner_view(register_with_trackers(), "fr")
    [asked] = view.needing_consent()
    assert (asked.id, asked.label) == ("cookie.analytics", "Cookies de mesure d'audience")
    assert [(t.name, t.provider, t.third_party, t.purpose, t.lifetime) for t in asked.trackers] == [
        ("_ga", "Google Ireland Ltd", True, "Compter les visites", "13 months"),
        ("_gid", None, None, "Compter les visites", None)]
    shown = [c for c in view.categories if not c.needs_consent]
    assert [(c.id, [t.name for t in c.trackers]) for c in shown] == [("cookie.necessary", ["sid"])]


def test_a_tracker_with_no_category_is_asked_about_on_its_own() -> None:
    view = banner_view(parse_register(text({**GA, "category": None}), "site.yaml").register)
    assert [(c.id, c.needs_consent) for c in view.needing_consent()] == [(None, True)]


@pytest.mark.parametrize(("country", "cited", "not_cited"), [
    ("FR", "CNIL délibération 2020-091", "Codice"), ("IT", "Codice privacy art. 122(1)", "CNIL"),
    ("GB", "PECR 2003, reg. 6(4)", "CNIL"), ("DE", "WP29 Opinion 04/2012", "CNIL"),
])
def test_a_tracker_exemption_cites_the_law_of_the_controllers_country(
    country: str, cited: str, not_cited: str
) -> None:
    loaded = parse_register(text({**GA, "category": "cookie.advertising", "strictly_necessary": True},
                                 country=country), "site.yaml")
    [finding] = [f for f in lint(loaded) if f.code == "GL076"]
    assert cited in finding.reference and not_cited not in finding.reference


def test_a_hostile_tracker_name_is_shown_as_text_in_every_format() -> None:
    hostile = {**GA, "name": "x | y <script>alert(1)</script>", "provider": "[click](javascript:alert(1))"}
    register = parse_register(text(hostile), "site.yaml").register
    html = render_notice(register, "en", "html")
    assert "<script>alert" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    markdown = render_notice(register, "en", "md")
    row = next(line for line in markdown.splitlines() if "script" in line)
    assert row.count(" | ") == 6 and "\\[click\\]" in row  # six cells: the name's pipe is escaped
