"""Request intake, lifecycle, deadlines and identity verification, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from garde import audit
from garde.problems import GardeError, NotFound
from garde.rights.code_limits import CODES_PER_HOUR, CODES_PER_IDENTITY, MAX_ATTEMPTS, unlock
from garde.rights.intake import (
    deadline_for,
    extend,
    extended_deadline_for,
    get_request,
    list_requests,
    reject,
    submit,
)
from garde.rights.mailer import FileMailer, configured_mailer
from garde.rights.tables import requests
from garde.rights.verification import check_code, send_code, send_codes, verify_out_of_band
from garde.settings import Settings
from garde.store import connect, migrate
from garde.subjects import subject_identifiers
from tests.conftest import mailed_code

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(days)
def test_deadline_is_one_month_clamped_to_the_month_end(received: date) -> None:
    due = deadline_for(received)
    assert (due.year * 12 + due.month) - (received.year * 12 + received.month) == 1
    assert due.day == received.day or (due.day < received.day and (due + timedelta(days=1)).day == 1)


@given(days)
def test_extension_is_two_more_months_and_never_shortens(received: date) -> None:
    extended = extended_deadline_for(received)
    assert extended > deadline_for(received) > received
    assert (extended.year * 12 + extended.month) - (received.year * 12 + received.month) == 3


def test_month_ends_and_leap_years() -> None:
    assert deadline_for(date(2025, 1, 31)) == date(2025, 2, 28)
    assert deadline_for(date(2024, 1, 31)) == date(2024, 2, 29)
    assert deadline_for(date(2024, 3, 31)) == date(2024, 4, 30)
    assert extended_deadline_for(date(2023, 11, 30)) == date(2024, 2, 29)
    assert extended_deadline_for(date(2024, 12, 31)) == date(2025, 3, 31)


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    return engine  # the migrated store of conftest.py


def test_submit_list_show_and_audit(store: sa.Engine) -> None:
    received = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
    with store.begin() as conn:
        request = submit(conn, "access", {"email": " Ana@Example.org "}, language="fr", received_at=received)
    assert request.status == "received"
    assert request.deadline == date(2025, 2, 28)
    assert request.identities == {"email": "ana@example.org"}
    with store.begin() as conn:
        assert get_request(conn, request.id[:8]).id == request.id
        assert [r.id for r in list_requests(conn)] == [request.id]
        assert [r.id for r in list_requests(conn, overdue=True, today=date(2025, 3, 1))] == [request.id]
        assert list_requests(conn, overdue=True, today=date(2025, 2, 28)) == []
        kinds = [e["kind"] for e in audit.entries(conn)]
        assert kinds == ["request.received"]
        assert audit.verify(conn).ok
        with pytest.raises(NotFound):
            get_request(conn, "nope-nope")
        with pytest.raises(GardeError, match="unknown request type"):
            submit(conn, "forget-me", {"email": "a@b.c"})
    assert "ana@example.org" not in str(request.to_data())


def test_extension_only_within_the_first_month_with_a_reason(store: sa.Engine) -> None:
    received = datetime(2024, 1, 31, tzinfo=UTC)
    with store.begin() as conn:
        late = submit(conn, "erasure", {"email": "late@example.org"}, received_at=received)
        ontime = submit(conn, "erasure", {"email": "ontime@example.org"}, received_at=received)
        with pytest.raises(GardeError, match="reason"):
            extend(conn, ontime.id, "  ", today=date(2024, 2, 1))
        with pytest.raises(GardeError, match="within the first month"):
            extend(conn, late.id, "many requests", today=date(2024, 3, 1))
        extended = extend(conn, ontime.id, "many requests", today=date(2024, 2, 29))
        assert extended.extended_deadline == date(2024, 4, 30)
        assert extended.due == date(2024, 4, 30)
        with pytest.raises(GardeError, match="already extended"):
            extend(conn, ontime.id, "again", today=date(2024, 2, 2))
        overdue = list_requests(conn, overdue=True, today=date(2024, 3, 1))
        assert [r.id for r in overdue] == [late.id]


def test_reject_closes_the_request_and_forgets_raw_identities(store: sa.Engine) -> None:
    with store.begin() as conn:
        request = submit(conn, "access", {"phone": "+33 6 12 34 56 78"})
        rejected = reject(conn, request.id, "manifestly unfounded (Art. 12(5))", actor="dpo")
        assert rejected.status == "rejected" and rejected.rejected_at is not None
        assert rejected.identities == {}
        assert [s["status"] for s in rejected.steps] == ["received", "rejected"]
        with pytest.raises(GardeError, match="cannot become"):
            reject(conn, request.id, "again")


def test_one_time_code_verifies_and_links_the_subject(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"}, language="it")
        send_code(conn, request.id, mailer)
    message = mailer.messages()[0]
    assert message["To"] == "ana@example.org" and message["Subject"] == "Il tuo codice di verifica"
    code = mailed_code(tmp_path / "outbox")
    with store.begin() as conn:
        stored = conn.execute(sa.text("SELECT code_hash FROM verification_codes")).scalar()
        assert code not in str(stored)
        wrong = "000000" if code != "000000" else "111111"
        assert check_code(conn, request.id, wrong).attempts_left == MAX_ATTEMPTS - 1
    with store.begin() as conn:
        assert check_code(conn, request.id, code).verified
        verified = get_request(conn, request.id)
        assert verified.status == "verified" and verified.verification == "code"
        assert verified.subject_id is not None
        linked = conn.execute(sa.select(subject_identifiers.c.subject_id)).scalars().all()
        assert linked == [verified.subject_id]
        assert not check_code(conn, request.id, code).verified  # a code is used once
        assert audit.verify(conn).ok


def test_attempts_are_limited_and_counted_even_when_wrong(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "erasure", {"email": "bob@example.org"})
        send_code(conn, request.id, mailer)
    code = mailed_code(tmp_path / "outbox")
    wrong = "000000" if code != "000000" else "111111"
    messages = []
    for _ in range(MAX_ATTEMPTS):
        with store.begin() as conn:
            outcome = check_code(conn, request.id, wrong)
            assert not outcome.verified
            messages.append(outcome.message)
    assert "wrong code; 1 attempt left" in messages and "wrong code; 2 attempts left" in messages
    with store.begin() as conn:
        outcome = check_code(conn, request.id, code)
        assert not outcome.verified and "too many" in outcome.message


def test_expired_code_is_refused(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "eve@example.org"})
        send_code(conn, request.id, mailer, lifetime=timedelta(seconds=-1))
        outcome = check_code(conn, request.id, mailed_code(tmp_path / "outbox"))
        assert not outcome.verified and "expired" in outcome.message


def test_out_of_band_verification_needs_a_reason(store: sa.Engine) -> None:
    with store.begin() as conn:
        request = submit(conn, "restriction", {"customer_id": "C-42"})
        with pytest.raises(GardeError, match="no e-mail"):
            send_code(conn, request.id, FileMailer(Path("unused")))
        with pytest.raises(GardeError, match="reason"):
            verify_out_of_band(conn, request.id, "", actor="agent:marie", identities=["customer_id"])
        verified = verify_out_of_band(conn, request.id, "ID card checked in store", actor="agent:marie",
                                      identities=["customer_id"])
        assert verified.status == "verified" and verified.verification == "out_of_band"
        assert verified.steps[-1]["actor"] == "agent:marie"
        assert verified.proofs["customer_id"]["method"] == "out_of_band"
        assert verified.proofs["customer_id"]["note"] == "ID card checked in store"


# --- Wrong-code limits that hold under concurrency, resends and many requests (issue 9) ----------


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_parallel_wrong_guesses_never_compare_more_than_the_limit(database_url: str, store: sa.Engine,
                                                                  tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "victim@example.org"})
        send_code(conn, request.id, mailer)
    wrong = _wrong(mailed_code(tmp_path / "outbox"))
    threads, guesses = 16, 5
    barrier = threading.Barrier(threads)

    def guess() -> list[str]:
        engine = connect(database_url, create=True)  # its own connection, as another attacker's process would
        try:
            messages = []
            with engine.connect():
                barrier.wait()
            for _ in range(guesses):
                with engine.begin() as conn:
                    messages.append(check_code(conn, request.id, wrong).message)
            return messages
        finally:
            engine.dispose()

    with ThreadPoolExecutor(threads) as pool:
        outcomes = [m for ms in pool.map(lambda _: guess(), range(threads)) for m in ms]
    compared = [m for m in outcomes if m.startswith("wrong code")]
    assert len(outcomes) == threads * guesses
    assert len(compared) == MAX_ATTEMPTS
    with store.begin() as conn:
        kinds = [e["kind"] for e in audit.entries(conn)]
        assert kinds.count("request.code_rejected") == MAX_ATTEMPTS
        assert kinds.count("request.locked") == 1
        assert get_request(conn, request.id).locked_at is not None
        assert audit.verify(conn).ok


def test_resending_a_code_does_not_reset_the_wrong_attempts(store: sa.Engine, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    with store.begin() as conn:
        request = submit(conn, "erasure", {"email": "bob@example.org"})
        send_code(conn, request.id, FileMailer(outbox))
    for _ in range(MAX_ATTEMPTS - 1):
        with store.begin() as conn:
            assert not check_code(conn, request.id, _wrong(mailed_code(outbox))).verified
    with store.begin() as conn:
        send_code(conn, request.id, FileMailer(outbox))
    with store.begin() as conn:
        outcome = check_code(conn, request.id, _wrong(mailed_code(outbox)))
        assert outcome.attempts_left == 0 and "locked" in outcome.message
    with store.begin() as conn:
        outcome = check_code(conn, request.id, mailed_code(outbox))  # even the right code: locked
        assert not outcome.verified and "locked" in outcome.message
        with pytest.raises(GardeError, match="locked"):
            send_code(conn, request.id, FileMailer(outbox))


def test_codes_sent_per_request_are_limited(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"})
    for _ in range(CODES_PER_HOUR):
        with store.begin() as conn:
            send_code(conn, request.id, mailer)
    with store.begin() as conn, pytest.raises(GardeError, match="codes were sent for request"):
        send_code(conn, request.id, mailer)
    assert len(mailer.messages()) == CODES_PER_HOUR


def test_codes_sent_to_one_identity_are_limited_across_requests(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    for _ in range(CODES_PER_IDENTITY):
        with store.begin() as conn:  # an attacker opens one request after another for the victim
            request = submit(conn, "access", {"email": "Victim@example.org"})
            send_code(conn, request.id, mailer)
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "victim@example.org"})
    with store.begin() as conn, pytest.raises(GardeError, match="codes were sent to this e-mail"):
        send_code(conn, request.id, mailer)
    with store.begin() as conn:  # another person is not held up
        other = submit(conn, "access", {"email": "someone@example.org"})
        send_code(conn, other.id, mailer)
    assert len(mailer.messages()) == CODES_PER_IDENTITY + 1


def test_a_locked_request_is_unlocked_by_the_dpo_out_of_band(store: sa.Engine, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"})
        send_code(conn, request.id, FileMailer(outbox))
    for _ in range(MAX_ATTEMPTS):
        with store.begin() as conn:
            check_code(conn, request.id, _wrong(mailed_code(outbox)))
    with store.begin() as conn:
        locked = get_request(conn, request.id)
        assert locked.locked_at is not None and locked.to_data()["locked"] is True
        assert [r.id for r in list_requests(conn, status="locked")] == [request.id]
        with pytest.raises(GardeError, match="reason"):
            unlock(conn, request.id, " ", actor="dpo")
        unlocked = unlock(conn, request.id, "the subject called; number matches the account", actor="dpo")
        assert unlocked.locked_at is None and unlocked.wrong_attempts == 0
        with pytest.raises(GardeError, match="not locked"):
            unlock(conn, request.id, "again", actor="dpo")
        send_code(conn, request.id, FileMailer(outbox))
    with store.begin() as conn:
        assert check_code(conn, request.id, mailed_code(outbox)).verified
        kinds = [e["kind"] for e in audit.entries(conn)]
        assert kinds.index("request.locked") < kinds.index("request.unlocked")
        assert audit.verify(conn).ok


def test_a_phone_is_proven_by_a_code_sent_by_sms(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org", "phone": "+33 6 11 11 11 11"},
                         language="fr")
        assert send_codes(conn, request.id, mailer) == ["email", "phone"]
    (to, text), = mailer.texts()
    assert to == "+33611111111" and "code" in text
    sms = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    with store.begin() as conn:
        with pytest.raises(GardeError, match="--identity"):
            check_code(conn, request.id, sms)
        assert check_code(conn, request.id, sms, kind="phone").verified
        assert get_request(conn, request.id).proofs.keys() == {"phone"}
        assert check_code(conn, request.id, mailed_code(tmp_path / "outbox"), kind="email").verified
        proven = get_request(conn, request.id)
        assert proven.status == "verified" and proven.proofs.keys() == {"email", "phone"}
        assert proven.proven_identities == {"email": "ana@example.org", "phone": "+33611111111"}
        with pytest.raises(GardeError, match="customer number cannot receive a code"):
            send_code(conn, submit(conn, "access", {"customer_id": "C-1"}).id, mailer, kind="customer_id")


def test_a_request_is_addressed_by_its_id_or_eight_characters(store: sa.Engine) -> None:
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"})
        assert get_request(conn, request.id).id == request.id
        assert get_request(conn, request.id[:8]).id == request.id
        with pytest.raises(GardeError, match="at least 8 characters"):
            get_request(conn, request.id[:7])
        twin = request.id[:8] + "-zzzz-zzzz-zzzz-zzzzzzzzzzzz"
        conn.execute(sa.insert(requests).values(
            id=twin, type="access", status="received", identity_hashes="{}", language="en", details="{}",
            received_at=request.received_at, deadline=request.deadline))
        with pytest.raises(GardeError, match="several request ids"):
            get_request(conn, request.id[:8])
        assert get_request(conn, request.id[:10]).id == request.id


def test_parallel_requests_for_one_identity_get_no_more_codes_than_the_limit(
        database_url: str, store: sa.Engine, tmp_path: Path) -> None:
    threads = 12
    with store.begin() as conn:  # an attacker opens many requests for the victim's e-mail at once
        ids = [submit(conn, "access", {"email": "victim@example.org"}).id for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def send(request_id: str) -> bool:
        engine = connect(database_url, create=True)
        try:
            with engine.connect():
                barrier.wait()
            with engine.begin() as conn:
                send_code(conn, request_id, FileMailer(tmp_path / "outbox"))
            return True
        except GardeError:
            return False
        finally:
            engine.dispose()

    with ThreadPoolExecutor(threads) as pool:
        sent = sum(pool.map(send, ids))
    assert sent == CODES_PER_IDENTITY
    assert len(FileMailer(tmp_path / "outbox").messages()) == CODES_PER_IDENTITY


class RecordingGateway:
    """An SMS gateway as an operator plugs one (``sms_gateway = "module:factory"``)."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send_sms(self, to: str, body: str) -> None:
        self.sent.append((to, body))


def test_an_sms_gateway_is_plugged_by_a_setting(store: sa.Engine, tmp_path: Path) -> None:
    RecordingGateway.sent.clear()
    settings = Settings(mailer="smtp", sms_gateway=f"{__name__}:RecordingGateway")
    mailer = configured_mailer(settings)
    with store.begin() as conn:
        request = submit(conn, "access", {"phone": "+39 333 123 4567"}, language="it")
        send_code(conn, request.id, mailer, kind="phone")
    (to, text), = RecordingGateway.sent
    assert to == "+393331234567" and "codice" in text
    with pytest.raises(GardeError, match="cannot send text messages"), store.begin() as conn:
        send_codes(conn, request.id, configured_mailer(Settings(mailer="smtp")))
        send_code(conn, request.id, configured_mailer(Settings(mailer="smtp")), kind="phone")
    with pytest.raises(GardeError, match="sms_gateway"):
        configured_mailer(Settings(sms_gateway="garde.nowhere:Gateway"))


def test_migration_keeps_what_an_open_request_s_verification_proved(database_url: str) -> None:
    engine = connect(database_url, create=True)
    migrate(engine, "0005")
    with engine.begin() as conn:
        for request_id, verification, identities in (
                ("by-code", "code", '{"email": "a@example.org", "customer_id": "C-1"}'),
                ("by-agent", "out_of_band", '{"customer_id": "C-2", "phone": "+33611111111"}')):
            conn.execute(sa.text(
                "INSERT INTO requests (id, type, status, identities, identity_hashes, language, details, "
                "received_at, deadline, verification, verified_at) VALUES (:id, 'access', 'verified', "
                ":identities, '{}', 'en', '{}', '2025-01-01', '2025-02-01', :verification, '2025-01-01')"),
                {"id": request_id, "identities": identities, "verification": verification})
    migrate(engine)
    with engine.begin() as conn:
        by_code, by_agent = get_request(conn, "by-code"), get_request(conn, "by-agent")
    engine.dispose()
    assert by_code.proven_identities == {"email": "a@example.org"}  # the code was mailed there, no more
    assert by_code.proofs["email"]["at"] == "2025-01-01T00:00:00+00:00"
    assert by_agent.proofs.keys() == {"customer_id", "phone"}
    assert {p["method"] for p in by_agent.proofs.values()} == {"out_of_band"}


def test_a_code_refused_for_the_phone_mails_no_code_for_the_email(store: sa.Engine, tmp_path: Path) -> None:
    """The phone at its limit refuses send_codes before anything goes out: before, the e-mail's code
    was mailed and then its stored hash rolled back with the refusal, a code nobody could check."""
    mailer = FileMailer(tmp_path / "outbox")
    for _ in range(CODES_PER_IDENTITY):
        with store.begin() as conn:
            request = submit(conn, "access", {"phone": "+33612345678"})
            send_code(conn, request.id, mailer, kind="phone")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org", "phone": "+33612345678"})
    with store.begin() as conn, pytest.raises(GardeError, match="codes were sent to this telephone number"):
        send_codes(conn, request.id, mailer)
    assert mailer.messages() == []


def test_an_expired_code_is_not_waiting(store: sa.Engine, tmp_path: Path) -> None:
    """An expired e-mail code and a live phone code: the code typed is the phone's, no need to say so."""
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org", "phone": "+33612345678"})
        send_code(conn, request.id, mailer, kind="email", lifetime=timedelta(seconds=-1))
        send_code(conn, request.id, mailer, kind="phone")
    code = re.findall(r"\b\d{6}\b", mailer.texts()[-1][1])[0]
    with store.begin() as conn:
        assert check_code(conn, request.id, code).verified


def test_two_proofs_at_once_are_both_kept_with_one_subject(database_url: str, store: sa.Engine) -> None:
    """An agent proves the phone while the subject proves the e-mail: before, each read the proofs,
    added its own and wrote them back, so one was lost, and two subjects could be made."""
    with store.begin() as conn:
        ids = [submit(conn, "access", {"email": f"p{i}@example.org", "phone": f"+3361234{i:04d}"}).id
               for i in range(8)]
    barrier = threading.Barrier(2)

    def prove(kind: str) -> None:
        engine = connect(database_url)  # its own connection, as another process would
        try:
            for request_id in ids:
                barrier.wait()
                with engine.begin() as conn:
                    verify_out_of_band(conn, request_id, f"{kind} checked", actor=f"agent:{kind}",
                                       identities=[kind])
        finally:
            engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(prove, ["email", "phone"]))
    with store.connect() as conn:
        for request_id in ids:
            request = get_request(conn, request_id)
            assert set(request.proofs) == {"email", "phone"}
            linked = conn.execute(sa.select(subject_identifiers.c.kind).where(
                subject_identifiers.c.subject_id == request.subject_id)).scalars().all()
            assert set(linked) == {"email", "phone"}  # both proven identities on the one subject


def test_a_request_id_with_a_nul_is_not_found_never_a_database_error(engine: sa.Engine) -> None:
    """PostgreSQL refuses a NUL in a text parameter: a typed or crafted id holding one (a URL's
    %00) is an unknown request, as on SQLite, not a server error."""
    with engine.begin() as conn:
        request_id = submit(conn, "access", {"email": "ana@example.com"}).id
        for typed in (request_id[:8] + "\x00", "\x00" * 8, request_id + "\x00"):
            with pytest.raises(NotFound):
                get_request(conn, typed)
