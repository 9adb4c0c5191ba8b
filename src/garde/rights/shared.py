"""Shared rows: someone else's row that holds the requester's identity.

A CRM contact Bob created holds Ana's phone (a typo, a household line, a
recycled number). Ana proves the phone: discovery finds the row. The phone is
her data, and her erasure erases it there (GDPR Art. 17(1)); the rest of the
row (Bob's e-mail, his name, the segments and survey answers under his
contact) is not data "concerning" her: deleting it on her word would destroy
another person's data, itself a personal data breach (Art. 4(12), 5(1)(f)),
and showing it to her would adversely affect his rights (Art. 15(4)).

Whose row it is comes from the data map, not a guess: a table may name its
``owner`` identity (``owner: email``: a contact is about its e-mail's holder).
Each identity value of a found row is, for the requester:

- ``proven``: one they proved, or discovery linked to them through a system
  of record (the footprint's identities);
- ``subject``: linked to their subject in garde's store;
- ``other``: linked to another subject in garde's store, or, for a value the store links to no one
  (of any kind the data map declares: a ``cookie_id`` the store never links), held by a system of
  record beside an identity the store links to another subject (:func:`_links_through_records`);
- ``nobody``: linked to no one (the usual case of a contact form).

A row is **shared** (:func:`is_shared`) when its table names an owner whose
column holds an ``other`` or ``nobody`` value (the DPO's word: the owner
decides, whatever the other columns hold), or when its table names no owner
and one of its identities is ``other``: garde's store says for certain that
this value is another person's (they proved it, or a system of record linked
it to them), and an erasure cannot be undone. A ``nobody`` value does not make
a row of a table without owner shared: that is the usual contact form, and
the DPO opts in table by table. A row found only through shared rows (the
segments under Bob's contact) is shared too (``under``): it is the owner's.

Requests act on a shared row's matched columns only: an erasure applies their
own rules there (one more kind of step, ``shared``), a rectification leaves
the row, an access or portability answer shows the matched values alone. Each
lists the shared rows for staff (table, key, matched columns; never the other
person's values), who decide with the business; the requester is told only how many rows of each
table hold their values among another person's data (:func:`for_subject`).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from garde.datasets import Footprint, TableMap, TableRef
from garde.datasets.footprint import row_identity
from garde.datasets.sql import chunks, select_in
from garde.keys import identifier_data_key
from garde.rights.deployment import Deployment
from garde.rights.rectification import seal
from garde.subjects import IDENTIFIER_KINDS, identifier_hash, subject_identifiers

Holder = Literal["proven", "subject", "other", "nobody"]
Why = Literal["owner", "other_subject", "under"]

#: What staff read of each reason (garde request show, the dashboard's request page).
WHY = {"owner": "its owner identity is someone else's",
       "other_subject": "it holds an identity garde links to another person",
       "under": "found only through such a row"}


@dataclass(frozen=True)
class SharedRow:
    """A found row that is not the requester's: ``matched``, its columns holding their identities."""

    table: TableRef
    key: Any
    matched: tuple[str, ...]
    why: Why

    def to_data(self, data_key: bytes | None = None) -> dict[str, Any]:
        """For staff: the table, the key (a keyed digest where the key is an identity), the matched
        columns and why; never a value of the row."""
        key = self.key if data_key is None else seal(str(self.table), self.key, data_key)
        return {"table": str(self.table), "key": key, "matched": list(self.matched), "why": WHY[self.why]}


Shared = dict[TableRef, dict[Any, SharedRow]]


def is_shared(owner: str | None, holders: Mapping[str, Holder]) -> bool:
    """The rule, over a row's identity columns (``holders``: column -> whose its value is; a column
    without a value is absent) and its table's ``owner`` column."""
    if owner is not None:
        return holders.get(owner) in ("other", "nobody")
    return "other" in holders.values()


def shared_rows(conn: sa.Connection, deployment: Deployment, footprint: Footprint,
                subject_id: str | None) -> Shared:
    """The footprint's shared rows, per table and key; ``conn``: garde's store (its links)."""
    datamap, region = deployment.datamap, deployment.phone_region
    mine = footprint.identities
    found: dict[TableRef, list[tuple[Any, dict[str, tuple[str, str]]]]] = {}
    others: set[tuple[str, str]] = set()
    for ref in footprint.tables():
        table = datamap.table(ref)
        if not table.identities:
            continue
        rows = []
        for row in footprint.rows(deployment.engines, ref, list(table.identities.values())):
            # columns hold the normalised form: the subject's own values need no parsing (a phone's
            # costs tens of microseconds)
            held = {column: (kind, value) for kind, column in table.identities.items()
                    if row.get(column) is not None
                    for value in (row[column] if row[column] in mine.get(kind, ())
                                  else row_identity(kind, row[column], region),) if value is not None}
            others.update(pair for pair in held.values() if pair[1] not in mine.get(pair[0], ()))
            rows.append((row[table.primary_key], held))
        found[ref] = rows
    links = _links(conn, others)
    # of any kind the data map declares, those the store links to no one: through a system of record
    links.update(_links_through_records(conn, deployment, others - set(links)))
    shared: Shared = defaultdict(dict)
    matching: set[tuple[TableRef, Any]] = set()
    for ref, rows in found.items():
        table = datamap.table(ref)
        for key, held in rows:
            holders = {column: _holder(pair, mine, links, subject_id) for column, pair in held.items()}
            matched = tuple(sorted(c for c, h in holders.items() if h in ("proven", "subject")))
            if is_shared(table.owner_column, holders):
                why: Why = "owner" if table.owner_column is not None else "other_subject"
                shared[ref][key] = SharedRow(ref, key, matched, why)
            elif matched:
                matching.add((ref, key))
    if shared:
        _under(deployment, footprint, shared, matching)
    return dict(shared)


def _holder(pair: tuple[str, str], mine: Mapping[str, set[str]], links: Mapping[tuple[str, str], str],
            subject_id: str | None) -> Holder:
    if pair[1] in mine.get(pair[0], ()):
        return "proven"
    holder = links.get(pair)
    if holder is None:
        return "nobody"
    return "subject" if holder == subject_id else "other"


def _links(conn: sa.Connection, values: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``{(kind, value): subject id}`` for the values garde's store links to a subject."""
    values = {pair for pair in values if pair[0] in IDENTIFIER_KINDS}
    if not values:
        return {}
    key = identifier_data_key(conn)
    by_digest = {(kind, identifier_hash(kind, value, key)): (kind, value) for kind, value in values}
    i = subject_identifiers.c
    out: dict[tuple[str, str], str] = {}
    for batch in chunks(sorted(by_digest)):
        rows = conn.execute(sa.select(i.kind, i.hash, i.subject_id).where(
            sa.tuple_(i.kind, i.hash).in_(list(batch))))
        for kind, digest, subject in rows:
            out[by_digest[kind, digest]] = subject
    return out


def _links_through_records(conn: sa.Connection, deployment: Deployment,
                           values: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``{(kind, value): subject id}`` for values the store links to no one, of any kind the data map
    declares (``cookie_id``, any word; or an e-mail, a customer number never linked itself): a value is
    a subject's when a system of record holds it, in an authoritative column of its kind, on a row
    whose authoritative identity of a kind the store links (its e-mail, its customer number) is linked
    to that subject. The same proof discovery takes from a system of record (one hop from what the
    store knows); a value two such rows give two different subjects is left to nobody."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for kind, value in values:
        wanted[kind].add(value)
    if not wanted:
        return {}
    region = deployment.phone_region
    found: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)  # value -> the store's identities
    for table in deployment.datamap.authoritative_tables():
        known = [(kind, table.identities[kind]) for kind in IDENTIFIER_KINDS if kind in table.authoritative]
        for kind in sorted(k for k in wanted if k in table.authoritative) if known else ():
            column = table.identities[kind]
            names = (column, *(c for _, c in known))
            query = select_in(table.name, tuple(dict.fromkeys(names)), (column,))
            with deployment.engines[table.database].connect() as business:
                for batch in chunks(sorted(wanted[kind])):
                    for row in business.execute(query, {"v0": list(batch)}).mappings():
                        read = row_identity(kind, row[column], region)
                        if read is None:
                            continue
                        for other, other_column in known:
                            held = row_identity(other, row[other_column], region) \
                                if row[other_column] is not None else None
                            if held is not None:
                                found[kind, read].add((other, held))
    through = _links(conn, {pair for pairs in found.values() for pair in pairs})
    out: dict[tuple[str, str], str] = {}
    for pair, identities in found.items():
        holders = {through[i] for i in identities if i in through}
        if len(holders) == 1:
            out[pair] = holders.pop()
    return out


def _under(deployment: Deployment, footprint: Footprint, shared: Shared,
           matching: set[tuple[TableRef, Any]]) -> None:
    """Add the rows reached only through shared rows (``under``): the rows the requester's own matched
    rows do not reach through references (both ways, claims too: a reference discovery does not
    follow only makes more rows the requester's, as before this rule) without passing a shared row."""
    datamap = deployment.datamap
    refs = footprint.tables()
    rows = {ref: {row[datamap.table(ref).primary_key]: row for row in footprint.rows(deployment.engines, ref)}
            for ref in refs}
    index: dict[tuple[TableRef, str], dict[Any, list[Any]]] = {}

    def holding(ref: TableRef, column: str, value: Any) -> list[Any]:
        if (ref, column) not in index:
            by_value: dict[Any, list[Any]] = defaultdict(list)
            for key, row in rows.get(ref, {}).items():
                if row.get(column) is not None:
                    by_value[row[column]].append(key)
            index[ref, column] = by_value
        return index[ref, column].get(value, [])

    def neighbours(table: TableMap, row: dict[str, Any]) -> list[tuple[TableRef, Any]]:
        out = [(TableRef(table.database, r.target), key) for column, r in table.references.items()
               if r.cascades and row.get(column) is not None
               for key in holding(TableRef(table.database, r.target), r.target_column, row[column])]
        out += [(child.ref, key) for child, r in datamap.referencing(table)
                if r.cascades and row.get(r.target_column) is not None
                for key in holding(child.ref, r.column, row[r.target_column])]
        return out

    own = set(matching)
    queue = deque(own)
    while queue:
        ref, key = queue.popleft()
        for node in neighbours(datamap.table(ref), rows[ref][key]):
            if node not in own and node[1] not in shared.get(node[0], {}):
                own.add(node)
                queue.append(node)
    for ref in refs:
        for key in rows[ref]:
            if (ref, key) not in own and key not in shared.get(ref, {}):
                shared[ref][key] = SharedRow(ref, key, (), "under")


def shared_and_listed(conn: sa.Connection, deployment: Deployment, footprint: Footprint,
                      subject_id: str | None) -> tuple[Shared, list[dict[str, Any]]]:
    """:func:`shared_rows` and their :func:`listing` for staff, as a request's run records them."""
    shared = shared_rows(conn, deployment, footprint, subject_id)
    return shared, listing(conn, deployment, shared)


def listing(conn: sa.Connection, deployment: Deployment, shared: Shared) -> list[dict[str, Any]]:
    """The shared rows for staff, in the map's order; the key of a table keyed by an identity as a keyed
    digest (it may be the other person's address)."""
    if not shared:
        return []
    keyed = {ref for ref in shared if deployment.datamap.table(ref).primary_key
             in deployment.datamap.table(ref).identities.values()}
    data_key = identifier_data_key(conn) if keyed else None
    return [row.to_data(data_key if ref in keyed else None) for ref in sorted(shared, key=str)
            for row in sorted(shared[ref].values(), key=lambda r: str(r.key))]


def withheld(footprint: Footprint, shared: Shared | None, ref: TableRef, row: Mapping[str, Any]) -> set[str]:
    """The columns of a found row an answer withholds: an identity of a claimed row not proven to be
    the subject's (:meth:`Footprint.withheld`), and every column of a shared row but those holding the
    subject's identities, its key included (the rest is the other person's, GDPR Art. 15(4): a CRM
    contact's number is the number Bob's own answer shows him)."""
    out = footprint.withheld(ref, row)
    primary_key = footprint.datamap.table(ref).primary_key
    theirs = (shared or {}).get(ref, {}).get(row.get(primary_key))
    if theirs is not None:
        out |= {name for name in row if name not in theirs.matched}
    return out


def theirs_alone(shared: Shared | None, ref: TableRef, key: Any) -> bool:
    """Whether a found row holds nothing of the requester's (``under`` a shared row): an answer leaves
    it out, it is not about them."""
    theirs = (shared or {}).get(ref, {}).get(key)
    return theirs is not None and not theirs.matched


def for_subject(listing: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What the requester is told of the shared rows (:func:`listing`, staff's): per table, how many
    rows hold their values among another person's data. Never a key (the row's number, or an address
    keying a table, is the other person's data), nor the rows found only through them (nothing of the
    requester's is there)."""
    counts = Counter(str(row["table"]) for row in listing if row.get("matched"))
    return [{"table": table, "rows": rows} for table, rows in sorted(counts.items())]
