"""Each way a sweep takes its batches ends exact: adaptive key ranges over sparse keys, a limited
``IN`` for text keys, and select-then-apply when the data shares the store's SQLite file."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from garde import audit
from tests.test_retention_negomarkets import TABLES, TODAY, Deployment, expected_by_python, fill, snapshot


def _sweep_and_check(deployment: Deployment, batch_size: int) -> None:
    before = snapshot(deployment.shop)
    deployment.sweep(today=TODAY, batch_size=batch_size)
    after = snapshot(deployment.shop)
    expected = expected_by_python(before)
    for name in TABLES:
        assert after[name] == expected[name], name
    again = deployment.sweep(today=TODAY, batch_size=batch_size)
    assert again.total() == 0


def test_sparse_keys_with_gaps_and_dense_runs(migrated_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}" if migrated_url.startswith("sqlite") else migrated_url
    deployment = Deployment(migrated_url, url)
    try:
        fill(deployment.shop)
        with deployment.shop.begin() as conn:  # a huge gap, then keys packed together
            conn.execute(sa.text("UPDATE web_sessions SET id = id * 1000003 WHERE id % 7 <> 0"))
        _sweep_and_check(deployment, batch_size=4)
    finally:
        deployment.close()


def test_text_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    deployment = Deployment(f"sqlite:///{tmp_path / 'store.db'}", url)
    try:
        fill(deployment.shop)
        with deployment.shop.begin() as conn:  # the same rows, keyed by text
            conn.execute(sa.text("ALTER TABLE candidates RENAME TO candidates_int"))
            conn.execute(sa.text("CREATE TABLE candidates (id TEXT PRIMARY KEY, email TEXT, name TEXT, "
                                 "cv TEXT, applied_at DATETIME, last_contact_at DATETIME)"))
            conn.execute(sa.text("INSERT INTO candidates SELECT 'k' || id, email, name, cv, applied_at, "
                                 "last_contact_at FROM candidates_int"))
            conn.execute(sa.text("DROP TABLE candidates_int"))
        before = snapshot(deployment.shop)["candidates"]
        deployment.sweep(today=TODAY, batch_size=7)
        after = snapshot(deployment.shop)["candidates"]
        expected = expected_by_python({**snapshot(deployment.shop), "candidates": before})["candidates"]
        assert after == expected and 0 < len(after) < len(before)
    finally:
        deployment.close()


def test_business_data_in_the_store_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    deployment = Deployment(url, url)
    try:
        fill(deployment.shop)
        _sweep_and_check(deployment, batch_size=9)
    finally:
        deployment.close()


def test_a_range_batch_is_audited_with_the_query_of_its_rows(migrated_url: str, tmp_path: Path) -> None:
    """A batch treated by key range is journalled as its range, its count and the query of the due
    rows with the run's values written in: each range holds exactly its count of the rows that
    went, and the query, run again after the sweep, finds nothing."""
    url = f"sqlite:///{tmp_path / 'shop.db'}" if migrated_url.startswith("sqlite") else migrated_url
    deployment = Deployment(migrated_url, url)
    try:
        fill(deployment.shop)
        before = snapshot(deployment.shop)
        deployment.sweep(today=TODAY, batch_size=5)
        after = snapshot(deployment.shop)
        with deployment.store.connect() as conn:
            entries = [e["payload"] for e in audit.entries(conn, kind="retention.batch")
                       if e["payload"]["table"].endswith(".web_sessions")]
        assert entries and all("keys_sha256" not in e for e in entries)
        gone = set(before["web_sessions"]) - set(after["web_sessions"])
        assert sum(e["count"] for e in entries) == len(gone)
        for entry in entries:  # PostgreSQL runs through the table's pages: no key range to check
            if "after_key" in entry:
                in_range = {k for k in gone if entry["after_key"] < k <= entry["through_key"]}
                assert len(in_range) == entry["count"]
        pages = [e for e in entries if "first_block" in e]
        assert (len(pages) == len(entries)) == deployment.store.dialect.name.startswith("postgres")
        with deployment.shop.connect() as conn:
            assert conn.execute(sa.text(entries[0]["due_rows"])).all() == []
    finally:
        deployment.close()
