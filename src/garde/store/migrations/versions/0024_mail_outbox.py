"""The mail outbox (garde.rights.outbox), and decisions' bucket counters added at commit on PostgreSQL.

``mail_outbox``: one row per request and mail (``answered``...), committed before the mail is
sent, marked sent after: a run that finds it sent does not send again, one that finds it pending
sends it again with the same Message-ID.

On PostgreSQL, 0020's triggers added one to a row's buckets as each row was written, so a
transaction writing several subjects held their bucket rows from its first write to its commit,
taken in the order it wrote them: two writing the same subjects in other orders deadlocked
(SQLSTATE 40P01). Now each written row's buckets are noted in the transaction
(``garde.decide_buckets*``, settings local to it: a savepoint rolled back forgets its notes with
its writes), and a deferred trigger adds one to every noted bucket at commit, in the buckets'
order: a transaction holds no bucket row while it works, and takes them all in one order.
A ``TRUNCATE`` adds one to every bucket at once, in the same order. SQLite (one writer at a
time) is unchanged.

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# written out here, not imported: a migration does not change with the code (as in 0020)
BUCKETS = {
    "subjects": (("s", "id"),),
    "subject_identifiers": (("s", "subject_id"), ("i", "hash")),
    "subject_objections": (("s", "subject_id"),),
    "consent_events": (("s", "subject_id"),),
    "suppression_list": (("i", "hash"),),
}
_UPSERT = "ON CONFLICT (bucket) DO UPDATE SET version = decide_facts_buckets.version + 1"
_EVERY_BUCKET = ("PERFORM 1 FROM decide_facts_buckets ORDER BY bucket FOR UPDATE; "
                 "UPDATE decide_facts_buckets SET version = version + 1;")

# The buckets noted in a transaction, in settings local to it: ``garde.decide_buckets_<n>`` holds
# those whose hash falls in part n of PARTS (",s1a2,i0f3,"; a bucket holding a comma as "#" and
# its hex: a bucket starts with s or i), ``garde.decide_buckets`` the parts used (",3,17,"). In
# parts, each note looks through a few hundred bytes, not through the thousands of buckets an
# import of many people notes.
PARTS = 256
_NOTE = f"""
CREATE FUNCTION decide_buckets_note(noting text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  parts text := coalesce(current_setting('garde.decide_buckets', true), '');
  used text := parts;
  part text;
  noted text;
  bucket text;
BEGIN
  IF parts = '' THEN
    parts := ',';
  END IF;
  FOREACH bucket IN ARRAY noting LOOP
    IF strpos(bucket, ',') > 0 THEN  -- an id ending with a comma (written by plain SQL): in hex
      bucket := '#' || encode(convert_to(bucket, 'UTF8'), 'hex');
    END IF;
    part := (hashtext(bucket) & {PARTS - 1})::text;
    IF strpos(parts, ',' || part || ',') = 0 THEN
      parts := parts || part || ',';
      noted := ',';
    ELSE
      noted := current_setting('garde.decide_buckets_' || part);
    END IF;
    IF strpos(noted, ',' || bucket || ',') = 0 THEN
      PERFORM set_config('garde.decide_buckets_' || part, noted || bucket || ',', true);
    END IF;
  END LOOP;
  IF parts <> used THEN
    PERFORM set_config('garde.decide_buckets', parts, true);
  END IF;
END $$"""

_FLUSH = f"""
CREATE FUNCTION decide_buckets_flush() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parts text := coalesce(current_setting('garde.decide_buckets', true), '');
BEGIN
  IF parts = '' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('garde.decide_buckets', '', true);
  INSERT INTO decide_facts_buckets (bucket, version)
  SELECT bucket, 1 FROM (
    SELECT CASE WHEN left(noted, 1) = '#' THEN convert_from(decode(substr(noted, 2), 'hex'), 'UTF8')
                ELSE noted END AS bucket
      FROM unnest(string_to_array(trim(BOTH ',' FROM parts), ',')) AS part,
           unnest(string_to_array(trim(BOTH ',' FROM current_setting('garde.decide_buckets_' || part)), ','))
             AS noted) AS buckets
   ORDER BY bucket {_UPSERT};
  RETURN NULL;
END $$"""

_TRUNCATED = f"""
CREATE FUNCTION decide_buckets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_EVERY_BUCKET}
  RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("about", sa.String(16), primary_key=True),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_NOTE)
    op.execute(_FLUSH)
    op.execute(_TRUNCATED)
    for table in BUCKETS:
        op.execute(f"DROP TRIGGER decide_buckets_{table}_truncate ON {table}")
        op.execute(_row_function(table, _noted))
        # deferred: fires at commit, after every write of the transaction; the first one adds
        # what was noted, the others find nothing noted
        op.execute(f"CREATE CONSTRAINT TRIGGER decide_buckets_{table}_flush AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                   "EXECUTE FUNCTION decide_buckets_flush()")
        op.execute(f"CREATE TRIGGER decide_buckets_{table}_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION decide_buckets_truncated()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in BUCKETS:
            op.execute(f"DROP TRIGGER decide_buckets_{table}_flush ON {table}")
            op.execute(f"DROP TRIGGER decide_buckets_{table}_truncate ON {table}")
            op.execute(_row_function(table, _bumped, truncating=True))
            op.execute(f"CREATE TRIGGER decide_buckets_{table}_truncate AFTER TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION decide_buckets_{table}()")
        for function in ("flush()", "truncated()", "note(text[])"):
            op.execute(f"DROP FUNCTION decide_buckets_{function}")
    op.drop_table("mail_outbox")


def _row_function(table: str, counted: Callable[[str, str], str], truncating: bool = False) -> str:
    """``decide_buckets_<table>()``: what a row written (or the table truncated, before 0024) counts in."""
    truncate = f"IF TG_OP = 'TRUNCATE' THEN {_EVERY_BUCKET} RETURN NULL; END IF;" if truncating else ""
    return f"""
CREATE OR REPLACE FUNCTION decide_buckets_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {truncate}
  IF TG_OP <> 'INSERT' THEN {counted(table, "OLD")} END IF;
  IF TG_OP <> 'DELETE' THEN {counted(table, "NEW")} END IF;
  RETURN NULL;
END $$"""


def _own(table: str, row: str) -> list[str]:
    """The expressions of the buckets ``row`` (NEW or OLD) of ``table`` belongs to itself."""
    return [f"'{kind}' || right({row}.{column}, 3)" for kind, column in BUCKETS[table]]


def _holders(row: str, also: str = "") -> str:
    """The buckets of the subjects holding a suppressed (or released) identifier, in order."""
    return (f"SELECT DISTINCT 's' || right(subject_id, 3){also} FROM subject_identifiers "
            f"WHERE kind = {row}.kind AND hash = {row}.hash ORDER BY 1")


def _noted(table: str, row: str) -> str:
    """Note the buckets of ``row`` (0024): they count at commit."""
    noting = f"PERFORM decide_buckets_note(ARRAY[{', '.join(_own(table, row))}]);"
    if table == "suppression_list":
        noting += f" PERFORM decide_buckets_note(ARRAY({_holders(row)}));"
    return noting


def _bumped(table: str, row: str) -> str:
    """Add one to the buckets of ``row`` now (0020)."""
    statements = [f"INSERT INTO decide_facts_buckets (bucket, version) VALUES ({bucket}, 1) {_UPSERT};"
                  for bucket in _own(table, row)]
    if table == "suppression_list":
        statements.append(f"INSERT INTO decide_facts_buckets (bucket, version) "
                          f"{_holders(row, ', 1')} {_UPSERT};")
    return " ".join(statements)
