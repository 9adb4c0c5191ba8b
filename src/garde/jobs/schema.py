"""The queue's own schema (procrastinate's tables, types and functions), put under garde's Alembic chain.

Migration ``0021_job_queue`` calls :func:`apply_queue_schema` on PostgreSQL, so ``garde db upgrade``
(and every :func:`garde.store.migrate`) brings the queue's schema along with garde's, in order.

A fresh database gets the installed package's ``schema.sql`` (the whole schema of that release), and
the name of the newest migration file the package ships is written as the comment of the
``procrastinate_jobs`` table: that comment says which of procrastinate's own migrations the database
already has. A database that has the schema gets, instead, the package's migration files that sort
after its comment, in order, and the comment moves on.

**Upgrading procrastinate** (the pin in pyproject.toml is one minor release, e.g. ``>=3.10,<3.11``):
bump the pin, then add a garde migration whose ``upgrade()`` is ``apply_queue_schema(op.get_bind())``
on PostgreSQL (as 0021 does): it applies exactly the queue migrations the new release added, on a
database of any age. Read the release's notes first: procrastinate splits a change into ``pre``
files (before the new code runs) and ``post`` files (once no old worker is left); garde applies
both in one transaction, so stop the workers, run ``garde db upgrade``, then start the new ones.
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa

JOBS_TABLE = "procrastinate_jobs"
QUEUE_TABLES = frozenset({"procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers",
                          "procrastinate_events"})
_MARK = "procrastinate schema "


def _migrations() -> list[tuple[str, str]]:
    """The installed procrastinate's migration files (name without ``.sql``, text), in order."""
    folder = resources.files("procrastinate.sql") / "migrations"
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text(encoding="utf-8")) for name in files]


def _run(connection: sa.Connection, sql: str) -> None:
    """``sql`` (many statements, no parameters) on the connection's own transaction: through the
    driver, so that ``%`` in procrastinate's functions is not read as a placeholder."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(sql)


def applied(connection: sa.Connection) -> str | None:
    """The newest procrastinate migration the database has; ``None`` without a queue schema."""
    row = connection.execute(sa.text("SELECT to_regclass(:table) IS NOT NULL, "
                                     "obj_description(to_regclass(:table), 'pg_class')"),
                             {"table": JOBS_TABLE}).one()
    if not row[0]:
        return None
    return str(row[1] or "").removeprefix(_MARK)


def apply_queue_schema(connection: sa.Connection) -> list[str]:
    """Bring the queue's schema to the installed procrastinate's; returns the migrations applied
    (``["schema.sql"]`` for a fresh database). PostgreSQL only; a no-op when up to date."""
    migrations = _migrations()
    newest = migrations[-1][0]
    have = applied(connection)
    if have is None:
        _run(connection, resources.files("procrastinate.sql").joinpath("schema.sql")
             .read_text(encoding="utf-8"))
        done = ["schema.sql"]
    else:
        done = []
        for name, sql in migrations:
            if name > have:
                _run(connection, sql)
                done.append(name)
    connection.execute(sa.text(f"COMMENT ON TABLE {JOBS_TABLE} IS '{_MARK}{newest}'"))
    return done


def drop_queue_schema(connection: sa.Connection) -> None:
    """Remove the queue's tables, functions and types (the downgrade of 0021)."""
    _run(connection, """
DO $$
DECLARE item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature, p.prokind FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        IF item.prokind = 'p' THEN
            EXECUTE format('DROP PROCEDURE IF EXISTS %s CASCADE', item.signature);
        ELSE
            EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
        END IF;
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                  AND t.typtype IN ('e', 'c') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END;
$$;
""")
