"""The identities a consent event was recorded with (kind and keyed digest, migration 0038).

A consent is the subject's, but the call that recorded it named some identities: the shop's, or a
session's proven one. A session whose identity does not vouch for the whole subject
(:mod:`garde.rights.vouching`) reaches only the events recorded with its identity. Events recorded
before 0038, and those of a consent import, name none.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.store import metadata
from garde.subjects import identifier_hash

consent_identities = sa.Table(
    "consent_identities",
    metadata,
    sa.Column("event_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("hash", sa.String(64), primary_key=True, index=True),
)


def record(conn: sa.Connection, event_id: str, identities: Mapping[str, str]) -> None:
    """Note that ``event_id`` was recorded with ``identities`` ({kind: value})."""
    key = identifier_data_key(conn)
    conn.execute(consent_identities.insert(), [
        {"event_id": event_id, "kind": kind, "hash": identifier_hash(kind, value, key)}
        for kind, value in identities.items()])


def recorded_with(conn: sa.Connection, kind: str, digest: str) -> set[str]:
    """The ids of the events recorded with the identity ``kind`` / ``digest``."""
    c = consent_identities.c
    return {str(event_id) for event_id in conn.execute(
        sa.select(c.event_id).where(c.kind == kind, c.hash == digest)).scalars()}
