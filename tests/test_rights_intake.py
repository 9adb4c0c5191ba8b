"""Request intake, lifecycle, deadlines and identity verification, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from garde import audit
from garde.problems import GardeError, NotFound
from garde.rights.intake import (
    deadline_for,
    extend,
    extended_deadline_for,
    get_request,
    list_requests,
    reject,
    submit,
)
from garde.rights.mailer import FileMailer
from garde.rights.verification import MAX_ATTEMPTS, check_code, send_code, verify_out_of_band
from garde.subjects import subject_identifiers

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


def _code(outbox: Path) -> str:
    body = FileMailer(outbox).messages()[-1].get_body()
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body.get_content())
    assert match
    return match.group(1)


def test_one_time_code_verifies_and_links_the_subject(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"}, language="it")
        send_code(conn, request.id, mailer)
    message = mailer.messages()[0]
    assert message["To"] == "ana@example.org" and message["Subject"] == "Il tuo codice di verifica"
    code = _code(tmp_path / "outbox")
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
    code = _code(tmp_path / "outbox")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        with store.begin() as conn:
            assert not check_code(conn, request.id, wrong).verified
    with store.begin() as conn:
        outcome = check_code(conn, request.id, code)
        assert not outcome.verified and "too many" in outcome.message


def test_expired_code_is_refused(store: sa.Engine, tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    with store.begin() as conn:
        request = submit(conn, "access", {"email": "eve@example.org"})
        send_code(conn, request.id, mailer, lifetime=timedelta(seconds=-1))
        outcome = check_code(conn, request.id, _code(tmp_path / "outbox"))
        assert not outcome.verified and "expired" in outcome.message


def test_out_of_band_verification_needs_a_reason(store: sa.Engine) -> None:
    with store.begin() as conn:
        request = submit(conn, "restriction", {"customer_id": "C-42"})
        with pytest.raises(GardeError, match="no e-mail"):
            send_code(conn, request.id, FileMailer(Path("unused")))
        with pytest.raises(GardeError, match="reason"):
            verify_out_of_band(conn, request.id, "", actor="agent:marie")
        verified = verify_out_of_band(conn, request.id, "ID card checked in store", actor="agent:marie")
        assert verified.status == "verified" and verified.verification == "out_of_band"
        assert verified.steps[-1]["actor"] == "agent:marie"
