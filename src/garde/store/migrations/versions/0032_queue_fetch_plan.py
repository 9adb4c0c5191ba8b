"""The queue's fetch planned the same way whatever its table's statistics say (PostgreSQL): a worker
takes a job in a time that grows with the jobs waiting, never with their square.

procrastinate's ``procrastinate_fetch_job_v2`` picks the first waiting job (by priority, then id) whose
``lock`` no other waiting or running job holds, with ``LIMIT 1``. Planned with statistics taken while
the table held no job or a handful (a new store; the day's old jobs just pruned and the table analysed),
PostgreSQL expects one waiting row and plans a join of every waiting job with every other, then a sort,
then the limit: with 200 jobs queued at once the first fetches read ≈ 630 buffers and take 6 – 16 ms,
4.5 – 7.7 ms a job on average, where the plan it takes with truer statistics (the waiting jobs read in
the priority index's order, stopping at the first that is free) reads ≈ 60 – 100 and takes 0.25 –
0.45 ms (docs/performance.md, "Issue 15, seventh pass"). Forbidding the sort inside the function
leaves the planner that plan only; nothing else in the function sorts.

This is a setting of procrastinate's own function, not a change of its SQL: a later procrastinate
release that replaces the function (a ``_v3``) needs the setting again (docs/jobs.md, "The queue's
schema"; ``tests/test_jobs_fetch_plan.py`` names the function procrastinate calls). SQLite has no
queue: nothing to do.

Revision ID: 0032
Revises: 0031
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# written out here, not imported: a migration does not change with the code
FETCH = "procrastinate_fetch_job_v2(character varying[], bigint)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {FETCH} SET enable_sort = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {FETCH} RESET enable_sort")
