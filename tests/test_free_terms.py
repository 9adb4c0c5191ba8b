"""Terms the vocabulary lacks, written in the register's own words (``{other: ...}``): they load,
round-trip, lint as information, and are published exactly as written, never under the label
of a neighbouring vocabulary term."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde.cli import app
from garde.documents import export_register, render_notice
from garde.documents.wording import Wording
from garde.lint import lint
from garde.problems import InputError
from garde.register import Register, parse_register
from garde.taxonomy import load_vocabulary
from garde.taxonomy.free import FreeTerm

TODAY = date(2025, 3, 14)
REGISTER = """
language: fr
controller: {name: Syndic Exemple, country: FR, contact: {email: contact@syndic.example},
             dpo: {email: dpo@syndic.example}}
activities:
  - id: copro
    name: Gestion de la copropriété
    purposes: [Tenir les comptes de la copropriété]
    data_subjects: [{other: "Copropriétaires"}, {other: "Clientèle"}, {other: "Custmers"}]
    data_categories: [identity.name, {other: {fr: "Tantièmes", it: "Millesimi"}}]
    legal_bases: [contract]
    recipients: [{other: "Conseil syndical"}, {kind: {other: "Gardien"}, name: "M. Dupont"}]
    sources: [{other: "Règlement de copropriété"}]
    retention: ["5 years after relationship_end"]
"""


def loaded() -> Register:
    return parse_register(REGISTER, "syndic.yaml").register


def test_free_terms_load_without_an_unknown_term_error() -> None:
    activity = loaded().activities[0]
    assert all(isinstance(s, FreeTerm) for s in activity.data_subjects)
    assert activity.data_categories[0] == "identity.name"
    assert isinstance(activity.data_categories[1], FreeTerm)
    assert isinstance(activity.recipients[1].kind, FreeTerm) and activity.recipients[1].name == "M. Dupont"


def test_a_plain_unknown_string_is_still_an_unknown_term() -> None:
    # A bare word that is no id is most likely a typo of one: it must not be published.
    with pytest.raises(InputError) as info:
        parse_register(REGISTER.replace('{other: "Custmers"}', "Custmers"), "syndic.yaml")
    assert "unknown data-subject kind 'Custmers'" in str(info.value.problems[0])


@pytest.mark.parametrize("bad", ['{other: ""}', "{other: [a, b]}", "{other: x, kind: y}", "{autre: x}"])
def test_a_malformed_free_term_names_the_field(bad: str) -> None:
    with pytest.raises(InputError) as info:
        parse_register(REGISTER.replace('{other: "Copropriétaires"}', bad), "syndic.yaml")
    problem = str(info.value.problems[0])
    assert problem.startswith("syndic.yaml:") and "data_subjects[0]" in problem


def test_free_terms_round_trip_through_the_normalised_form() -> None:
    data = loaded().to_data()
    activity = data["activities"][0]
    assert activity["data_subjects"][0] == {"other": "Copropriétaires"}
    assert activity["data_categories"][1] == {"other": {"fr": "Tantièmes", "it": "Millesimi"}}
    assert activity["recipients"][1] == {"kind": {"other": "Gardien"}, "name": "M. Dupont"}
    again = parse_register(json.dumps(data, ensure_ascii=False), "again.json").register
    assert again.to_data() == data
    assert copy.deepcopy(again).to_data() == data


def test_register_show_prints_free_terms_as_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "syndic.yaml"
    path.write_text(REGISTER, encoding="utf-8")
    result = CliRunner().invoke(app, ["register", "show", str(path), "--format", "yaml"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["activities"][0]["sources"] == [{"other": "Règlement de copropriété"}]


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_a_free_term_is_published_as_written_never_as_a_neighbour(lang: str) -> None:
    # "Clientèle" is a synonym of `customer` and "Custmers" a typo of its label: the register
    # chose its own words, so no document may say "Clients" / "Customers" / "Clienti".
    register = loaded()
    notice = render_notice(register, lang, "md", today=TODAY)
    table = export_register(register, "csv", lang, today=TODAY).decode("utf-8")
    customer = load_vocabulary().get("subjects", "customer")
    assert customer is not None
    for document in (notice, table):
        assert customer.label(lang) not in document
    rows = list(csv.reader(io.StringIO(table)))
    text = " ".join(" ".join(row) for row in rows)
    for words in ("Copropriétaires", "Clientèle", "Custmers", "Conseil syndical", "Gardien",
                  "Règlement de copropriété"):
        assert words in text
    assert ("Millesimi" if lang == "it" else "Tantièmes") in text + notice


def test_free_terms_are_linted_as_information_with_a_suggestion_only() -> None:
    register = parse_register(REGISTER, "syndic.yaml")
    findings = [f for f in lint(register) if f.code == "GL080"]
    assert {f.severity for f in findings} == {"info"}
    assert len(findings) == 7  # 3 subjects, 1 category, 2 recipients, 1 source
    clientele = next(f for f in findings if "Clientèle" in f.message)
    assert "`customer`" in clientele.message  # the vocabulary's term is suggested...
    assert not any(f.code == "GL016" for f in lint(register))  # ...and nothing is unknown


def test_a_free_term_never_takes_a_vocabulary_meaning() -> None:
    vocabulary = load_vocabulary()
    assert vocabulary.get("categories", FreeTerm("special.health")) is None
    assert not vocabulary.has("subjects", FreeTerm("customer"))
    co_owners = FreeTerm({"fr": "Copropriétaires", "en": "Co-owners"})
    assert vocabulary.label("subjects", co_owners, "en") == "Co-owners"
    assert vocabulary.label("subjects", FreeTerm({"fr": "Copropriétaires"}), "it") == "Copropriétaires"


def test_a_free_recipient_is_not_said_to_be_internal_external_or_a_processor() -> None:
    table = export_register(loaded(), "csv", "en", today=TODAY).decode("utf-8-sig")
    recipients = next(csv.DictReader(io.StringIO(table)))["Recipients"]
    assert "Other recipients: Conseil syndical" in recipients
    assert "External" not in recipients and "Internal" not in recipients and "Processors" not in recipients


def test_a_free_source_does_not_make_the_notice_say_the_data_comes_from_elsewhere() -> None:
    # "Règlement de copropriété" may or may not be the person: no Art. 14 statement is invented,
    # and the Art. 13(2)(e) question (is providing the data required?) is still asked.
    register = loaded()
    direct = load_vocabulary().direct_sources()
    assert register.effective(register.activities[0]).collects_from_subject(direct)
    notice = render_notice(register, "en", "md", today=TODAY)
    assert "not (only) collected from you" not in notice


_WORDS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != "")


@settings(max_examples=60, deadline=None)
@given(words=_WORDS, lang=st.sampled_from(["fr", "en", "it"]))
def test_any_wording_round_trips_and_is_printed_exactly(words: str, lang: str) -> None:
    # Whatever the words (a known id, a synonym, a label, a typo), they stay the register's own.
    data = yaml.safe_load(REGISTER)
    data["activities"][0]["data_subjects"] = [{"other": words}]
    register = parse_register(json.dumps(data, ensure_ascii=False), "syndic.json").register
    (subject,) = register.activities[0].data_subjects
    assert isinstance(subject, FreeTerm)
    assert register.to_data()["activities"][0]["data_subjects"] == [{"other": words}]
    assert Wording.for_register(register, lang).term("subjects", subject).text == words
