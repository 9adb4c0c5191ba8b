"""The file mailer writes each mail from a header block, without :mod:`email`'s header parsing
(issue 15: it was a millisecond a request): what it writes must read back, with :mod:`email`'s strict
parser, as the mail :mod:`email` itself writes, whatever the subject and text (any language, long lines)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garde.rights.mailer import compose, render

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=120)
_BODY = st.lists(_TEXT, max_size=8).map("\n".join)


def _read(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert not parsed.defects
    return parsed


@settings(max_examples=150, deadline=None, derandomize=True)
@given(subject=_TEXT, body=_BODY)
def test_a_rendered_mail_reads_back_as_the_mail_it_was_given(subject: str, body: str) -> None:
    raw = render("privacy@example.com", "ana@example.org", subject, body, "<a1b2@garde>")
    mail = _read(raw)
    assert mail["To"] == "ana@example.org" and mail["From"] == "privacy@example.com"
    assert mail["Message-ID"] == "<a1b2@garde>"
    composed = _read(bytes(compose("privacy@example.com", "ana@example.org", subject, body, "<a1b2@garde>")))
    assert str(mail["Subject"]) == str(composed["Subject"])  # what email's own writer gives to read
    text, expected = mail.get_body(("plain",)), composed.get_body(("plain",))
    assert text is not None and expected is not None
    assert text.get_content() == expected.get_content() == (body if body.endswith("\n") else body + "\n")
    head = raw.split(b"\n\n", 1)[0]
    assert max(len(line) for line in head.split(b"\n")) <= 78


def test_the_answered_mail_is_written_without_parsing_its_headers() -> None:
    """The plain case (ASCII addresses, short lines, a French subject) takes the header block: 7bit or
    8bit text as it is, the subject in encoded words."""
    raw = render("privacy@example.com", "ana@example.org", "Votre demande 1: délai prolongé",
                 "Bonjour,\n\nvotre réponse est prête.\n", "<id@garde>")
    assert b"Content-Transfer-Encoding: 8bit\n" in raw and b"Subject: =?utf-8?b?" in raw
    assert raw.endswith("votre réponse est prête.\n".encode())
    assert str(_read(raw)["Subject"]) == "Votre demande 1: délai prolongé"


@pytest.mark.parametrize("field", ["to", "subject", "message_id"])
def test_a_line_break_in_a_header_is_refused(field: str) -> None:
    values = {"to": "ana@example.org", "subject": "Your request", "message_id": "<id@garde>"}
    values[field] += "\r\nBcc: eve@example.org"
    with pytest.raises(ValueError):
        render("privacy@example.com", values["to"], values["subject"], "text", values["message_id"])


def test_a_long_line_is_quoted_printable_not_a_fallback_to_email() -> None:
    """The mails' templates have paragraphs on one line: they take the header block too."""
    paragraph = "Nous avons bien traité votre demande ; vous pouvez obtenir la réponse " * 3
    raw = render("privacy@example.com", "ana@example.org", "Votre demande 1 : traitée", paragraph,
                 "<id@garde>")
    assert b"Content-Transfer-Encoding: quoted-printable\n" in raw and b"Subject: =?utf-8?b?" in raw
    body = _read(raw).get_body(("plain",))
    assert body is not None and body.get_content() == paragraph + "\n"
    assert max(len(line) for line in raw.split(b"\n")) <= 78
