"""Verification per identity: proofs, wrong-code counter, lock, codes per identity, sends.

Revision ID: 0006
Revises: 0005
"""

import json
from datetime import UTC, datetime

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


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _backfill_proofs() -> None:
    """Open verified requests keep what their verification proved, no more.

    Before 0006 a code proved the e-mail only (it was mailed there), though
    the request acted for all its identities: now the others are not used
    until proven. An agent's out-of-band check was recorded for the request
    as a whole, so it stands for every identity the request gave.
    """
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, identities, verification, verified_at FROM requests "
        "WHERE status IN ('verified', 'in_progress') AND identities IS NOT NULL")).all()
    for row in rows:  # the open requests only: a handful
        identities = json.loads(row.identities)
        kinds = ["email"] if row.verification == "code" else sorted(identities)
        at = _iso(row.verified_at)
        note = ("one-time code (recorded before per-identity proofs)" if row.verification == "code"
                else "out-of-band check of the whole request (recorded before per-identity proofs)")
        method = "code" if row.verification == "code" else "out_of_band"
        proofs = {kind: {"method": method, "at": at, "by": "migration 0006", "note": note}
                  for kind in kinds if kind in identities}
        conn.execute(sa.text("UPDATE requests SET proofs = :proofs WHERE id = :id"),
                     {"proofs": json.dumps(proofs, sort_keys=True), "id": row.id})


def upgrade() -> None:
    op.add_column("requests", sa.Column("proofs", sa.Text))
    op.add_column("requests", sa.Column("wrong_attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("requests", sa.Column("locked_at", sa.DateTime(timezone=True)))
    _backfill_proofs()
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
