"""The store's migrations build exactly the tables the concept modules declare."""

from typing import Any

import alembic.command
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

# Every module that declares engine-store tables on the shared metadata (the shop's own
# schema has its own metadata): the test below checks each against the migrations.
import garde.api.keys
import garde.audit
import garde.consent.confirmations
import garde.consent.ledger
import garde.decide.freshness
import garde.jobs.staging
import garde.legal_holds
import garde.ratelimit
import garde.register.versions
import garde.retention.journal
import garde.rights.parts
import garde.rights.tables
import garde.store.scheduled_runs
import garde.subjects
import garde.suppression
import garde.web.sessions  # noqa: F401
from garde.jobs.schema import QUEUE_TABLES
from garde.store import MIGRATIONS, connect, metadata, migrate


def test_migrations_match_declared_tables(database_url: str) -> None:
    engine = connect(database_url, create=True)
    migrate(engine)
    inspector = sa.inspect(engine)
    # the job queue's tables are procrastinate's (garde.jobs.schema), not declared by garde
    tables = set(inspector.get_table_names()) - {"alembic_version"} - QUEUE_TABLES
    declared = set(metadata.tables)
    assert declared == tables  # nothing declared without a migration, nothing migrated undeclared
    for name in declared:
        migrated = {c["name"] for c in inspector.get_columns(name)}
        assert migrated == set(metadata.tables[name].columns.keys()), name
    engine.dispose()


def test_migrate_twice_is_a_no_op(sqlite_url: str) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_a_store_at_the_latest_schema_is_not_upgraded_again(sqlite_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command and every app start migrates its store: at the latest schema that asks the store
    its revision and nothing more (Alembic's upgrade loads every revision's module, ≈ 15 ms of CPU a
    call); a store one revision behind is still upgraded, and its key given."""
    upgrades: list[str] = []
    upgrade = alembic.command.upgrade

    def spied(config: Any, revision: str, **options: Any) -> None:
        upgrades.append(revision)
        upgrade(config, revision, **options)

    monkeypatch.setattr(alembic.command, "upgrade", spied)
    migrations = ScriptDirectory(str(MIGRATIONS))
    latest = migrations.get_current_head()
    assert latest is not None
    before = migrations.get_revision(latest).down_revision
    assert isinstance(before, str)
    engine = connect(sqlite_url, create=True)
    migrate(engine, before)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == latest
        assert conn.execute(sa.text("SELECT count(*) FROM store_keys")).scalar() == 1
    assert upgrades == [before, "head"]
    engine.dispose()
