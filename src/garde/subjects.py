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
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Literal

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


def normalise_identifier(kind: str, value: str) -> str:
    """The canonical form two spellings of one identifier share."""
    if kind not in IDENTIFIER_KINDS:
        raise GardeError(f"unknown identifier kind {kind!r}; expected one of {', '.join(IDENTIFIER_KINDS)}")
    value = value.strip()
    if kind == "email":
        if "@" not in value:
            raise GardeError(f"{value!r} is not an e-mail address")
        return value.lower()
    if kind == "phone":
        digits = re.sub(r"[^\d+]", "", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        if len(re.sub(r"\D", "", digits)) < 6:
            raise GardeError(f"{value!r} is not a telephone number")
        return digits
    return value


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
