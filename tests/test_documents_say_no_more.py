"""Statements a review found the documents and lint made without the register or the law behind them.

Each test failed before its fix: a national age stated for a country garde's table does not
hold, a `mailto:` link that added recipients, sources collected from the person listed as
Art. 14, a provision without its requirement printed with no gap, country codes of transfers
and recipients compared as written, GL029 for a controller with no country, and the UK
documents citing the GDPR for the law behind a basis.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from garde.documents import render_notice
from garde.documents.links import mail_href, safe_href
from garde.lint import lint
from garde.register import parse_register
from garde.register.model import Register
from tests.test_lint import ACTIVITY, CONTROLLER, RIGHTS

GAP = "Not stated in the register"


def parsed(country: str | None = "FR", **activity: Any) -> Any:
    controller = {**copy.deepcopy(CONTROLLER), "country": country}
    if country is None:
        del controller["country"]
    data = {"controller": controller, "rights": RIGHTS,
            "activities": [{**copy.deepcopy(ACTIVITY), **activity}]}
    return parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml")


def loaded(country: str | None = "FR", **activity: Any) -> Register:
    register: Register = parsed(country, **activity).register
    return register


def test_a_country_whose_age_garde_does_not_hold_gets_a_gap_not_the_gdpr_default() -> None:
    minors = {"data_subjects": ["minor"], "legal_bases": ["consent"],
              "consent": {"capture": ["web_form"], "withdrawal": ["unsubscribe_link"]},
              "parental_consent": "A parent confirms by e-mail"}
    notice = render_notice(loaded("SE", **minors), "en", "md")
    assert "the age set by the law of the controller's country" in notice
    assert "the age set by the law" not in render_notice(loaded("FR", **minors), "en", "md")


def test_a_mailto_link_carries_an_address_alone() -> None:
    assert mail_href("privacy@shop.example") == "mailto:privacy@shop.example"
    assert mail_href("privacy@shop.example?bcc=someone@else.example") is None
    assert safe_href("mailto:privacy@shop.example#x") is None


def test_data_given_by_the_person_on_a_website_is_not_listed_as_collected_elsewhere() -> None:
    direct = render_notice(loaded(sources=["website"]), "en", "md")
    assert "not (only) collected from you" not in direct
    assert "not (only) collected from you" in render_notice(loaded(sources=["third_party"]), "en", "md")


def test_consequences_without_the_requirement_leave_the_requirement_a_gap() -> None:
    notice = render_notice(loaded(provision={"consequences": "No order without an address"}), "en", "md")
    line = next(line for line in notice.splitlines() if "No order without an address" in line)
    assert GAP in line


def test_countries_of_transfers_and_recipients_are_read_as_iso_codes() -> None:
    register = loaded(transfers=[{"country": "uk", "recipient": "Host", "safeguard": "uk_adequacy"}],
                      recipients=[{"kind": "service_providers", "country": "el"}])
    activity = register.activities[0]
    assert activity.transfers[0].country == "GB" and activity.recipients[0].country == "GR"


def test_gl029_needs_to_know_the_controllers_country() -> None:
    uk_tool = {"transfers": [{"country": "US", "recipient": "Host", "safeguard": "uk_idta"}]}
    assert "GL029" not in {f.code for f in lint(parsed(None, **uk_tool))}
    assert "GL029" in {f.code for f in lint(parsed("FR", **uk_tool))}


def test_a_uk_register_cites_the_uk_gdpr_for_the_law_behind_a_basis() -> None:
    obligation = {"legal_bases": [{"basis": "legal_obligation", "obligation": "Keep VAT records"}]}
    notice = render_notice(loaded("GB", **obligation), "en", "md")
    assert "the law this basis rests on (UK GDPR Art. 6(3))" in notice


def test_how_consent_is_given_is_printed_or_is_a_gap_in_both_documents() -> None:
    from garde.documents import export_register

    given = loaded(legal_bases=["consent"],
                   consent={"capture": ["double_opt_in"], "withdrawal": ["unsubscribe_link"]})
    silent = loaded(legal_bases=["consent"], consent={"withdrawal": ["unsubscribe_link"]})
    for document in (render_notice(given, "en", "md"), export_register(given, "md", "en").decode()):
        assert "Consent given through: Double opt-in" in document.replace("\\", "")
    for document in (render_notice(silent, "en", "md"), export_register(silent, "md", "en").decode()):
        assert "Consent given through: **⚠ Not stated in the register: how consent is given**" in document


def test_a_parents_authorisation_is_printed_where_the_basis_is_not_consent() -> None:
    minors = loaded(data_subjects=["minor"], parental_consent="A parent signs the form")
    notice = render_notice(minors, "en", "md")
    line = next(line for line in notice.splitlines() if line.startswith("- Orders: does not rest"))
    assert "does not rest on consent" in line and "A parent signs the form" in line


def test_the_data_description_and_channels_are_in_the_notice() -> None:
    notice = render_notice(loaded(data_description="Name and address as written on the form",
                                  channels=["email", "sms"]), "en", "md")
    assert "in the source's words: “Name and address as written on the form”" in notice
    assert "- **Channels**: E-mail, SMS" in notice


def test_categories_no_retention_rule_names_show_a_gap_not_silence() -> None:
    """Rules for some categories only: the others' period is not stated, and the documents say so."""
    partial = loaded(retention=[{"rule": "5 years after relationship_end", "categories": ["identity.name"]}])
    line = next(line for line in render_notice(partial, "en", "md").splitlines()
                if line.startswith("- Orders: Name:"))
    assert "E-mail address: **⚠ Not stated in the register: retention period**" in line
    whole = loaded(retention=[{"rule": "5 years after relationship_end",
                               "categories": ["identity", "contact"]}])
    assert GAP not in next(line for line in render_notice(whole, "en", "md").splitlines()
                           if line.startswith("- Orders: Identity"))


def test_the_notice_gives_the_art9_condition_of_special_category_data() -> None:
    """WP260 (transparency), annex: with special categories, the Art. 9(2) condition relied on."""
    health = loaded(data_categories=["special.health"], art9_condition="explicit_consent",
                    legal_bases=["consent"], consent={"capture": ["web_form"], "withdrawal": ["web_form"]})
    line = next(line for line in render_notice(health, "en", "md").splitlines()
                if line.startswith("- **Legal basis**"))
    assert "Art. 9(2) condition: Explicit consent" in line
    silent = loaded(data_categories=["special.health"])
    line = next(line for line in render_notice(silent, "en", "md").splitlines()
                if line.startswith("- **Legal basis**"))
    assert "Not stated in the register: Art. 9(2) condition" in line
    assert "Art. 9(2)" not in render_notice(loaded(), "en", "md")


def test_a_broad_category_beside_a_finer_one_of_its_group_is_still_listed() -> None:
    """`identity` with `contact.email` (same CNIL group, not a descendant) was dropped from the Art. 30
    register, which then said the activity processes only contact details."""
    from garde.documents import build_register

    categories = build_register(loaded(data_categories=["identity", "contact.email"]), "en").sheets[0]
    cell = categories.rows[0]["data_categories"].plain()
    assert cell.startswith("Identity and identification data: Identity, E-mail address"), cell
    alone = build_register(loaded(data_categories=["identity"]), "en").sheets[0].rows[0]["data_categories"]
    assert alone.plain() == "Identity and identification data"
