"""The store's migrations build exactly the tables the concept modules declare."""

import sqlalchemy as sa

import garde.audit
import garde.legal_holds
import garde.subjects
import garde.suppression  # noqa: F401  (declares its table)
from garde.store import connect, metadata, migrate


def test_migrations_match_declared_tables(database_url: str) -> None:
    engine = connect(database_url)
    migrate(engine)
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names()) - {"alembic_version"}
    declared = {name for name in metadata.tables if name in tables or name.startswith(("audit", "subject"))}
    assert declared <= tables
    for name in declared:
        migrated = {c["name"] for c in inspector.get_columns(name)}
        assert migrated == set(metadata.tables[name].columns.keys()), name
    engine.dispose()


def test_migrate_twice_is_a_no_op(sqlite_url: str) -> None:
    engine = connect(sqlite_url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
