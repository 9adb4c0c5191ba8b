"""The engine's own store: SQLAlchemy 2 Core, SQLite by default, PostgreSQL by URL.

Each concept module declares its tables on :data:`metadata` (``garde.audit``,
``garde.subjects``, ...); the schema itself is built only by the Alembic
migrations in ``store/migrations/versions`` — one chain from the first table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.private_files import create_private

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder, WAL and foreign keys.

    A new SQLite file and the folders made for it are owner-only (``0600``, ``0700``): the store
    holds personal data, and SQLite gives its ``-wal`` and ``-shm`` files the database file's mode.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not parsed.query.get("uri"):
            create_private(Path(database))
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema to ``revision`` with Alembic; at the latest schema, a new store
    also gets its identifier key (:func:`garde.keys.ensure_store_key`)."""
    from alembic import command
    from alembic.config import Config

    from garde.keys import ensure_store_key
    from garde.settings import get_settings

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if revision == "head":  # after the schema's commit: a refused key leaves the schema migrated
        try:
            with engine.begin() as connection:
                ensure_store_key(connection, get_settings().identifier_key)
        except sa.exc.IntegrityError:  # another process gave the store its key first
            pass


def open_store(url: str | None = None) -> Engine:
    """Connect to the configured store, migrate it to the latest schema and open its identifier
    key: a key the store was not written with is refused here, before anything is read or written."""
    from garde.keys import identifier_data_key
    from garde.settings import get_settings

    engine = connect(url or get_settings().database_url)
    try:
        migrate(engine)
        identifier_data_key(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def is_postgres(engine: Engine | sa.Connection) -> bool:
    return engine.dialect.name == "postgresql"
