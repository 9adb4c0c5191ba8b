"""Finding every row of one data subject, in every database (DESIGN flow 4).

Start from the identities the subject gave and proved (e-mail, phone,
customer number...) in every table declaring that identity kind; follow
references (rows pointing at found rows, rows found rows point at); cross
to other tables and databases only through identities a system of record
vouches for. Each hop is set-based: one read per table with
``WHERE col IN (values found so far)``, never a loop over rows, on
PostgreSQL a hop's reads of one database sent as one statement (a ``UNION
ALL``: :func:`garde.datasets.sql.rows_in_all`); with ``ahead`` the rows are read
first, one statement per database (:mod:`garde.datasets.ahead`), and a hop
reads only what that did not cover.

What may extend a subject (GDPR Art. 15(4), Art. 5(1)(f): an answer must
not hand one person's data to another):

- a row matched on an *authoritative* identity column (the shop's customer
  record) by an identity of the subject is *proven*; so are the rows its
  references reach, both ways (structure written by software), except
  through a ``claim`` (a reference column a person typed);
- a row matched on any other identity column (a contact form anyone can
  fill) is *claimed*: it is the subject's to see, and so are the rows
  hanging under it (a contact's segments), but nothing else is reached
  through it: not the record it points to, not the identities it holds;
- only identities read in authoritative columns of proven rows join the
  search; every other identity met is recorded as seen and not followed.

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
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets.ahead import Ahead, read_ahead
from garde.datasets.footprint import Footprint, IdentityMatch, normalise_identity, row_identity
from garde.datasets.model import DataMap, Reference, TableMap, TableRef
from garde.datasets.sql import CHUNK, chunks, rows_in_all
from garde.problems import GardeError
from garde.store.reads import reading

__all__ = ["Footprint", "IdentityMatch", "find_subject", "normalise_identity", "reads_ahead"]

Origin = tuple[str, str]  # the identity (kind, value) whose search reached a row
# What the next hop searches: per (table, proven?), per column, each value with its origin.
Pending = dict[tuple[TableRef, bool], dict[str, dict[Any, Origin]]]


def find_subject(datamap: DataMap, engines: Mapping[str, Engine], identities: Mapping[str, str],
                 *, max_hops: int = 50, ahead: bool | None = None) -> Footprint:
    """Every row of the subject holding ``identities`` ({kind: value}, proven by the requester),
    across all databases; :class:`Footprint` says how each identity met was matched.

    ``ahead``: the rows the walk will ask for are read first, one statement per database
    (:mod:`garde.datasets.ahead`), and each hop reads only what they do not cover; False: one
    read per table and hop (on PostgreSQL a hop's reads of a database sent as one statement); None
    (the default): chosen per database by :func:`reads_ahead`.
    The footprint is the same either way (``tests/test_discovery_ahead.py``, and the access answers
    of ``tests/test_access_read_ahead.py``)."""
    unknown = [k for k in identities if not datamap.with_identity(k)]
    if unknown:
        raise GardeError(f"no table declares identity {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(datamap.identity_kinds()) or 'none'}")
    missing = [name for name in datamap.datasets if name not in engines]
    if missing:
        raise GardeError(f"no engine for database {', '.join(missing)}")
    given = {kind: normalise_identity(kind, value) for kind, value in identities.items()}
    found = Footprint(datamap, {kind: {value} for kind, value in given.items()},
                      matches={(k, v): IdentityMatch(k, v, "given") for k, v in given.items()})
    with ExitStack() as stack:
        walk = _Walk(datamap, engines, found, stack)
        chosen = [name for name in datamap.datasets if reads_ahead(engines[name], ahead)]
        if chosen:
            walk.ahead = read_ahead(datamap, {name: walk.connection(name) for name in chosen},
                                    found.identities, walk.read, walk.row_identity)
        for kind, value in given.items():
            walk.search_identity(kind, value)
        while walk.pending:
            if found.hops >= max_hops:
                raise GardeError(f"subject discovery did not settle after {max_hops} hops")
            found.hops += 1
            walk.hop()
    return found


def reads_ahead(engine: Engine, ahead: bool | None = None) -> bool:
    """Whether discovery reads ``engine``'s database in one statement before its walk: ``ahead`` when
    given (the ``discovery_read_ahead`` setting), else not, on either database.

    On PostgreSQL the one statement replaces about thirty (an access request: 16 round trips instead
    of 19, ≈ 10 % less client CPU) but the server plans it anew at each run (≈ 1.2 ms: its custom plans
    are kept), so a whole access request took longer than the walk, quiet (1 M shop, 2026-12-07
    06:57 UTC: 12.6 – 18.2 ms against 10.2 – 15.7 ms wall; 1.34 – 1.49× the hand-written SQL against
    1.07 – 1.10×). With the generic plan forced it is on a par (11.5 – 12.8 ms). On SQLite there is
    no round trip and the thirty small prepared statements cost less than the one large one (0.9
    against 1.5 ms). docs/performance.md, "discovery's statement chosen per database". Since then
    the walk sends a hop's reads of a PostgreSQL database as one statement (about five a
    discovery, not thirty: pg29), which leaves reading ahead less to save there."""
    return bool(ahead)


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


def _pending() -> Pending:
    return defaultdict(lambda: defaultdict(dict))


class _Walk:
    """One discovery: what was searched per (table, column, proven?), and what the next hop searches."""

    def __init__(self, datamap: DataMap, engines: Mapping[str, Engine], footprint: Footprint,
                 stack: ExitStack) -> None:
        self.datamap = datamap
        self.engines = engines
        self.footprint = footprint
        self.searched: dict[tuple[TableRef, str, bool], set[Any]] = defaultdict(set)
        self.pending: Pending = _pending()
        self.stack = stack
        self.connections: dict[str, sa.Connection] = {}
        shape = _shape(datamap)
        self.children, self.shared, self.read = shape.children, shape.shared, shape.read
        self.ahead: Ahead | None = None
        self.normalised: dict[tuple[str, str], str | None] = {}

    def row_identity(self, kind: str, value: Any) -> str | None:
        """:func:`row_identity`, once per value in a discovery (reading ahead meets the identities the
        walk meets again; a phone is parsed by the phonenumbers library, a tenth of a millisecond).
        Kept for this discovery only: no subject's identity outlives it in the process."""
        key = (kind, str(value))  # as row_identity reads it; any value, hashable or not
        if key not in self.normalised:
            self.normalised[key] = row_identity(kind, value)
        return self.normalised[key]

    def connection(self, database: str) -> sa.Connection:
        """One connection per database for the whole discovery (closed by :func:`find_subject`);
        on PostgreSQL in autocommit (:mod:`garde.store.reads`: no ``BEGIN``, no ``ROLLBACK``)."""
        if database not in self.connections:
            self.connections[database] = self.stack.enter_context(reading(self.engines[database]))
        return self.connections[database]

    def search_identity(self, kind: str, value: str) -> None:
        """Search a proven identity in every table declaring its kind: a match in an authoritative
        column is a proven row, any other match a claimed one."""
        for table, column in self.shared.get(kind, ()):
            self.pending[table.ref, kind in table.authoritative][column].setdefault(value, (kind, value))

    def hop(self) -> None:
        pending, self.pending = self.pending, _pending()
        # Proven searches first: a row both proven and claimed in one hop is followed as proven.
        searches: list[tuple[TableMap, dict[str, dict[Any, Origin]], bool]] = []
        for (ref, proven), conditions in sorted(pending.items(), key=lambda item: not item[0][1]):
            table = self.datamap.table(ref)
            known = (self.footprint.proven if proven else self.footprint.keys).get(ref, set())
            fresh: dict[str, dict[Any, Origin]] = {}
            for column, values in conditions.items():
                done = self.searched[ref, column, True]
                if not proven:  # a proven search of a value finds the same rows, and more is known of them
                    done = done | self.searched[ref, column, False]
                kept = {v: o for v, o in values.items()
                        if v not in done and not (column == table.primary_key and v in known)}
                if kept:
                    fresh[column] = kept
                    self.searched[ref, column, proven] |= kept.keys()
            if fresh:
                searches.append((table, fresh, proven))
        # The hop's statements are independent of each other: read together (one round trip per
        # database on PostgreSQL), then taken in the same order as before.
        reads = [(table, fresh, proven, run) for table, fresh, proven in searches
                 for run in self.runs(fresh)]
        # What was read ahead is answered from memory; the rest from the databases.
        answered = [self.ahead.answer(table.ref, run) if self.ahead is not None else None
                    for table, _, _, run in reads]
        missing = iter(rows_in_all([(self.connection(table.database), table.name, self.read[table.ref], run)
                                    for (table, _, _, run), rows in zip(reads, answered, strict=True)
                                    if rows is None]))
        found = [rows if rows is not None else next(missing) for rows in answered]
        for (table, fresh, proven, _), rows in zip(reads, found, strict=True):
            for row, origin in self.keep(table, fresh, proven, rows):
                self.follow(table, row, proven, origin)

    @staticmethod
    def runs(conditions: Mapping[str, Mapping[Any, Origin]]) -> list[dict[str, Sequence[Any]]]:
        """The statements' conditions: one statement, or one per chunk of values when they are many."""
        columns = tuple(conditions)
        if sum(len(v) for v in conditions.values()) <= CHUNK:  # the usual case: one statement
            return [{c: sorted(conditions[c], key=str) for c in columns}]
        return [{c: batch} for c in columns for batch in chunks(sorted(conditions[c], key=str))]

    def keep(self, table: TableMap, conditions: Mapping[str, Mapping[Any, Origin]], proven: bool,
             found: Sequence[tuple[Any, ...]]) -> list[tuple[dict[str, Any], Origin]]:
        """The rows read that were not found yet at this trust, with the identity that reached them."""
        read = self.read[table.ref]
        keys = self.footprint.keys.setdefault(table.ref, set())
        proven_keys = self.footprint.proven.setdefault(table.ref, set())
        known = proven_keys if proven else keys
        kept = self.footprint.found.setdefault(table.ref, {})
        columns = tuple(conditions)
        position = read.index(table.primary_key)
        rows: list[tuple[dict[str, Any], Origin]] = []
        for row in found:
            key = row[position]
            if key in known:
                continue
            known.add(key)
            keys.add(key)
            mapping = kept[key] = dict(zip(read, row, strict=True))
            origin = next((conditions[c][mapping[c]] for c in columns if mapping[c] in conditions[c]),
                          next(iter(conditions[columns[0]].values())))
            rows.append((mapping, origin))
        return rows

    def follow(self, table: TableMap, row: Mapping[str, Any], proven: bool, origin: Origin) -> None:
        """What a newly found row adds to the next hop (its identities, references, referrers)."""
        if table.subject is None:
            return
        for kind, column in table.identities.items():
            value = self.row_identity(kind, row[column]) if row.get(column) is not None else None
            if value is not None:
                self.identity(table, column, kind, value, proven, origin)
        if proven:
            for column, reference in table.references.items():
                parent = self.datamap.datasets[table.database].tables[reference.target]
                value = row.get(column)
                # A claim names a row someone typed the number of: never followed to it.
                if (value is not None and parent.subject is not None and not reference.claim
                        and reference.cascades):
                    self.pending[parent.ref, True][reference.target_column].setdefault(value, origin)
        elif table.authoritative:
            # A system-of-record row matched on a column nobody checked (or reached from a claimed
            # row) may be someone else's record: what hangs under it is not reached through it.
            return
        for child, reference in self.children[table.ref]:
            value = row.get(reference.target_column)
            if value is not None and (proven or not reference.claim):
                trust = proven and not reference.claim
                self.pending[child.ref, trust][reference.column].setdefault(value, origin)

    def identity(self, table: TableMap, column: str, kind: str, value: str, proven: bool,
                 origin: Origin) -> None:
        """An identity read on a row: it joins the search only from an authoritative column of a
        proven row; otherwise it is recorded as seen and not followed."""
        if value in self.footprint.identities.get(kind, ()):
            return
        if proven and kind in table.authoritative:
            self.footprint.identities.setdefault(kind, set()).add(value)
            self.footprint.matches[kind, value] = IdentityMatch(kind, value, "linked", table.ref, column,
                                                                origin)
            self.search_identity(kind, value)
        else:
            seen = IdentityMatch(kind, value, "not_followed", table.ref, column, proven_row=proven)
            self.footprint.seen.setdefault((kind, value), seen)
