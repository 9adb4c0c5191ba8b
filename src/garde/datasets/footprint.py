"""What discovery found of one data subject: rows per table, and how each identity was matched.

A row is *proven* when an unbroken chain of checked links ties it to an
identity the requester proved: a match on an authoritative identity column
(a system of record, where the business checked the identity), then
references (structure written by software). Any other row found is
*claimed*: it holds one of the subject's identities in a column anyone can
fill (a contact form, a newsletter list), or hangs under such a row. Only
identities read in authoritative columns of proven rows extend the subject;
the others are recorded as seen and not followed, and their values are
never shown to the subject (they may be someone else's: GDPR Art. 15(4)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.engine import Engine

from garde.datasets.model import ColumnMap, DataMap, TableRef
from garde.datasets.sql import chunks, select_in
from garde.problems import GardeError
from garde.subjects import IDENTIFIER_KINDS, normalise_identifier

How = Literal["given", "linked", "not_followed"]

_ORDERS: dict[int, tuple[DataMap, tuple[TableRef, ...]]] = {}


def _map_order(datamap: DataMap) -> tuple[TableRef, ...]:
    """Every table of the map, in its order (cached by the map's identity, as discovery's walk shape
    is: keeping the map alive keeps its id unique). A request asks for it four times."""
    cached = _ORDERS.get(id(datamap))
    if cached is not None and cached[0] is datamap:
        return cached[1]
    order = tuple(t.ref for t in datamap)
    if len(_ORDERS) >= 16:
        _ORDERS.clear()
    _ORDERS[id(datamap)] = (datamap, order)
    return order


def normalise_identity(kind: str, value: str, region: str | None = None) -> str:
    """The form identity columns hold: lower-case e-mail, ``+33...`` phone (a national number read in
    ``region``), others stripped."""
    if kind in IDENTIFIER_KINDS:
        return normalise_identifier(kind, value, region)
    return value.strip()


def row_identity(kind: str, value: Any, region: str | None = None) -> str | None:
    """The normalised identity a database row holds, or None when its text is no such identity.

    Rows hold what people typed (``n/a`` as a phone on a contact form): such a
    value matches nobody, so it is neither searched nor proven, and it never
    stops a request.
    """
    try:
        return normalise_identity(kind, str(value), region)
    except GardeError:
        return None


@dataclass(frozen=True)
class IdentityMatch:
    """How discovery met one identity.

    ``given``: the requester gave (and proved) it. ``linked``: read in
    ``table.column``, an authoritative column of a row proven to be the
    subject's, reached from identity ``via`` ((kind, value)). ``not_followed``:
    seen in ``table.column`` of a claimed row or a column nobody checks; it
    was not used to search further (``proven_row``: the row it sits on is the
    subject's, e.g. their browser's cookie id; otherwise its value is withheld).
    """

    kind: str
    value: str
    how: How
    table: TableRef | None = None
    column: str | None = None
    via: tuple[str, str] | None = None
    proven_row: bool = False

    def to_data(self) -> dict[str, Any]:
        """Plain data; a ``not_followed`` identity may be someone else's, so its value is left out."""
        data: dict[str, Any] = {"kind": self.kind, "how": self.how}
        if self.how != "not_followed":
            data["value"] = self.value
        else:
            data["withheld"] = not self.proven_row
        if self.table is not None:
            data["table"], data["column"] = str(self.table), self.column
        if self.via is not None:
            data["via"] = {"kind": self.via[0], "value": self.via[1]}
        return data


@dataclass
class Footprint:
    """Where a data subject's rows are: primary keys per table, and the identities met.

    ``identities`` holds only the subject's identities: given, or linked
    through a system of record. ``matches`` says how each was matched;
    ``seen`` the identities met but not followed. Discovery keeps the rows it
    read (every annotated column, by primary key), so answering a request
    does not read them a second time.
    """

    datamap: DataMap
    identities: dict[str, set[str]]
    keys: dict[TableRef, set[Any]] = field(default_factory=dict)
    hops: int = 0
    found: dict[TableRef, dict[Any, dict[str, Any]]] = field(default_factory=dict, repr=False)
    proven: dict[TableRef, set[Any]] = field(default_factory=dict)
    matches: dict[tuple[str, str], IdentityMatch] = field(default_factory=dict)
    seen: dict[tuple[str, str], IdentityMatch] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return any(self.keys.values())

    def tables(self) -> list[TableRef]:
        """Tables holding some of the subject's rows, in the map's order."""
        keys = self.keys
        return [ref for ref in _map_order(self.datamap) if keys.get(ref)]

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

    def identity_matches(self) -> list[IdentityMatch]:
        """How each of the subject's identities was matched, given ones first."""
        order = {"given": 0, "linked": 1}
        return sorted(self.matches.values(), key=lambda m: (order[m.how], m.kind, m.value))

    def not_followed(self) -> list[IdentityMatch]:
        """Identities met on the way that are not the subject's as far as discovery can prove."""
        return sorted((m for key, m in self.seen.items() if key[1] not in self.identities.get(key[0], ())),
                      key=lambda m: (m.kind, str(m.table), m.column or "", m.value))

    def withheld(self, ref: TableRef, row: Mapping[str, Any]) -> set[str]:
        """Identity columns of a claimed row holding a value not proven to be the subject's.

        A contact form row with the subject's e-mail may carry another person's phone: the
        answer says such a value exists and withholds it (GDPR Art. 15(4)). Proven rows
        withhold nothing.
        """
        table = self.datamap.table(ref)
        if row.get(table.primary_key) in self.proven.get(ref, ()):
            return set()
        return {column for kind, column in table.identities.items() if row.get(column) is not None
                and row_identity(kind, row[column]) not in self.identities.get(kind, ())}

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
        """The identities and how they were matched, and the keys per table (no unfollowed value)."""
        unfollowed = {(m.kind, str(m.table), m.column): m.to_data() for m in self.not_followed()}
        return {"identities": {k: sorted(v) for k, v in sorted(self.identities.items())},
                "matches": [m.to_data() for m in self.identity_matches()],
                "not_followed": list(unfollowed.values()),
                "tables": {str(ref): self.primary_keys(*ref) for ref in self.tables()}}
