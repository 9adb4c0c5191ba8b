"""Identity links carry their provenance; consent events the identities they were recorded with.

``subject_identifiers.proven``: whether a proof made or confirmed the link (a code, staff's check, a
subject holding only the identities one proof proved), apart from a link the shop's systems claimed
(the consent API, imports, the CLI). The rights side opens a subject's whole record only through a
proven link or to a proof covering every identity the subject holds (docs/security.md, *Identities
linked on the shop's word*). Existing links are all claimed: a past session or request proof does
not tell whether the identity's holder was the person of the subject's other identities (the
proof was the very thing the red team abused), so none is taken as proven; a subject holding one
identity is opened by it whatever its link says.

``consent_identities``: the identities (kind, keyed digest) a consent event was recorded with, so
that a session proving one of them reaches what was recorded with it and nothing else. Events
recorded before have none (a narrowed session sees none of them).

Revision ID: 0038
Revises: 0037
"""

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subject_identifiers",
                  sa.Column("proven", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "consent_identities",
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "kind", "hash"),
    )
    op.create_index("ix_consent_identities_hash", "consent_identities", ["hash"])


def downgrade() -> None:
    op.drop_index("ix_consent_identities_hash", "consent_identities")
    op.drop_table("consent_identities")
    # in place (SQLite 3.35+ drops a column itself): a batch copy would rename the table under the
    # decide_buckets triggers that name it
    op.execute("ALTER TABLE subject_identifiers DROP COLUMN proven")
