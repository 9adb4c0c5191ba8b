"""The controller's identity: registration numbers checked where a check digit exists, the
representative, other contacts, the DPO and the rights contact as separate fields, in the
notice's identity section and the Art. 30 register's cover."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from garde.documents import render_notice
from garde.documents.art30 import build_register
from garde.lint import lint
from garde.problems import InputError
from garde.register import parse_register
from garde.register.identifiers import registration_problem

CONTROLLER: dict[str, Any] = {
    "name": "Maison Exemple SAS", "country": "FR",
    "contact": {"address": "1 rue de l'Exemple, 75001 Paris", "email": "contact@maison.example"},
    "other_contacts": [{"name": "Service client", "phone": "+33 1 23 45 67 89"},
                       {"name": "Entrepôt", "address": "ZI Nord, 59000 Lille"}],
    "registrations": [{"kind": "siren", "value": "123 456 782"}, {"kind": "vat", "value": "FR11123456782"},
                      {"kind": "ico_registration", "value": "ZA123456"}],
    "dpo": {"name": "DPO", "email": "dpo@maison.example"},
    "representative": {"name": "Rep SARL", "email": "rep@example.fr"},
}
RIGHTS = {"route": {"email": "droits@maison.example", "url": "https://maison.example/droits"}}


def source(controller: dict[str, Any], rights: dict[str, Any] | None = RIGHTS) -> str:
    return yaml.safe_dump({"language": "fr", "controller": controller, "rights": rights,
                           "activities": []}, allow_unicode=True, sort_keys=False)


def luhn_digit(prefix: str, kind: str = "siren") -> str:
    return next(str(d) for d in range(10) if registration_problem(kind, f"{prefix}{d}") is None)


@given(st.text("0123456789", min_size=8, max_size=8), st.integers(0, 8), st.integers(1, 9))
def test_a_siren_with_its_luhn_digit_passes_and_any_one_changed_digit_fails(
    prefix: str, position: int, shift: int
) -> None:
    siren = prefix + luhn_digit(prefix)
    assert registration_problem("siren", siren) is None
    changed = siren[:position] + str((int(siren[position]) + shift) % 10) + siren[position + 1:]
    assert registration_problem("siren", changed) is not None


@pytest.mark.parametrize(("kind", "value", "valid"), [
    ("siren", "123 456 782", True),
    ("siren", "123.456.789", False),
    ("siren", "12345678", False),
    ("siret", "123 456 782 00007", False),
    ("siret", "35600000012342", False),
    ("siret", "356 000 000 00048", True),  # La Poste: Luhn
    ("siret", "35600000012341", True),  # La Poste: digit sum a multiple of 5 (INSEE's exception)
    ("vat", "FR 11 123456782", True),
    ("vat", "FR12123456782", False),  # the key does not match the SIREN
    ("vat", "FRXA123456782", True),  # an alphanumeric key: kept as written
    ("vat", "IT00743110157", True),
    ("vat", "IT00743110158", False),
    ("vat", "DE123456789", True),  # other countries: kept as written
    ("partita_iva", "00743110157", True),
    ("partita_iva", "0074311015", False),
    ("partita_iva", "IT00743110157", True),  # as a VAT number: the country prefix, optional
    ("partita_iva", "IT 007 431 101 57", True),
    ("partita_iva", "it00743110157", True),
    ("partita_iva", "IT00743110158", False),
    ("partita_iva", "FR00743110157", False),  # another country's prefix is no partita IVA
    ("codice_fiscale", "RSSMRA80A01H501U", True),
    ("codice_fiscale", "rssmra80a01h501u", True),
    ("codice_fiscale", "RSSMRA80A01H501V", False),
    ("codice_fiscale", "00743110157", True),  # a company's: its partita IVA
    ("ico_registration", "anything", True),
    ("company_number", "01234567", True),
])
def test_registration_numbers_are_checked_where_a_check_digit_exists(
    kind: str, value: str, valid: bool
) -> None:
    assert (registration_problem(kind, value) is None) is valid


@given(st.text("0123456789", min_size=10, max_size=10), st.sampled_from(["", "IT", "IT ", "it"]),
       st.integers(0, 10), st.integers(1, 9))
def test_a_partita_iva_passes_with_or_without_its_it_prefix_and_fails_with_any_digit_changed(
    prefix: str, country: str, position: int, shift: int
) -> None:
    """Real registers write the partita IVA as the VAT number, ``IT`` first: both forms are checked."""
    number = prefix + luhn_digit(prefix, "partita_iva")
    assert registration_problem("partita_iva", country + number) is None
    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    assert registration_problem("partita_iva", country + changed) is not None


def test_a_wrong_check_digit_is_a_load_error_naming_the_file_line_and_field() -> None:
    controller = {**CONTROLLER, "registrations": [{"kind": "siret", "value": "123 456 782 00008"}]}
    text = source(controller)
    with pytest.raises(InputError) as caught:
        parse_register(text, "maison.yaml")
    [problem] = caught.value.problems
    assert problem.file == "maison.yaml" and problem.field == "controller.registrations[0]"
    assert "check digit" in problem.message and "123 456 782 00008" in problem.message
    assert problem.line is not None and "siret" in text.splitlines()[problem.line - 1]


def test_registration_numbers_round_trip_as_written() -> None:
    register = parse_register(source(CONTROLLER), "maison.yaml").register
    again = parse_register(json.dumps(register.to_data()), "again.json").register
    assert again == register and again.controller.registrations[0].value == "123 456 782"


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_notice_identity_section_publishes_every_identity_field(lang: str) -> None:
    html = render_notice(parse_register(source(CONTROLLER), "maison.yaml").register, lang, "html")
    identity = html.split('<section id="controller">')[1].split("</section>")[0]
    for value in ("123 456 782", "FR11123456782", "ZA123456", "Service client", "ZI Nord, 59000 Lille",
                  "Rep SARL"):
        assert value in identity, value
    dpo = html.split('<section id="dpo">')[1].split("</section>")[0]
    assert "dpo@maison.example" in dpo and "droits@maison.example" not in dpo
    rights = html.split('<section id="rights">')[1].split("</section>")[0]
    assert "droits@maison.example" in rights and "dpo@maison.example" not in rights


def test_the_art30_cover_has_the_rights_contact_apart_from_the_dpo() -> None:
    cover = dict(build_register(parse_register(source(CONTROLLER), "maison.yaml").register, "en").cover)
    assert "droits@maison.example" in cover["Where to exercise rights"].plain()
    assert "dpo@maison.example" in cover["Data protection officer"].plain()
    assert "123 456 782" in cover["Registration numbers"].plain()
    assert "Rep SARL" in cover["Representative in the Union"].plain()
    without = dict(build_register(parse_register(source(CONTROLLER, None), "m.yaml").register, "en").cover)
    assert "Where to exercise rights" not in without


def codes(controller: dict[str, Any]) -> set[str]:
    return {f.code for f in lint(parse_register(source(controller), "maison.yaml"))}


def test_a_dpo_named_without_a_contact_is_a_warning_and_no_dpo_an_info() -> None:
    assert "GL079" in codes({**CONTROLLER, "dpo": {"name": "Jeanne Martin"}})
    assert "GL019" not in codes({**CONTROLLER, "dpo": {"name": "Jeanne Martin"}})
    assert {"GL019", "GL079"} & codes({**CONTROLLER, "dpo": None}) == {"GL019"}
    assert not {"GL019", "GL079"} & codes({**CONTROLLER, "dpo": {"url": "https://maison.example/dpo"}})


@pytest.mark.parametrize("field", ["representative", "uk_representative"])
def test_a_representative_named_without_a_contact_is_a_warning(field: str) -> None:
    loaded = parse_register(source({**CONTROLLER, field: {"name": "Rep Ltd"}}), "maison.yaml")
    [finding] = [f for f in lint(loaded) if f.code == "GL079"]
    assert f"controller.{field}" in finding.message and finding.line is not None
