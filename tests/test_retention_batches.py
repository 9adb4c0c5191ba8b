"""Each way a sweep takes its batches ends exact: adaptive key ranges over sparse keys, a limited
``IN`` for text keys, and select-then-apply when the data shares the store's SQLite file."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

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


def test_sparse_keys_with_gaps_and_dense_runs(database_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}" if database_url.startswith("sqlite") else database_url
    deployment = Deployment(database_url, url)
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
