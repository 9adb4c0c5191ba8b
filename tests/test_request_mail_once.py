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
from pathlib import Path

import sqlalchemy as sa

from garde import audit
from garde.rights import FileMailer
from garde.rights.intake import get_request
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
    from garde.rights.outbox import tell_once

    with shop.store.connect() as conn:
        request = get_request(conn, request_id)
    assert tell_once(shop.store, request, "answered", FileMailer(outbox), shop.deployment.registers.values())
    assert tell_once(shop.store, request, "answered", FileMailer(outbox), shop.deployment.registers.values())
    [sent] = FileMailer(outbox).messages()
    run(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))
    assert [m["Message-ID"] for m in FileMailer(outbox).messages()] == [sent["Message-ID"]]
    assert _outbox_row(shop, request_id) == (sent["Message-ID"], "sent")
    assert _notified(shop, request_id) == ["answered"]
    finish(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))  # completed: as it is
    assert len(FileMailer(outbox).messages()) == 1
