"""Employees' consent (GL081), national identification numbers (GL082), the DPO of Art. 37
(GL083-GL085) and legal minimum retention periods (GL086): their edges."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from garde.lint import Finding, lint, lint_paths
from garde.lint.minimum_periods import load_minimum_periods
from garde.problems import InputError
from garde.register import parse_register

CONTROLLER: dict[str, Any] = {"name": "Shop", "country": "FR", "contact": {"email": "privacy@shop.example"},
                              "dpo": {"email": "dpo@shop.example"}}
ACTIVITY: dict[str, Any] = {
    "id": "invoicing", "name": "Invoicing", "purposes": ["Issue invoices"],
    "data_subjects": ["customer"], "data_categories": ["identity.name", "transaction.invoice"],
    "legal_bases": ["legal_obligation"], "retention": ["10 years after invoice_date"],
}
REGISTERS = Path(__file__).parents[1] / "registers"


def findings(code: str, controller: dict[str, Any] | None = None, **activity: Any) -> list[Finding]:
    data = {"controller": {**CONTROLLER, **(controller or {})},
            "activities": [{**copy.deepcopy(ACTIVITY), **activity}]}
    loaded = parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml")
    return [f for f in lint(loaded) if f.code == code]


@pytest.mark.parametrize(("country", "retention", "expected"), [
    ("FR", ["5 years after invoice_date"], "Code de commerce, art. L123-22"),
    ("IT", ["5 years after invoice_date"], "Codice civile, art. 2220"),
    ("FR", ["until transaction_end"], "Code de commerce, art. L123-22"),  # nothing kept after the sale
    ("FR", ["119 months after invoice_date"], "Code de commerce, art. L123-22"),
    ("FR", ["10 years after invoice_date"], None),
    ("FR", ["11 years after invoice_date"], None),
    ("DE", ["5 years after invoice_date"], None),  # no German minimum in the data file
    ("GB", ["5 years after invoice_date"], None),
    (None, ["5 years after invoice_date"], None),  # no country: no national law (GL040 says so)
])
def test_legal_minimum_applies_by_the_controllers_country(country: str | None, retention: list[str],
                                                          expected: str | None) -> None:
    found = findings("GL086", {"country": country}, retention=retention)
    if expected is None:
        assert found == []
    else:
        (finding,) = found
        assert expected in finding.message and expected in finding.reference
        assert finding.severity == "warning" and finding.url and finding.url.startswith("https://")


def test_legal_minimum_compares_only_the_rules_covering_the_records() -> None:
    rules = [{"rule": "10 years after invoice_date", "categories": ["transaction.invoice"]},
             {"rule": "3 years after last_contact", "categories": ["identity.name"]}]
    assert findings("GL086", retention=rules) == []
    # A rule with no categories covers every category of the activity, invoices included.
    (finding,) = findings("GL086", retention=["10 years after invoice_date", "3 years after last_contact"])
    assert "3 years after last_contact" in finding.message


def test_legal_minimum_ignores_coarser_categories_and_indefinite_rules() -> None:
    assert findings("GL086", data_categories=["transaction"], retention=["1 year after collection"]) == []
    assert findings("GL086", retention=["indefinitely"]) == []


def test_the_minimum_periods_file_cites_its_laws() -> None:
    minimums = load_minimum_periods().minimums
    assert {(m.id, str(m.minimum)) for m in minimums} >= {("fr-accounting-records", "10 years"),
                                                         ("it-accounting-records", "10 years")}
    for minimum in minimums:
        assert minimum.law.strip() and minimum.countries and minimum.categories
        assert minimum.url is not None and minimum.url.startswith("https://")


def test_the_reference_shop_keeps_its_invoices_for_the_legal_minimum() -> None:
    found = [f for f in lint_paths([REGISTERS / "reference-shop.yaml"]) if f.code == "GL086"]
    assert found == []


@pytest.mark.parametrize("subjects", [["employee"], ["candidate"], ["customer", "employee"]])
def test_consent_for_employees_and_job_applicants_is_a_warning(subjects: list[str]) -> None:
    consent = {"capture": ["web_form"], "withdrawal": ["unsubscribe_link"]}
    (finding,) = findings("GL081", data_subjects=subjects, legal_bases=["consent"], consent=consent)
    assert "05/2020" in finding.reference and "88" in finding.reference


def test_consent_of_customers_is_not_an_employment_matter() -> None:
    consent = {"capture": ["web_form"], "withdrawal": ["unsubscribe_link"]}
    assert findings("GL081", legal_bases=["consent"], consent=consent) == []


def test_a_national_identification_number_warns_that_national_rules_apply() -> None:
    (finding,) = findings("GL082", data_categories=["identity.national_id"])
    assert "décret n° 2019-341" in finding.reference  # France: the décret-cadre NIR
    (italian,) = findings("GL082", {"country": "IT"}, data_categories=["identity.national_id"])
    assert italian.reference.startswith("GDPR Art. 87")
    assert findings("GL082", {"country": "GB"}, data_categories=["identity.national_id"]) == []
    assert findings("GL082", data_categories=["identity.id_document"]) == []


def test_a_public_body_without_a_dpo_is_an_error_and_with_one_is_quiet() -> None:
    (finding,) = findings("GL083", {"public_body": True, "dpo": None})
    assert finding.severity == "error" and "37(1)(a)" in finding.reference
    assert findings("GL083", {"public_body": False, "dpo": None}) == []


def test_a_public_body_is_said_with_true_or_false() -> None:
    with pytest.raises(InputError) as info:
        parse_register("controller: {name: Mairie, public_body: perhaps}\nactivities: []\n", "mairie.yaml")
    assert str(info.value.problems[0]) == "mairie.yaml:1: controller.public_body: expected true or false"


def test_large_scale_monitoring_or_special_data_without_a_dpo() -> None:
    assert [f.message for f in findings("GL084", {"dpo": None}, large_scale_monitoring=True,
                                        dpia={"required": True, "done": True})]
    special = {"data_categories": ["criminal"], "art9_condition": "legal_claims"}
    assert findings("GL084", {"dpo": None}, large_scale=True, **special)
    assert findings("GL084", {"dpo": None}, **special) == []  # not said to be large-scale
    assert findings("GL084", {"dpo": None}, large_scale=True) == []  # large-scale, not special
    assert findings("GL084", large_scale=True, **special) == []  # a DPO is designated


def test_the_german_dpo_rule_is_noted_for_german_controllers_only() -> None:
    (finding,) = findings("GL085", {"country": "DE", "dpo": None})
    assert finding.severity == "info" and "§ 38" in finding.reference
    assert findings("GL085", {"country": "FR", "dpo": None}) == []


def test_legal_minimum_counts_the_intermediate_archive_until_its_end() -> None:
    """Records archived after 3 years and kept in the archive until 10 years after the invoice meet the
    10-year obligation; an archive that ends earlier, or states no end, does not."""
    archived = {"rule": "3 years after invoice_date", "action": "archive",
                "archive": {"until": "10 years after invoice_date", "access": "Accounting staff"}}
    assert findings("GL086", retention=[archived]) == []
    (short,) = findings("GL086", retention=[{**archived, "archive": {"until": "6 years after invoice_date"}}])
    assert "3 years after invoice_date" in short.message
