"""Data subjects as the engine knows them.

A subject has a stable id, hashed identifiers for look-up (never the raw
e-mail or phone: HMAC-SHA256 with the store's data key, itself kept encrypted
under the deployment's key — :mod:`garde.keys` — so the engine's store alone
does not reveal who its subjects are), a state (active, restricted, erased)
and the objections they have made.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal

import phonenumbers
import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.store import metadata

State = Literal["active", "restricted", "erased"]
IDENTIFIER_KINDS = ("email", "phone", "customer_id", "loyalty_card")

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


def normalise_identifier(kind: str, value: str, region: str | None = None) -> str:
    """The canonical form two spellings of one identifier share.

    ``region`` (ISO 3166, the controller's country) is where a telephone number
    written without its country code is read: ``06 01 23 45 67`` in FR is ``+33601234567``.
    """
    if kind not in IDENTIFIER_KINDS:
        raise GardeError(f"unknown identifier kind {kind!r}; expected one of {', '.join(IDENTIFIER_KINDS)}")
    value = value.strip()
    if kind == "email":
        reason = email_problem(value)
        if reason is not None:
            raise GardeError(f"{value!r} is not an e-mail address: {reason}")
        return value.lower()
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
    which country it belongs to).
    """
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)
    if text.startswith(("+", "00")):
        text = _TRUNK_ZERO.sub("", text, count=1)  # +33 (0)6 12 ...: the 0 is dialled only at home
    digits = _PHONE_SEPARATORS.sub("", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    bare = digits.removeprefix("+")
    if not (bare.isascii() and bare.isdigit() and 6 <= len(bare) <= _E164_DIGITS):
        raise GardeError(f"{value!r} is not a telephone number: digits, spaces, dots, dashes or brackets, "
                         f"6 to {_E164_DIGITS} digits, `+` or `00` only in front")
    if not digits.startswith("+") and region is None:
        return digits
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        if digits.startswith("+"):  # a country code the library does not know (yet): as written
            return digits
        raise GardeError(f"{value!r} is not a telephone number of {region}: not the length of one there; "
                         "give it with its country code (+33 …)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# RFC 5322 3.2.3 `atext`: what a local part may hold besides dots (quoted local parts are not accepted).
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)  # RFC 1035 / 5890 LDH label


def email_problem(address: str) -> str | None:
    """Why ``address`` is not a usable e-mail address, or None when it is.

    A syntax check, no DNS look-up: ``local@domain``, the local part a
    dot-atom (RFC 5322; UTF-8 letters allowed, RFC 6531), the domain a host
    name of two or more labels (an IDN domain is checked in its ASCII form,
    RFC 5890), within the lengths of RFC 5321 4.5.3.1: 64 octets for the
    local part, 255 for the domain, 254 for the whole address (its path,
    less the angle brackets).
    """
    if len(address.encode("utf-8", "surrogatepass")) > 254:
        return "longer than 254 characters"
    local, at, domain = address.rpartition("@")
    if not at:
        return "no `@`"
    if not local:
        return "nothing before the `@`"
    if not domain:
        return "no domain after the `@`"
    if len(local.encode("utf-8", "surrogatepass")) > 64:
        return "the part before the `@` is longer than 64 characters"
    if _DOT_ATOM.fullmatch(local):
        return _domain_problem(domain)
    for atom in local.split("."):
        if not atom:
            return "the part before the `@` has an empty part between dots"
        bad = next((c for c in atom if c not in _ATEXT and not (ord(c) > 127 and c.isprintable()
                                                                  and not c.isspace())), None)
        if bad is not None:
            return f"{bad!r} may not appear before the `@`"
    return _domain_problem(domain)


def _domain_problem(domain: str) -> str | None:
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return f"{domain!r} is not a valid domain name"
    if len(ascii_domain) > 255:
        return "the domain is longer than 255 characters"
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        return f"{domain!r} is not a full domain name (such as example.com)"
    if not all(_LABEL.fullmatch(label) for label in labels):
        return f"{domain!r} is not a valid domain name"
    if labels[-1].isdigit():
        return f"{domain!r} is not a domain name"
    return None


def identifier_hash(kind: str, value: str, key: bytes) -> str:
    """HMAC-SHA256 of the normalised identifier, hex, under the store's data key
    (:func:`garde.keys.identifier_data_key`: the digests of one store are only comparable
    under its own key)."""
    message = f"{kind}:{normalise_identifier(kind, value)}".encode()
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


def link_identifiers(conn: sa.Connection, subject_id: str, identities: Iterable[tuple[str, str]]) -> None:
    key = identifier_data_key(conn)
    for kind, value in identities:
        digest = identifier_hash(kind, value, key)
        exists = conn.execute(
            sa.select(subject_identifiers.c.subject_id).where(
                subject_identifiers.c.kind == kind, subject_identifiers.c.hash == digest)
        ).first()
        if exists is None:
            conn.execute(subject_identifiers.insert().values(subject_id=subject_id, kind=kind, hash=digest))


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


def objections(conn: sa.Connection, subject_id: str) -> set[str]:
    rows = conn.execute(sa.select(subject_objections.c.scope).where(
        subject_objections.c.subject_id == subject_id))
    return {r.scope for r in rows}
