"""National rules by the controller's country only: reference periods, the law a document
speaks of, the age of digital consent (GDPR Art. 8), and the controller's identity block."""

from __future__ import annotations

import copy
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import export_register, render_notice
from garde.documents.wording import load_authorities, load_catalogue
from garde.lint import RULES, Finding, lint, lint_paths, load_reference_periods
from garde.problems import InputError
from garde.register import jurisdiction, load_register, parse_register
from garde.register.jurisdiction import _table
from tests.test_lint import ACTIVITY, CONSENT, CONTROLLER

UK_SHOP = Path(__file__).parent / "data" / "jurisdictions" / "uk-online-shop.yaml"

def register(country: str | None = "FR", controller: dict[str, Any] | None = None,
             **activity: Any) -> dict[str, Any]:
    data = {**copy.deepcopy(CONTROLLER), "country": country, **(controller or {})}
    if country is None:
        del data["country"]
    return {"controller": data, "activities": [{**copy.deepcopy(ACTIVITY), **activity}]}


def findings_of(data: dict[str, Any]) -> list[Finding]:
    return lint(parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml"))


def period_ids(findings: list[Finding]) -> set[str]:
    """The reference periods GL007/GL008 compared against (the last parenthesis of the message)."""
    return {re.findall(r"\(([a-z0-9-]+)\)", f.message)[-1] for f in findings if f.code in {"GL007", "GL008"}}


# --------------------------------------------------------------------------- the data file


def test_every_country_of_the_table_is_complete_and_cites_its_source() -> None:
    authorities = {a.id for a in load_authorities()}
    for code in _table().countries:
        assert re.fullmatch(r"[A-Z]{2}", code)
        law = jurisdiction(code)
        assert 13 <= law.digital_consent_age <= 16, code  # GDPR Art. 8(1): no lower than 13
        assert law.age_reference.strip()
        assert law.authority is None or law.authority in authorities
        assert set(law.references) <= set(RULES), code


@pytest.mark.parametrize(("country", "age"), [
    ("FR", 15), ("IT", 14), ("DE", 16), ("GB", 13), ("UK", 13), ("ES", 14), ("BE", 13), ("NL", 16),
    ("IE", 16), ("PT", 16), (None, 16),
])
def test_age_of_digital_consent_by_country(country: str | None, age: int) -> None:
    assert jurisdiction(country).digital_consent_age == age


# --------------------------------------------------------------------------- reference periods


def test_italian_register_gets_garante_periods_and_not_cnil_ones() -> None:
    data = register("IT", data_subjects=["customer", "prospect"], profiling=True, direct_marketing=True,
                    dpia=False, legal_bases=["consent"], consent=CONSENT,
                    retention=["5 years after last_contact"])
    found = period_ids(findings_of(data))
    assert found and all(p.startswith("garante-") for p in found), found
    assert "GL040" not in {f.code for f in findings_of(data)}


def test_french_register_keeps_its_cnil_periods() -> None:
    data = register("FR", data_subjects=["prospect"], retention=["5 years after last_contact"])
    assert period_ids(findings_of(data)) == {"cnil-prospects"}


def test_register_without_country_gets_the_info_and_no_national_period() -> None:
    data = register(None, data_subjects=["prospect"], retention=["5 years after last_contact"])
    findings = findings_of(data)
    assert period_ids(findings) == set()
    (info,) = [f for f in findings if f.code == "GL040"]
    text = yaml.safe_dump(data)
    assert info.severity == "info" and info.line == text.splitlines().index("controller:") + 1
    assert "CNIL (FR)" in info.message and "Garante" in info.message and "(IT)" in info.message


def test_every_regulator_period_names_the_countries_it_applies_to() -> None:
    """A regulator's guidance binds the controllers it supervises: no national period is global."""
    for period in load_reference_periods().periods:
        assert period.applies_to.countries, period.id


# --------------------------------------------------------------------------- the UK


def test_uk_online_shop_loads_and_lints_without_finding() -> None:
    loaded = load_register(UK_SHOP)
    assert loaded.controller.country == "GB"
    assert lint_paths([UK_SHOP]) == []


def test_uk_notice_speaks_of_the_uk_gdpr_and_the_ico_never_the_eea_or_the_cnil() -> None:
    notice = render_notice(load_register(UK_SHOP), "en", "md")
    assert "UK GDPR Art. 13(1)(a)" in notice
    assert "Information Commissioner's Office (ICO)" in notice
    assert "Transfers outside the United Kingdom" in notice
    assert "No transfer outside the UK (stated by the register)" in notice
    for foreign in ("EEA", "European Economic Area", "CNIL", "Garante"):
        assert foreign not in notice, foreign
    assert not re.search(r"(?<!UK )GDPR", notice)
    assert "a child under 13" in notice and "Data Protection Act 2018, s. 9" in notice


def test_uk_register_export_says_outside_the_uk() -> None:
    table = export_register(load_register(UK_SHOP), "md", "en").decode()
    assert "Transfers outside the UK and safeguards" in table
    assert "(UK GDPR Art. 30(1))" in table
    assert "EEA" not in table and not re.search(r"(?<!UK )GDPR", table)


def test_uk_controller_lint_references_cite_the_uk_gdpr_and_pecr() -> None:
    data = register("GB", legal_bases=[], data_categories=["identity.name", "online.cookie_id"])
    found = {f.code: f for f in findings_of(data)}
    assert found["GL001"].reference == "UK GDPR Art. 6(1), 13(1)(c)"
    assert "PECR" in found["GL024"].reference and "CNIL" not in found["GL024"].reference
    french = {f.code: f for f in findings_of(register("FR", data_categories=["online.cookie_id"]))}
    assert "CNIL" in french["GL024"].reference


def test_uk_controller_recipient_at_home_is_no_transfer_and_the_eea_is_abroad() -> None:
    at_home = register("GB", recipients=[{"kind": "carriers", "country": "GB"}])
    assert "GL011" not in {f.code for f in findings_of(at_home)}
    in_france = register("GB", recipients=[{"kind": "carriers", "country": "FR"}])
    assert "GL011" in {f.code for f in findings_of(in_france)}
    # UK adequacy regulations cover the EEA: a declared transfer there needs no safeguard.
    declared = register("GB", transfers=[{"country": "FR", "recipient": "Warehouse"}])
    assert {"GL010", "GL025"}.isdisjoint({f.code for f in findings_of(declared)})
    named = register("GB", transfers=[{"country": "FR", "safeguard": "adequacy"}])
    assert "GL025" not in {f.code for f in findings_of(named)}


# --------------------------------------------------------------------------- children


def test_notice_states_the_age_of_the_controller_country_only_when_minors_are_concerned() -> None:
    minors = register("FR", data_subjects=["minor"], legal_bases=["consent"], consent=CONSENT,
                      parental_consent="Un parent confirme par e-mail")
    notice = render_notice(parse_register(yaml.safe_dump(minors), "m.yaml").register, "fr", "md")
    assert "moins de 15 ans" in notice and "art. 45" in notice
    assert "Un parent confirme par e-mail" in notice
    italian = render_notice(parse_register(yaml.safe_dump({**minors, "controller": {
        **minors["controller"], "country": "IT"}}), "m.yaml").register, "it", "md")
    assert "inferiore a 14 anni" in italian and "2-quinquies" in italian and "15" not in italian.split(
        "## Minori")[1].split("##")[0]
    nowhere = {**minors, "controller": {k: v for k, v in minors["controller"].items() if k != "country"}}
    unknown = render_notice(parse_register(yaml.safe_dump(nowhere), "m.yaml").register, "en", "md")
    assert "a child under 16" in unknown
    assert "Not stated in the register: the controller's country (the national age depends on it" in unknown
    adults = render_notice(parse_register(yaml.safe_dump(register("FR")), "a.yaml").register, "fr", "md")
    assert "Mineurs" not in adults and "15 ans" not in adults


def test_minor_consent_without_parental_consent_is_a_gap_and_a_warning_with_the_country_age() -> None:
    data = register("IT", data_subjects=["minor"], legal_bases=["consent"], consent=CONSENT)
    (finding,) = [f for f in findings_of(data) if f.code == "GL041"]
    assert "14" in finding.message and "2-quinquies" in finding.message
    notice = render_notice(parse_register(yaml.safe_dump(data), "m.yaml").register, "en", "md")
    assert "Not stated in the register: how a parent's consent is obtained and checked" in notice


def test_minor_is_a_vocabulary_subject_with_dpv_child() -> None:
    from garde.taxonomy import load_vocabulary

    term = load_vocabulary().get("subjects", "minor")
    assert term is not None and term.labels == {"fr": "Mineurs", "en": "Children (minors)", "it": "Minori"}
    assert term.dpv == "dpv:Child"


# --------------------------------------------------------------------------- controller identity


def test_identity_fields_round_trip_through_register_show_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["register", "show", str(UK_SHOP), "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["controller"]["registrations"][1] == {"kind": "ico_registration", "value": "ZA123456"}
    assert shown["controller"]["subjects_in"] == ["GB", "EU"]
    assert shown["activities"][2]["parental_consent"].startswith("The entry form")
    again = tmp_path / "again.yaml"
    again.write_text(result.output)
    assert load_register(again) == load_register(UK_SHOP)


def test_country_codes_are_normalised_and_a_country_name_is_a_clear_error() -> None:
    loaded = parse_register(yaml.safe_dump(register("uk", {"subjects_in": ["fr", "eu"]})), "s.yaml")
    assert loaded.register.controller.country == "GB"
    assert loaded.register.controller.subjects_in == ["FR", "EU"]
    with pytest.raises(InputError) as caught:
        parse_register(yaml.safe_dump(register("France")), "s.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.field) == ("s.yaml", "controller.country")
    assert problem.line is not None and "ISO 3166" in problem.message


def test_documents_print_identity_only_when_the_register_gives_it() -> None:
    bare = parse_register(yaml.safe_dump(register("FR")), "s.yaml").register
    for text in (render_notice(bare, "fr", "md"), export_register(bare, "md", "fr").decode()):
        assert "SIREN" not in text and "Numéros d'identification" not in text
        assert "Autres adresses" not in text
    full = parse_register(yaml.safe_dump(register("FR", {
        "registrations": [{"kind": "siren", "value": "552 100 554"}, {"kind": "eori", "value": "FR123"}],
        "other_contacts": [{"name": "Service client", "phone": "+33 1 00 00 00 00"}]})), "s.yaml").register
    notice = render_notice(full, "fr", "md")
    assert "SIREN : 552 100 554" in notice and "eori : FR123" in notice
    assert "Service client — +33 1 00 00 00 00" in notice
    cover = export_register(full, "md", "fr").decode()
    assert "Numéros d'identification" in cover and "552 100 554" in cover


def test_uk_wording_overrides_only_existing_keys() -> None:
    catalogue = load_catalogue()
    overrides = [key.removeprefix("uk_gdpr.") for key in catalogue if key.startswith("uk_gdpr.")]
    assert overrides and all(key in catalogue for key in overrides)


@pytest.mark.parametrize(("country", "english", "french"), [
    ("FR", "outside the EEA", "hors EEE"), ("GB", "outside the UK", "hors du Royaume-Uni"),
])
def test_transfer_findings_name_the_area_of_the_controller_law(country: str, english: str,
                                                                french: str) -> None:
    data = register(country, recipients=[{"kind": "carriers", "country": "US"}],
                    transfers=[{"country": "CH", "safeguard": "adequacy"}], no_transfer=True)
    loaded = parse_register(yaml.safe_dump(data), "s.yaml")
    for lang, words in (("en", english), ("fr", french)):
        found = {f.code: f.message for f in lint(loaded, lang=lang)}
        assert words in found["GL011"] and words in found["GL028"], found


def test_complaint_route_comes_from_the_law_of_the_country_when_the_register_names_none() -> None:
    uk = load_register(UK_SHOP)
    uk.controller.supervisory_authority = None
    assert "Information Commissioner's Office (ICO)" in render_notice(uk, "en", "md")
    assert "Information Commissioner's Office (ICO)" in export_register(uk, "md", "en").decode()
    nowhere = parse_register(yaml.safe_dump(register(None)), "s.yaml").register
    assert "Not stated in the register: competent supervisory authority" in render_notice(nowhere, "en", "md")


@given(st.text(alphabet=string.ascii_letters, min_size=2, max_size=2))
def test_any_two_letter_code_loads_normalised_with_a_law_and_an_age(code: str) -> None:
    loaded = parse_register(yaml.safe_dump(register(code)), "s.yaml").register
    country = loaded.controller.country
    assert country is not None and country == country.upper() and len(country) == 2
    again = parse_register(json.dumps(loaded.to_data()), "s.json").register
    assert again.controller.country == country  # normalised once, stable through the round trip
    law = jurisdiction(country)
    assert 13 <= law.digital_consent_age <= 16
    assert law.law == ("uk_gdpr" if country == "GB" else "gdpr")


def test_a_french_shop_selling_to_the_uk_prints_its_uk_representative() -> None:
    data = register("FR", {"subjects_in": ["FR", "GB"], "uk_representative": {
        "name": "Boutique UK Rep Ltd", "address": "1 High Street, York YO1 7HH"}})
    loaded = parse_register(yaml.safe_dump(data), "s.yaml")
    assert "GL044" not in {f.code for f in lint(loaded)}
    notice = render_notice(loaded.register, "en", "md")
    assert "Representative in the United Kingdom: Boutique UK Rep Ltd, 1 High Street, York YO1 7HH" in notice
    assert "Representative in the Union" not in notice
    table = export_register(loaded.register, "md", "fr").decode()
    assert "Représentant au Royaume-Uni" in table
