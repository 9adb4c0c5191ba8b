"""Statements on the driver's cursor (``garde.store.driver``) give the rows SQLAlchemy's execution gives.

The access request's read of what garde holds of the subject (one ``UNION ALL`` with expanding
lists, typed NULLs, moments SQLite stores as text) runs on the driver: its rows, dates included,
must be those of ``conn.execute``, on SQLite and PostgreSQL; a driver error is SQLAlchemy's error.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from garde import consent
from garde.consent.ledger import Evidence
from garde.consent.objections import object_to
from garde.legal_holds import place_hold
from garde.rights.held import _by_kind, _held_of, identity_hashes
from garde.store.driver import _shape, driver_many, driver_rows
from garde.subjects import ensure_subject
from garde.suppression import suppress

moments = sa.Table("moments", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("at", sa.DateTime(timezone=True)), sa.Column("label", sa.Text))
_BY_LABELS = sa.select(moments.c.id, moments.c.at, moments.c.label).where(
    moments.c.label.in_(sa.bindparam("labels", expanding=True)) | (moments.c.id == sa.bindparam("one")),
    moments.c.at >= sa.bindparam("since")).order_by(moments.c.id)
_MISSING = sa.select(sa.table("no_such_table", sa.column("x")).c.x)


def _sqlalchemy_rows(conn: sa.Connection, statement: sa.Executable,
                     parameters: dict[str, object]) -> list[tuple[object, ...]]:
    return [tuple(row) for row in conn.execute(statement, parameters)]


def test_rows_of_a_statement_with_lists_moments_and_bound_moments(engine: sa.Engine) -> None:
    """Lists of any length (none too), a scalar, a ``datetime`` parameter (SQLite stores it as text:
    its bind processor applies) and ``datetime`` results (read back by the result processor)."""
    moments.create(engine)
    at = datetime(2025, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(moments.insert(), [{"id": i, "at": at.replace(day=i), "label": f"l{i}"}
                                        for i in range(1, 8)] + [{"id": 9, "at": None, "label": "l9"}])
    with engine.connect() as conn:
        for labels in ([], ["l2"], ["l3", "l5", "l9", "nobody"]):
            parameters = {"labels": labels, "one": 7, "since": at.replace(day=3)}
            rows = driver_rows(conn, _BY_LABELS, parameters)
            assert rows == _sqlalchemy_rows(conn, _BY_LABELS, parameters)
            assert all(isinstance(row[1], datetime) for row in rows)
        assert [row[0] for row in rows] == [3, 5, 7]


def test_what_garde_holds_of_a_subject_reads_the_same_on_the_driver(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        subject = ensure_subject(conn, {"email": "ana@example.org"})
        consent.give(conn, subject, "newsletter", channel="email", method="web_form",
                     evidence=Evidence(notice_version="n1", user_agent="Browser"))
        consent.withdraw(conn, subject, "newsletter", channel="email", method="unsubscribe_link")
        object_to(conn, subject, "crm-profiling", reason="no thanks")
        suppress(conn, {"email": "ana@example.org"}, "unsubscribed")
        place_hold(conn, "subject", "email:ana@example.org", "litigation")
    with engine.connect() as conn:
        hashes = identity_hashes(conn, {"email": ["ana@example.org"], "phone": ["+33612345678"]})
        digests = [f'"{d}"' for values in hashes.values() for d in values]
        parameters = {"subject": subject, **_by_kind(hashes),
                      **{f"digest{n}": d for n, d in enumerate(digests)}}
        statement = _held_of(tuple(hashes), len(digests), conn.dialect.name)
        rows = driver_rows(conn, statement, parameters)
        assert rows == _sqlalchemy_rows(conn, statement, parameters)
        assert {row[0] for row in rows} >= {0, 1, 2, 4, 5}  # consents, objection, suppression, hold, audit
        assert any(isinstance(row[1], datetime) for row in rows)


def test_a_driver_error_is_sqlalchemy_s(engine: sa.Engine) -> None:
    with engine.connect() as conn, pytest.raises(sa.exc.SQLAlchemyError):
        driver_rows(conn, _MISSING, {})


_SLEEP = sa.select(sa.func.pg_sleep(0.2))


def test_a_driver_error_keeps_its_transaction_and_its_sqlstate(engine: sa.Engine) -> None:
    """The error of the statement as it ran, in its transaction: the store's retries read its SQLSTATE
    (a deadlock at the audit head's lock, run on the driver, must be retried). Running the statement
    again after a rollback would run it without what the transaction had set (here its timeout)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a statement timeout set for one transaction: PostgreSQL's")
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 20")
        with pytest.raises(sa.exc.OperationalError) as raised:
            driver_rows(conn, _SLEEP, {})
        assert getattr(raised.value.orig, "sqlstate", None) == "57014"  # query_canceled
        conn.rollback()
        assert conn.execute(sa.select(1)).scalar() == 1  # the connection serves on


def test_a_driver_error_of_many_rows_is_sqlalchemy_s(engine: sa.Engine) -> None:
    """``driver_many`` (the audit entries' insert): a duplicate key is SQLAlchemy's IntegrityError."""
    table = sa.Table("pairs", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    table.create(engine)
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    for rows in ([(1,)], [(2,), (2,)]):
        with engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            driver_many(conn, f"INSERT INTO pairs (id) VALUES ({mark})", [(1,), *rows])


def test_a_statement_that_carries_its_commit_commits_or_rolls_back_whole(engine: sa.Engine) -> None:
    """``driver_many(…, commit=True)`` (an audit append ending its transaction): on PostgreSQL the
    ``COMMIT`` goes behind the statement in one pipeline. A refused statement (a duplicate key) is
    SQLAlchemy's IntegrityError and the server skips the ``COMMIT``: the caller's rollback leaves
    nothing of the transaction, and the connection serves on. A passing one is committed when the
    call returns (another connection sees it) and the caller's commit has nothing left to do."""
    table = sa.Table("committed", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    table.create(engine)
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    insert = f"INSERT INTO committed (id) VALUES ({mark})"
    with engine.connect() as conn:
        driver_many(conn, insert, [(1,)], commit=True)
        conn.commit()
        conn.execute(table.insert(), {"id": 2})  # in the same transaction as the refused statement
        with pytest.raises(sa.exc.IntegrityError):
            driver_many(conn, insert, [(1,)], commit=True)
        conn.rollback()
        driver_many(conn, insert, [(3,)], commit=True)
        if engine.dialect.name == "postgresql":
            with engine.connect() as other:
                assert other.execute(sa.select(table.c.id).order_by(table.c.id)).scalars().all() == [1, 3]
        conn.commit()
    with engine.connect() as conn:
        assert conn.execute(sa.select(table.c.id).order_by(table.c.id)).scalars().all() == [1, 3]


def _long_statement() -> sa.Select[tuple[int, datetime | None, str | None]]:
    """Over 4 kB of SQL: a parameter named in several places, a list, a ``%`` in a literal."""
    padding = sa.or_(*(moments.c.label == sa.literal(f"padding label number {n:04d}", literal_execute=True)
                       for n in range(150)))
    return sa.select(moments.c.id, moments.c.at, moments.c.label).where(
        sa.or_(moments.c.label.in_(sa.bindparam("labels", expanding=True)),
               moments.c.id == sa.bindparam("one"), moments.c.id == sa.bindparam("one") + 1, padding,
               sa.text("moments.label LIKE 'x%y'")),
        moments.c.at >= sa.bindparam("since")).order_by(moments.c.id)


_LONG = _long_statement()


def test_a_long_statement_reads_the_same_its_marks_not_parsed_again(engine: sa.Engine,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement over 4 kB (garde_held's is 6.2 kB): psycopg parses the ``%(name)s`` marks of such a
    statement again at each execution (it keeps the parsing of shorter ones only), so through psycopg
    it is sent with PostgreSQL's own ``$n`` marks, a parameter named twice one number. The same rows as
    SQLAlchemy's execution, on both databases; on PostgreSQL psycopg splits no marks of it."""
    moments.create(engine)
    at = datetime(2025, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(moments.insert(), [{"id": i, "at": at.replace(day=i), "label": f"l{i}"}
                                        for i in range(1, 8)]
                     + [{"id": 8, "at": at.replace(day=8), "label": "x%y"},
                        {"id": 9, "at": at.replace(day=9), "label": "padding label number 0042"}])
    split: list[bytes] = []
    if engine.dialect.name == "postgresql":
        from psycopg import _queries

        original = _queries._split_query

        def counted(query: bytes, *args: object, **kwargs: object) -> object:
            if len(query) > 4096:
                split.append(query)
            return original(query, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(_queries, "_split_query", counted)
    with engine.connect() as conn:
        for labels, ids in (([], [6, 7, 8, 9]), (["l2"], [2, 6, 7, 8, 9]),
                            (["l3", "l5", "nobody"], [3, 5, 6, 7, 8, 9])):
            parameters = {"labels": labels, "one": 6, "since": at.replace(day=2)}
            rows = driver_rows(conn, _LONG, parameters)
            assert split == []
            monkeypatch.undo()
            assert rows == _sqlalchemy_rows(conn, _LONG, parameters)
            assert [row[0] for row in rows] == ids
            if engine.dialect.name == "postgresql":
                monkeypatch.setattr(_queries, "_split_query", counted)
    if engine.dialect.name == "postgresql":
        shape = _shape(engine.dialect, _LONG, parameters)
        assert len(shape.sql) > 4096 and "'x%%y'" in shape.sql  # as psycopg's marks escape a %
        assert shape.written is not None and "'x%y'" in shape.written[0]
