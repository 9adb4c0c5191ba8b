"""Transfers outside the EEA in three states, and safeguards that count only while valid.

A register states there is no transfer (``no_transfer: true``, on the register or
an activity), says nothing (a gap the documents show, never "no transfer"), or
lists transfers (country or region, recipient, safeguard). GDPR Art. 13(1)(f),
30(1)(e), 44-46; CJEU C-311/18 (Privacy Shield invalid from 16 July 2020);
Commission Implementing Decision 2023/1795 (EU-US DPF from 10 July 2023).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import export_register, render_notice
from garde.lint import lint
from garde.problems import InputError
from garde.register import parse_register
from garde.taxonomy import load_vocabulary

TODAY = date(2026, 12, 5)
BASE: dict[str, Any] = {
    "language": "en",
    "controller": {"name": "Shop", "country": "FR", "contact": {"email": "privacy@shop.example"}},
    "activities": [{"id": "orders", "name": "Orders", "purposes": ["Deliver orders"],
                    "data_subjects": ["customer"], "data_categories": ["contact.email"],
                    "legal_bases": ["contract"], "retention": ["5 years after relationship_end"]}],
}


def with_activity(register: dict[str, Any] | None = None, **fields: Any) -> str:
    data = json.loads(json.dumps(BASE))
    data.update(register or {})
    data["activities"][0].update(fields)
    return yaml.safe_dump(data, allow_unicode=True)


def notice_text(text: str, lang: str) -> str:
    return render_notice(parse_register(text, "shop.yaml").register, lang, "md", today=TODAY)


def register_csv(text: str, lang: str) -> str:
    return export_register(parse_register(text, "shop.yaml").register, "csv", lang, today=TODAY).decode()


NO_TRANSFER = {"fr": "Aucun transfert hors de l'EEE", "en": "No transfer outside the EEA",
               "it": "Nessun trasferimento al di fuori del SEE"}
NOTICE_NONE = {"fr": "aucune donnée n'est transférée", "en": "no data is transferred",
               "it": "nessun dato è trasferito"}
GAP = {"fr": "Non renseigné dans le registre : transferts hors de l'EEE",
       "en": "Not stated in the register: transfers outside the EEA",
       "it": "Non indicato nel registro: trasferimenti al di fuori del SEE"}


# -- loading and round trip --------------------------------------------------------------------------

def test_the_three_states_load_apart() -> None:
    gap = parse_register(with_activity(), "a.yaml").register
    none = parse_register(with_activity(no_transfer=True), "b.yaml").register
    register_wide = parse_register(with_activity({"no_transfer": True}), "c.yaml").register
    listed = parse_register(with_activity(transfers=[{"region": "worldwide", "safeguard": "scc"}]),
                            "d.yaml").register
    assert gap.transfer_state(gap.activities[0]) == "gap"
    assert none.transfer_state(none.activities[0]) == "none"
    assert register_wide.transfer_state(register_wide.activities[0]) == "none"
    assert listed.transfer_state(listed.activities[0]) == "listed"


def test_a_transfer_without_country_or_region_names_its_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_register(with_activity(transfers=[{"recipient": "Host", "safeguard": "scc"}]), "shop.yaml")
    problem = caught.value.problems[0]
    assert problem.file == "shop.yaml" and problem.line and "country" in problem.message
    assert "activities[0].transfers[0]" in problem.field


@pytest.mark.parametrize("fields", [
    {"no_transfer": True},
    {"transfers": [{"country": "US", "recipient": {"en": "Host Inc."}, "safeguard": "dpf"},
                   {"region": {"en": "worldwide", "fr": "monde entier"}, "safeguard": "scc"}]},
    {},
])
def test_register_show_json_round_trips_each_state(fields: dict[str, Any], tmp_path: Any) -> None:
    source = tmp_path / "shop.yaml"
    source.write_text(with_activity({"no_transfer": True} if not fields else None, **fields))
    shown = CliRunner().invoke(app, ["register", "show", str(source), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    again = tmp_path / "again.json"
    again.write_text(shown.stdout)
    first = parse_register(source.read_text(), "shop.yaml").register
    second = parse_register(again.read_text(), "again.json").register
    assert second == first
    assert first.transfer_state(first.activities[0]) == second.transfer_state(second.activities[0])


def test_dpf_and_privacy_shield_are_their_own_safeguards_not_adequacy() -> None:
    vocabulary = load_vocabulary()
    assert vocabulary.resolve("safeguards", "Data Privacy Framework").id == "dpf"  # type: ignore[union-attr]
    assert vocabulary.resolve("safeguards", "Privacy Shield").id == "privacy_shield"  # type: ignore[union-attr]
    assert vocabulary.resolve("safeguards", "IDTA").id == "uk_idta"  # type: ignore[union-attr]


# -- documents ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_a_register_without_any_transfer_field_shows_a_gap_not_no_transfer(lang: str) -> None:
    text = with_activity()
    notice, table = notice_text(text, lang), register_csv(text, lang)
    for document in (notice, table):
        assert GAP[lang] in document
        assert NO_TRANSFER[lang] not in document and NOTICE_NONE[lang] not in document


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_an_explicit_no_transfer_is_printed_as_the_registers_statement(lang: str) -> None:
    for text in (with_activity(no_transfer=True), with_activity({"no_transfer": True})):
        assert NOTICE_NONE[lang] in notice_text(text, lang)
        table = register_csv(text, lang)
        assert NO_TRANSFER[lang] in table and GAP[lang] not in table


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_listed_transfers_print_the_vocabulary_label_of_the_safeguard_and_nothing_else(lang: str) -> None:
    text = with_activity(transfers=[{"country": "US", "recipient": "Host Inc.", "safeguard": "dpf"},
                                    {"region": "worldwide"}])
    label = load_vocabulary().label("safeguards", "dpf", lang)
    notice = notice_text(text, lang)
    assert label in notice and "Host Inc." in notice and "worldwide" in notice
    assert "Non renseigné dans le registre : garantie du transfert" in notice_text(text, "fr")
    # nothing is invented: no other safeguard, no country the register does not name
    others = [t.label(lang) for t in load_vocabulary().terms("safeguards") if t.id != "dpf"]
    assert not any(other in notice for other in others)
    assert "Japan" not in notice_text(text, "en") and NO_TRANSFER[lang] not in notice


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_a_notice_mixes_states_per_activity(lang: str) -> None:
    data = json.loads(json.dumps(BASE))
    second = {**data["activities"][0], "id": "newsletter", "name": "Newsletter", "no_transfer": True}
    data["activities"].append(second)
    notice = notice_text(yaml.safe_dump(data), lang)
    assert GAP[lang] in notice and NO_TRANSFER[lang] in notice


# -- validity of safeguards --------------------------------------------------------------------------

def codes_on(day: date, safeguard: str, country: str = "US") -> set[str]:
    text = with_activity(transfers=[{"country": country, "recipient": "Host Inc.", "safeguard": safeguard}])
    return {f.code for f in lint(parse_register(text, "shop.yaml"), today=day)}


days = st.dates(min_value=date(2010, 1, 1), max_value=date(2040, 12, 31))


@given(days)
def test_privacy_shield_counts_only_until_schrems_ii(day: date) -> None:
    invalid = day >= date(2020, 7, 16) or day < date(2016, 7, 12)
    assert ("GL025" in codes_on(day, "privacy_shield")) is invalid


@given(days)
def test_dpf_counts_from_10_july_2023_and_then_asks_to_check_the_list(day: date) -> None:
    codes = codes_on(day, "dpf")
    valid = day >= date(2023, 7, 10)
    assert ("GL025" in codes) is not valid
    assert ("GL026" in codes) is valid


@pytest.mark.parametrize(("day", "invalid"), [
    (date(2020, 7, 15), False), (date(2020, 7, 16), True),
])
def test_schrems_ii_edge_day(day: date, invalid: bool) -> None:
    assert ("GL025" in codes_on(day, "privacy_shield")) is invalid
    assert ("GL025" in codes_on(day - timedelta(days=1), "privacy_shield")) is False


@given(days)
def test_uk_tools_count_from_21_march_2022(day: date) -> None:
    for safeguard in ("uk_idta", "uk_addendum"):
        assert ("GL025" in codes_on(day, safeguard, "IN")) is (day < date(2022, 3, 21))
    assert ("GL025" in codes_on(day, "uk_adequacy", "GB")) is (day < date(2021, 6, 28))


def test_a_country_decision_does_not_cover_another_country() -> None:
    assert "GL025" in codes_on(TODAY, "dpf", "IN")
    assert "GL025" in codes_on(TODAY, "uk_adequacy", "US")
    assert "GL025" not in codes_on(TODAY, "scc", "IN")


def test_every_dated_safeguard_has_a_coherent_validity() -> None:
    for term in load_vocabulary().terms("safeguards"):
        start, end = term.extra.get("valid_from"), term.extra.get("valid_until")
        assert start is None or isinstance(start, date), term.id
        assert end is None or isinstance(end, date), term.id
        assert not (start and end) or start <= end, term.id
        for country in term.extra.get("countries") or []:
            assert isinstance(country, str) and len(country) == 2 and country.isupper(), term.id
    privacy_shield = load_vocabulary().get("safeguards", "privacy_shield")
    assert privacy_shield is not None and not privacy_shield.valid_on(date(2020, 7, 16))
