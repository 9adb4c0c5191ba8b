"""Counters of the writes decisions read, by bucket of subjects, on SQLite and PostgreSQL.

Replaces 0019's one counter (SQLite only) by one counter per bucket: ``s`` and the last three
characters of a subject's id, ``i`` and the last three of an identifier's digest. Triggers on the
tables a decision reads add one to the buckets a written row belongs to, in the writer's
transaction (see garde.decide.freshness). On PostgreSQL a write locks only its buckets' rows
until it commits, not one row every writer shares.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# written out here, not imported: a migration does not change with the code
OLD_TABLES = ("subjects", "subject_identifiers", "subject_objections", "suppression_list", "consent_events")
OPERATIONS = ("insert", "update", "delete")
# the buckets a row of each table belongs to: ("s", column) a subject's, ("i", column) an identifier's
BUCKETS = {
    "subjects": (("s", "id"),),
    "subject_identifiers": (("s", "subject_id"), ("i", "hash")),
    "subject_objections": (("s", "subject_id"),),
    "consent_events": (("s", "subject_id"),),
    "suppression_list": (("i", "hash"),),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in OLD_TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS decide_facts_{table}_{operation}")
    op.drop_table("decide_facts_version")
    op.create_table(
        "decide_facts_buckets",
        sa.Column("bucket", sa.String(8), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    if dialect == "sqlite":
        for table in BUCKETS:
            for operation in OPERATIONS:
                rows = {"insert": ("NEW",), "update": ("OLD", "NEW"), "delete": ("OLD",)}[operation]
                body = " ".join(_bumps(table, row, "sqlite") for row in rows)
                op.execute(f"CREATE TRIGGER decide_buckets_{table}_{operation} AFTER {operation.upper()} "
                           f"ON {table} BEGIN {body} END")
    elif dialect == "postgresql":
        for table in BUCKETS:
            op.execute(f"""
CREATE FUNCTION decide_buckets_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE decide_facts_buckets SET version = version + 1;
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN {_bumps(table, "OLD", "postgresql")} END IF;
  IF TG_OP <> 'DELETE' THEN {_bumps(table, "NEW", "postgresql")} END IF;
  RETURN NULL;
END $$""")
            op.execute(f"CREATE TRIGGER decide_buckets_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION decide_buckets_{table}()")
            op.execute(f"CREATE TRIGGER decide_buckets_{table}_truncate AFTER TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION decide_buckets_{table}()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in BUCKETS:
        if dialect == "sqlite":
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS decide_buckets_{name}_{operation}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS decide_buckets_{name} ON {name}")
            op.execute(f"DROP TRIGGER IF EXISTS decide_buckets_{name}_truncate ON {name}")
            op.execute(f"DROP FUNCTION IF EXISTS decide_buckets_{name}()")
    op.drop_table("decide_facts_buckets")
    table = op.create_table(
        "decide_facts_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])
    if dialect == "sqlite":
        for table_name in OLD_TABLES:
            for operation in OPERATIONS:
                op.execute(f"CREATE TRIGGER decide_facts_{table_name}_{operation} AFTER {operation.upper()} "
                           f"ON {table_name} BEGIN UPDATE decide_facts_version SET version = version + 1 "
                           "WHERE id = 1; END")


def _bumps(table: str, row: str, dialect: str) -> str:
    """The statements adding one to the buckets of ``row`` (NEW or OLD) of ``table``."""
    def tail(column: str) -> str:
        return f"substr({column}, -3)" if dialect == "sqlite" else f"right({column}, 3)"

    upsert = ("ON CONFLICT (bucket) DO UPDATE SET version = decide_facts_buckets.version + 1;")
    statements = [f"INSERT INTO decide_facts_buckets (bucket, version) VALUES ('{kind}' || "
                  f"{tail(f'{row}.{column}')}, 1) {upsert}" for kind, column in BUCKETS[table]]
    if table == "suppression_list":  # the subjects holding the identifier suppressed or released
        statements.append(
            "INSERT INTO decide_facts_buckets (bucket, version) SELECT DISTINCT 's' || "
            f"{tail('subject_id')}, 1 FROM subject_identifiers WHERE kind = {row}.kind "
            f"AND hash = {row}.hash ORDER BY 1 {upsert}")
    return " ".join(statements)
