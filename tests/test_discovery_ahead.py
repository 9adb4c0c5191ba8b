"""Property: discovery reading ahead (one statement per database) finds what the walk alone finds.

Random data maps over two databases (identities, some authoritative; references, some claims,
some to the table itself; tables under two parents) and random rows holding NULLs, dates,
decimals, bytes, unicode text and keys, identities in a case the normalisation changes, on real
SQLite and PostgreSQL. :func:`find_subject` with and without ``ahead`` must give the same
footprint: the same rows with the same values of the same types, the same identities and how
each was matched, the same number of hops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from garde.datasets import ColumnMap, DataMap, Dataset, Footprint, Reference, TableMap, find_subject

KINDS = ("email", "member_code")
POOL = {"email": ("a@x.org", "A@x.org", "zoë@x.org", "b@x.org"), "member_code": ("m1", "m2", " m3")}
PAYLOAD = {"born": sa.Date(), "amount": sa.Numeric(10, 2), "blob": sa.LargeBinary(), "note": sa.Unicode(40)}
VALUES = {"born": st.dates(date(1900, 1, 1), date(2100, 1, 1)),
          "amount": st.decimals(-9999, 9999, places=2, allow_nan=False, allow_infinity=False),
          "blob": st.binary(max_size=6),
          "note": st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)}


@dataclass
class World:
    datamap: DataMap
    rows: dict[str, list[dict[str, Any]]]
    text_keys: dict[str, bool]
    seed: tuple[str, str]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    tables: dict[str, TableMap] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    text_keys: dict[str, bool] = {}
    for i in range(draw(st.integers(1, 5))):
        name, database = f"t{i}", draw(st.sampled_from(("a", "b")))
        kinds = draw(st.lists(st.sampled_from(KINDS), unique=True, min_size=int(i == 0), max_size=2))
        authoritative = frozenset(k for k in kinds if draw(st.booleans()))
        same = [t for t in tables if tables[t].database == database]
        parents = draw(st.lists(st.sampled_from(same), unique=True, max_size=2)) if same else []
        references = {f"ref_{p}": Reference(f"ref_{p}", p, "id", claim=draw(st.booleans())) for p in parents}
        if draw(st.booleans()):  # a row pointing at another row of its table (a thread's replies)
            references["ref_self"] = Reference("ref_self", name, "id", claim=draw(st.booleans()))
        payload = draw(st.lists(st.sampled_from(sorted(PAYLOAD)), unique=True, max_size=4))
        text_keys[name] = draw(st.booleans())
        tables[name] = TableMap(database, name, "id", subject="customer", identities={k: k for k in kinds},
                                authoritative=authoritative, references=references,
                                columns={c: ColumnMap(c, "x") for c in payload})
        rows[name] = []
        count = draw(st.integers(1, 5))
        keys: list[Any] = [f"k{n}é" if text_keys[name] else n for n in range(1, count + 1)]
        for key in keys:
            row: dict[str, Any] = {"id": key}
            for kind in kinds:
                row[kind] = draw(st.none() | st.sampled_from(POOL[kind]))
            for column, reference in references.items():
                targets = keys if reference.target == name else [r["id"] for r in rows[reference.target]]
                row[column] = draw(st.none() | st.sampled_from(targets))
            for column in payload:
                row[column] = draw(st.none() | VALUES[column])
            rows[name].append(row)
    kind = draw(st.sampled_from(sorted({k for t in tables.values() for k in t.identities})))
    seed = (kind, draw(st.sampled_from(POOL[kind])).strip().lower())
    datasets = {db: Dataset(db, {n: t for n, t in tables.items() if t.database == db}, url="sqlite://")
                for db in ("a", "b")}
    return World(DataMap({db: d for db, d in datasets.items() if d.tables}), rows, text_keys, seed)


def _fill(world: World, engine: sa.Engine) -> sa.MetaData:
    meta = sa.MetaData()
    for table in world.datamap:
        key: sa.types.TypeEngine[Any] = sa.Unicode(20) if world.text_keys[table.name] else sa.Integer()
        columns = [sa.Column("id", key, primary_key=True, autoincrement=False),
                   *(sa.Column(c, sa.Unicode(40)) for c in table.identities.values()),
                   *(sa.Column(c, sa.Unicode(20) if world.text_keys[r.target] else sa.Integer())
                     for c, r in table.references.items()),
                   *(sa.Column(c, PAYLOAD[c]) for c in table.columns)]
        sa.Table(table.name, meta, *columns)
    meta.create_all(engine)
    with engine.begin() as conn:
        for name, rows in world.rows.items():
            conn.execute(meta.tables[name].insert(), rows)  # every table has a row
    return meta


def _typed(footprint: Footprint) -> dict[str, Any]:
    """Everything discovery says, each value with its type (``1 == 1.0 == True`` would hide one)."""
    return {"found": {str(ref): {repr(key): {c: (type(v).__name__, v) for c, v in row.items()}
                                 for key, row in rows.items()} for ref, rows in footprint.found.items()},
            "keys": footprint.keys, "proven": footprint.proven, "identities": footprint.identities,
            "matches": footprint.matches, "seen": footprint.seen, "hops": footprint.hops,
            "data": footprint.to_data()}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Where both databases of a world live (their table names differ): one PostgreSQL database
    for every example, or a new SQLite database in memory each time."""
    return "sqlite://" if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(world=worlds())
def test_reading_ahead_finds_what_the_walk_alone_finds(backend: str, world: World) -> None:
    # An engine per example: its tables are new, and so are the types they are read with.
    memory = backend == "sqlite://"
    engine = sa.create_engine(backend, poolclass=StaticPool) if memory else sa.create_engine(backend)
    meta = _fill(world, engine)
    try:
        engines = dict.fromkeys(world.datamap.datasets, engine)
        identities = {world.seed[0]: world.seed[1]}
        alone = find_subject(world.datamap, engines, identities, ahead=False)
        ahead = find_subject(world.datamap, engines, identities, ahead=True)
        assert _typed(ahead) == _typed(alone)
    finally:
        meta.drop_all(engine)
        engine.dispose()


def test_a_subject_reached_by_two_paths_is_read_once() -> None:
    """An order line under the customer (directly) and under the customer's order: one row."""
    customers = TableMap("a", "customers", "id", subject="customer", identities={"email": "email"},
                         authoritative=frozenset({"email"}))
    orders = TableMap("a", "orders", "id", subject="customer",
                      references={"customer_id": Reference("customer_id", "customers", "id")})
    lines = TableMap("a", "lines", "id", subject="customer",
                     references={"order_id": Reference("order_id", "orders", "id"),
                                 "customer_id": Reference("customer_id", "customers", "id")},
                     columns={"amount": ColumnMap("amount", "x")})
    rows = {"customers": [{"id": 1, "email": "a@x.org"}], "orders": [{"id": 5, "customer_id": 1}],
            "lines": [{"id": 9, "order_id": 5, "customer_id": 1, "amount": Decimal("2.50")}]}
    world = World(DataMap({"a": Dataset("a", {"customers": customers, "orders": orders, "lines": lines},
                                        url="sqlite://")}), rows,
                  {"customers": False, "orders": False, "lines": False}, ("email", "a@x.org"))
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    _fill(world, engine)
    statements: list[str] = []
    with engine.connect() as conn:
        conn.connection.dbapi_connection.set_trace_callback(statements.append)  # type: ignore[union-attr]
        footprint = find_subject(world.datamap, {"a": engine}, {"email": "a@x.org"}, ahead=True)
        conn.connection.dbapi_connection.set_trace_callback(None)  # type: ignore[union-attr]
    engine.dispose()
    assert footprint.counts() == {"a.customers": 1, "a.orders": 1, "a.lines": 1}
    assert list(footprint.found[lines.ref]) == [9]
    assert [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))] == [
        s for s in statements if s.startswith("WITH")], "one statement, nothing read alone"
    assert len([s for s in statements if s.startswith("WITH")]) == 1
