"""The data map: which table and column of which database holds whose personal data.

A :class:`DataMap` is every :class:`Dataset` (one per database) of a
deployment. Each :class:`TableMap` says which data subject its rows describe,
how a row is tied to that subject (identity columns, references to other
tables), which columns feed the retention trigger events, and per column the
data category, the activities of the register that use it and how erasure
masks it. Requests and retention sweeps read nothing else to find and treat
a subject's data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from garde.datasets.archive import ArchiveMap

Strategy = Literal["delete", "null", "hash", "fixed", "anonymise"]
STRATEGIES: tuple[Strategy, ...] = ("delete", "null", "hash", "fixed", "anonymise")
Generalise = Literal["year", "month"]


class TableRef(NamedTuple):
    """A table of one database: ``TableRef("shop", "orders")``, shown as ``shop.orders``."""

    database: str
    table: str

    def __str__(self) -> str:
        return f"{self.database}.{self.table}"


@dataclass(frozen=True)
class Masking:
    """How erasure treats a column.

    ``delete`` deletes the whole row; ``null`` sets NULL; ``hash`` replaces the
    value by its SHA-256 (pseudonymisation, GDPR Art. 4(5): still personal
    data); ``fixed`` writes ``value``; ``anonymise`` generalises: keeps the
    first ``keep`` characters (a postal code's department), truncates a date to
    its year or month (``generalise``), or writes ``value`` (default
    ``"anonymised"``).
    """

    strategy: Strategy = "delete"
    value: Any = None
    keep: int | None = None
    generalise: Generalise | None = None

    def to_data(self) -> str | dict[str, Any]:
        extra = {k: v for k, v in (("value", self.value), ("keep", self.keep),
                                   ("generalise", self.generalise)) if v is not None}
        return {"strategy": self.strategy, **extra} if extra else self.strategy


@dataclass(frozen=True)
class ColumnMap:
    """One annotated column: its data category, the activities using it, its erasure."""

    name: str
    category: str
    activities: tuple[str, ...] = ()
    erase: Masking = Masking()
    description: str | None = None
    label: dict[str, str] = field(default_factory=dict, hash=False)  # what the field is, for people

    def label_in(self, lang: str) -> str | None:
        """The field's label in ``lang`` (else English), or None when the map gives none."""
        return self.label.get(lang) or self.label.get("en")

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"category": self.category, "activities": list(self.activities),
                                "erase": self.erase.to_data()}
        if self.description:
            data["description"] = self.description
        if self.label:
            data["label"] = dict(self.label)
        return data


OnErase = Literal["cascade", "nullify"]
ON_ERASE: tuple[OnErase, ...] = ("cascade", "nullify")


@dataclass(frozen=True)
class Reference:
    """``column`` of this table holds ``target_column`` of ``target`` (same database).

    ``on_erase: cascade`` (the default between two tables): the row belongs to
    the same data subject as the row it points to; discovery follows it both
    ways and erasure takes both. ``on_erase: nullify`` (the default for a
    table pointing at itself, ``customers.referrer_id``): the row points at
    *another* person; discovery never follows it, and erasing the person
    pointed at sets ``column`` to NULL in the other rows, which stay.

    A ``claim`` is a reference whose value a person typed (an order number in
    a review form): it may point at someone else's row, so discovery never
    follows it from the claiming row to the row it names (see
    ``docs/datasets.md``).
    """

    column: str
    target: str
    target_column: str
    on_erase: OnErase = "cascade"
    claim: bool = False
    declared: bool = False  # whether the file said `claim:` (else the default for the target column)

    def __str__(self) -> str:
        return f"{self.target}.{self.target_column}"

    @property
    def cascades(self) -> bool:
        """Whether the row belongs to the subject of the row it points at (discovery follows it)."""
        return self.on_erase == "cascade"

    def to_data(self, table: str) -> str | dict[str, Any]:
        """``table.column``, or ``{to: table.column, claim: ..., on_erase: ...}`` when not the defaults."""
        data: dict[str, Any] = {"to": str(self)}
        if self.claim or self.declared:
            data["claim"] = self.claim
        if self.on_erase != default_on_erase(table, self.target):
            data["on_erase"] = self.on_erase
        return data if len(data) > 1 else str(self)


def default_on_erase(table: str, target: str) -> OnErase:
    """A table pointing at itself points at another person (a referrer); other references, at the same one."""
    return "nullify" if table == target else "cascade"


@dataclass
class TableMap:
    """The annotations of one table."""

    database: str
    name: str
    primary_key: str
    subject: str | None = None
    identities: dict[str, str] = field(default_factory=dict)
    # Identity kinds whose column the business has checked (a system of record): only their
    # values, read on rows proven to be the subject's, extend a subject to other tables.
    authoritative: frozenset[str] = frozenset()
    # The identity kind whose holder the row is about (a CRM contact is its e-mail's holder's, whoever
    # else's phone it carries): a row whose owner column holds someone else's value is shared, and a
    # request of the holder of another of its identities acts on that column only (garde.rights.shared).
    owner: str | None = None
    references: dict[str, Reference] = field(default_factory=dict)
    timestamps: dict[str, str] = field(default_factory=dict)
    columns: dict[str, ColumnMap] = field(default_factory=dict)
    identifiable: bool = True
    description: str | None = None
    label: dict[str, str] = field(default_factory=dict)  # what the table's rows are, for people
    # Intermediate archiving (garde.datasets.archive): the live table names its archive table;
    # the archive table, derived from it, names the live table it archives.
    archive: ArchiveMap | None = None
    archive_of: str | None = None

    def label_in(self, lang: str) -> str:
        """The table's label in ``lang`` (else English, else its name): how a subject reads it."""
        return self.label.get(lang) or self.label.get("en") or self.name.replace("_", " ")

    @cached_property
    def ref(self) -> TableRef:
        # kept: discovery asks a table for its ref a few hundred times a request (≈ 0.4 µs each to
        # build); a table's database and name never change once it is loaded
        return TableRef(self.database, self.name)

    @property
    def personal(self) -> bool:
        """Whether rows hold personal data (a subject, identities or categorised columns)."""
        return bool(self.subject or self.identities or self.columns)

    def known_columns(self) -> set[str]:
        """Every column the annotations name."""
        return {self.primary_key, *self.identities.values(), *self.references, *self.timestamps.values(),
                *self.columns}

    def key_columns(self) -> list[str]:
        """Primary key, identity and reference columns: what discovery reads."""
        names = [self.primary_key, *self.identities.values(), *self.references]
        return list(dict.fromkeys(names))

    def annotated_columns(self) -> list[str]:
        """Every annotated column, primary key first (what an access request returns)."""
        names = [self.primary_key, *self.identities.values(), *self.references, *self.columns,
                 *self.timestamps.values()]
        return list(dict.fromkeys(names))

    @property
    def owner_column(self) -> str | None:
        """The column of the :attr:`owner` identity, if the map declares one."""
        return self.identities.get(self.owner) if self.owner else None

    def timestamp(self, event: str) -> str | None:
        """The column holding the date of trigger event ``event``, if any."""
        return self.timestamps.get(event)

    def categories(self) -> set[str]:
        return {c.category for c in self.columns.values()}

    def activities(self) -> set[str]:
        return {a for c in self.columns.values() for a in c.activities}

    def columns_for(self, activity: str | None = None, categories: set[str] | None = None) -> list[ColumnMap]:
        """Columns used by ``activity`` and/or whose category is (under) one of ``categories``."""
        out = []
        for column in self.columns.values():
            if activity is not None and activity not in column.activities:
                continue
            if categories is not None and not any(
                column.category == c or column.category.startswith(c + ".") for c in categories
            ):
                continue
            out.append(column)
        return out

    def deletes_rows(self) -> bool:
        """Whether erasing a subject deletes the rows (some column says ``delete``)."""
        return any(c.erase.strategy == "delete" for c in self.columns.values())

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        if self.label:
            data["label"] = dict(self.label)
        if self.subject:
            data["subject"] = self.subject
        data["primary_key"] = self.primary_key
        if not self.identifiable:
            data["identifiable"] = False
        if self.identities and self.authoritative == set(self.identities):
            data["authoritative"] = True
            data["identities"] = dict(self.identities)
        elif self.identities:
            data["identities"] = {kind: {"column": column, "authoritative": True}
                                  if kind in self.authoritative else column
                                  for kind, column in self.identities.items()}
        if self.owner:
            data["owner"] = self.owner
        if self.references:
            data["references"] = {c: r.to_data(self.name) for c, r in self.references.items()}
        if self.timestamps:
            data["timestamps"] = dict(self.timestamps)
        if self.columns:
            data["columns"] = {name: c.to_data() for name, c in self.columns.items()}
        if self.archive is not None:
            data["archive"] = self.archive.to_data()
        return data


@dataclass
class Dataset:
    """One database: where it is, which register its activities belong to, its tables."""

    database: str
    tables: dict[str, TableMap]
    url: str | None = None
    url_env: str | None = None
    register: str | None = None
    file: str = "<dataset>"
    description: str | None = None

    def resolved_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The URL from ``url_env`` when that variable is set, else ``url``."""
        environ = os.environ if environ is None else environ
        if self.url_env and environ.get(self.url_env):
            return environ[self.url_env]
        if self.url:
            return self.url
        from garde.problems import GardeError

        raise GardeError(f"dataset {self.database!r}: set {self.url_env} to the database URL")

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"database": self.database}
        if self.description:
            data["description"] = self.description
        for key in ("url", "url_env", "register"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        # an archive table is derived from its live table's `archive:`, not written
        data["tables"] = {name: t.to_data() for name, t in self.tables.items() if t.archive_of is None}
        return data


@dataclass
class DataMap:
    """Every dataset of a deployment, by database name."""

    datasets: dict[str, Dataset]

    def __iter__(self) -> Iterator[TableMap]:
        for dataset in self.datasets.values():
            yield from dataset.tables.values()

    def tables(self) -> list[TableMap]:
        return list(self)

    def table(self, ref: TableRef | tuple[str, str]) -> TableMap:
        database, name = ref
        return self.datasets[database].tables[name]

    def identity_kinds(self) -> list[str]:
        return sorted({kind for t in self for kind in t.identities})

    def authoritative_tables(self) -> list[TableMap]:
        """Tables declaring at least one authoritative identity (systems of record)."""
        return [t for t in self if t.authoritative]

    def with_identity(self, kind: str) -> list[tuple[TableMap, str]]:
        """Tables declaring identity ``kind``, with the column holding it."""
        return [(t, t.identities[kind]) for t in self if kind in t.identities]

    def referencing(self, table: TableMap) -> list[tuple[TableMap, Reference]]:
        """Tables of the same database whose references point at ``table``."""
        dataset = self.datasets[table.database]
        return [(t, r) for t in dataset.tables.values() for r in t.references.values()
                if r.target == table.name]

    def nullified_by(self, table: TableMap) -> list[tuple[TableMap, Reference]]:
        """The ``on_erase: nullify`` references pointing at ``table``: other people's links to its rows."""
        return [(t, r) for t, r in self.referencing(table) if not r.cascades]

    def usages(self, activity: str) -> list[tuple[TableMap, ColumnMap]]:
        """Every column an activity uses (what its retention rules apply to)."""
        return [(t, c) for t in self for c in t.columns.values() if activity in c.activities]

    def deletion_order(self) -> list[TableRef]:
        """Tables ordered children first, so deleting in this order never breaks a foreign key."""
        order: list[TableRef] = []
        done: set[TableRef] = set()

        def visit(table: TableMap, path: set[TableRef]) -> None:
            if table.ref in done or table.ref in path:
                return
            for child, _ in self.referencing(table):
                visit(child, path | {table.ref})
            done.add(table.ref)
            order.append(table.ref)

        for table in self:
            visit(table, set())
        return order

    def to_data(self) -> list[dict[str, Any]]:
        """Each dataset as plain data: itself a valid dataset file."""
        return [d.to_data() for d in self.datasets.values()]
