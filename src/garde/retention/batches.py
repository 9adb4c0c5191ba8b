"""How a sweep takes its batches from the business database: the statements, and the key ranges.

Three ways, the fastest that applies:

- **key ranges** (integer primary keys, the common case): ``DELETE`` (or
  ``UPDATE``) ``WHERE pk > :low AND pk <= :high AND <due>`` — one
  statement reads the range once, as a raw statement over the whole table
  would. The batch is journalled as its range, its due predicate and its
  row count, not key by key (see ``docs/retention.md``). The width of the
  next range adapts to the density of due rows seen so far, so a batch
  holds about ``batch_size`` rows; a range never spans more than
  :data:`MAX_ROWS_FACTOR` × ``batch_size`` rows (bounded memory whatever
  the data), and an empty range costs no commit.
- **one statement with a limit** (other keys): ``WHERE pk IN (SELECT pk
  ... ORDER BY pk LIMIT :n) RETURNING pk``; journalled key by key.
- **select, then apply by key** — when non-personal child rows go with
  their parent (they must go first), when rows move to an archive and the
  keys are not integers (:mod:`.archive`), or when the business data lives
  in the store's own SQLite file (its write lock would block the journal's
  commit).

In the first two, the statement runs *uncommitted*: the sweep journals the
batch and commits the store before it commits the business database.
Killed in between, the business transaction rolls back and the journal's
pending batch is applied again, by range or by key, on resume
(:func:`apply_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from garde.datasets import sql_table
from garde.retention.archive import move_batch, whole_table
from garde.retention.journal import Span
from garde.retention.plan import Operation, step_predicate
from garde.retention.policy import TablePolicy
from garde.retention.predicate import Predicates

#: A key range never spans more rows than this many batches' worth (due or not).
MAX_ROWS_FACTOR = 16


@dataclass(frozen=True)
class Taken:
    """One batch treated (uncommitted) or chosen: its keys, or its :class:`Span` when it was treated
    by range; how many rows; and where the next batch starts (after this key, or at this page)."""

    keys: list[Any] | None
    span: Span | None
    count: int
    after: Any


class Batches:
    """The batches of one step, taken one after the other in key order."""

    def __init__(self, business: sa.Connection, predicates: Predicates, table: TablePolicy,
                 operation: Operation, batch_size: int, store: Engine, blocks: bool | None = None) -> None:
        """``blocks``: False when a resumed step was journalled by keys (its position is a key)."""
        self.business = business
        self.predicates = predicates
        self.table = table
        self.operation = operation
        self.batch_size = batch_size
        self.one_statement = not (operation == "delete" and predicates.cascades(table)) and \
            not same_file(business.engine, store)
        t = sql_table(table.table)
        self.top: Any = business.execute(sa.select(sa.func.max(t.c[table.table.primary_key]))).scalar()
        heap = heap_pages(business, t) if self.one_statement and blocks is not False else None
        business.rollback()
        if operation == "archive" and heap is None and type(self.top) is not int:
            self.one_statement = False  # a move is two statements by key: select the keys first
        self.blocks = heap is not None
        self.ranges = self.blocks or (self.one_statement and type(self.top) is int)
        self.width = batch_size  # key units per range: starts as if every row were due
        self.max_width: int | None = None
        if heap is not None:  # pages per range: as many as hold batch_size rows, by the last ANALYZE
            self.top, per_page = heap
            self.width = max(1, int(batch_size / (per_page or 50)))
            self.max_width = MAX_ROWS_FACTOR * self.width

    def take(self, after: Any) -> Taken | None:
        """Treat (or, by select-then-apply, choose) the next batch after key ``after``, uncommitted;
        None when the step is over. A batch may count no rows (a key range without due rows)."""
        if self.ranges:
            return self._take_range(after)
        choose = take_batch if self.one_statement else select_batch
        keys = choose(self.business, self.predicates, self.table, self.operation, after, self.batch_size)
        return Taken(keys, None, len(keys), keys[-1]) if keys else None

    def _take_range(self, after: Any) -> Taken | None:
        """The next range, treated (uncommitted) by :func:`apply_batch` over its :class:`Span`."""
        # PostgreSQL goes by pages: a TID range scan reads them as a sequential scan does, where a
        # key range is read through the index, row by row, about twice as slow
        low: Any
        if self.blocks:
            low = 0 if after is None else int(after)
            if low >= self.top:
                return None
            high = min(low + self.width, self.top)
        else:
            pk = sql_table(self.table.table).c[self.table.table.primary_key]
            low = after
            if low is None:
                first = self.business.execute(sa.select(sa.func.min(pk))).scalar()
                low = None if first is None else first - 1
            if low is None or low >= self.top:
                return None
            high = min(low + self.width, self.top)
            if self.width > MAX_ROWS_FACTOR * self.batch_size:
                # sparse due rows: bound the rows a range spans, so a dense region cannot make a huge batch
                bound = self.business.execute(sa.select(pk).where(pk > low).order_by(pk).limit(1)
                                              .offset(MAX_ROWS_FACTOR * self.batch_size)).scalar()
                if bound is not None:
                    high = min(high, bound)
        span = Span(low, high, self.blocks)
        count = apply_batch(self.business, self.predicates, self.table, self.operation, None, "", span)
        width = high - low
        # aim the next range at batch_size due rows, changing its width at most fourfold at a time
        wanted = width * self.batch_size // count if count else width * 4
        self.width = max(1, min(width * 4, max(width // 4, wanted), self.max_width or width * 4))
        return Taken(None, span, count, high)


def heap_pages(business: sa.Connection, t: sa.TableClause) -> tuple[int, float] | None:
    """On PostgreSQL 14 or later, for a plain table: its pages now, and its rows per page by the
    last ``ANALYZE`` (0 if unknown). None elsewhere: batches then go by key range."""
    version = business.dialect.server_version_info or (0,)
    if business.dialect.name != "postgresql" or version < (14,):
        return None
    row = business.execute(sa.text(
        "SELECT c.relkind, pg_relation_size(c.oid) / current_setting('block_size')::int, c.reltuples, "
        "c.relpages FROM pg_class c WHERE c.oid = to_regclass(:name)"),
        {"name": business.dialect.identifier_preparer.format_table(t)}).first()
    if row is None or row[0] != "r":  # a partitioned table has no pages of its own
        return None
    pages, tuples, relpages = int(row[1]), float(row[2]), int(row[3])
    return pages, (tuples / relpages if relpages > 0 and tuples > 0 else 0.0)


class _Tid(sa.types.UserDefinedType[str]):
    """PostgreSQL's ``tid``, a row's (page, item) address, for the page ranges' bounds."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid"


def span_condition(business: sa.Connection, t: sa.TableClause, pk: sa.ColumnElement[Any],
                   span: Span) -> sa.ColumnElement[bool]:
    """The rows of a batch's :class:`Span`: its keys ``low < pk <= high``, or its pages."""
    if not span.blocks:
        return sa.and_(pk > span.low, pk <= span.high)
    table = business.dialect.identifier_preparer.format_table(t)
    ctid = sa.literal_column(f"{table}.ctid", _Tid())
    return sa.and_(ctid >= sa.cast(sa.literal(f"({span.low},0)"), _Tid()),
                   ctid < sa.cast(sa.literal(f"({span.high},0)"), _Tid()))


def same_file(engine: Engine, store: Engine) -> bool:
    """Business data in the store's own SQLite file: its write lock would block the journal's commit."""
    return engine.dialect.name == "sqlite" and engine.url.database == store.url.database


def _batch_rows(predicates: Predicates, table: TablePolicy, operation: Operation, after: Any,
                batch_size: int) -> sa.Select[Any]:
    """The next due keys after ``after``, in key order (an alias: usable inside a statement on the table)."""
    t = sql_table(table.table).alias("due_rows")
    pk = t.c[table.table.primary_key]
    query = sa.select(pk).where(step_predicate(predicates, table, operation, t))
    query = query.order_by(pk).limit(batch_size)
    return query if after is None else query.where(pk > after)


def select_batch(business: sa.Connection, predicates: Predicates, table: TablePolicy, operation: Operation,
                 after: Any, batch_size: int) -> list[Any]:
    """The next batch's keys, to journal before :func:`apply_batch` treats them."""
    return _keys(business.execute(_batch_rows(predicates, table, operation, after, batch_size)))


def _returned(business: sa.Connection, statement: sa.UpdateBase, pk: sa.ColumnElement[Any]) -> list[Any]:
    """Run a ``... RETURNING pk`` statement; the keys in the database's key order."""
    if business.dialect.name == "postgresql":
        # a data-modifying CTE: the keys come back in the database's own order (text collations)
        changed = statement.cte("batch")
        return _keys(business.execute(sa.select(changed.c[pk.name]).order_by(changed.c[pk.name])))
    # SQLite compares keys byte by byte (BINARY), as Python sorts them
    return sorted(_keys(business.execute(statement)))


def take_batch(business: sa.Connection, predicates: Predicates, table: TablePolicy, operation: Operation,
               after: Any, batch_size: int) -> list[Any]:
    """Delete or mask the next batch in one statement, *uncommitted*; returns its keys in key order.

    The caller journals the keys and commits the store before it commits
    this: killed in between, the business transaction rolls back and the
    journal's pending batch is applied by key on resume. One statement reads
    the due range once, where selecting the keys then applying them reads it
    twice.
    """
    t = sql_table(table.table)
    pk = t.c[table.table.primary_key]
    chosen = pk.in_(_batch_rows(predicates, table, operation, after, batch_size))
    statement = (sa.update(t).where(chosen).values(predicates.mask_values(table, t)) if operation == "mask"
                 else sa.delete(t).where(chosen)).returning(pk)
    return _returned(business, statement, pk)


def _keys(result: sa.CursorResult[Any]) -> list[Any]:
    """Straight from the DBAPI cursor: keys need no type processing, and SQLAlchemy's per-row
    work would cost more than the database's for 50,000-key batches."""
    cursor = result.cursor
    return [row[0] for row in cursor.fetchall()] if cursor is not None else []


def batch_keys(pk: sa.ColumnElement[Any], keys: list[Any], encoded: str,
               dialect: str) -> sa.ColumnElement[bool]:
    """``pk IN (keys)`` with the keys as one parameter, so 50,000 keys need neither 50,000 bound
    parameters (SQLite's limit is 32,766) nor as much SQL text; a key range where neither works."""
    if dialect == "sqlite":
        values = sa.func.json_each(sa.bindparam("batch_keys", encoded, type_=sa.Text)).table_valued("value")
        return pk.in_(sa.select(values.c.value))
    if dialect == "postgresql" and all(type(k) is int for k in keys):
        return pk == sa.any_(sa.bindparam("batch_keys", keys, type_=postgresql.ARRAY(sa.BigInteger)))
    if dialect == "postgresql" and all(type(k) is str for k in keys):
        return pk == sa.any_(sa.bindparam("batch_keys", keys, type_=postgresql.ARRAY(sa.Text)))
    # The keys were selected in key order with the same predicate: within the run's fixed day, the
    # due rows between the first and the last are exactly them.
    return sa.and_(pk >= keys[0], pk <= keys[-1])


def apply_batch(business: sa.Connection, predicates: Predicates, table: TablePolicy, operation: Operation,
                keys: list[Any] | None, encoded: str, span: Span | None = None) -> int:
    """Apply one journalled batch, by key (or by its key range ``span``), in the caller's transaction;
    re-applying it changes nothing.

    The due predicate is evaluated again, on the batch's rows only: a row
    treated before a crash no longer matches, and a row changed since it
    was selected is left alone. Returns the rows affected.
    """
    t = whole_table(business, table) if operation == "archive" else sql_table(table.table)
    pk = t.c[table.table.primary_key]
    batch: sa.ColumnElement[bool]
    if span is not None:
        batch = span_condition(business, t, pk, span)
    elif keys:
        batch = batch_keys(pk, keys, encoded, business.dialect.name)
    else:
        return 0
    if operation == "archive":
        return move_batch(business, predicates, table, batch, t)
    if operation == "mask":
        statement: sa.Executable = (sa.update(t).where(batch, predicates.mask_due(table, t))
                                    .values(predicates.mask_values(table, t)))
        return int(business.execute(statement).rowcount)
    due = predicates.delete_due(table, t)
    for child, column, parent_column in predicates.cascades(table):
        c = sql_table(child, [child.primary_key, column])
        parents = sa.select(t.c[parent_column]).where(batch, due)
        business.execute(sa.delete(c).where(c.c[column].in_(parents)))
    return int(business.execute(sa.delete(t).where(batch, due)).rowcount)
