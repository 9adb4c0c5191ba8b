"""The "your request is answered" mail is sent once though the process sending it is killed, on
SQLite and PostgreSQL (the ``shop`` fixture of test_rights_requests).

The store's outbox (garde.rights.outbox) holds the mail's intent, committed before it is sent: a
process SIGKILLed right after the mail left (before anything else committed) leaves it pending,
and the next run sends it again with the same Message-ID (mail clients show one message); a run
that finds it sent sends nothing. The sending is audited once either way.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights import FileMailer
from garde.rights.intake import get_request
from garde.rights.outbox import mail_outbox
from garde.rights.reminders import remind
from garde.rights.run_lock import RequestRunning
from garde.rights.running import finish, run
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401

ANA = "ana@example.org"
# runs a request with a mailer whose process is SIGKILLed as soon as the mail is written
_KILLED_AFTER_SENDING = """
import os, signal, sys
from pathlib import Path
from garde.rights.deployment import Deployment
from garde.rights.mailer import FileMailer
from garde.rights.running import run
from garde.store import connect

class KilledAfterSending(FileMailer):
    def send(self, *args, **kwargs):
        super().send(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

store_url, datasets, results, request_id, outbox = sys.argv[1:]
deployment = Deployment.open(Path(datasets), results=Path(results))
run(connect(store_url), request_id, deployment, mailer=KilledAfterSending(Path(outbox)))
"""


def _notified(shop: Shop, request_id: str) -> list[object]:  # noqa: F811
    with shop.store.connect() as conn:
        return [e["payload"]["about"] for e in audit.entries(conn, kind="request.notified")
                if e["payload"]["request"] == request_id]


def _outbox_row(shop: Shop, request_id: str) -> tuple[str, str]:  # noqa: F811
    from garde.rights.outbox import mail_outbox

    with shop.store.connect() as conn:
        row = conn.execute(sa.select(mail_outbox.c.message_id, mail_outbox.c.status)
                           .where(mail_outbox.c.request_id == request_id)).one()
    return str(row.message_id), str(row.status)


def _run_when_free(shop: Shop, request_id: str, mailer: FileMailer) -> None:  # noqa: F811
    """Run the request once the killed process's run lock is gone (PostgreSQL ends its session when
    it sees the connection closed)."""
    while True:
        try:
            run(shop.store, request_id, shop.deployment, mailer=mailer)
            return
        except RequestRunning:
            time.sleep(0.05)


def test_a_process_killed_after_sending_leaves_the_mail_to_be_sent_again_with_the_same_id(
        shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    store_url = shop.store.url.render_as_string(hide_password=False)
    killed = subprocess.run([sys.executable, "-c", _KILLED_AFTER_SENDING, store_url,
                             str(tmp_path / "datasets"), str(tmp_path / "results"), request_id, str(outbox)],
                            check=False)
    assert killed.returncode == -9
    [sent] = FileMailer(outbox).messages()
    message_id = sent["Message-ID"]
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "in_progress"
    assert _notified(shop, request_id) == []

    _run_when_free(shop, request_id, FileMailer(outbox))
    first, again = FileMailer(outbox).messages()
    assert first["Message-ID"] == again["Message-ID"] == message_id  # the same message, shown once
    assert str(first["Subject"]) == str(again["Subject"]) and first["To"] == again["To"] == ANA
    assert _notified(shop, request_id) == ["answered"]
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "completed"
    assert _outbox_row(shop, request_id) == (message_id, "sent")


def test_a_run_that_finds_the_mail_sent_sends_nothing(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """The mail sent and marked, the process dies before completing the request: the next run
    completes it without mailing again."""
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    from garde.rights.outbox import send_once

    def tell_once() -> bool:  # sent, then marked in a transaction of its own (an older run's order)
        told = send_once(shop.store, request, "answered", FileMailer(outbox),
                         shop.deployment.registers.values())
        assert told is not None
        with shop.store.begin() as conn:
            audit.record_many(conn, told(conn))
        return True

    with shop.store.connect() as conn:
        request = get_request(conn, request_id)
    assert tell_once()
    assert tell_once()
    [sent] = FileMailer(outbox).messages()
    run(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))
    assert [m["Message-ID"] for m in FileMailer(outbox).messages()] == [sent["Message-ID"]]
    assert _outbox_row(shop, request_id) == (sent["Message-ID"], "sent")
    assert _notified(shop, request_id) == ["answered"]
    finish(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))  # completed: as it is
    assert len(FileMailer(outbox).messages()) == 1


# extends or rejects a request, or reminds the DPO, with a mailer whose process is SIGKILLed as soon as
# the mail is written: before the step's transaction commits
_KILLED_IN_THE_STEP = """
import os, signal, sys
from datetime import date
from pathlib import Path
from garde.rights import FileMailer, extend, reject
from garde.rights.reminders import remind
from garde.settings import Settings
from garde.store import connect

class KilledAfterSending(FileMailer):
    def send(self, *args, **kwargs):
        super().send(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

store_url, step, request_id, outbox = sys.argv[1:]
store = connect(store_url)
mailer = KilledAfterSending(Path(outbox))
if step == "remind":
    settings = Settings(outbox=Path(outbox), registers=Path(outbox) / "none.yaml",
                        dpo_email="dpo@shop.example")
    remind(store, settings, today=date(2026, 4, 2), mailer=mailer, registers=[])
else:
    with store.begin() as conn:
        if step == "extend":
            extend(conn, request_id, "several systems", today=date(2026, 3, 3), mailer=mailer)
        else:
            reject(conn, request_id, "manifestly unfounded", mailer=mailer)
"""
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _killed_in(engine: sa.Engine, step: str, request_id: str, outbox: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    killed = subprocess.run([sys.executable, "-c", _KILLED_IN_THE_STEP, url, step, request_id, str(outbox)],
                            check=False)
    assert killed.returncode == -9


def _audited(engine: sa.Engine, kind: str) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [e["payload"] for e in audit.entries(conn, kind=kind)]


@pytest.mark.parametrize("step", ["extend", "reject"])
def test_a_process_killed_after_telling_of_an_extension_or_rejection_sends_the_same_mail_again(
        engine: sa.Engine, tmp_path: Path, step: str) -> None:
    """The "extended" (Art. 12(3)) and "rejected" (Art. 12(4)) mails are sent in the step's transaction;
    killed after sending, the step rolls back: the DPO does it again, and the subject's mailbox gets the
    same message (its Message-ID from the outbox's intent, committed before), told once in the log."""
    from garde.rights import extend, reject, submit

    outbox = tmp_path / "outbox"
    with engine.begin() as conn:
        request_id = submit(conn, "access", {"email": ANA}, received_at=RECEIVED).id
    _killed_in(engine, step, request_id, outbox)
    [sent] = FileMailer(outbox).messages()
    with engine.connect() as conn:
        request = get_request(conn, request_id)
    assert request.status == "received" and request.extended_deadline is None  # the step rolled back
    assert _audited(engine, "request.notified") == []

    with engine.begin() as conn:  # the DPO, told the command failed, does it again
        if step == "extend":
            extend(conn, request_id, "several systems", today=date(2026, 3, 3), mailer=FileMailer(outbox))
        else:
            reject(conn, request_id, "manifestly unfounded", mailer=FileMailer(outbox))
    first, again = FileMailer(outbox).messages()
    assert first["Message-ID"] == again["Message-ID"] == sent["Message-ID"]  # the same message, shown once
    assert str(first["Subject"]) == str(again["Subject"]) and again["To"] == ANA
    about = "extended" if step == "extend" else "rejected"
    assert [p["about"] for p in _audited(engine, "request.notified")] == [about]
    with engine.connect() as conn:
        assert get_request(conn, request_id).status == ("received" if step == "extend" else "rejected")
        row = conn.execute(sa.select(mail_outbox.c.message_id, mail_outbox.c.status)
                           .where(mail_outbox.c.request_id == request_id, mail_outbox.c.about == about)).one()
    assert tuple(row) == (sent["Message-ID"], "sent")
    with engine.begin() as conn, pytest.raises(GardeError):  # done: refused, and no third mail
        if step == "extend":
            extend(conn, request_id, "again", today=date(2026, 3, 3), mailer=FileMailer(outbox))
        else:
            reject(conn, request_id, "again", mailer=FileMailer(outbox))
    assert len(FileMailer(outbox).messages()) == 2


def test_a_process_killed_after_reminding_the_dpo_sends_the_same_mail_again(
        engine: sa.Engine, tmp_path: Path) -> None:
    """The DPO's deadline reminder (a periodic job): killed after the mail left, the day's claim rolls
    back and the next run sends the same list with the same Message-ID, audited once."""
    from tests.test_request_reminders import DUE, register, requests_in_every_state, settings

    outbox = tmp_path / "outbox"
    requests_in_every_state(engine)
    _killed_in(engine, "remind", "", outbox)
    [sent] = FileMailer(outbox).messages()
    assert _audited(engine, "request.reminded") == []
    again = remind(engine, settings(tmp_path), today=DUE, registers=[register()])
    assert again.sent
    first, second = FileMailer(outbox).messages()
    assert first["Message-ID"] == second["Message-ID"] == sent["Message-ID"]
    assert len(_audited(engine, "request.reminded")) == 1
    assert not remind(engine, settings(tmp_path), today=DUE, registers=[register()]).sent  # once a day


def test_the_answered_mail_is_marked_sent_by_the_completing_transaction(shop: Shop,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    """Issue 15: no transaction of its own for the mark: the request completed, its mail marked sent
    and the sending audited commit together (the notice is the entry just before the completion)."""
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    run(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))
    with shop.store.connect() as conn:
        kinds = [e["kind"] for e in audit.entries(conn) if e["payload"].get("request") == request_id]
    assert kinds[-2:] == ["request.notified", "request.completed"]
    assert _outbox_row(shop, request_id)[1] == "sent"


def test_the_mail_intent_is_one_statement(shop: Shop) -> None:  # noqa: F811
    """The intent is written, or the one there read, by one statement (an insert returning the row);
    on PostgreSQL in autocommit, with no ``BEGIN`` and ``COMMIT`` round trips around it."""
    from garde.rights.outbox import mail_intent

    request_id = verified(shop, "access", {"email": ANA}, language="en")
    statements: list[str] = []
    autocommit: list[bool] = []

    def count(conn: sa.Connection, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)
        autocommit.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    sa.event.listen(shop.store, "before_cursor_execute", count)
    try:
        first = mail_intent(shop.store, request_id, "answered")
        assert len(statements) == 1
        assert mail_intent(shop.store, request_id, "answered") == first and first[1] == "pending"
        assert len(statements) == 2
        assert autocommit == [shop.store.dialect.name == "postgresql"] * 2
    finally:
        sa.event.remove(shop.store, "before_cursor_execute", count)


def test_the_answered_mail_intent_is_committed_by_the_run_start(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """Issue 15: the intent is written by the start's transaction, with the request's move (in its round
    trip on PostgreSQL), not by a statement on a connection of its own: when the mail goes, the request
    is ``in_progress`` and its intent pending, both committed; on PostgreSQL the run checks out no store
    connection besides its run lock's; the mail carries the intent's Message-ID."""
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    seen: list[tuple[str, tuple[str, str]]] = []

    class Looking(FileMailer):
        def send(self, *args: object, **kwargs: object) -> None:
            with shop.store.connect() as conn:  # another connection: what the start committed
                row = conn.execute(sa.select(mail_outbox.c.message_id, mail_outbox.c.status)
                                   .where(mail_outbox.c.request_id == request_id)).one()
                seen.append((get_request(conn, request_id).status, (row.message_id, row.status)))
            super().send(*args, **kwargs)  # type: ignore[arg-type]

    checkouts: list[object] = []

    def checkout(*args: object) -> None:
        checkouts.append(args)

    sa.event.listen(shop.store, "checkout", checkout)
    try:
        run(shop.store, request_id, shop.deployment, mailer=Looking(outbox))
    finally:
        sa.event.remove(shop.store, "checkout", checkout)
    [(status, (message_id, pending))] = seen
    assert (status, pending) == ("in_progress", "pending")
    [sent] = FileMailer(outbox).messages()
    assert sent["Message-ID"] == message_id
    assert _outbox_row(shop, request_id) == (message_id, "sent")
    if shop.store.dialect.name == "postgresql":  # the run lock's connection, and the mailer's look
        assert len(checkouts) == 2


def test_a_mark_that_finds_the_answered_mail_no_longer_pending_refuses_the_completion(
        shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """The completion marks the mail with its move (one round trip on PostgreSQL) and appends the notice
    as marked; a row marked meanwhile by another transaction (nothing does so under the run lock) refuses
    the completion rather than audit a notice twice: the request stays in progress, and the next run finds
    the mail sent, sends nothing and completes it."""
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="en")

    class MarkedElsewhere(FileMailer):
        def send(self, *args: object, **kwargs: object) -> None:
            super().send(*args, **kwargs)  # type: ignore[arg-type]
            with shop.store.begin() as conn:
                conn.execute(mail_outbox.update().where(mail_outbox.c.request_id == request_id)
                             .values(status="sent", sent_at=datetime.now(UTC)))

    with pytest.raises(GardeError, match="marked sent by another transaction"):
        run(shop.store, request_id, shop.deployment, mailer=MarkedElsewhere(outbox))
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "in_progress"
    assert _notified(shop, request_id) == []
    run(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))
    assert len(FileMailer(outbox).messages()) == 1
    assert _notified(shop, request_id) == []  # marked by the other transaction, which audits its own
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "completed"
