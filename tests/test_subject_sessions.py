"""Subject sessions in the library: codes to one identity counted across requests and sessions,
hashes only in the store, guesses bounded under concurrency, identities wiped at the end."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from garde.problems import GardeError
from garde.rights import FileMailer, send_code, submit
from garde.rights.code_limits import mailbox
from garde.rights.sessions import (
    SessionRefused,
    authenticate,
    confirm_session,
    end_session,
    start_session,
)
from garde.rights.tables import subject_sessions
from garde.subjects import ensure_subject
from tests.conftest import mailed_code

ANA = "ana@example.com"


def _known(engine: sa.Engine, email: str = ANA) -> str:
    with engine.begin() as conn:
        return ensure_subject(conn, {"email": email})


def test_codes_to_one_identity_count_across_requests_and_sessions(engine: sa.Engine, tmp_path: Path) -> None:
    _known(engine)
    mailer = FileMailer(tmp_path)
    for _ in range(2):
        start_session(engine, "email", ANA, mailer).deliver()
    with engine.begin() as conn:
        first = submit(conn, "access", {"email": ANA})
        send_code(conn, first.id, mailer)
        send_code(conn, first.id, mailer)
        send_code(conn, first.id, mailer)  # 2 sessions + 3 request codes: the day's 5
    with pytest.raises(GardeError, match="5 codes were sent to this e-mail address"), engine.begin() as conn:
        send_code(conn, submit(conn, "access", {"email": ANA}).id, mailer)
    # past the day's five a start answers as any (tests/test_signin_oracles.py), mails nothing and opens
    # nothing: no session row holds a code for it
    past = start_session(engine, "email", ANA, mailer)
    past.deliver()
    assert len(mailer.messages()) == 5
    with engine.connect() as conn:
        assert conn.execute(sa.select(subject_sessions.c.id).where(subject_sessions.c.id == past.session)
                            ).first() is None
    with pytest.raises(SessionRefused):
        confirm_session(engine, past.session, mailed_code(tmp_path))


def test_session_starts_per_identity_are_rate_limited(engine: sa.Engine, tmp_path: Path) -> None:
    for _ in range(3):
        start_session(engine, "email", "Nobody@Example.com", FileMailer(tmp_path)).deliver()
    # the same identity in another spelling is the same key: its fourth start this hour mails nothing
    start_session(engine, "email", "nobody@example.com", FileMailer(tmp_path)).deliver()
    assert len(FileMailer(tmp_path).messages()) == 3


def test_only_hashes_are_stored_and_logout_wipes_the_identity(engine: sa.Engine, tmp_path: Path) -> None:
    _known(engine)
    mailer = FileMailer(tmp_path)
    started = start_session(engine, "email", ANA, mailer)
    started.deliver()
    code = mailed_code(tmp_path)
    token = confirm_session(engine, started.session, code)
    with engine.connect() as conn:
        row = conn.execute(sa.select(subject_sessions)).one()
        session = authenticate(conn, token.token)
    stored = " ".join(str(value) for value in row)
    assert token.token not in stored and token.token[3:] not in stored and code not in row.code_hash
    assert session is not None and session.identity == ANA and session.subject_id is not None
    with pytest.raises(SessionRefused):  # a code opens one session once
        confirm_session(engine, started.session, code)
    end_session(engine, session)
    with engine.connect() as conn:
        assert authenticate(conn, token.token) is None
        assert conn.execute(sa.select(subject_sessions.c.identity)).scalar() is None


def test_parallel_wrong_guesses_never_compare_more_than_five(engine: sa.Engine, tmp_path: Path) -> None:
    _known(engine)
    started = start_session(engine, "email", ANA, FileMailer(tmp_path))
    started.deliver()
    code = mailed_code(tmp_path)
    wrong = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 21)]
    refused: list[int] = []

    def guess(attempt: str) -> None:
        try:
            confirm_session(engine, started.session, attempt)
        except SessionRefused:
            refused.append(1)

    threads = [threading.Thread(target=guess, args=(attempt,)) for attempt in wrong]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refused) == 20
    with engine.connect() as conn:
        row = conn.execute(sa.select(subject_sessions)).one()
    assert row.wrong_attempts == 5 and row.locked_at is not None and row.token_hash is None
    with pytest.raises(SessionRefused):
        confirm_session(engine, started.session, code)


def test_a_phone_session_needs_an_sms_gateway(engine: sa.Engine, tmp_path: Path) -> None:
    class MailOnly:
        def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None:
            raise AssertionError("nothing is sent")

    with pytest.raises(GardeError, match="SMS gateway"):
        start_session(engine, "phone", "+33612345678", MailOnly())
    with pytest.raises(GardeError, match="e-mail address or a telephone number"):
        start_session(engine, "customer_id", "C-1", FileMailer(tmp_path))


class Recording:
    """A mailer that notes what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        self.sent.append(to)


def test_the_answer_does_the_same_work_for_known_and_unknown_identities(engine: sa.Engine) -> None:
    """Nothing is mailed while the session is opened (the API mails after answering); then each
    identity, known or not, is mailed its code. Both leave one session row and one audit entry."""
    _known(engine)
    mailer = Recording()
    known = start_session(engine, "email", ANA, mailer)
    unknown = start_session(engine, "email", "stranger@example.com", mailer)
    assert mailer.sent == []
    assert len(known.session) == len(unknown.session) == 32
    known.deliver()
    unknown.deliver()
    assert mailer.sent == [ANA, "stranger@example.com"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(subject_sessions.c.code_hash, subject_sessions.c.salt)).all()
    assert [(len(code), len(salt)) for code, salt in rows] == [(64, 32), (64, 32)]


_LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20)


@given(local=_LOCAL, tag=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.+_-", max_size=12),
       domain=st.sampled_from(["example.org", "gmail.com", "mail.example.co.uk"]))
def test_a_mailbox_is_its_address_without_the_tag_and_nothing_else_is_folded(local: str, tag: str,
                                                                             domain: str) -> None:
    """The code limit's mailbox: the part before the first ``+`` of the local part; dots kept, the
    domain kept, a phone as it is; folding twice changes nothing."""
    assert mailbox("email", f"{local}@{domain}") == f"{local}@{domain}"
    assert mailbox("email", f"{local}+{tag}@{domain}") == f"{local}@{domain}"
    assert mailbox("email", f"+{tag}@{domain}") == f"+{tag}@{domain}"  # no mailbox name left: as typed
    assert mailbox("email", mailbox("email", f"{local}+{tag}@{domain}")) == f"{local}@{domain}"
    assert mailbox("phone", "+33612345678") == "+33612345678"
