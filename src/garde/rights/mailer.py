"""Sending mail to data subjects: one-time codes and notifications.

:class:`Mailer` is the interface; :class:`FileMailer` (the default) writes
each message as an ``.eml`` file in the outbox folder, :class:`ConsoleMailer`
prints it, :class:`SmtpMailer` sends it with smtplib. The file mailer is part
of the product: tests and demos read the codes from the outbox.
"""

from __future__ import annotations

import smtplib
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TextIO

from garde.private_files import private_folder, write_private
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
    """Writes each message to ``<outbox>/<timestamp>-<id>.eml``, owner-only (codes, addresses)."""

    def __init__(self, outbox: Path, sender: str = "privacy@example.com") -> None:
        self.outbox = outbox
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        message = compose(self.sender, to, subject, body)
        name = f"{now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        write_private(private_folder(self.outbox) / name, bytes(message))

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


class SmtpMailer:
    """Sends through an SMTP server, with STARTTLS and login when a user is set."""

    def __init__(self, host: str, port: int, sender: str, user: str | None = None,
                 password: str | None = None) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password = user, password

    def send(self, to: str, subject: str, body: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.user:
                smtp.starttls()
                smtp.login(self.user, self.password or "")
            smtp.send_message(compose(self.sender, to, subject, body))


def configured_mailer(settings: Settings | None = None) -> Mailer:
    """The mailer the settings name (``mailer = file | console | smtp``)."""
    settings = settings or get_settings()
    if settings.mailer == "smtp":
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                          settings.smtp_user, settings.smtp_password)
    if settings.mailer == "console":
        return ConsoleMailer(sender=settings.smtp_sender)
    return FileMailer(settings.outbox, settings.smtp_sender)
