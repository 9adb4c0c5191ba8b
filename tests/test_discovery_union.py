"""Property: the reads of one hop sent as one statement per database give what each read alone gives.

:func:`garde.datasets.sql.rows_in_all` combines a connection's reads into one ``UNION ALL`` (each
read a branch, its rows tagged with its place; on PostgreSQL the columns in slots typed from the
catalogue). An extra row would be another person's data in an answer; a value of another type
(``1`` for ``1.0``, a string for a date) would change what an answer shows and what erasure
matches. Random tables (text or integer keys, NULLs, dates, decimals, bytes, unicode text) and
random reads over them, on real SQLite and PostgreSQL: the same rows, with the
same values of the same types, as :func:`~garde.datasets.sql.rows_in` reads them one by one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from garde.datasets.sql import CHUNK, rows_in, rows_in_all
from tests.test_discovery_ahead import World, _fill, backend, worlds  # noqa: F401  (the fixture)


def _typed(rows: list[tuple[Any, ...]]) -> list[tuple[tuple[str, Any], ...]]:
    """Each value with its type, the rows in a fixed order (neither statement has an ORDER BY)."""
    return sorted((tuple((type(v).__name__, v) for v in row) for row in rows), key=repr)


@st.composite
def hops(draw: st.DrawFn) -> tuple[World, list[tuple[str, tuple[str, ...], dict[str, list[Any]]]]]:
    """A world and up to eight reads over its tables: columns read, columns searched, values (of
    the column's own values, or absent ones; sometimes the same list in several reads)."""
    world = draw(worlds())
    tables = {t.name: t for t in world.datamap}
    reads = []
    for _ in range(draw(st.integers(1, 8))):
        table = tables[draw(st.sampled_from(sorted(tables)))]
        rows = world.rows[table.name]
        names = ["id", *table.identities.values(), *table.references, *table.columns]
        read = tuple(draw(st.lists(st.sampled_from(names), min_size=1, unique=True)))
        searchable = ["id", *table.identities.values(), *table.references]
        conditions: dict[str, list[Any]] = {}
        for column in draw(st.lists(st.sampled_from(searchable), min_size=1, max_size=2, unique=True)):
            present = sorted({r[column] for r in rows if r[column] is not None}, key=str)
            keyed = table.name if column == "id" else table.references[column].target \
                if column in table.references else None
            absent = [987654] if keyed is not None and not world.text_keys[keyed] else ["zz"]
            conditions[column] = draw(st.lists(st.sampled_from(present + absent), max_size=4, unique=True))
        reads.append((table.name, read, conditions))
    if len(reads) > 1 and draw(st.booleans()):  # a list searched again, as a hop's children search one id
        table, read, conditions = reads[-1]
        reads.append((table, read[::-1], {c: list(v) for c, v in conditions.items()}))
    return world, reads


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(hop=hops())
def test_a_hops_reads_in_one_statement_are_each_reads_rows(backend: str,  # noqa: F811
                                                           hop: tuple[World, list[Any]]) -> None:
    world, reads = hop
    memory = backend == "sqlite://"
    engine = sa.create_engine(backend, poolclass=StaticPool) if memory else sa.create_engine(backend)
    meta = _fill(world, engine)
    try:
        with engine.connect() as conn:
            alone = [rows_in(conn, table, read, conditions) for table, read, conditions in reads]
            together = rows_in_all([(conn, table, read, conditions) for table, read, conditions in reads])
        assert [_typed(rows) for rows in together] == [_typed(rows) for rows in alone]
    finally:
        meta.drop_all(engine)
        engine.dispose()


def test_reads_over_the_values_of_one_statement_are_sent_in_several(database_url: str) -> None:
    """More values than one statement takes (:data:`CHUNK`): the reads are split between statements,
    each read whole in one of them."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE big (id INTEGER PRIMARY KEY, parent INTEGER)"))
        conn.execute(sa.text("INSERT INTO big VALUES (:id, :parent)"),
                     [{"id": i, "parent": i % 7} for i in range(1, 2 * CHUNK)])
    try:
        with engine.connect() as conn:
            reads = [(conn, "big", ("id",), {"id": list(range(1, CHUNK))}),
                     (conn, "big", ("id", "parent"), {"parent": [3], "id": list(range(CHUNK, CHUNK + 5))}),
                     (conn, "big", ("parent",), {"id": list(range(CHUNK, 2 * CHUNK + 9))})]
            together = rows_in_all(reads)
            assert [sorted(rows) for rows in together] == [sorted(rows_in(*read)) for read in reads]
            assert len(together[0]) == CHUNK - 1 and len(together[2]) == CHUNK
    finally:
        engine.dispose()
