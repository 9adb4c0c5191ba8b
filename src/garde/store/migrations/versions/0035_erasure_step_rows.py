"""Each erasure step keeps the rows its statement changed, recorded before its database commits.

A run killed between a business database's commit and the store's marking of its steps done was
resumed by statements that found everything erased already (they skip what is erased): the resumed
run's audit entry said ``rows_changed: 0`` where the unkilled run said 21. The count is now written to
the steps (``rows_changed``) in a store transaction of its own before the business database commits,
and the audit entry reports the steps' recorded sum, the same with or without a kill. Steps stored
before keep NULL (their run's own count is reported, as before).

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("erasure_steps", sa.Column("rows_changed", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("erasure_steps") as batch:
        batch.drop_column("rows_changed")
