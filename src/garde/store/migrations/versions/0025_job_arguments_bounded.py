"""A job's arguments bounded by the queue's table itself (PostgreSQL): a forged row is refused when
written, not read whole by the worker that fetches it.

procrastinate's fetch (``procrastinate_fetch_job``) returns the whole row, arguments included, before
garde sees it: the worker's own bound (``garde.jobs.kinds.MAX_ARGUMENT_BYTES``, 64 KiB of JSON) came
after the row was in its memory, so a row of hundreds of MiB was read by every worker that took it.
A check constraint refuses such a row at its ``INSERT`` or ``UPDATE``, whoever writes it. Its bound is
twice the worker's, measured on the ``jsonb`` value's text (which spells JSON with spaces garde's
measure does not): whatever ``garde.jobs.submit`` accepts, the table accepts; between the two, the
worker still refuses the job, as before, having read at most 128 KiB.

``NOT VALID``: rows already queued are not scanned (a database with a huge forged row still migrates;
the worker refuses that row as before). SQLite has no queue: nothing to do.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# written out here, not imported: a migration does not change with the code
BOUND = 2 * 64 * 1024
CONSTRAINT = "procrastinate_jobs_garde_args_bounded"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE procrastinate_jobs ADD CONSTRAINT {CONSTRAINT} "
               f"CHECK (octet_length(args::text) <= {BOUND}) NOT VALID")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE procrastinate_jobs DROP CONSTRAINT {CONSTRAINT}")
