"""Sending mail to data subjects: one-time codes and notifications.

:class:`Mailer` is the interface; :class:`FileMailer` (the default) writes
each message as an ``.eml`` file in the outbox folder, :class:`ConsoleMailer`
prints it, :class:`SmtpMailer` sends it with smtplib, over TLS. The file mailer is part
of the product: tests and demos read the codes from the outbox.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol, TextIO

from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.subjects import now


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = f"<{uuid.uuid4().hex}@garde>"
    message.set_content(body)
    return message


class FileMailer:
    """Writes each message to ``<outbox>/<timestamp>-<id>.eml``."""

    def __init__(self, outbox: Path, sender: str = "privacy@example.com") -> None:
        self.outbox = outbox
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        message = compose(self.sender, to, subject, body)
        name = f"{now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        (self.outbox / name).write_bytes(bytes(message))

    def messages(self) -> list[EmailMessage]:
        """The messages in the outbox, oldest first."""
        from email import message_from_bytes, policy

        found = []
        for path in sorted(self.outbox.glob("*.eml")):
            parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


class ConsoleMailer:
    """Prints each message (for a terminal demo)."""

    def __init__(self, stream: TextIO | None = None, sender: str = "privacy@example.com") -> None:
        self.stream = stream or sys.stdout
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        self.stream.write(compose(self.sender, to, subject, body).as_string() + "\n")


TlsMode = Literal["starttls", "tls", "none"]


class SmtpMailer:
    """Sends through an SMTP server, encrypted, the server's certificate verified.

    Mail carries one-time codes (which prove an identity to garde) and the
    SMTP password: both must not cross the network in clear. ``tls``:
    ``starttls`` (the default) upgrades the connection and refuses a server
    that does not offer it; ``tls`` connects with TLS from the start (SMTPS,
    port 465); ``none`` never encrypts. Sending in clear, with ``none`` or to
    a server without STARTTLS, needs ``allow_plaintext`` (a relay on the
    same host, say). Certificates are checked against the system's trusted
    authorities, or ``ca_file``, and must name ``host``.
    """

    def __init__(self, host: str, port: int, sender: str, user: str | None = None,
                 password: str | None = None, *, tls: TlsMode = "starttls", allow_plaintext: bool = False,
                 ca_file: Path | None = None, timeout: float = 30) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password
        self.tls, self.allow_plaintext, self.ca_file, self.timeout = tls, allow_plaintext, ca_file, timeout

    def context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise GardeError(f"smtp_ca_file {str(self.ca_file)!r} cannot be used: {exc}") from None

    def send(self, to: str, subject: str, body: str) -> None:
        if self.tls == "none" and not self.allow_plaintext:
            raise GardeError("smtp_tls = none sends one-time codes and the SMTP password in clear: set "
                             "smtp_allow_plaintext = true to allow it, or use starttls or tls")
        where = f"SMTP server {self.host}:{self.port}"
        try:
            with self._session() as smtp:
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(compose(self.sender, to, subject, body))
        except ssl.SSLCertVerificationError as exc:
            raise GardeError(f"{where}: its certificate is not trusted ({exc.verify_message}); give the "
                             "authority that signed it in smtp_ca_file") from None
        except (ssl.SSLError, smtplib.SMTPException, OSError) as exc:
            raise GardeError(f"{where}: mail not sent ({_reason(exc)})") from None

    def _session(self) -> smtplib.SMTP:
        if self.tls == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.tls == "starttls":
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=self.context())
                    smtp.ehlo()
                elif not self.allow_plaintext:
                    raise GardeError(f"SMTP server {self.host}:{self.port} does not offer STARTTLS: the "
                                     "one-time codes (and the SMTP password) would cross the network in "
                                     "clear; use smtp_tls = tls if it speaks SMTPS, or set "
                                     "smtp_allow_plaintext = true for a relay on this host")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"{exc.smtp_code} {message}"
    return str(exc) or type(exc).__name__


def configured_mailer(settings: Settings | None = None) -> Mailer:
    """The mailer the settings name (``mailer = file | console | smtp``)."""
    settings = settings or get_settings()
    if settings.mailer == "smtp":
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                          settings.smtp_user, settings.smtp_password, tls=settings.smtp_tls,
                          allow_plaintext=settings.smtp_allow_plaintext, ca_file=settings.smtp_ca_file)
    if settings.mailer == "console":
        return ConsoleMailer(sender=settings.smtp_sender)
    return FileMailer(settings.outbox, settings.smtp_sender)
