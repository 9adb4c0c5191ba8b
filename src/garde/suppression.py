"""The suppression list (do not contact): hashed identifiers only.

Fed by objections to direct marketing (GDPR Art. 21(3)) and unsubscriptions;
every marketing decision and audience checks it. An unsubscription's entries
are lifted when the subject consents again to everything they unsubscribed
from (:func:`garde.consent.objections.lift_unsubscription`); an objection's
stay. Keeping the hash, not the
address, lets the business honour "never contact me again" after erasure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.store import metadata
from garde.subjects import identifier_hash, now

suppression_list = sa.Table(
    "suppression_list",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)


def suppress(conn: sa.Connection, identities: Mapping[str, str], reason: str) -> int:
    """Add identities ({kind: value}) to the list; returns how many were new."""
    key = identifier_data_key(conn)
    return suppress_hashes(conn, ((kind, identifier_hash(kind, value, key))
                                  for kind, value in identities.items()), reason)


def is_hash_suppressed(conn: sa.Connection, kind: str, digest: str) -> bool:
    return conn.execute(sa.select(suppression_list.c.kind).where(
        suppression_list.c.kind == kind, suppression_list.c.hash == digest)).first() is not None


def is_suppressed(conn: sa.Connection, identities: Mapping[str, str]) -> bool:
    key = identifier_data_key(conn)
    return any(is_hash_suppressed(conn, kind, identifier_hash(kind, value, key))
               for kind, value in identities.items())


#: The one reason that can be lifted (by consenting again); any other reason replaces it.
UNSUBSCRIBED = "unsubscribed"


def suppress_hashes(conn: sa.Connection, hashes: Iterable[tuple[str, str]], reason: str) -> int:
    """Add already-hashed identities ((kind, hash) pairs) to the list; returns how many were new.
    An identity listed because of an unsubscription takes any other reason given later (an
    objection, a complaint), which no new consent lifts."""
    added = 0
    for kind, digest in hashes:
        if not is_hash_suppressed(conn, kind, digest):
            conn.execute(suppression_list.insert().values(kind=kind, hash=digest, reason=reason,
                                                          added_at=now()))
            added += 1
        elif reason != UNSUBSCRIBED:
            conn.execute(suppression_list.update().where(
                suppression_list.c.kind == kind, suppression_list.c.hash == digest,
                suppression_list.c.reason == UNSUBSCRIBED).values(reason=reason))
    return added


def suppress_subject(conn: sa.Connection, subject_id: str, reason: str) -> int:
    """Put every identifier of a subject on the list (an unsubscription, an Art. 21(3) objection)."""
    from garde.subjects import subject_identifiers

    rows = conn.execute(sa.select(subject_identifiers.c.kind, subject_identifiers.c.hash)
                        .where(subject_identifiers.c.subject_id == subject_id)).all()
    return suppress_hashes(conn, [(r.kind, r.hash) for r in rows], reason)


def subject_suppressed(subject_id: sa.ColumnElement[str]) -> sa.Exists:
    """SQL: whether any identifier of the subject ``subject_id`` is on the list (for audiences)."""
    from garde.subjects import subject_identifiers

    return sa.exists().where(subject_identifiers.c.subject_id == subject_id,
                             suppression_list.c.kind == subject_identifiers.c.kind,
                             suppression_list.c.hash == subject_identifiers.c.hash)


def is_subject_suppressed(conn: sa.Connection, subject_id: str) -> bool:
    return bool(conn.execute(sa.select(subject_suppressed(sa.literal(subject_id)))).scalar())


def lift_subject(conn: sa.Connection, subject_id: str, reason: str) -> int:
    """Take a subject's identifiers off the list where they were put for ``reason``; how many."""
    from garde.subjects import subject_identifiers

    identifiers = sa.select(subject_identifiers.c.kind, subject_identifiers.c.hash).where(
        subject_identifiers.c.subject_id == subject_id)
    return int(conn.execute(suppression_list.delete().where(
        suppression_list.c.reason == reason,
        sa.tuple_(suppression_list.c.kind, suppression_list.c.hash).in_(identifiers))).rowcount)
