"""A request's identity digests in a table of their own, so that a subject's requests are found by an
index.

What garde holds of a subject (an access answer) and a signed-in subject's list of requests found
their requests by ``identity_hashes LIKE '%"<digest>"%'``: a read of every request's JSON, whatever
the index. A store with 100,000 requests spent a quarter of a second there per access request.
``request_identities`` holds one row per (digest, request), filled here from the requests already
stored and written with each new one; ``identity_hashes`` stays the request's own record.

Revision ID: 0026
Revises: 0025
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    table = op.create_table(
        "request_identities",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
    )
    bind = op.get_bind()
    requests = sa.table("requests", sa.column("id", sa.String), sa.column("identity_hashes", sa.Text))
    last = ""
    while True:  # by id, in batches: a large store's requests are never all in memory at once
        rows = bind.execute(sa.select(requests.c.id, requests.c.identity_hashes)
                            .where(requests.c.id > last).order_by(requests.c.id).limit(BATCH)).all()
        if not rows:
            break
        pairs = {(digest, row.id) for row in rows
                 for digest in json.loads(row.identity_hashes or "{}").values()}
        if pairs:
            bind.execute(table.insert(), [{"digest": d, "request_id": r} for d, r in sorted(pairs)])
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table("request_identities")
