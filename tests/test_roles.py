"""Roles: joint controllers (Art. 26) and processor activities (Art. 28, 30(2)) are held, linted
with their own rules (never the controller's), and published where each belongs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from garde.documents import export_register, render_notice
from garde.lint import lint
from garde.problems import InputError
from garde.register import Register, parse_register, read_register

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2025, 3, 14)

SAAS = """\
language: en
controller:
  name: Atelier SaaS
  country: FR
  contact: {email: privacy@atelier.example}
  dpo: {email: dpo@atelier.example}
activities:
  - id: accounts
    name: Customer accounts
    purposes: [Manage our customers' subscriptions]
    data_subjects: [customer]
    data_categories: [identity.name, contact.email]
    legal_bases: [contract]
    retention: ["5 years after relationship_end"]
  - id: loyalty
    name: Shared loyalty programme
    role: joint controller
    purposes: [Run the loyalty card with Partner SA]
    data_subjects: [customer]
    data_categories: [identity.name]
    legal_bases: [contract]
    joint_controllers:
      - Partner SA
    arrangement:
      essence: Atelier answers every request; Partner SA keeps the points ledger
      available_at: https://atelier.example/joint
      contact_point: Atelier SaaS
  - id: hosting
    name: Hosting of the clients' shops
    role: processor
    purposes: [Host the clients' online shops]
    on_behalf_of:
      - Client A
      - name: Client B
        contact: {email: privacy@clientb.example}
        dpo: {email: dpo@clientb.example}
        processing: [Nightly backups]
        contract: {reference: DPA v3, date: 2024-01-15}
        sub_processor_authorisation: general
    sub_processors:
      - Mailer SAS
      - {name: Host Inc., country: us, processing: Servers, authorisation: specific}
    transfers: [{country: US, recipient: Host Inc., safeguard: scc}]
    security_measures: [Encryption at rest]
"""


@pytest.fixture(scope="module")
def saas() -> Register:
    return parse_register(SAAS, "saas.yaml", check_terms=False).register


# -- the register holds the roles ---------------------------------------------------------------------


def test_short_forms_load_into_the_full_role_fields(saas: Register) -> None:
    loyalty, hosting = saas.activity("loyalty"), saas.activity("hosting")
    assert loyalty is not None and hosting is not None
    assert loyalty.role == "joint_controller"  # "joint controller" as a person would write it
    assert [c.name for c in loyalty.joint_controllers] == ["Partner SA"]
    assert loyalty.arrangement is not None and loyalty.arrangement.contact_point == "Atelier SaaS"
    client_a, client_b = hosting.on_behalf_of
    assert client_a.name == "Client A" and client_a.contract is None
    assert client_b.contract is not None and client_b.contract.date == date(2024, 1, 15)
    assert client_b.sub_processor_authorisation == "general"
    assert [s.name for s in hosting.sub_processors] == ["Mailer SAS", "Host Inc."]
    assert hosting.sub_processors[1].country == "US"
    assert [a.id for a in saas.as_controller()] == ["accounts", "loyalty"]
    assert [a.id for a in saas.as_processor()] == ["hosting"]


def test_the_normalised_register_round_trips(saas: Register) -> None:
    data = saas.to_data()
    again = parse_register(yaml.safe_dump(json.loads(json.dumps(data))), "again.yaml", check_terms=False)
    assert again.register == saas


def test_the_register_role_is_the_default_of_its_activities() -> None:
    text = ("controller: {name: Hoster, role: processor}\n"
            "activities:\n  - {id: a, name: A, on_behalf_of: [Client A]}\n"
            "  - {id: b, name: B, role: controller}\n")
    register = parse_register(text, check_terms=False).register
    assert [a.id for a in register.as_processor()] == ["a"]
    assert [a.id for a in register.as_controller()] == ["b"]


@pytest.mark.parametrize(("yaml_text", "field", "words"), [
    # a processor's field on a controller activity
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    on_behalf_of: [Client]\n",
     "activities[0].on_behalf_of", "role: processor"),
    # the register's default role says controller: joint fields do not belong
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    joint_controllers: [P]\n",
     "activities[0].joint_controllers", "role: joint_controller"),
    # the role inherited from the register, checked too
    ("controller: {name: Shop, role: processor}\nactivities:\n  - id: a\n    name: A\n"
     "    arrangement: Shared\n", "activities[0].arrangement", "role: joint_controller"),
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: joint_controller\n"
     "    joint_controllers: [P]\n    arrangement: {contact_point: Someone Else}\n",
     "activities[0].arrangement.contact_point", "not one of the joint controllers"),
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: processor\n"
     "    sub_processors: [{name: S, authorisation: tacit}]\n",
     "activities[0].sub_processors[0].authorisation", "general"),
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: processor\n"
     "    on_behalf_of: [{name: C, contract: {}}]\n", "activities[0].on_behalf_of[0].contract", "reference"),
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: processer\n",
     "activities[0].role", "joint_controller"),
    ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: processor\n"
     "    sub_processors: [S]\n    no_sub_processor: true\n", "activities[0].no_sub_processor", "none"),
])
def test_a_misplaced_or_bad_role_field_names_file_line_and_field(
    yaml_text: str, field: str, words: str
) -> None:
    with pytest.raises(InputError) as raised:
        parse_register(yaml_text, "roles.yaml", check_terms=False)
    problem = raised.value.problems[0]
    assert problem.file == "roles.yaml" and problem.field == field
    assert problem.line is not None and problem.line > 1
    assert words in problem.message


# -- lint: processor activities get processor rules, never controller rules ---------------------------

CONTROLLER_SCOPE = {f"GL0{n:02d}" for n in range(1, 50)} - {
    "GL010", "GL016", "GL018", "GL019", "GL020", "GL025", "GL026", "GL028", "GL029", "GL040", "GL043"}


def test_controller_rules_skip_processor_activities() -> None:
    # No legal basis, no retention, no data subjects or categories, no provision, no automated-decision
    # statement, consent without capture, health data without an Art. 9 condition, minors, trackers,
    # profiling, e-mail prospection: all the controller's to state, none the processor's.
    text = """\
controller: {name: Hoster, country: FR, contact: {email: a@hoster.example}, dpo: {email: d@hoster.example}}
activities:
  - id: for-clients
    name: Campaigns for clients
    role: processor
    on_behalf_of: [Client SA]
    purposes: [Send the clients' newsletters]
    data_subjects: [prospect, minor]
    data_categories: [special.health, online.tracker]
    legal_bases: [consent, legitimate_interests, legal_obligation]
    retention: [indefinitely]
    profiling: true
    direct_marketing: true
    channels: [email]
"""
    findings = lint(parse_register(text, "hoster.yaml", check_terms=False), today=TODAY)
    assert {f.code for f in findings} & CONTROLLER_SCOPE == set()
    assert {f.code for f in findings} >= {"GL050", "GL053", "GL055", "GL056"}  # the processor's own


def test_a_complete_processor_register_has_no_finding(saas: Register) -> None:
    text = SAAS.replace("      - Client A\n", "").replace("      - Mailer SAS\n", "")
    text = text[:text.index("  - id: accounts")] + text[text.index("  - id: hosting"):]
    text = "updated: 2026-11-30\n" + text  # the notice's last update (GL095)
    findings = lint(parse_register(text, "p.yaml", check_terms=False), today=TODAY)
    assert [f.code for f in findings] == []


def test_joint_controller_activities_keep_the_controller_rules() -> None:
    text = ("controller: {name: Shop, country: FR}\nactivities:\n  - id: a\n    name: A\n"
            "    role: joint_controller\n    joint_controllers: [P]\n    arrangement: Shared\n")
    codes = {f.code for f in lint(parse_register(text, check_terms=False), today=TODAY)}
    assert {"GL001", "GL006", "GL059"} <= codes


# -- the Art. 30 register ------------------------------------------------------------------------------

PROCESSOR_HEADERS = {
    "fr": ("Pour le compte de", "Contrat (art. 28(3))", "Sous-traitants ultérieurs",
           "Catégories de traitements"),
    "en": ("On behalf of (controllers)", "Contract (Art. 28(3))", "Sub-processors",
           "Categories of processing"),
    "it": ("Per conto di (titolari)", "Contratto (art. 28(3))", "Sub-responsabili",
           "Categorie di trattamenti"),
}


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_art_30_2_sheet_holds_every_processor_field_with_gaps(saas: Register, lang: str) -> None:
    data = json.loads(export_register(saas, "json", lang, today=TODAY))
    controller, processor = data["sheets"]
    assert [r["activity"] for r in controller["rows"]] == ["accounts", "loyalty"]
    assert [r["activity"] for r in processor["rows"]] == ["hosting"]
    headers = {c["header"] for c in processor["columns"]}
    assert set(PROCESSOR_HEADERS[lang]) <= headers
    row = processor["rows"][0]
    assert "Client B — privacy@clientb.example — " in row["on_behalf_of"]
    assert "dpo@clientb.example" in row["on_behalf_of"]
    assert "Host the clients' online shops" in row["processing_categories"]
    assert "Client B" in row["processing_categories"] and "Nightly backups" in row["processing_categories"]
    assert "DPA v3" in row["contract"] and "2024" in row["contract"]
    assert "Host Inc." in row["sub_processors"] and "Servers" in row["sub_processors"]
    assert "Encryption at rest" in row["security"]
    assert "Host Inc." in row["transfers"]
    # Client A: no contact, no contract; Mailer SAS: no authorisation (Client A states none); no data
    assert len(row["gaps"]) == 4


def test_the_art_30_2_sheet_words_a_contract_and_an_authorisation(saas: Register) -> None:
    data = json.loads(export_register(saas, "json", "en", today=TODAY))
    row = data["sheets"][1]["rows"][0]
    assert "Client B: DPA v3 — dated: January 15, 2024 — sub-processors: general written authorisation" \
        in row["contract"]
    assert "Client A: ⚠ Not stated in the register: processing contract (Art. 28(3))" in row["contract"]
    assert ("Mailer SAS — ⚠ Not stated in the register: the controller's specific or general written "
            "authorisation (Art. 28(2))") in row["sub_processors"]
    assert "Host Inc. (United States) — Servers — sub-processors: specific written authorisation" \
        in row["sub_processors"]


def test_the_controller_column_names_the_joint_controllers(saas: Register) -> None:
    data = json.loads(export_register(saas, "json", "fr", today=TODAY))
    loyalty = data["sheets"][0]["rows"][1]
    assert "Responsables conjoints : Partner SA — ⚠ Non renseigné dans le registre : coordonnées de ce " \
        "responsable conjoint" in loyalty["controller"]
    assert "Atelier answers every request" in loyalty["controller"]
    assert "Point de contact pour les personnes concernées : Atelier SaaS" in loyalty["controller"]


def test_the_cover_counts_joint_activities_as_controller(saas: Register) -> None:
    data = json.loads(export_register(saas, "json", "en", today=TODAY))
    assert data["cover"]["Activities"] == "2 as controller, 1 as processor"


# -- the notice ----------------------------------------------------------------------------------------

PROCESSOR_SENTENCE = {
    "fr": "Atelier SaaS agit également en qualité de sous-traitant, pour le compte d'autres responsables",
    "en": "Atelier SaaS also acts as a processor, on behalf of other controllers",
    "it": "Atelier SaaS agisce anche come responsabile del trattamento per conto di altri titolari",
}
JOINT_TITLE = {"fr": "## Responsables conjoints du traitement\n", "en": "## Joint controllers\n",
               "it": "## Contitolari del trattamento\n"}


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_notice_says_only_that_the_controller_also_acts_as_a_processor(saas: Register, lang: str) -> None:
    text = render_notice(saas, lang, "md", today=TODAY)
    assert PROCESSOR_SENTENCE[lang] in text
    assert text.count("Hosting of the clients' shops") == 1  # the service, named once in that sentence
    for processor_only in ("Host the clients' online shops", "Client B", "Host Inc.", "Nightly backups"):
        assert processor_only not in text


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_notice_gives_the_joint_arrangement(saas: Register, lang: str) -> None:
    text = render_notice(saas, lang, "md", today=TODAY)
    assert JOINT_TITLE[lang] in text
    joint = text.split(JOINT_TITLE[lang])[1].split("\n## ")[0]
    assert "Partner SA" in joint and "Atelier answers every request" in joint
    assert "https://atelier.example/joint" in joint
    assert "Shared loyalty programme" in text.split(JOINT_TITLE[lang])[0]  # its purposes, as any activity


def test_a_missing_essence_is_a_gap_in_the_notice() -> None:
    text = ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: joint_controller\n"
            "    joint_controllers: [{name: P, contact: {email: p@p.example}}]\n")
    notice = render_notice(parse_register(text, check_terms=False).register, "en", "md", today=TODAY)
    assert "⚠ Not stated in the register: the essence of the joint controllers' arrangement" in notice
    assert "p@p.example" in notice


def test_no_processor_sentence_without_processor_activities(saas: Register) -> None:
    controller_only = saas.model_copy(update={"activities": saas.activities[:2]})
    for lang in ("fr", "en", "it"):
        assert PROCESSOR_SENTENCE[lang] not in render_notice(controller_only, lang, "md", today=TODAY)
    plain = saas.model_copy(update={"activities": saas.activities[:1]})
    assert JOINT_TITLE["en"] not in render_notice(plain, "en", "md", today=TODAY)


# -- NEGOMARKETS (seed 002): a processor for its distributors ------------------------------------------


def test_negomarkets_processor_row_is_published_in_art_30_2_with_its_gaps() -> None:
    neg = read_register(ROOT / "registers" / "negomarkets.yaml").register
    data = json.loads(export_register(neg, "json", "fr", today=TODAY))
    processor = data["sheets"][1]
    assert [r["activity"] for r in processor["rows"]] == ["processor-distributors"]
    row = processor["rows"][0]
    assert row["on_behalf_of"].startswith("distributeurs de NEGOMARKETS")
    assert "Suivre les commandes des clients des distributeurs" in row["processing_categories"]
    # the seed states no contract, sub-processor, transfer or security measure: gaps, not inventions
    assert row["security"] is None and row["sub_processors"] is None
    notice = render_notice(neg, "fr", "md", today=TODAY)
    assert "NEGOMARKETS agit également en qualité de sous-traitant" in notice
    assert "Suivre les commandes des clients des distributeurs" not in notice


def test_negomarkets_processor_row_gets_only_processor_findings() -> None:
    loaded = read_register(ROOT / "registers" / "negomarkets.yaml")
    codes = {f.code for f in lint(loaded, today=TODAY) if f.activity == "processor-distributors"}
    # GL098: the register names no sub-processor of the distributors, nor that there is none.
    # GL100: it keeps the seed's basis cell ("Exécution du contrat"), the distributors' to state.
    assert codes == {"GL050", "GL053", "GL055", "GL056", "GL098", "GL100"}


def test_a_processor_by_the_register_role_without_its_controller_is_gl020() -> None:
    # GL020 read the activity's own role only: a register-wide `role: processor` escaped it.
    text = "controller: {name: Hoster, role: processor}\nactivities:\n  - {id: a, name: A}\n"
    codes = {f.code for f in lint(parse_register(text, check_terms=False), today=TODAY)}
    assert "GL020" in codes and "GL001" not in codes


@settings(max_examples=60, deadline=None)
@given(role=st.sampled_from(["controller", "joint_controller", "processor"]),
       spelling=st.lists(st.sampled_from(["_", "-", " ", "  "]), min_size=1, max_size=1),
       upper=st.booleans())
def test_any_spelling_of_a_role_loads_as_its_id(role: str, spelling: list[str], upper: bool) -> None:
    written = role.replace("_", spelling[0])
    written = written.upper() if upper else written
    text = f"controller: {{name: Shop}}\nactivities:\n  - {{id: a, name: A, role: '{written}'}}\n"
    assert parse_register(text, check_terms=False).register.activities[0].role == role


@settings(max_examples=60, deadline=None)
@given(word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=20))
def test_an_unknown_role_is_a_load_error_on_its_line(word: str) -> None:
    if word in {"controller", "joint_controller", "processor"}:
        return
    text = f"controller: {{name: Shop}}\nactivities:\n  - id: a\n    name: A\n    role: {word}\n"
    try:
        parse_register(text, "r.yaml", check_terms=False)
    except InputError as error:
        assert error.problems[0].field == "activities[0].role" and error.problems[0].line == 5
    else:
        raise AssertionError(f"{word!r} loaded as a role")


@pytest.mark.parametrize(("lang", "label"), [("fr", "Document de l'accord"), ("en", "Arrangement document"),
                                             ("it", "Documento dell'accordo")])
def test_the_notice_labels_the_arrangement_document_like_its_other_fields(lang: str, label: str) -> None:
    """The arrangement's reference is printed under a label of its own, not the bare word 'reference'."""
    text = ("controller: {name: Shop}\nactivities:\n  - id: a\n    name: A\n    role: joint_controller\n"
            "    joint_controllers: [{name: P, contact: {email: p@p.example}}]\n"
            "    arrangement: {essence: Shop answers, reference: 'Joint arrangement, 1 March 2026'}\n")
    notice = render_notice(parse_register(text, check_terms=False).register, lang, "md", today=TODAY)
    assert f"- **{label}**: Joint arrangement, 1 March 2026" in notice
