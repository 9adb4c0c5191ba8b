"""Finding every row of one data subject, in every database (DESIGN flow 4).

Start from the identities the subject gave (e-mail, phone, customer
number...) in every table declaring that identity kind; follow references
both ways (rows pointing at found rows, rows found rows point at), and cross
databases through identities found on the way (the ``crm`` contact with the
same e-mail as the ``shop`` customer). Each hop is set-based: one query per
table with ``WHERE col IN (values found so far)``, never a loop over rows.

References are followed only between tables that declare a subject: a row
of a shared table (an event, a product) belongs to nobody, and walking
through it would reach every other guest of that event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets.model import ColumnMap, DataMap, TableMap, TableRef
from garde.datasets.sql import CHUNK, chunks, sql_table
from garde.problems import GardeError
from garde.subjects import IDENTIFIER_KINDS, normalise_identifier


def normalise_identity(kind: str, value: str) -> str:
    """The form identity columns hold: lower-case e-mail, ``+33...`` phone, others stripped."""
    if kind in IDENTIFIER_KINDS:
        return normalise_identifier(kind, value)
    return value.strip()


@dataclass
class Footprint:
    """Where a data subject's rows are: primary keys per table, and the identities met."""

    datamap: DataMap
    identities: dict[str, set[str]]
    keys: dict[TableRef, set[Any]] = field(default_factory=dict)
    hops: int = 0

    def __bool__(self) -> bool:
        return any(self.keys.values())

    def tables(self) -> list[TableRef]:
        """Tables holding some of the subject's rows, in the map's order."""
        return [t.ref for t in self.datamap if self.keys.get(t.ref)]

    def primary_keys(self, database: str, table: str) -> list[Any]:
        return sorted(self.keys.get(TableRef(database, table), ()))

    def count(self) -> int:
        return sum(len(k) for k in self.keys.values())

    def counts(self) -> dict[str, int]:
        """``{"shop.orders": 3, ...}`` for the tables holding rows."""
        return {str(ref): len(self.keys[ref]) for ref in self.tables()}

    def annotations(self, ref: TableRef) -> dict[str, ColumnMap]:
        """The categorised columns of a table: category, activities, erase strategy."""
        return self.datamap.table(ref).columns

    def rows(self, engines: Mapping[str, Engine], ref: TableRef,
             columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The subject's rows of one table (annotated columns by default), ordered by key."""
        table = self.datamap.table(ref)
        clause = sql_table(table, columns)
        if table.primary_key not in clause.c:
            clause = sql_table(table, [table.primary_key, *(columns or ())])
        out: list[dict[str, Any]] = []
        with engines[ref.database].connect() as conn:
            for batch in chunks(self.primary_keys(*ref)):
                query = sa.select(clause).where(clause.c[table.primary_key].in_(list(batch)))
                query = query.order_by(clause.c[table.primary_key])
                out.extend(dict(r._mapping) for r in conn.execute(query))
        return out

    def to_data(self) -> dict[str, Any]:
        return {"identities": {k: sorted(v) for k, v in sorted(self.identities.items())},
                "tables": {str(ref): self.primary_keys(*ref) for ref in self.tables()}}


def find_subject(datamap: DataMap, engines: Mapping[str, Engine], identities: Mapping[str, str],
                 *, max_hops: int = 50) -> Footprint:
    """Every row of the subject holding ``identities`` ({kind: value}), across all databases."""
    unknown = [k for k in identities if not datamap.with_identity(k)]
    if unknown:
        raise GardeError(f"no table declares identity {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(datamap.identity_kinds()) or 'none'}")
    missing = [name for name in datamap.datasets if name not in engines]
    if missing:
        raise GardeError(f"no engine for database {', '.join(missing)}")
    found = Footprint(datamap, {k: {normalise_identity(k, v)} for k, v in identities.items()})
    pending: dict[TableRef, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    for kind, values in found.identities.items():
        for table, column in datamap.with_identity(kind):
            pending[table.ref][column] |= values
    with ExitStack() as stack:
        walk = _Walk(datamap, engines, found, stack)
        while pending:
            if found.hops >= max_hops:
                raise GardeError(f"subject discovery did not settle after {max_hops} hops")
            found.hops += 1
            pending = walk.hop(pending)
    return found


class _Walk:
    """One discovery: what was searched per (table, column), and what the next hop must search."""

    def __init__(self, datamap: DataMap, engines: Mapping[str, Engine], footprint: Footprint,
                 stack: ExitStack) -> None:
        self.datamap = datamap
        self.engines = engines
        self.footprint = footprint
        self.searched: dict[tuple[TableRef, str], set[Any]] = defaultdict(set)
        self.stack = stack
        self.connections: dict[str, sa.Connection] = {}
        self.children = {t.ref: [(c, r) for c, r in datamap.referencing(t) if c.subject is not None]
                         for t in datamap}
        self.shared = {kind: datamap.with_identity(kind) for kind in datamap.identity_kinds()}

    def connection(self, database: str) -> sa.Connection:
        """One connection per database for the whole discovery (closed by :func:`find_subject`)."""
        if database not in self.connections:
            self.connections[database] = self.stack.enter_context(self.engines[database].connect())
        return self.connections[database]

    def hop(self, pending: Mapping[TableRef, Mapping[str, set[Any]]]) -> dict[TableRef, dict[str, set[Any]]]:
        following: dict[TableRef, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
        for ref, conditions in pending.items():
            table = self.datamap.table(ref)
            fresh = {col: values - self.searched[ref, col] for col, values in conditions.items()}
            fresh = {col: values for col, values in fresh.items() if values}
            if not fresh:
                continue
            for col, values in fresh.items():
                self.searched[ref, col] |= values
            for row in self.select(table, fresh):
                self.follow(table, row, following)
        return following

    def select(self, table: TableMap, conditions: Mapping[str, set[Any]]) -> list[dict[str, Any]]:
        """Rows matching any condition and not found yet: one statement per chunk of values."""
        referenced = [r.target_column for _, r in self.children[table.ref]]
        read = list(dict.fromkeys([*table.key_columns(), *referenced]))
        clause = sql_table(table, [*read, *conditions])
        known = self.footprint.keys.setdefault(table.ref, set())
        rows: list[dict[str, Any]] = []
        if sum(len(v) for v in conditions.values()) <= CHUNK:  # the usual case: one statement
            wheres = [sa.or_(*(clause.c[c].in_(sorted(v, key=str)) for c, v in conditions.items()))]
        else:
            wheres = [clause.c[c].in_(list(batch)) for c, v in conditions.items()
                      for batch in chunks(sorted(v, key=str))]
        conn = self.connection(table.database)
        for where in wheres:
            for row in conn.execute(sa.select(*(clause.c[c] for c in read)).where(where)):
                mapping = dict(row._mapping)
                key = mapping[table.primary_key]
                if key not in known:
                    known.add(key)
                    rows.append(mapping)
        return rows

    def follow(self, table: TableMap, row: Mapping[str, Any],
               following: dict[TableRef, dict[str, set[Any]]]) -> None:
        """What a newly found row adds to the next hop (its identities, references, referrers)."""
        if table.subject is None:
            return
        for kind, column in table.identities.items():
            value = row.get(column)
            if value is None:
                continue
            value = normalise_identity(kind, str(value))
            if value not in self.footprint.identities.setdefault(kind, set()):
                self.footprint.identities[kind].add(value)
            for other, other_column in self.shared[kind]:
                following[other.ref][other_column].add(value)
        for column, reference in table.references.items():
            value = row.get(column)
            parent = self.datamap.datasets[table.database].tables[reference.target]
            if value is not None and parent.subject is not None:
                following[parent.ref][reference.target_column].add(value)
        for child, reference in self.children[table.ref]:
            value = row.get(reference.target_column)
            if value is not None:
                following[child.ref][reference.column].add(value)
