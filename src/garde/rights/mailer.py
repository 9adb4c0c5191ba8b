"""Sending mail and text messages to data subjects: one-time codes and notifications.

:class:`Mailer` is the interface; :class:`FileMailer` (the default) writes
each message as an ``.eml`` file in the outbox folder, :class:`ConsoleMailer`
prints it, :class:`SmtpMailer` sends it with smtplib. The file mailer is part
of the product: tests and demos read the codes from the outbox.

A code for a telephone number goes by SMS: a mailer that can send one also
implements :class:`SmsSender` (``send_sms``). The file mailer writes each
text as an ``.sms`` file beside the mail, the console mailer prints it; a
real gateway is plugged by wrapping the mailer: ``WithSms(mailer, gateway)``
where ``gateway`` is any object with ``send_sms(to, body)``.
"""

from __future__ import annotations

import importlib
import smtplib
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from garde.private_files import private_folder, write_private
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.subjects import now


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


@runtime_checkable
class SmsSender(Protocol):
    """What can send a text message to a telephone number (E.164, ``+33612345678``)."""

    def send_sms(self, to: str, body: str) -> None: ...


class WithSms:
    """A mailer plus an SMS gateway: mail goes through the one, texts through the other."""

    def __init__(self, mailer: Mailer, gateway: SmsSender) -> None:
        self.mailer, self.gateway = mailer, gateway

    def send(self, to: str, subject: str, body: str) -> None:
        self.mailer.send(to, subject, body)

    def send_sms(self, to: str, body: str) -> None:
        self.gateway.send_sms(to, body)


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
        write_private(private_folder(self.outbox) / self._name("eml"), bytes(message))

    def send_sms(self, to: str, body: str) -> None:
        write_private(private_folder(self.outbox) / self._name("sms"), f"To: {to}\n\n{body}")

    @staticmethod
    def _name(suffix: str) -> str:
        return f"{now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.{suffix}"

    def texts(self) -> list[tuple[str, str]]:
        """The text messages in the outbox, oldest first: (telephone number, body)."""
        found = []
        for path in sorted(self.outbox.glob("*.sms")):
            head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
            found.append((head.removeprefix("To: "), body))
        return found

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

    def send_sms(self, to: str, body: str) -> None:
        self.stream.write(f"SMS to {to}: {body}\n")


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
    """The mailer the settings name (``mailer = file | console | smtp``), with its SMS gateway if set."""
    settings = settings or get_settings()
    mailer: Mailer
    if settings.mailer == "smtp":
        mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                            settings.smtp_user, settings.smtp_password)
    elif settings.mailer == "console":
        mailer = ConsoleMailer(sender=settings.smtp_sender)
    else:
        mailer = FileMailer(settings.outbox, settings.smtp_sender)
    return WithSms(mailer, sms_gateway(settings.sms_gateway)) if settings.sms_gateway else mailer


def sms_gateway(path: str) -> SmsSender:
    """The gateway a ``package.module:factory`` path names (the ``sms_gateway`` setting)."""
    module_name, _, attribute = path.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
        gateway = factory()
    except (ImportError, AttributeError, ValueError, TypeError) as error:
        raise GardeError(f"setting sms_gateway = {path!r}: expected package.module:factory, a callable "
                         f"returning an SMS gateway ({error})") from error
    if not isinstance(gateway, SmsSender):
        raise GardeError(f"setting sms_gateway = {path!r}: {type(gateway).__name__} has no "
                         "send_sms(to, body)")
    return gateway
