"""A mail the SMTP server refuses leaves no address in garde's log (red team of 2026-12-07, red29).

The privacy center's and the subject API's sign-in codes and the consent API's invitations are mailed
after the answer, to whatever address the caller typed. A mail server that refuses the recipient
(``550 5.1.1 <nobody@…>: Recipient address rejected``: a mailbox that does not exist, which anyone can
type) made the mailer raise an error quoting smtplib's refusal, the address twice in it, and the
background task's failure was logged by the ASGI server with its traceback: a stranger wrote addresses
of their choosing, and a real holder's with a typo, into the server's log, which no erasure reaches
(docs/security.md, *A failure is recorded without the data it was about*). Now the refusal is worded
without the recipient and logged as one line, without a traceback.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from garde.problems import GardeError
from garde.rights.mailer import SmtpMailer
from tests.api_support import REGISTER, free_port, garde_serve, new_keys


@dataclass
class Refusing:
    """An SMTP server that refuses every recipient, quoting it, as real servers do."""

    refused: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        self.refused.append(address)
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"


@contextmanager
def refusing_server() -> Iterator[tuple[int, Refusing]]:
    handler, port = Refusing(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def test_the_mailers_refusal_does_not_quote_the_recipient() -> None:
    address = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    with refusing_server() as (port, handler):
        mailer = SmtpMailer("127.0.0.1", port, "privacy@example.com", tls="none", allow_plaintext=True,
                            timeout=10)
        with pytest.raises(GardeError) as refused:
            mailer.send(address, "Your code", "123456")
    assert handler.refused == [address]
    message = str(refused.value)
    assert address not in message and "nobody" not in message, message
    assert "550" in message and "refused" in message  # the operator still learns what happened


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_refused_recipient_leaves_no_address_in_the_servers_log(tmp_path: Path) -> None:
    """A real `garde serve` (the mail path does not depend on the store: SQLite) mailing through an
    SMTP server that refuses: a stranger's sign-in for an address that does not exist, and a shop's
    consent call naming one unchecked. Before: a traceback in the log quoting both addresses."""
    url = f"sqlite:///{tmp_path / 'garde.db'}"
    keys = new_keys(url, {"service": "shop"})
    signin, invited = (f"{who}-{uuid.uuid4().hex[:8]}@example.org" for who in ("nobody", "noone"))
    log = tmp_path / "serve.log"
    with refusing_server() as (port, handler):
        env = {**os.environ, "GARDE_DATABASE_URL": url, "GARDE_REGISTERS": str(REGISTER),
               "GARDE_MAILER": "smtp", "GARDE_SMTP_HOST": "127.0.0.1", "GARDE_SMTP_PORT": str(port),
               "GARDE_SMTP_TLS": "none", "GARDE_SMTP_ALLOW_PLAINTEXT": "true",
               "GARDE_RESULTS": str(tmp_path / "results")}
        try:
            with garde_serve(env, tmp_path, log) as base:
                started = httpx.post(f"{base}/api/v1/me/session", json={"email": signin}, timeout=60)
                assert started.status_code == 202, started.text
                asked = httpx.post(f"{base}/api/v1/consents/give", timeout=60,
                                   headers={"Authorization": f"Bearer {keys['service']}"},
                                   json={"activity": "newsletter", "subject": {"email": invited},
                                         "channel": "email", "checked": {"email": False}})
                assert asked.status_code == 202, asked.text
                _until(lambda: len(handler.refused) == 2, f"the server was asked {handler.refused}")
                _until(lambda: log.read_text().count("mail not sent") >= 2, log.read_text())
        finally:
            output = log.read_text()
            assert signin not in output and invited not in output, output
            assert "Traceback" not in output, output
