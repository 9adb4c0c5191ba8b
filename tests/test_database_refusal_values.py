"""What garde keeps of a database error never quotes a value of the row (property test, real errors).

:func:`garde.store.database_refusal` is what a failed request's note, result and audit entry, a
sweep's refusal and the server's and the workers' logs say of a database error. Each case below makes
the database itself refuse a random value (a cast, an enum, a number out of range, a unique, check,
not-null or foreign key constraint, a trigger's own words, on PostgreSQL a trigger raising a class 23
error in its own words) and checks that the value, which the driver's message quotes, is not in it.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde.store import database_refusal

Case = Callable[[sa.Connection, str], object]

POSTGRES_SCHEMA = [
    "CREATE TYPE mood AS ENUM ('calm')",
    "CREATE TABLE parents (id text PRIMARY KEY)",
    "CREATE TABLE people (email text UNIQUE, name text NOT NULL, short varchar(4), "
    "parent text REFERENCES parents (id), CONSTRAINT no_x CHECK (email NOT LIKE '%x%'))",
    "CREATE TABLE said (a text)",
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'refused %', NEW.a; END $$",
    "CREATE TRIGGER refusing BEFORE INSERT ON said FOR EACH ROW EXECUTE FUNCTION refuse()",
    "CREATE TABLE said23 (a text)",
    "CREATE FUNCTION refuse23() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'taken: ' || NEW.a; END $$",
    "CREATE TRIGGER refusing23 BEFORE INSERT ON said23 FOR EACH ROW EXECUTE FUNCTION refuse23()",
]
SQLITE_SCHEMA = [
    "CREATE TABLE parents (id text PRIMARY KEY)",
    "CREATE TABLE people (email text UNIQUE, name text NOT NULL, short text, "
    "parent text REFERENCES parents (id), n integer, CONSTRAINT no_x CHECK (email NOT LIKE '%x%'))",
    "CREATE TABLE strict_people (n integer) STRICT",
    "CREATE TABLE said (a text)",
    "CREATE TRIGGER refusing BEFORE INSERT ON said BEGIN SELECT RAISE(ABORT, 'refused'); END",
]


def _insert(sql: str) -> Case:
    return lambda conn, value: conn.execute(sa.text(sql), {"v": value})


def _twice(conn: sa.Connection, value: str) -> None:
    conn.execute(sa.text("INSERT INTO people (email, name) VALUES (:v, 'n')"), {"v": value})
    conn.execute(sa.text("INSERT INTO people (email, name) VALUES (:v, 'n')"), {"v": value})


COMMON: dict[str, Case] = {
    "unique": _twice,
    "check": _insert("INSERT INTO people (email, name) VALUES (:v || 'x', :v)"),
    "not null": _insert("INSERT INTO people (email, name) VALUES (:v, NULL)"),
    "foreign key": _insert("INSERT INTO people (email, name, parent) VALUES (:v, :v, :v)"),
    "trigger": _insert("INSERT INTO said (a) VALUES (:v)"),
}
POSTGRES: dict[str, Case] = {
    **COMMON,
    "integer": _insert("SELECT CAST(:v AS integer)"),
    "date": _insert("SELECT CAST(:v AS date)"),
    "uuid": _insert("SELECT CAST(:v AS uuid)"),
    "enum": _insert("SELECT CAST(:v AS mood)"),
    "json": _insert("SELECT CAST(:v AS jsonb)"),
    "out of range": lambda conn, value: conn.execute(sa.text(f"SELECT CAST('{_digits(value)}' AS integer)")),
    "too long": _insert("INSERT INTO people (email, name, short) VALUES ('e', 'n', :v)"),
    "trigger, class 23": _insert("INSERT INTO said23 (a) VALUES (:v)"),
}
SQLITE: dict[str, Case] = {
    **COMMON,
    "strict": _insert("INSERT INTO strict_people (n) VALUES (:v)"),
}


def _digits(value: str) -> str:
    """A number out of an integer's range that the value's characters make up, as the literal."""
    return "9" * 11 + "".join(str(ord(c) % 10) for c in value)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def refusing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[sa.Engine, dict[str, Case]]]:
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'refusing.db'}", hide_parameters=True)
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys = ON"))
        schema, cases = SQLITE_SCHEMA, SQLITE
    else:
        url = request.getfixturevalue("postgres_url")
        engine = sa.create_engine(url, hide_parameters=True)
        schema, cases = POSTGRES_SCHEMA, POSTGRES
    with engine.begin() as conn:
        for statement in schema:
            conn.execute(sa.text(statement))
    yield engine, cases
    engine.dispose()


VALUES = st.text(alphabet=string.ascii_letters + string.digits + "@.-'\" é", min_size=6, max_size=24).map(
    lambda text: f"Qv{text}vQ")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES)
def test_no_refused_value_survives_in_what_garde_keeps(refusing: tuple[sa.Engine, dict[str, Case]],
                                                       value: str) -> None:
    engine, cases = refusing
    for name, case in cases.items():
        with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as conn:
            case(conn, value)
        said = database_refusal(raised.value)
        quoted = _digits(value) if name == "out of range" else value
        for shown in (quoted, quoted.replace("'", "''"), quoted[2:-2]):
            assert shown not in said, (name, said)
        assert said.startswith("("), (name, said)  # the driver's class is always said


@pytest.mark.postgres
def test_postgresql_quotes_the_value_where_garde_does_not(postgres_url: str) -> None:
    """The hazard is real: PostgreSQL's own words quote the value in the first line (out of range, an
    enum) or in the DETAIL, and a trigger says what its author wrote; garde keeps the class and the
    server's words up to the value, the names of the constraint, table and column."""
    engine = sa.create_engine(postgres_url, hide_parameters=True)
    try:
        with engine.begin() as conn:
            for statement in POSTGRES_SCHEMA:
                conn.execute(sa.text(statement))
        said = {}
        for name in ("out of range", "check", "trigger", "trigger, class 23", "enum", "not null"):
            with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as conn:
                POSTGRES[name](conn, "ana@example.org")
            said[name] = (str(raised.value.orig), database_refusal(raised.value))
    finally:
        engine.dispose()
    assert '"99999999999' in said["out of range"][0].splitlines()[0]
    assert said["out of range"][1].endswith('value "…" is out of range for type integer')
    assert "ana@example.org" in said["check"][0] and "ana@example.org" not in said["check"][1]
    assert said["check"][1].endswith('new row for relation "people" violates check constraint "no_x"')
    assert said["not null"][1].endswith('null value in column "name" of relation "people" violates '
                                        'not-null constraint')
    assert said["enum"][1].endswith("invalid input value for enum mood")
    for trigger, function in (("trigger", "refuse"), ("trigger, class 23", "refuse23")):
        assert "ana@example.org" in said[trigger][0].splitlines()[0]
        assert said[trigger][1].endswith(f"refused by the database function {function}() (its words are "
                                         "not kept: they may quote the row)"), said[trigger][1]
