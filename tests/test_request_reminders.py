"""Deadline reminders to the DPO (issue 15, scheduled work): one mail listing the requests due soon
and the overdue ones, nothing about the subjects, sent once a day for the same list.

GDPR Art. 12(3): an answer is due one month after receipt, extendable by two. On SQLite and
PostgreSQL; a run twice the same day sends one mail, even when the two runs overlap.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.problems import GardeError
from garde.register import Register
from garde.register.loading import parse_register
from garde.rights import FileMailer, SmtpMailer, extend, reject, submit
from garde.rights.reminders import remind
from garde.settings import Settings
from garde.store import connect, migrate
from tests.conftest import cli_store

RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # due 2026-04-02
DUE = date(2026, 4, 2)
ANA = "ana.secret@example.org"


def register(language: str = "en", dpo: str | None = "dpo@shop.example") -> Register:
    contact = f", dpo: {{email: {dpo}}}" if dpo else ""
    text = f"""
language: {language}
controller: {{name: Mini Shop SAS, country: FR{contact}}}
activities:
  - id: accounts
    name: {{en: Customer accounts}}
    purposes: [{{en: Manage your account}}]
    data_subjects: [customer]
    data_categories: [contact]
    legal_bases: [contract]
    retention: ["3 years after last_contact"]
"""
    return parse_register(text).register


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(outbox=tmp_path / "outbox", registers=tmp_path / "none.yaml", **values)  # type: ignore[arg-type]


def mails(tmp_path: Path) -> list[EmailMessage]:
    return FileMailer(tmp_path / "outbox").messages()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def requests_in_every_state(engine: sa.Engine) -> dict[str, str]:
    """An access request due on DUE, an erasure received a week later, one extended, one rejected."""
    with engine.begin() as conn:
        due = submit(conn, "access", {"email": ANA}, received_at=RECEIVED).id
        later = submit(conn, "erasure", {"email": ANA}, received_at=RECEIVED + timedelta(days=7)).id
        extended = submit(conn, "access", {"email": "bob@example.org"}, received_at=RECEIVED).id
        extend(conn, extended, "several systems", today=date(2026, 3, 3))
        rejected = submit(conn, "access", {"email": "eve@example.org"}, received_at=RECEIVED).id
        reject(conn, rejected, "manifestly unfounded")
    return {"due": due, "later": later, "extended": extended, "rejected": rejected}


def test_the_dpo_gets_one_mail_of_the_requests_due_within_7_days_and_overdue(
        engine: sa.Engine, tmp_path: Path) -> None:
    ids = requests_in_every_state(engine)
    config = settings(tmp_path)
    sent = remind(engine, config, today=DUE - timedelta(days=3), registers=[register()])
    assert sent.sent and sent.to == "dpo@shop.example"
    assert [(r.request_id, r.days_left, r.overdue) for r in sent.requests] == [(ids["due"], 3, False)]
    [mail] = mails(tmp_path)
    assert mail["To"] == "dpo@shop.example"
    assert "overdue: 0, due within 7 days: 1" in str(mail["Subject"])
    text = body(mail)
    assert ids["due"] in text
    assert "access, received on 2 March 2026, due on 2 April 2026 (days left: 3)" in text
    for other in ("later", "extended", "rejected"):
        assert ids[other] not in text
    assert ANA not in text and ANA not in str(mail["Subject"])  # nothing about the subject

    # a week later: the first is overdue, the second due within 7 days
    late = remind(engine, config, today=DUE + timedelta(days=4), registers=[register()])
    assert [(r.request_id, r.days_left) for r in late.requests] == [(ids["due"], -4), (ids["later"], 3)]
    text = body(mails(tmp_path)[-1])
    assert "OVERDUE (days past: 4)" in text and "erasure" in text
    with engine.connect() as conn:
        reminded = [e["payload"] for e in audit.entries(conn, kind="request.reminded")]
    assert [p["requests"] for p in reminded] == [[ids["due"]], [ids["due"], ids["later"]]]
    assert reminded[1]["overdue"] == 1


def test_a_second_run_the_same_day_sends_nothing_a_changed_list_sends_again(
        engine: sa.Engine, tmp_path: Path) -> None:
    ids = requests_in_every_state(engine)
    config, today = settings(tmp_path), DUE + timedelta(days=4)
    assert remind(engine, config, today=today, registers=[register()]).sent
    again = remind(engine, config, today=today, registers=[register()])
    assert not again.sent and again.why_not == "already sent today" and len(mails(tmp_path)) == 1
    with engine.begin() as conn:  # the erasure is answered: the list changes, a new mail tells it
        reject(conn, ids["later"], "no such customer")
    changed = remind(engine, config, today=today, registers=[register()])
    assert changed.sent and [r.request_id for r in changed.requests] == [ids["due"]]
    assert len(mails(tmp_path)) == 2
    assert remind(engine, config, today=today + timedelta(days=1), registers=[register()]).sent  # next day


def test_nothing_due_sends_nothing_and_a_dry_run_sends_and_records_nothing(
        engine: sa.Engine, tmp_path: Path) -> None:
    requests_in_every_state(engine)
    config = settings(tmp_path)
    quiet = remind(engine, config, today=date(2026, 3, 5), registers=[register()])
    assert not quiet.sent and quiet.why_not == "nothing due" and quiet.requests == ()
    dry = remind(engine, config, today=DUE, dry_run=True, registers=[register(dpo=None)])
    assert not dry.sent and dry.why_not == "dry run" and dry.to is None
    assert [r.days_left for r in dry.requests] == [0, 7]  # due today, and in 7 days: within 7
    assert mails(tmp_path) == []
    with engine.connect() as conn:
        assert list(audit.entries(conn, kind="request.reminded")) == []
    assert remind(engine, config, today=DUE, registers=[register()]).sent
    again = remind(engine, config, today=DUE, dry_run=True, registers=[register()])
    assert again.why_not == "already sent today"


def test_the_dpo_setting_wins_and_without_any_address_the_run_fails_clearly(
        engine: sa.Engine, tmp_path: Path) -> None:
    requests_in_every_state(engine)
    with pytest.raises(GardeError, match="set dpo_email"):
        remind(engine, settings(tmp_path), today=DUE, registers=[register(dpo=None)])
    sent = remind(engine, settings(tmp_path, dpo_email="privacy-team@shop.example"), today=DUE,
                  registers=[register()])
    assert sent.to == "privacy-team@shop.example" and mails(tmp_path)[0]["To"] == "privacy-team@shop.example"


def test_the_mail_is_in_the_registers_language(engine: sa.Engine, tmp_path: Path) -> None:
    requests_in_every_state(engine)
    remind(engine, settings(tmp_path), today=DUE + timedelta(days=4), registers=[register("fr")])
    [mail] = mails(tmp_path)
    assert "en retard : 1" in str(mail["Subject"])
    text = body(mail).replace("\u202f", " ")
    assert "reçue le 2 mars 2026, échéance le 2 avril 2026, EN RETARD (jours de retard : 4)" in text
    assert "effacement" in text  # the erasure's type, in words


def test_a_mail_that_cannot_be_sent_is_sent_by_the_next_run(engine: sa.Engine, tmp_path: Path) -> None:
    requests_in_every_state(engine)
    with socket.socket() as closed:  # a port nobody listens on: the SMTP connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = SmtpMailer("127.0.0.1", port, "garde@shop.example", tls="none", allow_plaintext=True, timeout=5)
    with pytest.raises(GardeError, match="mail not sent"):
        remind(engine, settings(tmp_path), today=DUE, mailer=refused, registers=[register()])
    retried = remind(engine, settings(tmp_path), today=DUE, registers=[register()])
    assert retried.sent and len(mails(tmp_path)) == 1


@pytest.mark.postgres
def test_two_runs_at_the_same_time_send_one_mail(postgres_url: str, tmp_path: Path) -> None:
    engine = connect(postgres_url, create=True)
    migrate(engine)
    try:
        requests_in_every_state(engine)
        start = threading.Barrier(2)
        results = []

        def run() -> None:
            start.wait()
            results.append(remind(engine, settings(tmp_path), today=DUE, registers=[register()]))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.sent for r in results) == [False, True]
        assert len(mails(tmp_path)) == 1
    finally:
        engine.dispose()


def test_garde_request_remind(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = Path(__file__).parents[1] / "registers" / "reference-shop.yaml"
    monkeypatch.setenv("GARDE_REGISTERS", str(shop))
    with cli_store(cli_env) as engine:
        ids = requests_in_every_state(engine)
    runner = CliRunner()
    dry = runner.invoke(app, ["request", "remind", "--today", "2026-04-06", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert ids["due"][:8] in dry.output and "overdue by 4 d" in dry.output
    assert "no reminder sent: dry run" in dry.output
    sent = runner.invoke(app, ["request", "remind", "--today", "2026-04-06"])
    assert sent.exit_code == 0 and "reminder sent to dpo@maison-exemple.example: 2 requests" in sent.output
    again = runner.invoke(app, ["request", "remind", "--today", "2026-04-06"])
    assert "no reminder sent: already sent today" in again.output
    bad = runner.invoke(app, ["request", "remind", "--today", "6 April"])
    assert bad.exit_code == 2
    late_dry = runner.invoke(app, ["request", "remind", "--today", "2026-06-30", "--dry-run"])
    assert "would close 3 request(s) nobody proved an identity of in 90 days" in late_dry.output
    assert ids["due"][:8] in late_dry.output.splitlines()[0]


def test_a_request_nobody_proved_in_90_days_is_closed_and_its_identities_dropped(
        engine: sa.Engine, tmp_path: Path) -> None:
    """GDPR Art. 5(1)(c), (e), 12(6): a request whose identity nobody proved cannot be answered and its
    raw identities (the subject's or an impostor's) are not kept for ever: the daily reminder closes
    it ``unverified_request_days`` (90) after receipt; a verified one of the same age stays, a dry run
    closes nothing, 0 keeps them all."""
    from garde.rights import verify_out_of_band
    from garde.rights.intake import get_request

    ids = requests_in_every_state(engine)  # "due" and "extended" received on RECEIVED, "later" a week on
    with engine.begin() as conn:
        proven = submit(conn, "access", {"email": "carl@example.org"}, received_at=RECEIVED).id
        verify_out_of_band(conn, proven, "card", actor="agent:test", identities=["email"])
    day_90 = (RECEIVED + timedelta(days=90)).date()
    kept_open = remind(engine, settings(tmp_path, unverified_request_days=0), today=day_90,
                       dry_run=True, registers=[register()])
    assert kept_open.closed_unverified == ()
    day_89 = remind(engine, settings(tmp_path), today=day_90 - timedelta(days=1), dry_run=True,
                    registers=[register()])
    assert day_89.closed_unverified == ()
    dry = remind(engine, settings(tmp_path), today=day_90, dry_run=True, registers=[register()])
    assert set(dry.closed_unverified) == {ids["due"], ids["extended"]}
    with engine.connect() as conn:
        assert get_request(conn, ids["due"]).status == "received"
    done = remind(engine, settings(tmp_path), today=day_90, registers=[register()])
    assert set(done.closed_unverified) == {ids["due"], ids["extended"]}
    assert {r.request_id for r in done.requests} == {ids["later"], proven}  # still due: listed
    with engine.connect() as conn:
        for closed in (ids["due"], ids["extended"]):
            request = get_request(conn, closed)
            assert request.status == "cancelled" and request.identities == {}
            assert "not proven within 90 days" in (request.steps[-1]["note"] or "")
        assert get_request(conn, ids["later"]).status == "received"
        assert get_request(conn, proven).status == "verified"
        stored = " ".join(str(row) for row in conn.execute(sa.text("SELECT * FROM requests")))
        assert ANA in stored  # the week-younger erasure still holds it, as it is still open
        assert "bob@example.org" not in stored  # the extended one's, dropped
        cancelled = [e for e in audit.entries(conn, kind="request.cancelled")]
        assert {e["payload"]["request"] for e in cancelled} == {ids["due"], ids["extended"]}
        assert {e["actor"] for e in cancelled} == {"garde"}
    again = remind(engine, settings(tmp_path), today=day_90, registers=[register()])
    assert again.closed_unverified == ()
