"""Data subjects as the engine knows them.

A subject has a stable id, hashed identifiers for look-up (never the raw
e-mail or phone: HMAC-SHA256 with the store's data key, itself kept encrypted
under the deployment's key — :mod:`garde.keys` — so the engine's store alone
does not reveal who its subjects are), a state (active, restricted, erased)
and the objections they have made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal

import phonenumbers
import sqlalchemy as sa
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, ValidatedEmail, validate_email

from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.store import metadata

State = Literal["active", "restricted", "erased"]
IDENTIFIER_KINDS = ("email", "phone", "customer_id", "loyalty_card")
# A browser's anonymous id (the cookie banner's: a random UUID the visitor's browser made and keeps
# on the shop's site). Hashed like the others, but no one can prove it is theirs by a code, so it
# names no one a request or an audience looks for: it is not among the IDENTIFIER_KINDS.
VISITOR = "visitor"
_VISITOR_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

subjects = sa.Table(
    "subjects",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32)),
    sa.Column("state", sa.String(16), nullable=False, server_default="active"),
    sa.Column("language", sa.String(8)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("restricted_at", sa.DateTime(timezone=True)),
    sa.Column("erased_at", sa.DateTime(timezone=True)),
    sa.Column("relationship_started_at", sa.DateTime(timezone=True)),
    sa.Column("relationship_ended_at", sa.DateTime(timezone=True)),
    sa.Column("last_contact_at", sa.DateTime(timezone=True)),
)

subject_identifiers = sa.Table(
    "subject_identifiers",
    metadata,
    sa.Column("subject_id", sa.String(36), sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("hash", sa.String(64), primary_key=True),
    # A proof made or confirmed the link (migration 0038); a link the shop's systems claimed is not.
    sa.Column("proven", sa.Boolean, nullable=False, server_default=sa.false()),
)

subject_objections = sa.Table(
    "subject_objections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subject_id", sa.String(36), sa.ForeignKey("subjects.id"), nullable=False),
    sa.Column("scope", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


def now() -> datetime:
    return datetime.now(UTC)


class UnreadableIdentity(GardeError):
    """An identity that does not read as one of its kind: the message quotes it (the CLI's user typed
    it), :attr:`public` does not (``the identity given is not an e-mail address: …``)."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"{value!r} {reason}")
        self.public = f"the identity given {reason}"


def normalise_identifier(kind: str, value: str, region: str | None = None) -> str:
    """The canonical form two spellings of one identifier share.

    ``region`` (ISO 3166, the controller's country) is where a telephone number
    written without its country code is read: ``06 01 23 45 67`` in FR is ``+33601234567``.
    """
    if kind not in IDENTIFIER_KINDS and kind != VISITOR:
        raise GardeError(f"unknown identifier kind {kind!r}; expected one of {', '.join(IDENTIFIER_KINDS)}")
    value = value.strip()
    if kind == VISITOR:
        if not _VISITOR_ID.fullmatch(value.lower()):
            raise GardeError("a visitor id is a random UUID (version 4), "
                             "e.g. 1b4e28ba-2fa1-4d2e-883f-0016d3cca427")
        return value.lower()
    if kind == "email":
        if _plain_address(value):
            return value.lower()
        checked = _checked_email(value)
        if isinstance(checked, str):
            raise UnreadableIdentity(value, f"is not an e-mail address: {checked}")
        # One mailbox, one text: the local part in NFC, an IDN domain in Unicode (``xn--bcher-kva.de``
        # is ``bücher.de``), lower case (garde's rule: no shop tells two customers apart by case).
        return checked.normalized.lower()
    if kind == "phone":
        return _phone(value, region)
    return value


# What may separate the digits of a written telephone number; the trunk ``(0)`` after a country code.
_PHONE_SEPARATORS = re.compile(r"[\s.\-/()]")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_E164_DIGITS = 15  # ITU-T E.164: at most 15 digits, country code included


def _phone(value: str, region: str | None = None) -> str:
    """E.164 (``+`` and ASCII digits; ``00`` read as ``+``): one text per number however it was written,
    so a spelling of someone's number is never another identity (its own hash, its own code limit).

    The number is read by ``phonenumbers`` (Google's libphonenumber data: each country's trunk
    prefix, lengths and the Italian fixed-line 0 that stays): with its country code when it has
    one, else in ``region``. A number without either stays the digits as written (nothing says
    which country it belongs to). A ``(0)`` after the country code is a trunk prefix dialled only at
    home (+44 (0)20 …, +33 (0)1 …) and goes, except where the numbering plan keeps the leading 0 in
    the international form (Italy's +39 06 …, also Gabon's, Benin's: libphonenumber's
    ``italian_leading_zero``), where it is the number's own first digit.
    """
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)
    if text.startswith(("+", "00")) and _TRUNK_ZERO.search(text):
        kept = _zero_kept(_TRUNK_ZERO.sub("0", text, count=1))
        if kept is not None:
            return kept
        text = _TRUNK_ZERO.sub("", text, count=1)  # +33 (0)6 12 ...: the 0 is dialled only at home
    digits = _PHONE_SEPARATORS.sub("", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    bare = digits.removeprefix("+")
    if not (bare.isascii() and bare.isdigit() and 6 <= len(bare) <= _E164_DIGITS):
        raise UnreadableIdentity(value, "is not a telephone number: digits, spaces, dots, dashes or "
                                 f"brackets, 6 to {_E164_DIGITS} digits, `+` or `00` only in front")
    if not digits.startswith("+") and region is None:
        return digits
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        if digits.startswith("+"):  # a country code the library does not know (yet): as written
            return digits
        raise UnreadableIdentity(value, f"is not a telephone number of {region}: not the length of one "
                                 "there; give it with its country code (+33 …)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _zero_kept(text: str) -> str | None:
    """The E.164 form of ``text`` (an international number whose ``(0)`` was written ``0``) when its
    country's numbering plan keeps that 0 in the international form and the number is valid there;
    else None (the ``(0)`` is a trunk prefix)."""
    digits = _PHONE_SEPARATORS.sub("", text)
    try:
        number = phonenumbers.parse("+" + digits[2:] if digits.startswith("00") else digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not (number.italian_leading_zero and phonenumbers.is_valid_number(number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# The usual address (ASCII dot-atom @ ASCII host name, alphabetic top-level domain, no ``xn--`` or
# other ``--`` label that IDNA rules judge): read here, as email-validator reads it, in a tenth of its
# time (audiences and discovery normalise every row's address); the others go to email-validator.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)


def _plain_address(address: str) -> bool:
    if not _PLAIN_ADDRESS.fullmatch(address) or len(address) > 254:
        return False
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    return (len(local) <= 64 and len(domain) <= 253 and "--" not in domain
            and not any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE))


def email_problem(address: str) -> str | None:
    """Why ``address`` is not a usable e-mail address, or None when it is."""
    if _plain_address(address):
        return None
    checked = _checked_email(address)
    return checked if isinstance(checked, str) else None


def _checked_email(address: str) -> ValidatedEmail | str:
    """The address checked by ``email-validator`` (syntax only, never a DNS look-up), or why it is not one.

    ``local@domain``: the local part a dot-atom (RFC 5322; UTF-8 letters allowed, RFC 6531, but
    no invisible, bidirectional or leading combining character), the domain a host name of two or
    more labels in IDNA 2008 (RFC 5890-5892, UTS #46), not a special-use name (RFC 6761:
    ``.invalid``, ``.local``, ``.onion``…); lengths as RFC 5321 4.5.3.1 counts them: 64 octets for
    the local part, 254 for the whole address (its path, less the angle brackets).
    """
    if len(address.encode("utf-8", "surrogatepass")) > 254:
        return "longer than 254 characters"
    local, at, _domain = address.rpartition("@")
    if at and len(local.encode("utf-8", "surrogatepass")) > 64:
        return "the part before the `@` is longer than 64 characters"
    try:
        return validate_email(address, check_deliverability=False, allow_smtputf8=True,
                              allow_quoted_local=False, allow_domain_literal=False, allow_display_name=False)
    except EmailNotValidError as error:
        return str(error)


def identifier_hash(kind: str, value: str, key: bytes, *, normalised: bool = False) -> str:
    """HMAC-SHA256 of the normalised identifier, hex, under the store's data key
    (:func:`garde.keys.identifier_data_key`: the digests of one store are only comparable
    under its own key). ``normalised``: ``value`` is already :func:`normalise_identifier`'s form (a
    footprint's identities), which normalises to itself: not read again (a telephone number's
    reading by the phonenumbers library is ≈ 0.1 ms)."""
    message = f"{kind}:{value if normalised else normalise_identifier(kind, value)}".encode()
    return hmac.digest(key, message, "sha256").hex()


def find_subject(conn: sa.Connection, identities: Mapping[str, str]) -> str | None:
    """The id of the subject holding any of ``identities`` ({kind: value}), if known."""
    key = identifier_data_key(conn)
    for kind, value in identities.items():
        row = conn.execute(
            sa.select(subject_identifiers.c.subject_id).where(
                subject_identifiers.c.kind == kind,
                subject_identifiers.c.hash == identifier_hash(kind, value, key),
            )
        ).first()
        if row:
            return str(row.subject_id)
    return None


def ensure_subject(conn: sa.Connection, identities: Mapping[str, str], kind: str | None = None,
                   language: str | None = None) -> str:
    """The subject holding ``identities``, created if new; every identity is linked to it."""
    subject_id = find_subject(conn, identities)
    if subject_id is None:
        subject_id = uuid.uuid4().hex
        conn.execute(subjects.insert().values(id=subject_id, kind=kind, state="active",
                                              language=language, created_at=now()))
    link_identifiers(conn, subject_id, identities.items())
    return subject_id


def link_identifiers(conn: sa.Connection, subject_id: str, identities: Iterable[tuple[str, str]], *,
                     proven: bool = False) -> None:
    """Link each identity not linked yet to ``subject_id``; ``proven`` when a proof makes the links
    (a link the shop's systems claim is not: :mod:`garde.rights.vouching`)."""
    key = identifier_data_key(conn)
    for kind, value in identities:
        digest = identifier_hash(kind, value, key)
        exists = conn.execute(
            sa.select(subject_identifiers.c.subject_id).where(
                subject_identifiers.c.kind == kind, subject_identifiers.c.hash == digest)
        ).first()
        if exists is None:
            conn.execute(subject_identifiers.insert().values(subject_id=subject_id, kind=kind, hash=digest,
                                                             proven=proven))


def subject_state(conn: sa.Connection, subject_id: str) -> State | None:
    row = conn.execute(sa.select(subjects.c.state).where(subjects.c.id == subject_id)).first()
    return None if row is None else row.state


def set_state(conn: sa.Connection, subject_id: str, state: State) -> None:
    """Mark a subject restricted (Art. 18), erased (Art. 17) or active again."""
    values: dict[str, object] = {"state": state}
    if state == "restricted":
        values["restricted_at"] = now()
    elif state == "erased":
        values["erased_at"] = now()
    conn.execute(subjects.update().where(subjects.c.id == subject_id).values(**values))


def record_objection(conn: sa.Connection, subject_id: str, scope: str, reason: str | None = None) -> None:
    """Record an Art. 21 objection; ``scope`` is an activity id or ``direct_marketing``."""
    conn.execute(subject_objections.insert().values(subject_id=subject_id, scope=scope, reason=reason,
                                                    at=now()))


#: What a client controller's instructed restriction is recorded under among the subject's objections.
INSTRUCTED_RESTRICTION = "instructed_restriction:"
#: What a client controller's instructed erasure is recorded under among the subject's objections.
INSTRUCTED_ERASURE = "instructed_erasure:"


def _instructed_scope(prefix: str, controller: str) -> str:
    """A digest of the controller's name as the register spells it, after ``prefix``: names are
    longer than a scope."""
    return prefix + hashlib.sha256(controller.encode()).hexdigest()[:32]


def instructed_restriction_scope(controller: str) -> str:
    """The scope of a restriction that ``controller`` instructed its processor to apply (GDPR
    Art. 18, 28(3)(a)): recorded with the subject's objections, so that ``decide()`` reads it in
    the same statement as their other facts and a decision point's kept facts see it as any other
    write."""
    return _instructed_scope(INSTRUCTED_RESTRICTION, controller)


def instructed_erasure_scope(controller: str) -> str:
    """The scope of an erasure that ``controller`` instructed its processor to make of the data it
    held of the subject (GDPR Art. 28(3)(a), 29), recorded as :func:`instructed_restriction_scope`
    is so that ``decide()`` says it (:func:`garde.decide.rules._as_processor`)."""
    return _instructed_scope(INSTRUCTED_ERASURE, controller)


def objections(conn: sa.Connection, subject_id: str) -> set[str]:
    rows = conn.execute(sa.select(subject_objections.c.scope).where(
        subject_objections.c.subject_id == subject_id))
    return {r.scope for r in rows}
