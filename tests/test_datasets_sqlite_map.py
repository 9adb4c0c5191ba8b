"""A business SQLite database is read through a memory map of its file (acc31: discovery's reads
without a read() per page), and the rows read that way are the ones the file holds."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from garde.datasets.sql import SQLITE_MAP_BYTES, _prepare_sqlite
from garde.store import connect


def test_a_business_sqlite_connection_maps_its_file_and_reads_what_it_holds(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'shop.db'}", create=True)
    sa.event.listen(engine, "connect", _prepare_sqlite)  # what connect_dataset() does
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
            conn.exec_driver_sql("INSERT INTO customers (email) VALUES ('ana@example.org'), "
                                 "('bob@example.org')")
        with engine.connect() as conn:
            mapped = conn.exec_driver_sql("PRAGMA mmap_size").scalar()
            options = set(conn.exec_driver_sql("PRAGMA compile_options").scalars())
            if "MAX_MMAP_SIZE=0" not in options:  # a build without memory maps ignores the setting
                assert mapped is not None and 0 < mapped <= SQLITE_MAP_BYTES  # capped by SQLite's build
            # written after the map was made, read through it by the same connection
            conn.exec_driver_sql("UPDATE customers SET email = 'ana@example.net' WHERE id = 1")
            conn.commit()
            assert conn.exec_driver_sql("SELECT email FROM customers ORDER BY id").scalars().all() == [
                "ana@example.net", "bob@example.org"]
    finally:
        engine.dispose()
