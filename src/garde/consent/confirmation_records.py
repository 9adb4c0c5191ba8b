"""The table of the consent confirmations (:mod:`garde.consent.confirmations`), apart from its logic.

The access answer reads it (:mod:`garde.rights.held`: a confirmation asked of an identity is data
held about its holder) and the confirmations' logic counts on the rights side's mailbox limits, so
the table has a module of its own that imports neither.
"""

from __future__ import annotations

import sqlalchemy as sa

from garde.store import metadata

consent_confirmations = sa.Table(
    "consent_confirmations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, index=True),
    sa.Column("activity", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("actor", sa.String(128), nullable=False),  # the API key that asked
    sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("event_id", sa.String(32)),  # the consent its holder gave
)
# One open confirmation per identity, activity and channel (none: every channel); migration 0040.
sa.Index("uq_consent_confirmations_open", consent_confirmations.c.kind, consent_confirmations.c.hash,
         consent_confirmations.c.activity, sa.func.coalesce(consent_confirmations.c.channel, ""), unique=True,
         sqlite_where=consent_confirmations.c.answered_at.is_(None),
         postgresql_where=consent_confirmations.c.answered_at.is_(None))
