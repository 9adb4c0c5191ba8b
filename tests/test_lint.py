"""The linter: every rule triggers on what it checks and stays quiet otherwise.

Registers are built from small dicts dumped to YAML, so each case shows only
what differs from a complete, finding-free register.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from garde.lint import RULES, Finding, lint, lint_paths, load_reference_periods
from garde.register import parse_register
from garde.retention_rule import RetentionPeriod
from garde.taxonomy import DATA, Vocabulary, load_vocabulary

CONTROLLER: dict[str, Any] = {
    "name": "Shop", "country": "FR",
    "contact": {"email": "privacy@shop.example"}, "dpo": {"email": "dpo@shop.example"},
}
ACTIVITY: dict[str, Any] = {
    "id": "orders", "name": "Orders", "purposes": ["Deliver orders"],
    "data_subjects": ["customer"], "data_categories": ["identity.name", "contact.email"],
    "legal_bases": ["contract"], "retention": ["5 years after relationship_end"],
    "provision": {"requirement": "contractual", "consequences": "Without an address the order cannot ship"},
    "automated_decisions": False, "security_measures": ["Access restricted by role"],
    # What the documents would otherwise print as gaps (GL091, GL092, GL094, GL096)
    "recipients": [{"kind": "internal"}], "sources": ["data_subject"], "automated_means": True,
    "dpia": {"required": False, "reason": "No Art. 35(3) criterion"},
}
RIGHTS = {"route": {"email": "rights@shop.example"}}
DECIDES = {"exists": True, "logic": "A fraud score from the order history",
           "consequences": "A high score blocks the order until a person reviews it"}
CONSENT = {"capture": ["web_form"], "withdrawal": ["unsubscribe_link"]}
INTEREST = {"basis": "legitimate_interests", "legitimate_interest": "Prevent fraud"}
TRACKER = {"name": "_ga", "provider": {"party": "third", "name": "Google Ireland Ltd"},
           "purpose": "Count visits and pages seen", "activity": "orders", "lifetime": "13 months",
           "strictly_necessary": False, "category": "cookie.analytics"}


def with_trackers(*trackers: dict[str, Any], **activity: Any) -> dict[str, Any]:
    """A complete register whose one activity rests on consent and whose site sets ``trackers``."""
    changes = {"legal_bases": ["consent"], "consent": CONSENT, **activity}
    return {**register(**changes), "trackers": [copy.deepcopy(t) for t in trackers]}


def register(controller: dict[str, Any] | None = None, rights: dict[str, Any] | None = RIGHTS,
             **activity: Any) -> dict[str, Any]:
    """A complete register whose one activity is ACTIVITY with ``activity`` changes."""
    stated = {**copy.deepcopy(ACTIVITY), **activity}
    if "transfers" not in stated:  # GL093: the documents say "no transfer" rather than a gap
        stated.setdefault("no_transfer", True)
    return {"controller": copy.deepcopy(controller or CONTROLLER), "rights": copy.deepcopy(rights),
            "activities": [stated], "updated": "2026-11-30"}


@pytest.fixture(scope="module")
def vocabulary(tmp_path_factory: pytest.TempPathFactory) -> Vocabulary:
    """The real vocabulary plus a known EEA/adequacy list, whether or not garde ships one yet."""
    directory = tmp_path_factory.mktemp("taxonomy")
    for path in DATA.glob("*.yaml"):
        shutil.copy(path, directory)
    (directory / "eea.yaml").write_text(yaml.safe_dump({
        "eea": ["FR", "IT", "DE", "IE", "NO", "IS", "LI"], "adequacy": ["CH", "GB", "JP", "US"],
        "adequacy_scope": {"US": "organisations certified under the EU-US Data Privacy Framework"},
    }))
    return load_vocabulary(directory)


def findings_of(data: dict[str, Any], vocabulary: Vocabulary, lang: str = "en") -> list[Finding]:
    loaded = parse_register(yaml.safe_dump(data, allow_unicode=True), "shop.yaml", check_terms=False)
    return lint(loaded, lang=lang, vocabulary=vocabulary)


def codes_of(data: dict[str, Any], vocabulary: Vocabulary) -> set[str]:
    return {f.code for f in findings_of(data, vocabulary)}


# code -> (a register that triggers the rule, a close one that does not)
ARCHIVE = {"until": "5 years after last_contact", "access": "Accounting staff"}


def archived(archive: Any = None) -> dict[str, Any]:
    """A rule archiving the data 3 years after the last contact, with ``archive`` when given."""
    rule = {"rule": "3 years after last_contact", "action": "archive"}
    return rule if archive is None else {**rule, "archive": archive}


CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "GL001": (register(legal_bases=[]), register()),
    "GL002": (register(legal_bases=["legitimate_interests"]), register(legal_bases=[INTEREST])),
    "GL003": (register(legal_bases=["legal_obligation"]),
              register(legal_bases=[{"basis": "legal_obligation",
                                     "obligation": "Code de commerce L123-22"}])),
    "GL004": (register(legal_bases=["consent"], consent={"withdrawal": ["unsubscribe_link"]}),
              register(legal_bases=["consent"], consent=CONSENT)),
    "GL005": (register(legal_bases=["consent"], consent={"capture": ["web_form"]}),
              register(legal_bases=["consent"], consent=CONSENT)),
    "GL006": (register(retention=[]), register()),
    "GL007": (register(data_subjects=["prospect"], retention=["5 years after last_contact"]),
              register(data_subjects=["prospect"], retention=["3 years after last_contact"])),
    "GL008": (register(data_subjects=["prospect"], retention=["1 year after contract_end"]),
              register(data_subjects=["prospect"], retention=["1 year after last_contact"])),
    "GL009": (register(data_categories=["special.health"]),
              register(data_categories=["special.health"], art9_condition="explicit_consent")),
    "GL010": (register(transfers=[{"country": "US"}]),
              register(transfers=[{"country": "US", "safeguard": "scc"}])),
    "GL011": (register(recipients=[{"kind": "service_providers", "country": "US"}]),
              register(recipients=[{"kind": "service_providers", "country": "US"}],
                       transfers=[{"country": "US", "safeguard": "scc"}])),
    "GL012": (register(profiling=True, dpia=None),
              register(profiling=True, dpia={"required": False, "reason": "No legal effect"})),
    "GL013": (register(dpia={"required": True}), register(dpia={"required": True, "done": True})),
    "GL014": (register(data_subjects=[]), register()),
    "GL015": (register(data_categories=[]), register()),
    "GL016": (register(data_categories=["contact.emial"]), register()),
    "GL017": (register(purposes=[]), register()),
    "GL018": (register({**CONTROLLER, "contact": None}), register()),
    "GL019": (register({**CONTROLLER, "dpo": None}), register({**CONTROLLER, "dpo": {"name": "DPO"}})),
    "GL020": (register(role="processor"), register(role="processor", on_behalf_of=["Distributor SA"])),
    "GL021": (register(retention=[{"rule": "1 year after collection", "categories": ["online.logs"]}]),
              register(retention=[{"rule": "1 year after collection", "categories": ["contact.email"]}])),
    "GL022": (register(automated_decisions=DECIDES, legal_bases=[INTEREST]),
              register(automated_decisions=DECIDES)),
    "GL023": (register(data_subjects=["prospect"], direct_marketing=True, channels=["email"],
                       legal_bases=[INTEREST], retention=["3 years after last_contact"]),
              register(data_subjects=["prospect"], direct_marketing=True, channels=["email"],
                       legal_bases=["consent"], consent=CONSENT, retention=["3 years after last_contact"])),
    "GL024": (register(data_categories=["online.tracker"], legal_bases=[INTEREST],
                       retention=["13 months after collection"]),
              register(data_categories=["online.tracker"], legal_bases=["consent"], consent=CONSENT,
                       retention=["13 months after collection"])),
    # GL040-GL042: the controller's country (national rules), children, the representative.
    "GL040": (register({**CONTROLLER, "country": None}), register()),
    "GL041": (register(data_subjects=["customer", "minor"], legal_bases=["consent"], consent=CONSENT),
              register(data_subjects=["customer", "minor"], legal_bases=["consent"], consent=CONSENT,
                       parental_consent="A parent confirms by e-mail before the account opens")),
    "GL042": (register({**CONTROLLER, "country": "GB", "subjects_in": ["GB", "FR"]}),
              register({**CONTROLLER, "country": "GB", "subjects_in": ["GB", "FR"],
                        "representative": {"name": "Rep SARL", "email": "rep@example.fr"}})),
    "GL043": (register({**CONTROLLER, "country": "GB"}, transfers=[{"country": "US", "safeguard": "scc"}]),
              register({**CONTROLLER, "country": "GB"},
                       transfers=[{"country": "US", "safeguard": "uk_addendum"}])),
    "GL044": (register({**CONTROLLER, "subjects_in": ["FR", "GB"]}),
              register({**CONTROLLER, "subjects_in": ["FR", "GB"],
                        "uk_representative": {"name": "Rep Ltd", "email": "rep@example.co.uk"}})),
    "GL025": (register(transfers=[{"country": "US", "safeguard": "privacy_shield"}]),
              register(transfers=[{"country": "US", "safeguard": "scc"}])),
    "GL026": (register(transfers=[{"country": "US", "recipient": "Host Inc.", "safeguard": "dpf"}]),
              register(transfers=[{"country": "US", "recipient": "Host Inc.", "safeguard": "scc"}])),
    "GL027": (register(retention=["indefinitely"]), register()),
    "GL028": ({**register(transfers=[{"country": "US", "safeguard": "scc"}]), "no_transfer": True},
              {**register(), "no_transfer": True}),
    "GL029": (register(transfers=[{"country": "IN", "safeguard": "uk_idta"}]),
              register({**CONTROLLER, "country": "GB"},
                       transfers=[{"country": "IN", "safeguard": "uk_idta"}])),
    "GL030": (register(legal_bases=[{"basis": "public_task"}]),
              register(legal_bases=[{"basis": "public_task", "law": {
                  "text": "Code du patrimoine, art. L212-2", "reference": "https://www.legifrance.gouv.fr/"}}])),
    "GL031": (register(provision={"requirement": "statutory"}),
              register(provision={"requirement": "not_required"})),
    "GL032": (register(automated_decisions={"exists": True, "logic": "A fraud score"}),
              register(automated_decisions=DECIDES)),
    "GL033": (register(automated_decisions=None), register(automated_decisions=False)),
    "GL034": (register(rights={"route": {"name": "Service client"}}),
              register(rights={"route": {"url": "https://shop.example/rights"}})),
    "GL035": (register(rights={**RIGHTS, "answer_time": "31 days"}),
              register(rights={**RIGHTS, "answer_time": "1 month"})),
    # GL080-GL086: free-text terms, employees' consent, Art. 87, the DPO (Art. 37), legal minimums.
    "GL080": (register(data_subjects=[{"other": "Copropriétaires"}]), register(data_subjects=["customer"])),
    "GL081": (register(data_subjects=["employee"], legal_bases=["consent"], consent=CONSENT),
              register(data_subjects=["employee"], legal_bases=["contract"])),
    "GL082": (register(data_categories=["identity.name", "identity.national_id"]), register()),
    "GL083": (register({**CONTROLLER, "public_body": True, "dpo": None}),
              register({**CONTROLLER, "public_body": True})),
    "GL084": (register({**CONTROLLER, "dpo": None}, large_scale=True, art9_condition="explicit_consent",
                       data_categories=["special.health"], dpia={"required": True, "done": True}),
              register({**CONTROLLER, "dpo": None}, art9_condition="explicit_consent",
                       data_categories=["special.health"], dpia={"required": True, "done": True})),
    "GL085": (register({**CONTROLLER, "country": "DE", "dpo": None}),
              register({**CONTROLLER, "country": "DE"})),
    "GL086": (register(data_categories=["transaction.invoice"], retention=["5 years after invoice_date"]),
              register(data_categories=["transaction.invoice"], retention=["10 years after invoice_date"])),
    # GL075-GL079: the tracker list, and a DPO named without a contact.
    "GL075": (with_trackers({**TRACKER, "lifetime": "25 months"}), with_trackers(TRACKER)),
    "GL076": (with_trackers({**TRACKER, "category": "cookie.advertising", "strictly_necessary": True}),
              with_trackers({**TRACKER, "category": "cookie.necessary", "strictly_necessary": True})),
    "GL077": (with_trackers({**TRACKER, "lifetime": None}), with_trackers(TRACKER)),
    "GL078": (with_trackers({**TRACKER, "strictly_necessary": True}), with_trackers(TRACKER)),
    "GL079": (register({**CONTROLLER, "dpo": {"name": "DPO"}}), register()),
    # GL060: neither the activity's own measures nor the register's (inherited by every activity).
    "GL060": (register(security_measures=[]),
              {**register(security_measures=[]), "security_measures": ["Encrypted backups"]}),
    # retention rules in words, review, alternatives (issue 10)
    "GL065": (register(retention=[{"criterion": "As long as the account is active, then 5 years"}]),
              register()),
    "GL066": (register(retention=["5 years after relationship_end",
                                  {"rule": "until transaction_end", "categories": ["contact.email"]}]),
              register(retention=[{"rule": "5 years after relationship_end", "categories": ["identity.name"]},
                                  {"rule": "until transaction_end", "categories": ["contact.email"]}])),
    "GL067": (register(retention=["10 years after invoice_date where the customer is a business"]),
              register(retention=["10 years after invoice_date"])),
    "GL068": (register(retention=[{"rule": "5 years after relationship_end", "action": "review"}]),
              register()),
    # GL070-GL073: intermediate archiving (action: archive).
    "GL070": (register(retention=[archived()]), register(retention=[archived(ARCHIVE)])),
    "GL071": (register(retention=[{**archived(ARCHIVE), "action": "delete"}]),
              register(retention=[archived(ARCHIVE)])),
    "GL072": (register(retention=[archived({**ARCHIVE, "until": "36 months after last_contact"})]),
              register(retention=[archived({**ARCHIVE, "until": "1 year after archiving"})])),
    "GL073": (register(retention=[archived("5 years after last_contact")]),
              register(retention=[archived(ARCHIVE)])),
    # GL090: a text the notice prints, missing in a language the register publishes in.
    "GL090": ({**register(purposes=[{"en": "Sell"}]), "publishes_in": ["en", "it"]},
              {**register(purposes=[{"en": "Sell", "it": "Vendere"}]), "publishes_in": ["en"]}),
}
# GL050-GL059: processor activities (Art. 28, 30(2)) and joint controllers (Art. 26).
SERVED: dict[str, Any] = {"name": "Client SA", "contact": {"email": "privacy@client.example"},
                          "contract": {"reference": "DPA v2", "date": "2024-01-15"}}
PROCESSOR_ACTIVITY: dict[str, Any] = {
    "id": "hosting", "name": "Shop hosting for clients", "role": "processor",
    "purposes": ["Host the clients' online shops"], "on_behalf_of": [SERVED],
    "sub_processors": [{"name": "Cloud SAS", "country": "FR", "processing": "Servers",
                        "authorisation": "general"}],
    "no_transfer": True, "security_measures": ["Encryption at rest"],
}
JOINT: dict[str, Any] = {
    "role": "joint_controller",
    "joint_controllers": [{"name": "Partner SA", "contact": {"email": "privacy@partner.example"}}],
    "arrangement": {"essence": "The shop answers every request; Partner SA runs the loyalty card",
                    "contact_point": "Shop"},
}


def processor_register(**activity: Any) -> dict[str, Any]:
    """A complete register whose one activity is PROCESSOR_ACTIVITY with ``activity`` changes."""
    return {"controller": copy.deepcopy(CONTROLLER),
            "activities": [{**copy.deepcopy(PROCESSOR_ACTIVITY), **activity}]}


UNAUTHORISED = [{"name": "Cloud SAS", "country": "FR"}]
ABROAD = [{"name": "Host Inc.", "country": "US", "authorisation": "specific"}]
CASES.update({
    "GL050": (processor_register(on_behalf_of=[{**SERVED, "contract": None}]), processor_register()),
    "GL051": (processor_register(sub_processors=UNAUTHORISED),
              processor_register(sub_processors=UNAUTHORISED,
                                 on_behalf_of=[{**SERVED, "sub_processor_authorisation": "specific"}])),
    "GL052": (processor_register(sub_processors=ABROAD),
              processor_register(sub_processors=ABROAD, no_transfer=False,
                                 transfers=[{"country": "US", "safeguard": "scc"}])),
    "GL053": (processor_register(on_behalf_of=[{**SERVED, "contact": None}]), processor_register()),
    "GL054": (processor_register(purposes=[]),
              processor_register(purposes=[], on_behalf_of=[{**SERVED, "processing": ["Backups"]}])),
    "GL055": (processor_register(no_transfer=False), processor_register()),
    "GL056": (processor_register(security_measures=[]), processor_register()),
    "GL100": (processor_register(legal_bases=["legitimate_interests"]), processor_register()),
    "GL057": (register(**{**JOINT, "joint_controllers": []}), register(**JOINT)),
    "GL058": (register(**{**JOINT, "arrangement": {"contact_point": "Shop"}}),
              register(**{**JOINT, "arrangement": {"available_at": "https://shop.example/joint"}})),
    "GL059": (register(**{**JOINT, "joint_controllers": ["Partner SA"]}), register(**JOINT)),
})
# GL091-GL099: what the documents would print as a gap (garde.documents.gaps).
NOT_DATED = {k: v for k, v in register().items() if k != "updated"}
NO_COUNTRY = {k: v for k, v in CONTROLLER.items() if k != "country"}
MINORS = {"data_subjects": ["minor"], "legal_bases": ["consent"], "consent": CONSENT,
          "parental_consent": "A parent confirms by e-mail"}
CASES.update({
    "GL091": (register(recipients=[]), register()),
    "GL092": (register(sources=[]), register()),
    "GL093": (register(no_transfer=False), register()),
    "GL094": (register(dpia=None), register()),
    "GL095": (NOT_DATED, register()),
    "GL096": (register(automated_means=None), register(automated_means=None, legal_bases=[INTEREST])),
    "GL097": (register(NO_COUNTRY), register({**NO_COUNTRY, "supervisory_authority": "CNIL"})),
    "GL098": (processor_register(sub_processors=[]),
              processor_register(sub_processors=[], no_sub_processor=True)),
    "GL099": (register({**CONTROLLER, "country": "NO"}, **MINORS), register(**MINORS)),
})


# Rules tested by their own functions below rather than through CASES.
TESTED_ELSEWHERE = {"GL000": "test_unreadable_files_are_gl000_findings_not_tracebacks"}


@pytest.mark.parametrize(("basis", "expected"), [
    ({"basis": "legal_obligation"}, {"GL003"}),  # nothing named: one finding, not two
    ({"basis": "legal_obligation", "obligation": "Keep invoices"}, {"GL030"}),
    ({"basis": "legal_obligation", "law": "Code de commerce, art. L123-22"}, set()),
    ({"basis": "public_task"}, {"GL030"}),
])
def test_a_legal_obligation_without_its_law_is_one_finding(
    basis: dict[str, Any], expected: set[str], vocabulary: Vocabulary
) -> None:
    assert codes_of(register(legal_bases=[basis]), vocabulary) & {"GL003", "GL030"} == expected


def test_provision_is_not_asked_of_data_obtained_elsewhere(vocabulary: Vocabulary) -> None:
    # Art. 13(2)(e) concerns data collected from the person; Art. 14 has no such point.
    assert "GL031" not in codes_of(register(provision=None, sources=["third_party"]), vocabulary)
    assert "GL031" in codes_of(register(provision=None, sources=["data_subject", "third_party"]), vocabulary)


@pytest.mark.parametrize(("answer_time", "flagged"), [
    ("30 days", True), ("31 days", True), ("2 months", True), ("4 weeks", False), ("28 days", False),
    ("1 month", False), ("15 days", False),
])
def test_answer_time_is_compared_as_the_calendar_counts(
    answer_time: str, flagged: bool, vocabulary: Vocabulary
) -> None:
    # 30 days from 31 January is 2 March; the month of Art. 12(3) ends on 28 February.
    data = register(rights={**RIGHTS, "answer_time": answer_time})
    assert ("GL035" in codes_of(data, vocabulary)) is flagged


def test_automated_decisions_ask_for_a_dpia_decision(vocabulary: Vocabulary) -> None:
    # Art. 35(3)(a): evaluation by automated processing on which decisions with legal effects are based.
    assert "GL012" in codes_of(register(automated_decisions=DECIDES, dpia=None), vocabulary)
    assessed = register(automated_decisions=DECIDES, dpia={"required": True, "done": True})
    assert "GL012" not in codes_of(assessed, vocabulary)


def test_a_complete_register_has_no_finding(vocabulary: Vocabulary) -> None:
    assert findings_of(register(), vocabulary) == []


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_triggers(code: str, vocabulary: Vocabulary) -> None:
    triggering, _ = CASES[code]
    found = [f for f in findings_of(triggering, vocabulary) if f.code == code]
    assert found, f"{code} should trigger"
    finding = found[0]
    assert finding.file == "shop.yaml" and finding.line is not None and finding.line >= 1
    assert finding.severity == RULES[code].severity
    assert finding.message and "{" not in finding.message


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_stays_quiet(code: str, vocabulary: Vocabulary) -> None:
    _, quiet = CASES[code]
    assert code not in codes_of(quiet, vocabulary)


@pytest.mark.parametrize("code", sorted(CASES))
def test_every_message_has_a_french_wording(code: str, vocabulary: Vocabulary) -> None:
    triggering, _ = CASES[code]
    english = next(f for f in findings_of(triggering, vocabulary) if f.code == code)
    french = next(f for f in findings_of(triggering, vocabulary, "fr") if f.code == code)
    assert french.message != english.message or code == "GL016"


# ---------------------------------------------------------------- details of some rules


def test_activity_findings_point_at_the_activity(vocabulary: Vocabulary) -> None:
    data = register(legal_bases=[])
    (finding,) = findings_of(data, vocabulary)
    id_line = [line.strip(" -") for line in yaml.safe_dump(data).splitlines()].index("id: orders") + 1
    assert (finding.code, finding.activity, finding.line) == ("GL001", "orders", id_line)
    assert finding.reference == "GDPR Art. 6(1), 13(1)(c)"
    assert finding.url == "https://gdpr-info.eu/art-6-gdpr/"


def test_unknown_term_keeps_the_did_you_mean(vocabulary: Vocabulary) -> None:
    (finding,) = findings_of(register(data_categories=["contact.emial"]), vocabulary)
    assert finding.message == ("activities[0].data_categories[0]: unknown data category "
                               "'contact.emial' (did you mean `contact.email`?)")
    assert finding.activity == "orders"


def test_special_category_under_a_special_parent(vocabulary: Vocabulary) -> None:
    found = findings_of(register(data_categories=["criminal"]), vocabulary)
    assert [f.code for f in found] == ["GL009"]


def test_transfer_inside_the_eea_or_to_an_adequate_country_needs_no_safeguard(
        vocabulary: Vocabulary) -> None:
    assert "GL010" not in codes_of(register(transfers=[{"country": "DE"}]), vocabulary)
    assert "GL010" not in codes_of(register(transfers=[{"country": "ch"}]), vocabulary)


def test_adequacy_is_a_safeguard_only_where_the_commission_decided(vocabulary: Vocabulary) -> None:
    assert "GL025" in codes_of(register(transfers=[{"country": "IN", "safeguard": "adequacy"}]), vocabulary)
    for country in ("JP", "US", "gb"):
        quiet = register(transfers=[{"country": country, "safeguard": "adequacy"}])
        assert "GL025" not in codes_of(quiet, vocabulary), country


def test_a_partial_adequacy_decision_still_needs_a_declared_safeguard(vocabulary: Vocabulary) -> None:
    assert "GL010" in codes_of(register(transfers=[{"country": "US"}]), vocabulary)
    quiet = register(transfers=[{"country": "US", "safeguard": "adequacy"}])
    assert "GL010" not in codes_of(quiet, vocabulary)


def test_the_shipped_eea_list_if_present_is_read() -> None:
    if "eea" not in load_vocabulary().extras:
        pytest.skip("taxonomy/data/eea.yaml is not there yet")
    loaded = parse_register(yaml.safe_dump(register(transfers=[{"country": "DE"}, {"country": "CN"}])),
                            "s.yaml")
    assert [f.message for f in lint(loaded)] == [
        "the transfer to CN has no safeguard (adequacy decision, SCC, BCR, ...)"]


def test_without_an_eea_list_every_declared_transfer_needs_a_safeguard() -> None:
    bare = Vocabulary({kind: {t.id: t for t in load_vocabulary().terms(kind)}
                       for kind in load_vocabulary().kinds()}, {})
    loaded = parse_register(yaml.safe_dump(register(transfers=[{"country": "CH"}],
                                                     recipients=[{"kind": "service_providers",
                                                                  "country": "US"}])), "s.yaml")
    assert [f.code for f in lint(loaded, vocabulary=bare)] == ["GL010"]


@pytest.mark.parametrize("category", ["media.cctv_footage"])
def test_cctv_needs_a_dpia_decision(category: str, vocabulary: Vocabulary) -> None:
    data = register(data_categories=[category], retention=["1 month after collection"],
                    legal_bases=[INTEREST], data_subjects=["shop_visitor"], dpia=None)
    found = findings_of(data, vocabulary)
    assert [f.code for f in found] == ["GL012"]
    assert "media.cctv_footage" in found[0].message
    data["activities"][0]["large_scale_monitoring"] = True
    assert "large_scale_monitoring, media.cctv_footage" in findings_of(data, vocabulary)[0].message


# ---------------------------------------------------------------- reference periods


@pytest.mark.parametrize(("rule", "reference", "verdict"), [
    ("13 months after collection", "1 year after collection", "longer"),
    ("12 months after collection", "1 year after collection", "within"),
    ("30 days after collection", "1 month after collection", "within"),
    ("5 weeks after collection", "1 month after collection", "longer"),
    ("5 years after relationship_end", "3 years after last_contact", "longer"),
    ("3 years after last_contact", "3 years after relationship_end", "within"),
    ("5 years after last_contact", "3 years after relationship_end", "not_comparable"),
    ("3 years after relationship_end", "3 years after last_contact", "not_comparable"),
    ("until consent_withdrawn", "3 years after last_contact", "longer"),
    ("13 months after transaction_end", "until transaction_end", "longer"),
    ("until transaction_end", "until transaction_end", "within"),
    ("until transaction_end", "13 months after collection", "not_comparable"),
    ("1 year after contract_end", "3 years after last_contact", "not_comparable"),
])
def test_comparing_retention_rules(rule: str, reference: str, verdict: str) -> None:
    periods = load_reference_periods()
    assert periods.compare(RetentionPeriod.parse(rule), RetentionPeriod.parse(reference)) == verdict


def test_reference_periods_file_has_the_required_entries_with_sources() -> None:
    periods = load_reference_periods()
    by_id = {p.id: p for p in periods.periods}
    expected = {
        "cnil-prospects": "3 years after last_contact",
        "cnil-customers-prospection": "3 years after relationship_end",
        "cnil-trackers": "13 months after collection",
        "cnil-cctv": "1 month after collection",
        "cnil-candidates": "2 years after last_contact",
        "cnil-payment-card": "until transaction_end",
        "fr-invoices": "10 years after invoice_date",
        "garante-profiling": "12 months after collection",
        "garante-marketing": "24 months after collection",
    }
    assert {key: str(by_id[key].maximum) for key in expected} == expected
    for period in periods.periods:
        assert period.authority and period.document and period.url and period.url.startswith("https://")
    assert "L123-22" in by_id["fr-invoices"].document
    assert by_id["garante-profiling"].applies_to.countries == ("IT",)


def test_reference_periods_use_only_known_terms() -> None:
    vocabulary = load_vocabulary()
    periods = load_reference_periods()
    events = {t.id for t in vocabulary.terms("trigger_events")}
    assert set(periods.events) <= events
    assert {e for earlier in periods.events.values() for e in earlier} <= events
    assert set(periods.open_ended) <= events
    for period in periods.periods:
        assert period.maximum.event in events
        assert all(vocabulary.has("subjects", s) for s in period.applies_to.subjects)
        assert all(vocabulary.has("categories", c) for c in period.applies_to.categories)


@pytest.mark.parametrize(("country", "retention", "expected"), [
    ("IT", "18 months after collection", {"garante-profiling"}),
    ("IT", "12 months after collection", set()),
    ("FR", "18 months after collection", set()),
])
def test_garante_profiling_applies_to_italian_controllers(
        country: str, retention: str, expected: set[str], vocabulary: Vocabulary) -> None:
    data = register({**CONTROLLER, "country": country}, profiling=True, dpia=False,
                    legal_bases=["consent"], consent=CONSENT, retention=[retention])
    found = [f for f in findings_of(data, vocabulary) if f.code == "GL007"]
    assert {f.message.split("(")[-1].split(")")[0] for f in found} == expected
    for finding in found:
        assert finding.reference.startswith("Garante")
        assert finding.url and "1103045" in finding.url


@pytest.mark.parametrize(("categories", "retention", "period"), [
    (["media.cctv_footage"], "2 months after collection", "cnil-cctv"),
    (["online.cookie_id"], "25 months after collection", "cnil-trackers"),
    (["transaction.invoice"], "20 years after invoice_date", "fr-invoices"),
    (["financial.payment_card"], "1 month after transaction_end", "cnil-payment-card"),
])
def test_category_reference_periods(categories: list[str], retention: str, period: str,
                                    vocabulary: Vocabulary) -> None:
    data = register(data_categories=categories, retention=[retention], dpia=False,
                    legal_bases=["consent"], consent=CONSENT)
    (finding,) = [f for f in findings_of(data, vocabulary) if f.code == "GL007"]
    assert f"({period})" in finding.message


def test_a_category_reference_applies_only_to_the_rules_covering_it(vocabulary: Vocabulary) -> None:
    data = register(data_categories=["contact.email", "online.cookie_id"], legal_bases=["consent"],
                    consent=CONSENT, retention=[
                        {"rule": "13 months after collection", "categories": ["online.cookie_id"]},
                        {"rule": "5 years after collection", "categories": ["contact.email"]},
                    ])
    assert "GL007" not in codes_of(data, vocabulary)


def test_a_coarse_category_does_not_match_a_finer_reference(vocabulary: Vocabulary) -> None:
    data = register(data_categories=["online"], retention=["5 years after collection"])
    assert "GL007" not in codes_of(data, vocabulary)


# ---------------------------------------------------------------- files and directories


def test_unreadable_files_are_gl000_findings_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("controller: {name: [\n")
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump({**register(), "activitys": []}))
    found = lint_paths([tmp_path, tmp_path / "missing.yaml"])
    assert [(Path(f.file).name, f.code, f.severity) for f in found] == [
        ("broken.yaml", "GL000", "error"), ("typo.yaml", "GL000", "error"),
        ("missing.yaml", "GL000", "error"),
    ]
    assert "not valid YAML" in found[0].message and found[0].line == 2
    assert "(did you mean `activities`?)" in found[1].message
    assert found[2].message == "file not found"


def test_a_directory_means_every_yaml_file_inside(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(register(legal_bases=[])))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(yaml.safe_dump(register(retention=[])))
    (tmp_path / "notes.txt").write_text("not a register")
    found = lint_paths([tmp_path])
    assert [(Path(f.file).name, f.code) for f in found] == [("a.yaml", "GL001"), ("b.yml", "GL006")]


def test_unknown_language_is_refused(vocabulary: Vocabulary) -> None:
    with pytest.raises(ValueError, match="unknown language"):
        findings_of(register(), vocabulary, lang="de")


def test_a_shorter_alternative_rule_keeps_the_activity_within_the_reference() -> None:
    """'until unsubscription, at most 3 years after the last contact' is within the CNIL's 3 years."""
    from garde.lint import lint
    from garde.register import parse_register

    text = """
controller: {name: Shop, country: FR, contact: {email: a@b.c}, dpo: {email: d@b.c}}
activities:
  - id: newsletter
    name: Newsletter
    purposes: [Newsletter]
    data_subjects: [prospect]
    data_categories: [contact.email]
    legal_bases: [consent]
    consent: {capture: [web_form], withdrawal: [unsubscribe_link]}
    retention: [until consent_withdrawn{extra}]
"""
    alone = lint(parse_register(text.replace("{extra}", ""), "a.yaml", check_terms=False))
    both = lint(parse_register(text.replace("{extra}", ", 3 years after last_contact"), "b.yaml",
                               check_terms=False))
    assert "GL007" in {f.code for f in alone}
    assert "GL007" not in {f.code for f in both}


# -- retention rules as real registers state them (issue 10) ---------------------------------------------

@pytest.mark.parametrize(("retention", "flagged"), [
    ("between 1 and 5 years after last_contact", True),   # the upper bound is what the register allows
    ("between 1 and 3 years after last_contact", False),
    ("entre 1 et 5 ans après le dernier contact", True),
])
def test_a_range_is_compared_with_the_reference_by_its_upper_bound(retention: str, flagged: bool,
                                                                     vocabulary: Vocabulary) -> None:
    data = register(data_subjects=["prospect"], retention=[retention])
    assert ("GL007" in codes_of(data, vocabulary)) is flagged


def test_a_criterion_in_words_is_not_compared_with_reference_periods(vocabulary: Vocabulary) -> None:
    data = register(data_subjects=["prospect"], retention=[{"criterion": "As long as the prospect answers"}])
    codes = codes_of(data, vocabulary)
    assert not codes & {"GL007", "GL008"} and "GL065" in codes


def test_under_latest_of_a_rule_within_the_reference_does_not_excuse_a_longer_one(
        vocabulary: Vocabulary) -> None:
    rules = ["1 year after last_contact", "5 years after last_contact"]
    first = register(data_subjects=["prospect"], retention=rules)
    latest = register(data_subjects=["prospect"], retention=rules, retention_combination="latest_of")
    assert "GL007" not in codes_of(first, vocabulary)  # the first reached is within 3 years
    assert "GL007" in codes_of(latest, vocabulary)


def test_a_conditional_rule_within_the_reference_does_not_excuse_the_others(vocabulary: Vocabulary) -> None:
    data = register(data_subjects=["prospect"], retention=[
        "1 year after last_contact where the prospect asked for no contact", "5 years after last_contact"])
    assert "GL007" in codes_of(data, vocabulary)


def test_per_category_rules_and_same_category_alternatives_are_not_gl066(vocabulary: Vocabulary) -> None:
    same = register(retention=["until consent_withdrawn", "3 years after last_contact"])
    assert "GL066" not in codes_of(same, vocabulary)
    finer = register(retention=[{"rule": "until transaction_end", "categories": ["identity"]},
                                {"rule": "5 years after relationship_end", "categories": ["identity.name"]}])
    (finding,) = [f for f in findings_of(finer, vocabulary) if f.code == "GL066"]
    assert "identity" in finding.message and "first reached" in finding.message


def test_a_conditional_criterion_is_named_by_its_criterion_in_the_finding(vocabulary: Vocabulary) -> None:
    """GL067 on a rule given in words names it by its criterion, not as an empty rule ''."""
    rule = {"criterion": "until the book is returned", "condition": "when no fine is due"}
    data = register(retention=[rule])
    [finding] = [f for f in findings_of(data, vocabulary) if f.code == "GL067"]
    assert "until the book is returned" in finding.message and "''" not in finding.message


def test_categories_no_retention_rule_names_are_a_missing_retention(vocabulary: Vocabulary) -> None:
    """Rules that each name their categories and leave one out: the documents print a retention gap
    for it, so GL006 names it (lint and documents agree)."""
    data = register(retention=[{"rule": "5 years after relationship_end", "categories": ["contact.email"]}])
    (finding,) = [f for f in findings_of(data, vocabulary) if f.code == "GL006"]
    assert "`identity.name`" in finding.message and "`contact.email`" not in finding.message
    every = register(retention=[{"rule": "5 years after relationship_end",
                                 "categories": ["contact.email", "identity.name"]}])
    assert "GL006" not in codes_of(every, vocabulary)
