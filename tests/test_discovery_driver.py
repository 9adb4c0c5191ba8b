"""Discovery reads through the database driver (issue 14): the same rows, the same errors.

``rows_in`` runs the statements of ``select_in`` with SQL made once per shape, without
SQLAlchemy's execution path. Its rows must be those SQLAlchemy gives, with names quoted for
each database, and a failing statement must fail as it did: a SQLAlchemy error, which a
request run records as ``failed`` (a bare driver error would leave it ``in_progress``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from garde.datasets import ColumnMap, DataMap, Dataset, TableMap, find_subject
from garde.datasets.ahead import read_ahead
from garde.datasets.footprint import row_identity
from garde.datasets.sql import rows_in, rows_in_all, select_in
from garde.problems import GardeError
from garde.rights import get_request, submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import locate, run
from garde.settings import Settings
from garde.shop import generate_shop
from garde.store import connect, migrate
from tests.conftest import scratch_databases

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def awkward(database_url: str) -> Iterator[sa.Engine]:
    """A table and columns whose names need quoting: reserved words, a space, a ``%``."""
    engine = connect(database_url, create=True)
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE "user" (id INTEGER PRIMARY KEY, "select" TEXT, '
                             '"pct%" INTEGER, "e mail" TEXT)'))
        conn.execute(sa.text('INSERT INTO "user" VALUES (1, \'a\', 10, \'x@example.com\'), (2, \'b\', 20, '
                             'NULL), (3, NULL, 30, \'y@example.com\'), (4, \'a\', NULL, NULL)'))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("conditions", [
    {"select": ["a"]},
    {"select": ["b", "zz"], "e mail": ["y@example.com"]},
    {"id": [4, 1, 99], "pct%": [20]},
    {"e mail": ["nobody@example.com"]},
])
def test_rows_are_those_sqlalchemy_reads(awkward: sa.Engine, conditions: dict[str, list[object]]) -> None:
    columns = ("id", "select", "pct%", "e mail")
    with awkward.connect() as conn:
        expected = [tuple(r) for r in conn.execute(select_in("user", columns, tuple(conditions)),
                                                   {f"v{i}": v for i, v in enumerate(conditions.values())})]
        assert sorted(rows_in(conn, "user", columns, conditions)) == sorted(expected)
        assert rows_in(conn, "user", columns, {"id": [2]}) == [(2, "b", 20, None)]


def test_names_that_need_quoting_are_read_ahead_as_walked(awkward: sa.Engine) -> None:
    """The one statement per database quotes names itself on PostgreSQL (it is sent as written, with
    the server's $n marks): a reserved word, a space and a % read as the walk reads them."""
    table = TableMap("a", "user", "id", subject="customer", identities={"email": "e mail"},
                     authoritative=frozenset({"email"}),
                     columns={c: ColumnMap(c, "x") for c in ("select", "pct%")})
    datamap = DataMap({"a": Dataset("a", {"user": table}, url="sqlite://")})
    for email in ("x@example.com", "y@example.com", "nobody@example.com"):
        walked = find_subject(datamap, {"a": awkward}, {"email": email}, ahead=False)
        ahead = find_subject(datamap, {"a": awkward}, {"email": email}, ahead=True)
        assert ahead.found == walked.found and ahead.matches == walked.matches
    assert not any(ahead.found.values())
    # The statement itself ran (a failing one would leave the walk to read alone, and say the same).
    with awkward.connect() as conn:
        read = read_ahead(datamap, {"a": conn}, {"email": {"x@example.com"}}, {table.ref: ("id", "e mail",
                          "select", "pct%")}, row_identity)
    assert read.statements == 1
    assert read.answer(table.ref, {"e mail": ["x@example.com"]}) == [(1, "x@example.com", "a", 10)]


def test_a_failing_statement_raises_a_sqlalchemy_error(awkward: sa.Engine) -> None:
    with awkward.connect() as conn:
        with pytest.raises(sa.exc.SQLAlchemyError, match="missing"):
            rows_in(conn, "user", ("id", "missing"), {"id": [1]})
        conn.rollback()  # as after any failed statement through SQLAlchemy
        assert rows_in(conn, "user", ("id",), {"id": [1]}) == [(1,)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[sa.Engine, Deployment, str]]:
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    with scratch_databases(("shop", "crm", "garde"), tmp_path, admin) as urls:
        deployment = Deployment.open(ROOT / "datasets", results=tmp_path / "results",
                                     urls={db: urls[db] for db in ("shop", "crm")}, create=True)
        generate_shop(deployment.engines, 10, seed=3, as_of=date(2025, 6, 1), batch_size=10)
        with deployment.engines["shop"].connect() as conn:
            email = conn.execute(sa.text("SELECT email FROM customers WHERE id = 1")).scalar_one()
        store = connect(urls["garde"], create=True)
        migrate(store)
        yield store, deployment, email
        deployment.dispose()
        store.dispose()


def test_a_request_over_a_table_gone_fails_as_a_request_does(shop: tuple[sa.Engine, Deployment, str]) -> None:
    store, deployment, email = shop
    with deployment.engines["shop"].begin() as conn:
        conn.execute(sa.text("DROP TABLE wishlist_items"))
    with store.begin() as conn:
        request = submit(conn, "access", {"email": email})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    with pytest.raises(GardeError, match="wishlist_items"):
        run(store, request.id, deployment)
    with store.connect() as conn:
        assert get_request(conn, request.id).status == "failed"


def test_a_failed_read_on_sqlite_keeps_what_the_callers_transaction_wrote(sqlite_url: str) -> None:
    """SQLite goes on after a failed statement: the driver's connection is not rolled back under
    the caller (PostgreSQL's is, as its transaction is aborted anyway)."""
    engine = connect(sqlite_url, create=True)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE kept (id INTEGER PRIMARY KEY)"))
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO kept VALUES (1)"))
            with pytest.raises(sa.exc.OperationalError):
                rows_in(conn, "missing", ("id",), {"id": [1]})
            assert conn.execute(sa.text("SELECT count(*) FROM kept")).scalar() == 1
    finally:
        engine.dispose()


def _syncs(trace: Path) -> int:
    """How many times the client waited for the server: the protocol's Sync messages it sent."""
    return sum(1 for line in trace.read_text().splitlines() if line.split("\t")[-1].startswith("Sync")
               or line.rstrip().endswith("\tSync"))


def test_reads_of_one_hop_are_the_rows_of_each_read(awkward: sa.Engine, tmp_path: Path) -> None:
    """``rows_in_all`` gives each read's rows in order, the reads of one connection in one statement
    (a ``UNION ALL``): on PostgreSQL one statement and one round trip (it was one statement each)."""
    columns = ("id", "select", "pct%", "e mail")
    conditions: list[dict[str, list[object]]] = [{"select": ["a"]}, {"id": [2, 3]}, {"e mail": ["none"]},
                                                 {"pct%": [10, 30], "select": ["b"]}]
    trace = tmp_path / "protocol.trace"
    with awkward.connect() as conn:
        expected = [sorted(rows_in(conn, "user", columns, c)) for c in conditions]
        rows_in_all([(conn, "user", columns, {"id": [1]}), (conn, "user", ("id",), {"id": [2]})])  # the types
        raw = conn.connection.dbapi_connection
        with trace.open("w") as out:
            if awkward.dialect.name == "postgresql":
                raw.pgconn.trace(out.fileno())  # type: ignore[union-attr]
            found = rows_in_all([(conn, "user", columns, c) for c in conditions])
            if awkward.dialect.name == "postgresql":
                raw.pgconn.untrace()  # type: ignore[union-attr]
        assert [sorted(rows) for rows in found] == expected
    if awkward.dialect.name == "postgresql":
        assert _syncs(trace) == 1
        binds = [line for line in trace.read_text().splitlines() if "\tF\t" in line and "\tBind\t" in line]
        assert len(binds) == 1, binds


def test_a_failing_read_among_others_raises_a_sqlalchemy_error(awkward: sa.Engine) -> None:
    with awkward.connect() as conn:
        with pytest.raises(sa.exc.SQLAlchemyError, match="missing"):
            rows_in_all([(conn, "user", ("id",), {"id": [1]}),
                         (conn, "user", ("id", "missing"), {"id": [1]})])
        conn.rollback()
        reads = [(conn, "user", ("id",), {"id": [1]}), (conn, "user", ("id",), {"id": [2]})]
        assert rows_in_all(reads) == [[(1,)], [(2,)]]


def _sent(engines: list[sa.Engine], trace: Path, action: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What ``action`` returns, and the messages the client sent on the connections of ``engines``
    meanwhile (libpq's protocol trace)."""
    with trace.open("w") as out:
        def traced(raw: Any, _record: Any, _proxy: Any) -> None:
            raw.pgconn.trace(out.fileno())

        for engine in engines:
            sa.event.listen(engine, "checkout", traced)
        try:
            result = action()
        finally:
            for engine in engines:
                sa.event.remove(engine, "checkout", traced)
                engine.dispose()  # their connections stop tracing with them
    sent = [line for line in trace.read_text().splitlines() if "\tF\t" in line]
    assert sent, "the trace recorded what the client sent"
    return result, sent


@pytest.mark.postgres
@pytest.mark.parametrize("shop", ["postgresql"], indirect=True)
def test_discovery_on_postgresql_opens_no_transaction(shop: tuple[sa.Engine, Deployment, str],
                                                      tmp_path: Path) -> None:
    """Discovery reads in autocommit on PostgreSQL (READ COMMITTED: a snapshot per statement either
    way): no ``BEGIN`` and no ``ROLLBACK`` round trips; it finds the same subject."""
    _, deployment, email = shop
    footprint, sent = _sent(list(deployment.engines.values()), tmp_path / "protocol.trace",
                            lambda: find_subject(deployment.datamap, deployment.engines, {"email": email}))
    assert not [line for line in sent if "BEGIN" in line or "ROLLBACK" in line]
    assert footprint.counts()["shop.customers"] == 1


@pytest.mark.postgres
@pytest.mark.parametrize("shop", ["postgresql"], indirect=True)
def test_an_access_run_on_postgresql_rolls_nothing_back(shop: tuple[sa.Engine, Deployment, str],
                                                        tmp_path: Path) -> None:
    """The reads of an access run (the request's id, discovery, what garde holds of the subject)
    open no transaction on PostgreSQL: no ``ROLLBACK`` and no ``DEALLOCATE ALL`` (psycopg's, after
    each ``ROLLBACK``) costs a round trip; the writes commit as before."""
    store, deployment, email = shop
    with store.begin() as conn:
        request = submit(conn, "access", {"email": email})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    done, sent = _sent([store, *deployment.engines.values()], tmp_path / "protocol.trace",
                       lambda: run(store, request.id, deployment))
    assert done.status == "completed"
    assert not [line for line in sent if "ROLLBACK" in line or "DEALLOCATE" in line]
    assert [line for line in sent if "COMMIT" in line]


@pytest.mark.postgres
@pytest.mark.parametrize("shop", ["postgresql"], indirect=True)
def test_reading_ahead_on_postgresql_sends_one_statement_per_database(shop: tuple[sa.Engine, Deployment, str],
                                                                      tmp_path: Path) -> None:
    """The subject's rows of each database are read in one statement (:mod:`garde.datasets.ahead`),
    the walk answered from them: the same footprint as one statement per table and hop."""
    _, deployment, email = shop
    footprint, sent = _sent(list(deployment.engines.values()), tmp_path / "protocol.trace",
                            lambda: find_subject(deployment.datamap, deployment.engines, {"email": email},
                                                 ahead=True))
    statements = [line for line in sent if ("\tParse\t" in line or "\tQuery\t" in line)
                  and "pg_attribute" not in line]  # the columns' types, read once per engine
    assert len(statements) == len(deployment.datamap.datasets), statements
    alone = find_subject(deployment.datamap, deployment.engines, {"email": email}, ahead=False)
    assert footprint.found == alone.found and footprint.matches == alone.matches
    assert footprint.counts()["shop.customers"] == 1


@pytest.mark.postgres
@pytest.mark.parametrize("shop", ["postgresql"], indirect=True)
def test_a_request_run_reads_ahead_where_the_setting_says_so(shop: tuple[sa.Engine, Deployment, str],
                                                             tmp_path: Path) -> None:
    """Reading ahead is off by default and on where ``discovery_read_ahead`` is true; off,
    a request run's discovery then sends one statement per table and hop, and finds the same rows."""
    _, deployment, email = shop
    request = SimpleNamespace(id="r", proven_identities={"email": email})
    urls = {db: engine.url.render_as_string(hide_password=False) for db, engine in deployment.engines.items()}
    for setting in (None, False, True):
        with Deployment.open(ROOT / "datasets", results=tmp_path, urls=urls,
                             settings=Settings(discovery_read_ahead=setting)) as opened:
            assert opened.read_ahead is setting
    deployment.read_ahead = False
    walked, sent = _sent(list(deployment.engines.values()), tmp_path / "walk.trace",
                         lambda: locate(deployment, request))  # type: ignore[arg-type]
    assert len([line for line in sent if "\tParse\t" in line]) > len(deployment.datamap.datasets)
    deployment.read_ahead = True
    ahead, sent = _sent(list(deployment.engines.values()), tmp_path / "ahead.trace",
                        lambda: locate(deployment, request))  # type: ignore[arg-type]
    statements = [line for line in sent if ("\tParse\t" in line or "\tQuery\t" in line)
                  and "pg_attribute" not in line]
    assert len(statements) == len(deployment.datamap.datasets), statements
    assert ahead.found == walked.found and ahead.matches == walked.matches
