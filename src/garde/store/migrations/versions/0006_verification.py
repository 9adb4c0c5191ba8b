"""Verification per identity: proofs, wrong-code counter, lock, codes per identity, sends.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CODE_COLUMNS = ("request_id", "code_hash", "salt", "sent_at", "expires_at", "attempts", "used_at")


def _codes_table(name: str, keyed_by_kind: bool) -> None:
    columns = [sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True)]
    if keyed_by_kind:
        columns.append(sa.Column("kind", sa.String(32), primary_key=True))
    op.create_table(
        name,
        *columns,
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )


def _copy(source: str, target: str, kind: bool) -> None:
    names = ", ".join(_CODE_COLUMNS)
    selected = names + (", 'email'" if kind else "")
    into = names + (", kind" if kind else "")
    where = "" if kind else " WHERE kind = 'email'"
    op.execute(f"INSERT INTO {target} ({into}) SELECT {selected} FROM {source}{where}")


def upgrade() -> None:
    op.add_column("requests", sa.Column("proofs", sa.Text))
    op.add_column("requests", sa.Column("wrong_attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("requests", sa.Column("locked_at", sa.DateTime(timezone=True)))
    # A code per identity (e-mail, phone): the key becomes (request_id, kind). A code waiting
    # to be checked was mailed, so it is the e-mail's.
    _codes_table("verification_codes_by_kind", keyed_by_kind=True)
    _copy("verification_codes", "verification_codes_by_kind", kind=True)
    op.drop_table("verification_codes")
    op.rename_table("verification_codes_by_kind", "verification_codes")
    op.create_table(
        "verification_sends",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_verification_sends_request_id", "verification_sends", ["request_id"])
    op.create_index("ix_verification_sends_identity_hash", "verification_sends", ["identity_hash"])


def downgrade() -> None:
    op.drop_table("verification_sends")
    _codes_table("verification_codes_by_request", keyed_by_kind=False)
    _copy("verification_codes", "verification_codes_by_request", kind=False)
    op.drop_table("verification_codes")
    op.rename_table("verification_codes_by_request", "verification_codes")
    # SQLite >= 3.35 drops a column in place (no copy of the table its steps refer to).
    for column in ("locked_at", "wrong_attempts", "proofs"):
        op.drop_column("requests", column)
