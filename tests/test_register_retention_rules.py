"""Retention rules as real registers state them: loaded, round-tripped and published as stated.

A range prints as a range, a criterion (GDPR Art. 13(2)(a): "the criteria
used to determine that period") and a condition in the register's words,
"latest of" as such; "first reached" only when the register states it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from garde.cli import app
from garde.consent.state import ConsentState
from garde.decide.model import ActivityRules
from garde.decide.rules import SubjectFacts, past_retention
from garde.documents import export_register, render_notice
from garde.problems import InputError
from garde.register import parse_register

TODAY = date(2026, 1, 1)
CRITERION = {"fr": "tant que le compte est actif, puis la durée de prescription des actions",
             "en": "as long as the account is active, then the limitation period of claims"}
RULES: list[Any] = [
    {"rule": "entre 3 et 5 ans après la fin du contrat", "categories": ["contact.email"]},
    {"criterion": CRITERION, "categories": ["identity.name"]},
    {"rule": "10 years after invoice_date where the customer is a business",
     "categories": ["transaction.invoice"], "action": "review"},
]


def register(rules: list[Any] = RULES, **activity: Any) -> dict[str, Any]:
    return {"language": "fr",
            "controller": {"name": "Boutique", "country": "FR", "contact": {"email": "dpo@boutique.example"}},
            "activities": [{"id": "customers", "name": "Clients", "purposes": ["Gérer les clients"],
                            "data_subjects": ["customer"],
                            "data_categories": ["contact.email", "identity.name", "transaction.invoice"],
                            "legal_bases": ["contract"], "retention": rules, **activity}]}


def text_of(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


def test_each_form_loads_into_its_normalised_fields() -> None:
    (activity,) = parse_register(text_of(register()), "shop.yaml").register.activities
    shown = activity.model_dump(mode="json", exclude_defaults=True)["retention"]
    assert shown == [
        {"rule": "between 3 and 5 years after contract_end", "categories": ["contact.email"],
         "wording": "entre 3 et 5 ans après la fin du contrat"},
        {"criterion": CRITERION, "categories": ["identity.name"]},
        {"rule": "10 years after invoice_date", "condition": "the customer is a business", "action": "review",
         "categories": ["transaction.invoice"]},
    ]
    assert activity.retention_combination == "first_reached"


def test_register_show_json_round_trips_the_new_fields(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(text_of(register(retention_combination="latest_of")))
    shown = CliRunner().invoke(app, ["register", "show", str(path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["activities"][0]["retention_combination"] == "latest_of"
    again = parse_register(shown.stdout, "again.json").register
    assert again == parse_register(path.read_text(), "shop.yaml").register


@pytest.mark.parametrize(("rules", "activity", "field", "words"), [
    ([{"action": "delete"}], {}, "retention", "criterion"),
    (["between 5 and 3 years after contract_end"], {}, "retention", "shorter period to the longer"),
    (["3 years after last_contact"], {"retention_combination": "earliest"}, "retention_combination",
     "first_reached"),
    ([{"rule": "3 years after last_contact if asked", "condition": "other"}], {}, "retention", "keep one"),
])
def test_a_bad_rule_is_a_clear_error_naming_the_field(rules: list[Any], activity: dict[str, Any], field: str,
                                                      words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_register(text_of(register(rules, **activity)), "shop.yaml")
    message = str(caught.value)
    assert "shop.yaml" in message and field in message and words in message


@pytest.mark.parametrize(("lang", "statements"), [
    ("fr", ["entre 3 ans et 5 ans après la fin du contrat, puis suppression",
            "Critère de durée indiqué par le registre : « tant que le compte est actif",
            "10 ans après la date de la facture ; lorsque : « the customer is a business », puis réexamen"]),
    ("en", ["between 3 years and 5 years after the end of the contract, then deleted",
            "Criterion for the period, as the register states it: “as long as the account is active",
            "10 years after the invoice date; where: “the customer is a business”, then reviewed"]),
    ("it", ["tra 3 anni e 5 anni dalla fine del contratto, poi cancellazione",
            "Criterio per la durata, come indicato dal registro: “as long as the account is active",
            "10 anni dalla data della fattura; quando: “the customer is a business”, poi riesame"]),
])
def test_documents_print_only_what_the_register_says(lang: str, statements: list[str]) -> None:
    loaded = parse_register(text_of(register()), "shop.yaml").register
    # The register is French: its texts in an English or Italian notice carry the untranslated
    # marker (one language per notice); the statements are checked without it.
    notice = re.sub(r" \\\[(?:not translated|non tradotto|non traduit)\\\]", "",
                    render_notice(loaded, lang, "md", today=TODAY))
    table = export_register(loaded, "csv", lang, today=TODAY).decode()
    for document in (notice, table):
        for statement in statements:
            assert statement in document
        # the register does not say how the rules combine: neither is printed
        assert not any(s in document for s in ("first applies", "last applies", "première de ces",
                                                "dernière de ces", "primo di questi", "ultimo di questi"))


@pytest.mark.parametrize(("combination", "lang", "sentence"), [
    ("latest_of", "en", "Whichever of these periods ends last applies."),
    ("latest_of", "fr", "La dernière de ces durées atteinte s'applique."),
    ("first_reached", "it", "Si applica il primo di questi periodi che scade."),
])
def test_the_combination_is_printed_where_the_register_states_it(combination: str, lang: str,
                                                                 sentence: str) -> None:
    loaded = parse_register(text_of(register(retention_combination=combination)), "shop.yaml").register
    assert sentence in render_notice(loaded, lang, "md", today=TODAY)


def test_decide_never_finds_data_past_a_rule_in_words() -> None:
    rules = [{"criterion": "as long as the account is active", "categories": ["identity.name"]},
             {"rule": "3 years after last_contact where the customer asked for it",
              "categories": ["contact.email"]},
             {"rule": "1 day after collection", "categories": ["transaction.invoice"]}]
    loaded = parse_register(text_of(register(rules)), "shop.yaml").register
    activity = ActivityRules.from_activity(loaded.activities[0])
    created = datetime(2000, 1, 1, tzinfo=UTC)
    facts = SubjectFacts("s1", "active", created_at=created, last_contact_at=created)
    consent = ConsentState("customers", None, "none")  # type: ignore[arg-type]
    now = datetime(2099, 1, 1, tzinfo=UTC)
    assert past_retention(activity, ["identity.name", "contact.email", "transaction.invoice"], facts, consent,
                          now) == ["transaction.invoice"]


@pytest.mark.parametrize(("combination", "past"), [(None, ["contact.email"]), ("latest_of", [])])
def test_decide_follows_how_the_rules_combine(combination: str | None, past: list[str]) -> None:
    """First reached: past once one rule is due, as the sweep deletes it; latest of: once all are."""
    rules = ["until consent_withdrawn", "3 years after last_contact"]
    extra = {"retention_combination": combination} if combination else {}
    loaded = parse_register(text_of(register(rules, **extra)), "shop.yaml").register
    activity = ActivityRules.from_activity(loaded.activities[0])
    contacted = datetime(2020, 1, 1, tzinfo=UTC)
    facts = SubjectFacts("s1", "active", created_at=contacted, last_contact_at=contacted)
    consent = ConsentState("customers", None, "given", since=contacted)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert past_retention(activity, ["contact.email"], facts, consent, now) == past
