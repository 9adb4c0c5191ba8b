"""Register-level recipients, transfers, security measures and sources: inherited by every activity.

An activity's own list adds to the register's; ``overrides: [field]`` replaces it; an activity's
``no_transfer`` is its own statement on transfers. Every consumer reads ``Register.effective``:
each test below sets the statement at the register's level only, so a consumer that read the
activity's raw field would miss it.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde.cli import app
from garde.consent.ledger import LedgerEvent
from garde.consent.receipts import receipt
from garde.documents import export_register, render_notice
from garde.documents.wording import Wording
from garde.lint import lint
from garde.problems import InputError
from garde.register import Register, parse_register
from garde.register.inherit import INHERITABLE
from garde.rights.access import _activity_info

HOST = {"kind": "service_providers", "name": "Hosting Co"}
CARRIER = {"kind": "carriers", "name": "Carrier Co"}
ACTIVITY: dict[str, Any] = {
    "name": "Orders", "purposes": ["Deliver orders"], "data_subjects": ["customer"],
    "data_categories": ["contact.email"], "legal_bases": ["contract"],
    "retention": ["5 years after relationship_end"], "automated_decisions": False,
    "provision": {"requirement": "contractual", "consequences": "No delivery without an address"},
}


def data(activities: list[dict[str, Any]] | None = None, **register: Any) -> dict[str, Any]:
    """A register with the statements ``register`` for every activity, and ``activities``."""
    acts = activities if activities is not None else [{"id": "orders"}]
    return {
        "controller": {"name": "Shop", "country": "FR", "contact": {"email": "privacy@shop.example"},
                       "dpo": {"email": "dpo@shop.example"}},
        "rights": {"route": {"email": "rights@shop.example"}},
        **register,
        "activities": [{**copy.deepcopy(ACTIVITY), "name": a["id"].capitalize(), **a} for a in acts],
    }


def load(raw: dict[str, Any]) -> Register:
    return parse_register(yaml.safe_dump(raw, allow_unicode=True), "shop.yaml", check_terms=False).register


def codes(raw: dict[str, Any], today: Any = None) -> list[tuple[str, str | None, int | None]]:
    loaded = parse_register(yaml.safe_dump(raw, allow_unicode=True), "shop.yaml", check_terms=False)
    return [(f.code, f.activity, f.line) for f in lint(loaded, today=today)]


# -- semantics --------------------------------------------------------------------------------------

def test_an_activity_list_adds_to_the_registers_by_default() -> None:
    register = load(data([{"id": "orders", "recipients": [CARRIER]}, {"id": "newsletter"}],
                         recipients=[HOST]))
    orders, newsletter = (register.effective(a) for a in register.activities)
    assert [r.name for r in orders.recipient_list()] == ["Hosting Co", "Carrier Co"]
    assert [r.name for r in newsletter.recipient_list()] == ["Hosting Co"]


def test_overrides_replaces_the_registers_list() -> None:
    register = load(data([{"id": "cctv", "recipients": ["authorities"], "overrides": ["recipients"]}],
                         recipients=[HOST], sources=["data_subject"]))
    applies = register.effective(register.activities[0])
    assert [r.kind for r in applies.recipient_list()] == ["authorities"]
    assert applies.source_list() == ["data_subject"]  # only the field named is overridden


def test_an_override_with_nothing_of_its_own_is_a_gap_not_none() -> None:
    register = load(data([{"id": "a", "overrides": ["transfers"]}], no_transfer=True))
    assert register.effective(register.activities[0]).transfer_state == "gap"


def test_the_registers_no_transfer_and_transfers_are_inherited() -> None:
    none = load(data(no_transfer=True))
    listed = load(data(transfers=[{"country": "US", "safeguard": "scc"}]))
    assert none.transfer_state(none.activities[0]) == "none"
    assert listed.transfer_state(listed.activities[0]) == "listed"


def test_an_activitys_no_transfer_overrides_the_registers_transfers() -> None:
    register = load(data([{"id": "paper", "no_transfer": True}, {"id": "web"}],
                         transfers=[{"country": "US", "safeguard": "scc"}]))
    paper, web = (register.effective(a) for a in register.activities)
    assert paper.transfer_state == "none" and paper.transfer_list() == []
    assert web.transfer_state == "listed"


def test_a_statement_the_activity_repeats_is_not_counted_twice() -> None:
    register = load(data([{"id": "orders", "recipients": [HOST, CARRIER]}], recipients=[HOST]))
    applies = register.effective(register.activities[0])
    assert [applies.path(s) for s in applies.recipients] == [("recipients", 0),
                                                              ("activities", 0, "recipients", 1)]


TEXTS = st.lists(st.sampled_from(["Backups", "Encryption", "Role access", "Logging"]), max_size=4)


@given(register_items=TEXTS, own_items=TEXTS, override=st.booleans())
def test_effective_is_the_registers_then_the_activitys_own(
    register_items: list[str], own_items: list[str], override: bool
) -> None:
    activity = {"id": "a", "security_measures": own_items,
                "overrides": ["security_measures"] if override else []}
    register = load(data([activity], security_measures=register_items))
    applies = register.effective(register.activities[0])
    expected = [] if override else list(register_items)
    for measure in own_items:  # the activity's own, each once, unless the register already says it
        if measure not in expected:
            expected.append(measure)
    assert applies.security_list() == expected
    for stated in applies.security_measures:  # each path points at the text it came from
        owner: Any = register
        for part in applies.path(stated):
            owner = owner[part] if isinstance(part, int) else getattr(owner, part)
        assert owner == stated.value
    assert set(applies.security_list()) >= set(own_items)
    assert applies.inherits("security_measures") is not override


@given(register_none=st.booleans(), register_listed=st.booleans(), activity_none=st.booleans(),
       activity_listed=st.booleans(), override=st.booleans())
def test_the_transfer_state_never_reads_silence_as_none(
    register_none: bool, register_listed: bool, activity_none: bool, activity_listed: bool, override: bool
) -> None:
    listed = [{"country": "US", "safeguard": "scc"}]
    activity = {"id": "a", "no_transfer": activity_none, "transfers": listed if activity_listed else [],
                "overrides": ["transfers"] if override else []}
    register = load(data([activity], no_transfer=register_none,
                         transfers=[{"country": "IN", "safeguard": "scc"}] if register_listed else []))
    applies = register.effective(register.activities[0])
    inherited = not override and not activity_none
    if activity_listed:  # an activity's own transfers always apply
        assert applies.transfer_state == "listed" and "US" in {t.country for t in applies.transfer_list()}
    assert ("IN" in {t.country for t in applies.transfer_list()}) == (inherited and register_listed)
    if applies.transfer_state == "none":  # only ever from an explicit statement that applies
        assert activity_none or (register_none and inherited)
    if applies.transfer_state == "gap":  # nothing that applies says anything
        assert not activity_none and not activity_listed
        assert not (inherited and (register_none or register_listed))


# -- loading and round trip -------------------------------------------------------------------------

def test_register_show_prints_the_register_as_written() -> None:
    raw = data([{"id": "orders", "recipients": [CARRIER]}], recipients=[HOST],
               security_measures=["Encrypted backups"], sources=["data_subject"],
               transfers=[{"country": "US", "safeguard": "scc"}])
    shown = load(raw).to_data()
    assert shown["recipients"] == [{"kind": "service_providers", "name": "Hosting Co"}]
    assert shown["activities"][0]["recipients"] == [{"kind": "carriers", "name": "Carrier Co"}]
    assert "security_measures" not in shown["activities"][0]
    assert load(json.loads(json.dumps(shown))).to_data() == shown


def test_register_show_json_keeps_register_level_statements_at_the_top(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(data([{"id": "orders"}], security_measures=["Encrypted backups"])))
    result = CliRunner().invoke(app, ["register", "show", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["security_measures"] == ["Encrypted backups"]
    assert "security_measures" not in shown["activities"][0]


def test_an_unknown_overridden_field_names_the_file_line_and_field() -> None:
    raw = data([{"id": "orders", "overrides": ["retention"]}])
    with pytest.raises(InputError) as caught:
        load(raw)
    message = str(caught.value)
    assert "shop.yaml" in message and "overrides" in message
    assert all(name in message for name in INHERITABLE)


def test_register_level_terms_are_checked() -> None:
    raw = data(recipients=["hosting_provider"], sources=["carrier_pigeon"])
    text = yaml.safe_dump(raw)
    with pytest.raises(InputError) as caught:
        parse_register(text, "shop.yaml")
    fields = {problem.field for problem in caught.value.problems}
    assert {"recipients[0].kind", "sources[0]"} <= fields


# -- lint -------------------------------------------------------------------------------------------

def test_security_measures_of_the_register_count_for_every_activity() -> None:
    assert ("GL060", "orders", 11) not in codes(data(security_measures=["Encrypted backups"]))
    overridden = data([{"id": "orders", "overrides": ["security_measures"]}], security_measures=["Backups"])
    assert "GL060" in {code for code, _, _ in codes(overridden)}


def test_security_measures_are_not_asked_of_processor_activities_here() -> None:
    raw = data([{"id": "orders", "role": "processor", "on_behalf_of": ["Retailer SA"]}])
    assert "GL060" not in {code for code, _, _ in codes(raw)}


def test_a_register_level_recipient_abroad_needs_a_declared_transfer() -> None:
    abroad = {**HOST, "country": "IN"}
    assert "GL011" in {code for code, _, _ in codes(data(recipients=[abroad]))}
    declared = data(recipients=[abroad], transfers=[{"country": "IN", "safeguard": "scc"}])
    assert "GL011" not in {code for code, _, _ in codes(declared)}


def test_a_register_level_recipient_undeclared_everywhere_is_one_finding() -> None:
    abroad = {**HOST, "country": "IN"}
    everywhere = data([{"id": "orders"}, {"id": "newsletter"}], recipients=[abroad])
    assert [a for code, a, _ in codes(everywhere) if code == "GL011"] == [None]
    declared_once = data([{"id": "orders", "transfers": [{"country": "IN", "safeguard": "scc"}]},
                          {"id": "newsletter"}], recipients=[abroad])
    assert [a for code, a, _ in codes(declared_once) if code == "GL011"] == ["newsletter"]


def test_a_register_level_transfer_is_checked_once_where_it_is_written() -> None:
    raw = data([{"id": "orders"}, {"id": "newsletter"}], transfers=[{"country": "IN"}])
    found = [(activity, line) for code, activity, line in codes(raw) if code == "GL010"]
    text = yaml.safe_dump(raw)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("transfers:")) + 1
    assert found == [(None, line)]


def test_no_transfer_of_the_register_binds_inheriting_activities_only() -> None:
    listed = [{"country": "US", "safeguard": "scc"}]
    contradicted = data([{"id": "orders", "transfers": listed}], no_transfer=True)
    assert "GL028" in {code for code, _, _ in codes(contradicted)}
    overriding = data([{"id": "orders", "transfers": listed, "overrides": ["transfers"]}], no_transfer=True)
    assert "GL028" not in {code for code, _, _ in codes(overriding)}
    both = data([{"id": "orders"}, {"id": "newsletter"}], no_transfer=True, transfers=listed)
    assert [a for code, a, _ in codes(both) if code == "GL028"] == [None]  # once, for the register


def test_register_level_sources_decide_between_art_13_and_14() -> None:
    obtained = data([{"id": "orders", "provision": None}], sources=["third_party"])
    assert "GL031" not in {code for code, _, _ in codes(obtained)}
    assert "GL031" in {code for code, _, _ in codes(data([{"id": "orders", "provision": None}]))}


# -- documents --------------------------------------------------------------------------------------

REGISTER_WIDE = data([{"id": "orders", "recipients": [CARRIER]}, {"id": "newsletter"},
                      {"id": "cctv", "recipients": ["authorities"], "overrides": ["recipients"]}],
                     recipients=[HOST], transfers=[{"country": "US", "recipient": "Cloud Inc",
                                                    "safeguard": "scc"}],
                     security_measures=["Encrypted backups"], sources=["data_subject", "third_party"])


def test_the_notice_says_a_register_wide_statement_once() -> None:
    page = render_notice(load(REGISTER_WIDE), "en", "md")
    recipients = page.split("## Recipients")[1].split("\n## ")[0]
    assert recipients.count("Hosting Co") == 1
    assert "For every activity (except Cctv): " in recipients
    assert "Orders, in addition: " in recipients and "Carrier Co" in recipients
    assert "Newsletter" not in recipients  # nothing of its own to add
    assert "Cctv: " in recipients and "Public authorities" in recipients
    transfers = page.split("## Transfers")[1].split("\n## ")[0]
    assert transfers.count("Cloud Inc") == 1 and "For every activity: " in transfers
    sources = page.split("## Data not collected from you")[1].split("\n## ")[0]
    assert "For every activity: " in sources
    assert sources.count("As for every activity (above)") == 3


def test_the_art14_section_says_the_registers_sources_once_only_when_they_bring_it() -> None:
    # The register's sources are all the person: the section is there for one activity's third party,
    # and lists that activity's sources in full instead of "for every activity: the data subject".
    raw = data([{"id": "orders", "sources": ["third_party"]}, {"id": "newsletter"}],
               sources=["data_subject"])
    page = render_notice(load(raw), "en", "md")
    section = page.split("## Data not collected from you")[1].split("\n## ")[0]
    assert "For every activity" not in section and "As for every activity" not in section
    assert "The data subject, Other sources" in section and "Newsletter" not in section


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_art30_reading_formats_print_register_wide_statements_once(lang: str) -> None:
    register = load(REGISTER_WIDE)
    for fmt in ("html", "md"):
        page = export_register(register, fmt, lang).decode()
        assert page.count("Hosting Co") == 1 and page.count("Encrypted backups") == 1
        assert page.count("Cloud Inc") == 1
        above = Wording(lang, "en").word("common.word.as_for_every_activity").text
        assert page.count(above) == 2 + 3 + 3 + 3  # recipients (cctv overrides), transfers, security, sources


def test_the_art30_csv_and_json_rows_are_exact() -> None:
    register = load(REGISTER_WIDE)
    rows = list(csv.DictReader(io.StringIO(export_register(register, "csv", "en").decode())))
    by_name = {row["Processing activity"]: row for row in rows}
    assert "Hosting Co" in by_name["Orders"]["Recipients"] and "Carrier Co" in by_name["Orders"]["Recipients"]
    assert "Hosting Co" not in by_name["Cctv"]["Recipients"]
    assert all("Encrypted backups" in row["Security measures"] for row in rows)
    assert all("Cloud Inc" in row["Transfers outside the EU and safeguards"] for row in rows)
    document = json.loads(export_register(register, "json", "en"))
    assert all("Encrypted backups" in row["security"] for row in document["sheets"][0]["rows"])
    assert "Hosting Co" in document["common"]["Recipients"]


def test_an_access_answer_gives_the_registers_recipients_and_sources() -> None:
    register = load(REGISTER_WIDE)
    info = _activity_info(register.activities[1], register, Wording("en", "en"))
    assert info["recipients"] == ["Hosting Co"]
    assert info["sources"] == ["The data subject", "Other sources"]
    assert any("Cloud Inc" in line for line in info["transfers"])


def test_a_consent_receipt_names_the_registers_recipients() -> None:
    register = load(REGISTER_WIDE)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    event = LedgerEvent("e1", "s1", "newsletter", "email", "given", now, now, "web_form", None, None, None,
                        None, "subject", None)
    assert receipt(event, register)["processing"]["recipients"] == ["service_providers"]
