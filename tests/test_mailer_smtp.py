"""The SMTP mailer against a real SMTP server on loopback (aiosmtpd), with real certificates (trustme).

One-time codes prove an identity to garde and the SMTP password opens the
mail account: neither may cross the network in clear unless the operator
says so, and a server whose certificate is not trusted gets nothing.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from garde.problems import GardeError
from garde.rights.mailer import SmtpMailer, configured_mailer
from garde.settings import Settings

HOST = "127.0.0.1"


@dataclass
class Inbox:
    """What the server received: each message with whether it came over TLS."""

    messages: list[tuple[bytes, bool]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append((content, session.ssl is not None))
        return "250 OK"

    def authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login.decode())
        return AuthResult(success=data.password == b"s3cret")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(context)
    return context


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[int]:
    """A real SMTP server on a loopback port; ``tls_context`` offers STARTTLS, ``ssl_context`` is SMTPS."""
    port = free_port()
    controller = Controller(inbox, hostname=HOST, port=port, authenticator=inbox.authenticate,
                            auth_require_tls=False, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def mailer(port: int, **options: Any) -> SmtpMailer:
    return SmtpMailer(HOST, port, "privacy@example.com", timeout=10, **options)


def test_a_server_without_starttls_is_refused_and_gets_nothing() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port, pytest.raises(GardeError, match="does not offer STARTTLS"):
        mailer(port, user="garde", password="s3cret").send("ada@example.com", "Your code", "123456")
    assert inbox.messages == [] and inbox.logins == []


def test_plaintext_is_sent_only_when_the_setting_allows_it() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        mailer(port, allow_plaintext=True).send("ada@example.com", "Your code", "123456")
        with pytest.raises(GardeError, match="smtp_allow_plaintext"):
            mailer(port, tls="none").send("ada@example.com", "Your code", "654321")
        mailer(port, tls="none", allow_plaintext=True).send("ada@example.com", "Your code", "654321")
    assert [(b"123456" in m, tls) for m, tls in inbox.messages] == [(True, False), (False, False)]


def test_starttls_is_used_when_offered_and_the_login_goes_inside_it(ca: trustme.CA, ca_file: Path) -> None:
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_context(ca)) as port:
        # allowed plaintext or not, a server that offers STARTTLS gets TLS
        for allow in (False, True):
            mailer(port, user="garde", password="s3cret", ca_file=ca_file, allow_plaintext=allow).send(
                "ada@example.com", "Your code", "123456")
    assert [tls for _, tls in inbox.messages] == [True, True]
    assert inbox.logins == ["garde", "garde"]


def test_an_untrusted_certificate_is_refused_before_anything_is_sent(ca: trustme.CA, ca_file: Path) -> None:
    inbox = Inbox()
    other = trustme.CA()  # the server's certificate is signed by an authority garde does not trust
    with smtp_server(inbox, tls_context=server_context(other)) as port:
        with pytest.raises(GardeError, match="certificate is not trusted"):
            mailer(port, user="garde", password="s3cret", ca_file=ca_file).send("a@example.com", "Code", "1")
        with pytest.raises(GardeError, match="certificate is not trusted"):  # nor by the system
            mailer(port, allow_plaintext=True).send("a@example.com", "Code", "1")
    assert inbox.messages == [] and inbox.logins == []


def test_a_certificate_for_another_host_is_refused(ca: trustme.CA, ca_file: Path) -> None:
    inbox = Inbox()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("mail.example.com").configure_cert(context)
    with smtp_server(inbox, tls_context=context) as port, pytest.raises(GardeError, match="not trusted"):
        mailer(port, ca_file=ca_file).send("a@example.com", "Code", "1")
    assert inbox.messages == []


def test_implicit_tls_smtps(ca: trustme.CA, ca_file: Path) -> None:
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_context(ca)) as port:
        mailer(port, tls="tls", user="garde", password="s3cret", ca_file=ca_file).send(
            "ada@example.com", "Your code", "123456")
        with pytest.raises(GardeError, match="not trusted"):
            mailer(port, tls="tls").send("ada@example.com", "Your code", "123456")
    assert len(inbox.messages) == 1 and inbox.logins == ["garde"]


def test_a_server_that_does_not_answer_is_a_clear_error() -> None:
    with pytest.raises(GardeError, match=rf"SMTP server {HOST}:\d+: mail not sent"):
        mailer(free_port()).send("a@example.com", "Code", "1")


def test_the_settings_reach_the_mailer(ca_file: Path) -> None:
    settings = Settings(mailer="smtp", smtp_host=HOST, smtp_port=465, smtp_tls="tls", smtp_ca_file=ca_file)
    configured = configured_mailer(settings)
    assert isinstance(configured, SmtpMailer)
    assert (configured.tls, configured.allow_plaintext, configured.ca_file) == ("tls", False, ca_file)
    assert Settings().smtp_tls == "starttls" and Settings().smtp_allow_plaintext is False
