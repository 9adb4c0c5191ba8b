"""A subject's rows read ahead of discovery's walk: one statement per database.

Discovery (:mod:`garde.datasets.discovery`) walks hop by hop, one
``SELECT ... WHERE col IN (...)`` per table and hop: about thirty reads for
the reference shop, sent on PostgreSQL since pg29 as one statement per
database and hop (about five), each statement paying the driver's cost. The graph
is known before the walk starts, so the rows it will ask for can be read
first, in one statement per database: a chain of CTEs following the map's
edges (customers by the given e-mail, orders by those customers' ids, order
lines by those orders' ids...), then one ``UNION ALL`` returning every
table's rows in typed slots (a slot per column type and rank, NULL where a
table has no such column), so values come back as the per-table statements
return them: same driver, same types.

The walk itself is unchanged; it only asks here first. A read is answered from
memory only when it is *covered*: for each column it searches, every value
is among those the statement searched that column for (the parameters, or
the values of the source rows the CTE took them from). Every row of the
table holding such a value was then read, so the answer is the database's.
Anything else (an edge back to a table read earlier beyond one second
round, a value first met on a row read by the walk, a table whose rows
compare differently in SQL and in Python) is read from the database as
before. A table whose rows the statement found but that Python equality
cannot explain (a TEXT column compared with an INTEGER one in SQLite, a
case-insensitive collation) is left to the walk entirely.

Cross-database edges take one statement per database: the later database's
identities are searched with the values read in the earlier ones.

:func:`~garde.datasets.discovery.find_subject` reads ahead on PostgreSQL by
default, where each statement costs the client far more than the server's
work for it; on SQLite the one statement costs more than the small ones it
replaces (docs/performance.md, "discovery in one statement per database").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from garde.datasets.model import DataMap, TableMap, TableRef
from garde.datasets.sql import postgres_types, quoted, raw_cursor, sent_as_written

#: Parameters per statement above which the walk reads alone (SQLite's limit is 32766).
MAX_PARAMETERS = 2000


@dataclass(frozen=True)
class Edge:
    """``column`` of a table is searched with the values of ``source.source_column`` (a CTE of
    the statement), or with the parameters of identity ``kind`` when ``source`` is None."""

    column: str
    source: TableRef | None = None
    source_column: str = ""
    kind: str = ""


@dataclass
class Plan:
    """The statement of one database for one set of identity kinds searched."""

    tables: list[TableMap]
    columns: dict[TableRef, tuple[str, ...]]
    first: dict[TableRef, list[Edge]]  # round one: edges from tables placed before, and parameters
    second: dict[TableRef, list[Edge]]  # round two (tables with an edge from themselves or later)
    sql: dict[tuple[Any, ...], tuple[str, list[str], tuple[tuple[int, ...], ...]]] = field(
        default_factory=dict)

    laid_out: _Layout | None = None

    @property
    def layout(self) -> _Layout:
        """Where the result puts each table's rows (worked out once per plan)."""
        if self.laid_out is None:
            self.laid_out = _layout(self)
        return self.laid_out

    def edges(self, ref: TableRef) -> list[Edge]:
        """The edges of the rows the statement returns for ``ref``."""
        return self.second.get(ref) or self.first[ref]


def _edges_into(datamap: DataMap, database: str, kinds: Iterable[str]) -> dict[TableRef, list[Edge]]:
    """Every edge the walk may follow into a table of ``database``, sources in the same database."""
    kinds = set(kinds)
    tables = datamap.datasets[database].tables
    into: dict[TableRef, list[Edge]] = defaultdict(list)
    for table in tables.values():
        for kind, column in table.identities.items():
            if kind in kinds:
                into[table.ref].append(Edge(column, kind=kind))
            for source in tables.values():  # an identity a system of record vouches for
                if source.subject is not None and kind in source.authoritative:
                    into[table.ref].append(Edge(column, source.ref, source.identities[kind], kind))
        if table.subject is None:
            continue
        for column, reference in table.references.items():
            parent = tables[reference.target]
            if parent.subject is None or not reference.cascades:
                continue
            # The child under a found row; the row a proven child points at (not through a claim).
            into[table.ref].append(Edge(column, parent.ref, reference.target_column))
            if not reference.claim:
                into[parent.ref].append(Edge(reference.target_column, table.ref, column))
    return into


def plan(datamap: DataMap, database: str, kinds: frozenset[str],
         read: Mapping[TableRef, tuple[str, ...]]) -> Plan | None:
    """The tables reached from the identities ``kinds`` in the order the CTEs are written, each
    searched in round one through the edges from tables before it, and again in a second round
    through all its edges when one comes from itself or a later table. None: nothing is searched."""
    into = _edges_into(datamap, database, kinds)
    placed: list[TableMap] = []
    position: dict[TableRef, int] = {}
    frontier = [t for t in datamap.datasets[database].tables.values()
                if any(e.source is None for e in into.get(t.ref, ()))]
    while frontier:
        for table in frontier:
            if table.ref not in position:
                position[table.ref] = len(placed)
                placed.append(table)
        reached = [datamap.table(ref) for ref, edges in into.items()
                   if ref not in position and any(e.source in position for e in edges)]
        frontier = sorted(reached, key=lambda t: list(datamap.datasets[database].tables).index(t.name))
    if not placed:
        return None
    first: dict[TableRef, list[Edge]] = {}
    second: dict[TableRef, list[Edge]] = {}
    for table in placed:
        here = position[table.ref]
        edges = [e for e in into[table.ref] if e.source is None or e.source in position]
        first[table.ref] = [e for e in edges if e.source is None or position[e.source] < here]
        # A row pointing back at its parent's key (an order at its customer) names a parent the walk
        # knows already, and asks nothing: such edges would only cost the second round its time.
        back = [e for e in edges if e not in first[table.ref] and e.column != table.primary_key]
        if back:
            second[table.ref] = [*first[table.ref], *back]
    columns = {}
    for table in placed:
        sources = [e.source_column for edges in (*first.values(), *second.values()) for e in edges
                   if e.source == table.ref]
        columns[table.ref] = tuple(dict.fromkeys([*read[table.ref], table.primary_key, *sources]))
    return Plan(placed, columns, first, second)


def statement(plan: Plan, conn: sa.Connection,
              counts: Mapping[str, int]) -> tuple[str, list[str], tuple[tuple[int, ...], ...]] | None:
    """The SQL for parameter lists of ``counts`` per kind, the kind of each list in the order the
    SQL names them, and where each table's columns are in a row of the result (by its tag).

    None when a column's type is unknown (a table or column missing: the walk's own statement
    says so)."""
    key = (conn.dialect.name, str(conn.engine.url), *sorted(counts.items()))
    cached = plan.sql.get(key)
    if cached is not None:
        return cached
    dialect = conn.dialect
    postgres = dialect.name == "postgresql"
    # Through psycopg the statement is sent as written, with the server's own $n marks (a RawCursor:
    # psycopg parses a statement's %s marks anew at each execution once it is over 4 kB, and the
    # shop's is 7.4 kB: 0.15 ms of CPU a request), so names are quoted without doubling a %.
    raw = sent_as_written(dialect)
    quote = quoted if raw else dialect.identifier_preparer.quote
    kinds: list[str] = []
    names = {t.ref: f"_garde_{i}" for i, t in enumerate(plan.tables)}

    def marks(count: int) -> str:
        if not raw:
            return ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * count)
        first = sum(counts[kind] for kind in kinds) + 1
        return ", ".join(f"${n}" for n in range(first, first + count))

    def where(edges: list[Edge]) -> str:
        parts = []
        for edge in edges:
            if edge.source is None:
                parts.append(f"{quote(edge.column)} IN ({marks(counts[edge.kind])})")
                kinds.append(edge.kind)
            elif dialect.name == "postgresql":
                # Not ``IN (SELECT ...)``: PostgreSQL turns such a subquery into a join only alone,
                # and under an OR reads the whole table for it; an array is searched by the index.
                parts.append(f"{quote(edge.column)} = ANY(ARRAY(SELECT {quote(edge.source_column)} "
                             f"FROM {names[edge.source]}))")
            else:
                parts.append(f"{quote(edge.column)} IN (SELECT {quote(edge.source_column)} "
                             f"FROM {names[edge.source]})")
        return " OR ".join(parts) or "1 = 0"

    ctes = []
    for table in plan.tables:
        listed = ", ".join(quote(c) for c in plan.columns[table.ref])
        ctes.append(f"{names[table.ref]} AS MATERIALIZED (SELECT {listed} FROM {quote(table.name)} "
                    f"WHERE {where(plan.first[table.ref])})")
    for table in plan.tables:
        if table.ref in plan.second:
            listed = ", ".join(quote(c) for c in plan.columns[table.ref])
            key_column = quote(table.primary_key)
            ctes.append(f"{names[table.ref]}_2 AS (SELECT {listed}, CASE WHEN {key_column} IN "
                        f"(SELECT {key_column} FROM {names[table.ref]}) THEN 1 ELSE 0 END AS _garde_first "
                        f"FROM {quote(table.name)} WHERE {where(plan.second[table.ref])})")
    # The result's slots: a slot per type and rank (a table's second text column goes to the second
    # text slot), so a row is as wide as the widest table per type, not all tables together. On
    # PostgreSQL the first branch's NULLs are cast to their slot's type, which the UNION then gives
    # every later NULL; a length (varchar(200)) changes no value read, and is left out.
    known = postgres_types(conn, [t.name for t in plan.tables]) if postgres else {}
    slots: dict[tuple[str, int], int] = {}
    picks: list[tuple[int, ...]] = []
    for table in plan.tables:
        types = known.get(table.name, {})
        if postgres and not types.keys() >= set(plan.columns[table.ref]):
            return None
        ranks: dict[str, int] = defaultdict(int)
        mine = []
        for column in plan.columns[table.ref]:
            kind = types.get(column, "")
            mine.append(slots.setdefault((kind, ranks[kind]), len(slots)))
            ranks[kind] += 1
        picks.append(tuple(2 + slot for slot in mine))
    empty = [f"CAST(NULL AS {kind})" if postgres else "NULL" for kind, _ in slots]
    branches = []
    for i, table in enumerate(plan.tables):
        values = list(empty) if i == 0 else ["NULL"] * len(slots)
        for column, at in zip(plan.columns[table.ref], picks[i], strict=True):
            values[at - 2] = quote(column)
        if table.ref in plan.second:
            branches.append(f"SELECT {i}, _garde_first, {', '.join(values)} FROM {names[table.ref]}_2")
        else:
            branches.append(f"SELECT {i}, 1, {', '.join(values)} FROM {names[table.ref]}")
    sql = f"WITH {', '.join(ctes)} {' UNION ALL '.join(branches)}"
    plan.sql[key] = (sql, kinds, tuple(picks))
    return sql, kinds, tuple(picks)


@dataclass(frozen=True)
class _Layout:
    """Where each table's rows sit in the statement's result, and whence its edges' values come."""

    refs: tuple[TableRef, ...]
    positions: dict[TableRef, dict[str, int]]
    #: Per table: (column searched, identity kind of the parameters, or the source and its slot).
    sources: dict[TableRef, tuple[tuple[str, str, TableRef | None, int], ...]]


def _layout(plan: Plan) -> _Layout:
    refs = tuple(t.ref for t in plan.tables)
    positions = {ref: {c: i for i, c in enumerate(plan.columns[ref])} for ref in refs}
    sources = {ref: tuple((e.column, e.kind, e.source,
                           positions[e.source][e.source_column] if e.source else -1)
                          for e in plan.edges(ref)) for ref in refs}
    return _Layout(refs, positions, sources)


class Ahead:
    """The rows read ahead, per table; what each (table, column) was searched for is worked out
    when the walk first asks for the table (most tables hold nothing of the subject)."""

    def __init__(self, read: Mapping[TableRef, tuple[str, ...]]) -> None:
        self.read = read
        self.rows: dict[TableRef, list[tuple[Any, ...]]] = {}
        self.first: dict[TableRef, list[bool]] = {}
        self.layouts: dict[TableRef, tuple[_Layout, Mapping[str, Sequence[Any]]]] = {}
        self.covered: dict[TableRef, dict[str, set[Any]] | None] = {}
        self.statements = 0

    def add(self, plan: Plan, parameters: Mapping[str, Sequence[Any]], found: Sequence[Sequence[Any]],
            picks: Sequence[Sequence[int]]) -> None:
        """What one database's statement returned (``found``: tag, round one?, slots...; ``picks``:
        where each table's columns are in them)."""
        layout = plan.layout
        for ref in layout.refs:
            self.rows[ref], self.first[ref] = [], []
            self.layouts[ref] = (layout, parameters)
        for record in found:
            ref = layout.refs[record[0]]
            self.rows[ref].append(tuple(record[at] for at in picks[record[0]]))
            self.first[ref].append(bool(record[1]))

    def coverage(self, ref: TableRef) -> dict[str, set[Any]] | None:
        """``{column: the values it was searched for}`` of a table read ahead; None when it was not,
        or when a row found cannot be told found by Python's equality (the database compares
        these values otherwise: types, collations) and the walk reads the table alone."""
        if ref in self.covered:
            return self.covered[ref]
        covered: dict[str, set[Any]] | None = None
        if ref in self.layouts:
            layout, parameters = self.layouts[ref]
            covered = defaultdict(set)
            for column, kind, source, at in layout.sources[ref]:
                if source is None:
                    covered[column].update(parameters.get(kind, ()))
                else:
                    covered[column].update(r[at] for r, f in zip(self.rows[source], self.first[source],
                                                                  strict=True) if f and r[at] is not None)
            positions = layout.positions[ref]
            if not all(any(row[positions[c]] in values for c, values in covered.items())
                       for row in self.rows[ref]):
                covered = None
        self.covered[ref] = covered
        return covered

    def linked(self, datamap: DataMap, identity: Callable[[str, Any], str | None]) -> dict[str, set[str]]:
        """The identities the rows read so far hold in authoritative columns (for the next database),
        as ``identity(kind, value)`` normalises them."""
        out: dict[str, set[str]] = defaultdict(set)
        for ref, rows in self.rows.items():
            table = datamap.table(ref)
            if table.subject is None or not rows:
                continue
            for kind in table.authoritative:
                at = self.layouts[ref][0].positions[ref][table.identities[kind]]
                for row in rows:
                    value = identity(kind, row[at]) if row[at] is not None else None
                    if value is not None:
                        out[kind].add(value)
        return out

    def answer(self, ref: TableRef, conditions: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]] | None:
        """The rows of ``ref`` where a column of ``conditions`` is in its list, in the walk's column
        order, when every value searched was covered; else None (the walk reads them)."""
        covered = self.coverage(ref)
        if covered is None:
            return None
        for column, values in conditions.items():
            if column not in covered or not covered[column].issuperset(values):
                return None
        rows = self.rows[ref]
        if not rows:
            return []
        positions = self.layouts[ref][0].positions[ref]
        searched = [(positions[c], set(v)) for c, v in conditions.items()]
        order = [positions[c] for c in self.read[ref]]
        return [tuple(row[i] for i in order) for row in rows
                if any(row[at] in values for at, values in searched)]


def read_ahead(datamap: DataMap, connections: Mapping[str, sa.Connection],
               given: Mapping[str, set[str]], read: Mapping[TableRef, tuple[str, ...]],
               identity: Callable[[str, Any], str | None]) -> Ahead:
    """The statement of each database of ``connections``; a database whose statement fails is left
    to the walk (it reads as before, and raises what the database says).

    Databases where a given identity meets a system of record come first: the identities their
    rows vouch for are searched in the others' statements (a customer's phone in the CRM)."""
    ahead = Ahead(read)
    searched = {kind: set(values) for kind, values in given.items()}
    recorded = {t.database for t in datamap for kind in given if kind in t.authoritative}
    for database in sorted(connections, key=lambda name: name not in recorded):
        conn = connections[database]
        if conn.dialect.name not in ("sqlite", "postgresql"):
            continue
        parameters = {kind: sorted(values, key=str) for kind, values in searched.items() if values}
        if sum(map(len, parameters.values())) > MAX_PARAMETERS:
            continue
        found_plan = _plan(datamap, database, frozenset(parameters), read)
        if found_plan is None:
            continue
        made = statement(found_plan, conn, {k: len(v) for k, v in parameters.items()})
        if made is None:
            continue
        sql, kinds, picks = made
        values = [value for kind in kinds for value in parameters[kind]]
        raw: Any = conn.connection.dbapi_connection
        cursor = raw_cursor(raw) if sent_as_written(conn.dialect) else raw.cursor()
        try:
            cursor.execute(sql, values)
            found = cursor.fetchall()
        except conn.dialect.loaded_dbapi.Error:
            if conn.dialect.name == "postgresql":
                raw.rollback()
            continue
        finally:
            cursor.close()
        ahead.statements += 1
        ahead.add(found_plan, parameters, found, picks)
        for kind, linked in ahead.linked(datamap, identity).items():
            searched.setdefault(kind, set()).update(linked)
    return ahead


_PLANS: dict[tuple[int, str, frozenset[str]], tuple[DataMap, Plan | None]] = {}


def _plan(datamap: DataMap, database: str, kinds: frozenset[str],
          read: Mapping[TableRef, tuple[str, ...]]) -> Plan | None:
    """:func:`plan`, cached per map (by identity, as discovery's walk shape is)."""
    key = (id(datamap), database, kinds)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is datamap:
        return cached[1]
    if len(_PLANS) >= 64:
        _PLANS.clear()
    made = plan(datamap, database, kinds, read)
    _PLANS[key] = (datamap, made)
    return made
