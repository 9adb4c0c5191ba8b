"""Filling the reference shop's two databases fast: bulk loads, indexes after the data.

SQLite: one transaction per database, ``executemany`` of plain tuples, with
the journal and fsync off while loading (a half-made demo database is thrown
away, not repaired). PostgreSQL: ``COPY ... FROM STDIN`` through psycopg.
Indexes are built once the rows are in, which is much cheaper than keeping
them up to date row by row.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.shop.generate import ShopGenerator
from garde.shop.people import Rows
from garde.shop.schema import METADATA

Progress = Callable[[int], None]


@dataclass
class GenerationReport:
    customers: int
    seed: int
    as_of: date
    seconds: float = 0.0
    rows: Counter[str] = field(default_factory=Counter)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def create_schema(engines: Mapping[str, Engine], *, indexes: bool = True) -> None:
    """Drop and create the shop's tables (and their indexes unless ``indexes`` is false)."""
    for database, metadata in METADATA.items():
        engine = engines[database]
        metadata.drop_all(engine)
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                conn.execute(sa.schema.CreateTable(table))
        if indexes:
            create_indexes(engine, database)


def create_indexes(engine: Engine, database: str) -> None:
    with engine.begin() as conn:
        for table in METADATA[database].sorted_tables:
            for index in table.indexes:
                index.create(conn)
        conn.exec_driver_sql("ANALYZE")  # fresh statistics, so discovery's IN lookups use the indexes


class _Loader:
    """Bulk writer for one database."""

    def __init__(self, engine: Engine, database: str, stack: ExitStack) -> None:
        self.engine = engine
        self.tables = METADATA[database].sorted_tables
        self.postgres = engine.dialect.name == "postgresql"
        self.conn = stack.enter_context(engine.connect())
        if not self.postgres:
            self.conn.exec_driver_sql("PRAGMA journal_mode=OFF")
            self.conn.exec_driver_sql("PRAGMA synchronous=OFF")
            self.conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # rows come parents first anyway
        self.raw: Any = self.conn.connection.dbapi_connection

    def write(self, rows: Rows) -> None:
        for table in self.tables:
            batch = rows.get(table.name)
            if not batch:
                continue
            names = ", ".join(c.name for c in table.columns)
            if self.postgres:
                with (
                    self.raw.cursor() as cursor,
                    cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
                ):
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in table.columns)
                self.conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", batch)

    def finish(self) -> None:
        if self.postgres:
            self.raw.commit()  # COPY went through the driver's connection, past SQLAlchemy's transaction
        self.conn.commit()
        if not self.postgres:
            self.conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            self.conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def generate_shop(
    engines: Mapping[str, Engine],
    customers: int,
    seed: int = 0,
    *,
    as_of: date | None = None,
    batch_size: int = 10_000,
    progress: Progress | None = None,
) -> GenerationReport:
    """Recreate the shop's tables in ``engines["shop"]`` and ``engines["crm"]`` and fill them.

    The same ``seed`` and ``as_of`` (default: today) give the same rows.
    ``progress`` is called with the number of customers of each batch written.
    """
    as_of = as_of or date.today()
    report = GenerationReport(customers=customers, seed=seed, as_of=as_of)
    started = time.perf_counter()
    create_schema(engines, indexes=False)
    generator = ShopGenerator(seed, as_of)
    with ExitStack() as stack:
        loaders = {name: _Loader(engines[name], name, stack) for name in METADATA}
        for count, rows in generator.batches(customers, batch_size):
            for loader in loaders.values():
                loader.write(rows)
            report.rows.update({name: len(batch) for name, batch in rows.items()})
            if progress:
                progress(count)
        for loader in loaders.values():
            loader.finish()
    for name in METADATA:
        create_indexes(engines[name], name)
    report.seconds = time.perf_counter() - started
    return report


def shop_checksum(engines: Mapping[str, Engine]) -> str:
    """SHA-256 over every row of every shop table, in key order (for small shops: tests, demos)."""
    digest = hashlib.sha256()
    for database, metadata in METADATA.items():
        with engines[database].connect() as conn:
            for table in metadata.sorted_tables:
                digest.update(f"{database}.{table.name}\n".encode())
                for row in conn.execute(sa.select(table).order_by(table.c.id)):
                    digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def row_counts(engines: Mapping[str, Engine]) -> dict[str, int]:
    """``{"shop.orders": n, ...}``."""
    counts = {}
    for database, metadata in METADATA.items():
        with engines[database].connect() as conn:
            for table in metadata.sorted_tables:
                counts[f"{database}.{table.name}"] = conn.execute(
                    sa.select(sa.func.count()).select_from(table)
                ).scalar_one()
    return counts
