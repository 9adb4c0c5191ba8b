"""Each erasure step keeps the business transaction that recorded its rows changed (PostgreSQL).

A step's ``rows_changed`` is recorded before its business database commits (0035). A run killed after
that record and before the commit, resumed after someone else (a second erasure of the same person,
the shop) changed those rows, found nothing to change and kept the first run's count: the audit said
garde changed rows it never changed. Now, on PostgreSQL, the business transaction's id
(``pg_current_xact_id()``) is recorded with the count, and a resumed run asks the business database
whether it committed (``pg_xact_status``): aborted, the count is void and the resumed run's own stands,
0 included. SQLite has no such id: NULL, the count kept as before.

Revision ID: 0036
Revises: 0035
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("erasure_steps", sa.Column("business_xact", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("erasure_steps") as batch:
        batch.drop_column("business_xact")
