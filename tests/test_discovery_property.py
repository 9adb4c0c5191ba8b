"""Property: discovery never goes through an identity value that only an unchecked column holds.

Random data maps (tables with identities, some authoritative, and references,
some of them claims) and random rows, on a real SQLite database. Discovery
must (1) never count as the subject's an identity value that no
authoritative column holds, unless the requester gave it, and (2) find
exactly what a plain, row-by-row model of the rules of docs/datasets.md
finds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from garde.datasets import DataMap, Dataset, Reference, TableMap, find_subject

KINDS = ("email", "member_code")
POOL = {"email": ("a@x.org", "b@x.org", "c@x.org", "d@x.org"), "member_code": ("m1", "m2", "m3")}


@dataclass
class World:
    datamap: DataMap
    rows: dict[str, list[dict[str, Any]]]
    seed: tuple[str, str]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    tables: dict[str, TableMap] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    for i in range(draw(st.integers(1, 4))):
        name = f"t{i}"
        kinds = draw(st.lists(st.sampled_from(KINDS), unique=True, min_size=i % 2, max_size=2))
        authoritative = frozenset(k for k in kinds if draw(st.booleans()))
        parents = draw(st.lists(st.sampled_from(list(tables)), unique=True, max_size=2)) if tables else []
        references = {f"ref_{p}": Reference(f"ref_{p}", p, "id", claim=draw(st.booleans())) for p in parents}
        tables[name] = TableMap("db", name, "id", subject="customer", identities={k: k for k in kinds},
                                authoritative=authoritative, references=references)
        rows[name] = []
        for key in range(1, draw(st.integers(1, 5)) + 1):
            row: dict[str, Any] = {"id": key}
            for kind in kinds:
                row[kind] = draw(st.none() | st.sampled_from(POOL[kind]))
            for parent in parents:
                keys = [r["id"] for r in rows[parent]] or [None]
                row[f"ref_{parent}"] = draw(st.none() | st.sampled_from(keys))
            rows[name].append(row)
    declared = sorted({k for t in tables.values() for k in t.identities}) or ["email"]
    kind = draw(st.sampled_from(declared))
    if not any(kind in t.identities for t in tables.values()):
        tables["t0"].identities[kind] = kind
        for row in rows["t0"]:
            row[kind] = None
    seed = (kind, draw(st.sampled_from(POOL[kind])))
    return World(DataMap({"db": Dataset("db", tables, url="sqlite://")}), rows, seed)


def _engine(world: World) -> sa.Engine:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    meta = sa.MetaData()
    for table in world.datamap:
        columns = [sa.Column("id", sa.Integer, primary_key=True),
                   *(sa.Column(c, sa.String) for c in table.identities.values()),
                   *(sa.Column(c, sa.Integer) for c in table.references)]
        sa.Table(table.name, meta, *columns)
    meta.create_all(engine)
    with engine.begin() as conn:
        for table in world.datamap:
            if world.rows[table.name]:
                conn.execute(meta.tables[table.name].insert(), world.rows[table.name])
    return engine


def _model(world: World) -> tuple[dict[str, set[str]], dict[str, set[int]]]:
    """The rules, row by row: proven rows and identities, then the claimed rows."""
    tables = {t.name: t for t in world.datamap}
    rows = world.rows
    identities: dict[str, set[str]] = {world.seed[0]: {world.seed[1]}}
    proven: dict[str, set[int]] = {name: set() for name in tables}

    def holds(name: str, row: dict[str, Any], kinds: Any) -> bool:
        return any(row.get(k) is not None and row[k] in identities.get(k, ()) for k in kinds)

    def linked(a: str, ra: dict[str, Any], b: str, rb: dict[str, Any], claims: bool) -> bool:
        """Row ra of a and rb of b tied by a reference of either (claims only if asked)."""
        return any(ref.target == b and ra.get(col) == rb["id"] and ref.claim == claims
                   for col, ref in tables[a].references.items()) or any(
            ref.target == a and rb.get(col) == ra["id"] and ref.claim == claims
            for col, ref in tables[b].references.items())

    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            for row in rows[name]:
                if row["id"] in proven[name]:
                    continue
                structural = any(row2["id"] in proven[other] and linked(name, row, other, row2, False)
                                 for other in tables for row2 in rows[other])
                if holds(name, row, table.authoritative) or structural:
                    proven[name].add(row["id"])
                    changed = True
                    for kind in table.authoritative:
                        if row.get(kind) is not None:
                            identities.setdefault(kind, set()).add(row[kind])
    claimed = {name: {r["id"] for r in rows[name] if r["id"] not in proven[name]
                      and holds(name, r, tables[name].identities)} for name in tables}
    for name in tables:  # rows claiming a proven row (a claim reference to it)
        for column, ref in tables[name].references.items():
            if ref.claim:
                claimed[name] |= {r["id"] for r in rows[name] if r.get(column) in proven[ref.target]}
    changed = True
    while changed:  # what hangs (by structure) under a claimed row of an unchecked table
        changed = False
        for name, table in tables.items():
            for column, ref in table.references.items():
                parent = tables[ref.target]
                if ref.claim or parent.authoritative:
                    continue
                for row in rows[name]:
                    key = row["id"]
                    if row.get(column) in claimed[ref.target] and key not in proven[name] | claimed[name]:
                        claimed[name].add(key)
                        changed = True
    found = {name: proven[name] | claimed[name] for name in tables}
    return identities, {name: keys for name, keys in found.items() if keys}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_no_identity_is_followed_that_only_an_unchecked_column_holds(world: World) -> None:
    engine = _engine(world)
    footprint = find_subject(world.datamap, {"db": engine}, {world.seed[0]: world.seed[1]})
    engine.dispose()
    checked = {(kind, row[kind]) for t in world.datamap for kind in t.authoritative
               for row in world.rows[t.name] if row.get(kind) is not None}
    for kind, values in footprint.identities.items():
        for value in values:
            assert (kind, value) == world.seed or (kind, value) in checked, (kind, value)
            match = footprint.matches[kind, value]
            if match.how == "linked":
                assert match.table is not None and kind in world.datamap.table(match.table).authoritative
                assert match.via is not None and match.via[1] in footprint.identities[match.via[0]]
    identities, keys = _model(world)
    assert {k: v for k, v in footprint.identities.items() if v} == identities
    assert {ref.table: set(k) for ref, k in footprint.keys.items() if k} == keys


# -- the edges, one by one -------------------------------------------------------------------------

def _world(tables: list[TableMap], rows: dict[str, list[dict[str, Any]]], seed: tuple[str, str]) -> World:
    return World(DataMap({"db": Dataset("db", {t.name: t for t in tables}, url="sqlite://")}), rows, seed)


def _find(world: World) -> dict[str, set[Any]]:
    engine = _engine(world)
    footprint = find_subject(world.datamap, {"db": engine}, {world.seed[0]: world.seed[1]})
    engine.dispose()
    return {ref.table: set(keys) for ref, keys in footprint.keys.items() if keys}


CUSTOMERS = TableMap("db", "customers", "id", subject="customer",
                     identities={"email": "email", "member_code": "member_code"},
                     authoritative=frozenset({"email"}))


def test_a_record_of_reference_matched_on_an_unchecked_column_leads_nowhere() -> None:
    orders = TableMap("db", "orders", "id", subject="customer",
                      references={"ref_customers": Reference("ref_customers", "customers", "id")})
    world = _world([CUSTOMERS, orders],
                   {"customers": [{"id": 1, "email": "b@x.org", "member_code": "m1"}],
                    "orders": [{"id": 7, "ref_customers": 1}]}, ("member_code", "m1"))
    # The customer record holds the code (the subject's to see), but its e-mail was checked as
    # someone else's: neither that e-mail nor that person's orders are reached through it.
    assert _find(world) == {"customers": {1}}


def test_a_claim_reference_is_never_followed_to_the_row_it_names() -> None:
    claim = Reference("ref_customers", "customers", "id", claim=True)
    reviews = TableMap("db", "reviews", "id", subject="customer", identities={"email": "email"},
                       references={"ref_customers": claim})
    rows = {"customers": [{"id": 1, "email": "a@x.org", "member_code": None},
                          {"id": 2, "email": "b@x.org", "member_code": None}],
            "reviews": [{"id": 10, "email": "a@x.org", "ref_customers": 2},
                        {"id": 11, "email": "c@x.org", "ref_customers": 1}]}
    # A's review names B's record: B is not reached; C's review names A's record: it is A's to see.
    assert _find(_world([CUSTOMERS, reviews], rows, ("email", "a@x.org"))) == {
        "customers": {1}, "reviews": {10, 11}}


def test_a_row_first_claimed_then_proven_is_followed_as_proven() -> None:
    accounts = TableMap("db", "accounts", "id", subject="customer",
                        identities={"member_code": "member_code", "email": "email"},
                        authoritative=frozenset({"member_code", "email"}))
    contacts = TableMap("db", "contacts", "id", subject="customer",
                        references={"ref_customers": Reference("ref_customers", "customers", "id")})
    rows = {"accounts": [{"id": 3, "member_code": "m2", "email": "a@x.org"}],
            "customers": [{"id": 1, "email": "a@x.org", "member_code": "m2"}],
            "contacts": [{"id": 5, "ref_customers": 1}]}
    # First hop: the customer is only claimed (its code is unchecked there), the account proven;
    # second hop: the account's checked e-mail proves the customer, and what hangs under it.
    world = _world([accounts, CUSTOMERS, contacts], rows, ("member_code", "m2"))
    assert _find(world) == {"accounts": {3}, "customers": {1}, "contacts": {5}}
    world.rows["accounts"][0]["email"] = "b@x.org"
    assert _find(world) == {"accounts": {3}, "customers": {1}}
