"""A request's identity digests in a table of their own, so that a subject's requests are found by an
index.

What garde holds of a subject (an access answer) and a signed-in subject's list of requests found
their requests by ``identity_hashes LIKE '%"<digest>"%'``: a read of every request's JSON, whatever
the index. A store with 100,000 requests spent a quarter of a second there per access request.
``request_identities`` holds one row per (digest, request), filled here from the requests already
stored (one statement) and written with each new one; ``identity_hashes`` stays the request's own record.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Each request's digests are the values of its ``identity_hashes`` JSON object, read by the database.
FILL = {
    "sqlite": "SELECT DISTINCT j.value, r.id FROM requests AS r, json_each(r.identity_hashes) AS j",
    "postgresql": "SELECT DISTINCT j.value, r.id FROM requests AS r, "
                  "jsonb_each_text(r.identity_hashes::jsonb) AS j",
}


def upgrade() -> None:
    op.create_table(
        "request_identities",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
    )
    op.execute(f"INSERT INTO request_identities (digest, request_id) {FILL[op.get_bind().dialect.name]}")


def downgrade() -> None:
    op.drop_table("request_identities")
