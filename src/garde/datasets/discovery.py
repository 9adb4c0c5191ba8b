"""Finding every row of one data subject, in every database (DESIGN flow 4).

Start from the identities the subject gave (e-mail, phone, customer
number...) in every table declaring that identity kind; follow references
both ways (rows pointing at found rows, rows found rows point at), and cross
databases through identities found on the way (the ``crm`` contact with the
same e-mail as the ``shop`` customer). Each hop is set-based: one query per
table with ``WHERE col IN (values found so far)``, never a loop over rows.

References are followed only between tables that declare a subject: a row
of a shared table (an event, a product) belongs to nobody, and walking
through it would reach every other guest of that event. A reference that
says ``on_erase: nullify`` (the default for a table pointing at itself: a
customer's referrer) points at another person and is never followed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets.model import ColumnMap, DataMap, Reference, TableMap, TableRef
from garde.datasets.sql import CHUNK, chunks, select_in
from garde.problems import GardeError
from garde.subjects import IDENTIFIER_KINDS, normalise_identifier


def normalise_identity(kind: str, value: str) -> str:
    """The form identity columns hold: lower-case e-mail, ``+33...`` phone, others stripped."""
    if kind in IDENTIFIER_KINDS:
        return normalise_identifier(kind, value)
    return value.strip()


@dataclass
class Footprint:
    """Where a data subject's rows are: primary keys per table, and the identities met.

    Discovery keeps the rows it read (every annotated column, by primary key),
    so answering a request does not read them a second time.
    """

    datamap: DataMap
    identities: dict[str, set[str]]
    keys: dict[TableRef, set[Any]] = field(default_factory=dict)
    hops: int = 0
    found: dict[TableRef, dict[Any, dict[str, Any]]] = field(default_factory=dict, repr=False)

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
             columns: Sequence[str] | None = None, *, fresh: bool = False) -> list[dict[str, Any]]:
        """The subject's rows of one table (annotated columns by default), ordered by key.

        The rows as discovery read them when it read those columns, unless
        ``fresh``: then (or for columns discovery did not read) they are read
        again, one query per chunk of keys.
        """
        table = self.datamap.table(ref)
        names = list(dict.fromkeys([table.primary_key, *(table.annotated_columns() if columns is None
                                                           else columns)]))
        found = self.found.get(ref, {})
        keys = self.primary_keys(*ref)
        if not fresh and all(key in found for key in keys) and all(
                name in row for row in found.values() for name in names):
            return [{name: found[key][name] for name in names} for key in keys]
        query = select_in(table.name, tuple(names), (table.primary_key,))
        out: list[dict[str, Any]] = []
        with engines[ref.database].connect() as conn:
            for batch in chunks(keys):
                out.extend(dict(zip(names, r, strict=True)) for r in conn.execute(query, {"v0": list(batch)}))
        position = {key: i for i, key in enumerate(keys)}
        return sorted(out, key=lambda row: position[row[table.primary_key]])

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


@dataclass(frozen=True)
class _Shape:
    """What a walk needs from the map's shape, computed once per map."""

    children: dict[TableRef, list[tuple[TableMap, Reference]]]
    shared: dict[str, list[tuple[TableMap, str]]]
    read: dict[TableRef, tuple[str, ...]]


_SHAPES: dict[int, tuple[DataMap, _Shape]] = {}


def _shape(datamap: DataMap) -> _Shape:
    """The map's walk shape, cached (by identity: keeping the map alive keeps its id unique)."""
    cached = _SHAPES.get(id(datamap))
    if cached is not None and cached[0] is datamap:
        return cached[1]
    children = {t.ref: [(c, r) for c, r in datamap.referencing(t) if c.subject is not None and r.cascades]
                for t in datamap}
    shape = _Shape(
        children,
        {kind: datamap.with_identity(kind) for kind in datamap.identity_kinds()},
        # Every annotated column is read on the way, so the rows found need no second read.
        {t.ref: tuple(dict.fromkeys([*t.annotated_columns(), *(r.target_column for _, r in children[t.ref])]))
         for t in datamap})
    if len(_SHAPES) >= 16:
        _SHAPES.clear()
    _SHAPES[id(datamap)] = (datamap, shape)
    return shape


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
        shape = _shape(datamap)
        self.children, self.shared, self.read = shape.children, shape.shared, shape.read

    def connection(self, database: str) -> sa.Connection:
        """One connection per database for the whole discovery (closed by :func:`find_subject`)."""
        if database not in self.connections:
            self.connections[database] = self.stack.enter_context(self.engines[database].connect())
        return self.connections[database]

    def hop(self, pending: Mapping[TableRef, Mapping[str, set[Any]]]) -> dict[TableRef, dict[str, set[Any]]]:
        following: dict[TableRef, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
        for ref, conditions in pending.items():
            table = self.datamap.table(ref)
            known = self.footprint.keys.get(ref, set())
            fresh = {col: values - self.searched[ref, col] - (known if col == table.primary_key else set())
                     for col, values in conditions.items()}
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
        read = self.read[table.ref]
        known = self.footprint.keys.setdefault(table.ref, set())
        kept = self.footprint.found.setdefault(table.ref, {})
        columns = tuple(conditions)
        if sum(len(v) for v in conditions.values()) <= CHUNK:  # the usual case: one statement
            runs = [(select_in(table.name, read, columns),
                     {f"v{i}": sorted(conditions[c], key=str) for i, c in enumerate(columns)})]
        else:
            runs = [(select_in(table.name, read, (c,)), {"v0": list(batch)})
                    for c in columns for batch in chunks(sorted(conditions[c], key=str))]
        conn = self.connection(table.database)
        position = read.index(table.primary_key)
        rows: list[dict[str, Any]] = []
        for statement, parameters in runs:
            for row in conn.execute(statement, parameters):
                key = row[position]
                if key not in known:
                    known.add(key)
                    mapping = kept[key] = dict(zip(read, row, strict=True))
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
            if value is not None and parent.subject is not None and reference.cascades:
                following[parent.ref][reference.target_column].add(value)
        for child, reference in self.children[table.ref]:
            value = row.get(reference.target_column)
            if value is not None:
                following[child.ref][reference.column].add(value)
