"""Sending mail and text messages to data subjects: one-time codes and notifications.

:class:`Mailer` is the interface; :class:`FileMailer` (the default) writes
each message as an ``.eml`` file in the outbox folder, :class:`ConsoleMailer`
prints it, :class:`SmtpMailer` sends it with smtplib, over TLS. The file mailer is part
of the product: tests and demos read the codes from the outbox.

A code for a telephone number goes by SMS: a mailer that can send one also
implements :class:`SmsSender` (``send_sms``). The file mailer writes each
text as an ``.sms`` file beside the mail, the console mailer prints it; a
real gateway is plugged by wrapping the mailer: ``WithSms(mailer, gateway)``
where ``gateway`` is any object with ``send_sms(to, body)``.
"""

from __future__ import annotations

import base64
import importlib
import logging
import re
import smtplib
import ssl
import sys
import uuid
from collections.abc import Callable
from email import quoprimime
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol, TextIO, runtime_checkable

from garde.private_files import private_folder, write_private
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.subjects import now

log = logging.getLogger(__name__)

class Mailer(Protocol):
    """Sends one mail; ``message_id`` (``<...@...>``): the Message-ID it carries, the same for a mail
    sent again (:mod:`garde.rights.outbox`), so mail clients show it once; None: a new one."""

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None: ...


@runtime_checkable
class SmsSender(Protocol):
    """What can send a text message to a telephone number (E.164, ``+33612345678``)."""

    def send_sms(self, to: str, body: str) -> None: ...


class WithSms:
    """A mailer plus an SMS gateway: mail goes through the one, texts through the other."""

    def __init__(self, mailer: Mailer, gateway: SmsSender) -> None:
        self.mailer, self.gateway = mailer, gateway

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        self.mailer.send(to, subject, body, message_id=message_id)

    def send_sms(self, to: str, body: str) -> None:
        self.gateway.send_sms(to, body)


def compose(sender: str, to: str, subject: str, body: str, message_id: str | None = None) -> EmailMessage:
    """The message as an :class:`EmailMessage` (what smtplib sends); its headers parsed and checked."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@garde>"
    message.set_content(body)
    return message


_FOLD = 42  # bytes of text per encoded word: a header line of one stays within 78 characters


def _encoded(text: str) -> str:
    """A header's text as RFC 2047 encoded words (base64, whole characters per word), one per line."""
    words, chunk = [], b""
    for character in text:
        octets = character.encode("utf-8")
        if len(chunk) + len(octets) > _FOLD:
            words.append(chunk)
            chunk = b""
        chunk += octets
    words.append(chunk)
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def render(sender: str, to: str, subject: str, body: str, message_id: str | None = None) -> bytes:
    """The message as bytes, written from a header block without :mod:`email`'s header parsing (about a
    millisecond a mail, :func:`compose`'s cost) when its addresses are ASCII: a text whose lines all fit
    in 78 octets as it is (``7bit`` or ``8bit`` UTF-8), any other quoted-printable. Any other mail falls
    back to :func:`compose`. A line break in a header value is refused either way (no header injection)."""
    headers = (sender, to, subject, message_id or "")
    if any("\n" in value or "\r" in value for value in headers):
        raise ValueError("a mail header may not contain a line break")
    text = body if body.endswith("\n") else body + "\n"
    if not (sender.isascii() and to.isascii() and (message_id or "").isascii()) or "\r" in text:
        return bytes(compose(sender, to, subject, body, message_id))
    encoded = text.encode("utf-8")
    if max(len(line) for line in encoded.split(b"\n")) <= 78:
        transfer = "7bit" if text.isascii() else "8bit"
    else:  # a long line (a template's paragraph): quoted-printable, as email's own writer does
        transfer, encoded = "quoted-printable", quoprimime.body_encode(encoded.decode("latin-1"), 78).encode()
    plain = subject.isascii() and len(subject) <= 68 and "=?" not in subject
    head = (f"From: {sender}\nTo: {to}\nSubject: {subject if plain else _encoded(subject)}\n"
            f"Date: {now().strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
            f"Message-ID: {message_id or f'<{uuid.uuid4().hex}@garde>'}\n"
            'Content-Type: text/plain; charset="utf-8"\n'
            f"Content-Transfer-Encoding: {transfer}\nMIME-Version: 1.0\n\n")
    return head.encode("ascii") + encoded


class FileMailer:
    """Writes each message to ``<outbox>/<timestamp>-<id>.eml``, owner-only (codes, addresses)."""

    def __init__(self, outbox: Path, sender: str = "privacy@example.com") -> None:
        self.outbox = outbox
        self.sender = sender

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        write_private(private_folder(self.outbox) / self._name("eml"),
                      render(self.sender, to, subject, body, message_id))

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

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        self.stream.write(compose(self.sender, to, subject, body, message_id).as_string() + "\n")

    def send_sms(self, to: str, body: str) -> None:
        self.stream.write(f"SMS to {to}: {body}\n")


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

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> None:
        if self.tls == "none" and not self.allow_plaintext:
            raise GardeError("smtp_tls = none sends one-time codes and the SMTP password in clear: set "
                             "smtp_allow_plaintext = true to allow it, or use starttls or tls")
        where = f"SMTP server {self.host}:{self.port}"
        try:
            with self._session() as smtp:
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(compose(self.sender, to, subject, body, message_id))
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


# Whatever a mail server's reply quotes as an address (``<ana@…>``, ``ana@…``): the recipient, mostly.
_QUOTED_ADDRESS = re.compile(r"<[^<>\s]*@[^<>\s]*>|[^\s<>()\[\]'\",;:]+@[^\s<>()\[\]'\",;:]+")


def _reason(exc: BaseException) -> str:
    """Why the server refused, naming no address: smtplib's refusal of the recipients is a dict keyed
    by them, and servers quote them in their replies (``550 5.1.1 <ana@…>: Recipient address
    rejected``); the reason reaches logs, staff's errors and job results, which no erasure reaches."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = [_reason(smtplib.SMTPResponseException(code, text))
                   for code, text in exc.recipients.values()]
        return "the recipient was refused: " + "; ".join(replies)
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return _QUOTED_ADDRESS.sub("<address>", f"{exc.smtp_code} {message}")
    return _QUOTED_ADDRESS.sub("<address>", str(exc)) or type(exc).__name__


def after_answer(deliver: Callable[[], None], what: str) -> Callable[[], None]:
    """``deliver`` as a task run after the answer was sent: a mail it cannot send is logged in one line
    (the mailer's reason, naming no address), where raised into the server it was logged with its
    traceback as an unexpected error of the route, the caller's address in it."""

    def delivering() -> None:
        try:
            deliver()
        except GardeError as refused:
            log.warning("%s not sent: %s", what, refused)

    return delivering


def configured_mailer(settings: Settings | None = None) -> Mailer:
    """The mailer the settings name (``mailer = file | console | smtp``), with its SMS gateway if set."""
    settings = settings or get_settings()
    mailer: Mailer
    if settings.mailer == "smtp":
        mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                            settings.smtp_user, settings.smtp_password, tls=settings.smtp_tls,
                            allow_plaintext=settings.smtp_allow_plaintext, ca_file=settings.smtp_ca_file)
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
