import json

import pytest

from garde.problems import InputError
from garde.register import Register, parse_register

GOOD = """
controller: {name: Shop, country: FR}
activities:
  - id: newsletter
    name: {fr: Newsletter, en: Newsletter}
    purposes: [Send the newsletter]
    data_subjects: [customer]
    data_categories: [contact.email]
    legal_bases: [consent]
    retention: [until consent_withdrawn]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_register(text, "shop.yaml")
    return [str(p) for p in info.value.problems]


def test_typo_in_a_category_names_file_line_field_and_the_closest_term() -> None:
    found = problems_of(GOOD.replace("contact.email", "contact.emial"))
    assert found == [
        "shop.yaml:8: activities[0].data_categories[0]: unknown data category 'contact.emial' "
        "(did you mean `contact.email`?)"
    ]


def test_unknown_field_suggests_the_right_one() -> None:
    found = problems_of(GOOD.replace("legal_bases:", "legal_base:"))
    assert found == ["shop.yaml:9: activities[0].legal_base: unknown field (did you mean `legal_bases`?)"]


def test_bad_retention_rule_says_what_is_expected() -> None:
    (found,) = problems_of(GOOD.replace("until consent_withdrawn", "13 montsh after collection"))
    assert found.startswith("shop.yaml:10: activities[0].retention[0].rule:")
    assert "'3 years after last_contact'" in found


def test_not_yaml_is_an_input_error_with_a_line() -> None:
    (found,) = problems_of("controller: {name: [\n")
    assert found.startswith("shop.yaml:")
    assert "not valid YAML" in found


def test_duplicate_activity_id() -> None:
    text = GOOD + GOOD.split("activities:\n")[1]
    assert any("used twice" in p for p in problems_of(text))


def test_normalised_json_loads_back_as_the_same_register() -> None:
    register = parse_register(GOOD, "shop.yaml").register
    again = parse_register(json.dumps(register.to_data()), "shop.json").register
    assert again == register
    assert isinstance(again, Register)


def test_a_mistyped_text_is_one_problem_not_one_per_union_member() -> None:
    # An unquoted comma in a flow mapping makes YAML keys of the pieces.
    found = problems_of(GOOD.replace("name: {fr: Newsletter, en: Newsletter}",
                                     "name: {en: Orders, deliveries and returns}"))
    assert found == ["shop.yaml:5: activities[0].name: expected a text or a {fr:, en:, it:} map"]
