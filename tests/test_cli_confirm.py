"""Destructive commands ask on a terminal, and a "no" changes nothing.

The commands run as real processes whose standard input is a pseudo-terminal,
as when a person types them; ``--yes`` skips the question, and without a
terminal (scripts, CI, ``make demo``) nobody is asked.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).parents[1]


def on_a_terminal(args: list[str], answer: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``garde ARGS`` with a terminal as standard input, typing ``answer``."""
    main, secondary = pty.openpty()
    try:
        os.write(main, answer.encode())
        process = subprocess.run([sys.executable, "-m", "garde", *args], stdin=secondary, capture_output=True,
                                 text=True, timeout=120, env=env, cwd=ROOT, check=False)
    finally:
        os.close(main)
        os.close(secondary)
    return process


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "GARDE_DATABASE_URL": f"sqlite:///{tmp_path / 'garde.db'}",
            "GARDE_SHOP_URL": f"sqlite:///{tmp_path / 'shop.db'}",
            "GARDE_CRM_URL": f"sqlite:///{tmp_path / 'crm.db'}",
            "COLUMNS": "200"}


def customers(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one())
    finally:
        engine.dispose()


def test_shop_generate_asks_before_dropping_the_tables_and_no_keeps_them(env: dict[str, str]) -> None:
    generate = ["shop", "generate", "--customers", "5", "--as-of", "2026-01-01"]
    first = on_a_terminal([*generate, "--yes"], "", env)
    assert first.returncode == 0, first.stderr
    assert customers(env["GARDE_SHOP_URL"]) == 5

    refused = on_a_terminal([*generate[:2], "--customers", "9", "--as-of", "2026-01-01"], "n\n", env)
    assert refused.returncode == 1
    assert "Drop the shop's tables" in refused.stderr and "nothing done" in refused.stderr
    assert customers(env["GARDE_SHOP_URL"]) == 5

    accepted = on_a_terminal([*generate[:2], "--customers", "9", "--as-of", "2026-01-01"], "y\n", env)
    assert accepted.returncode == 0, accepted.stderr
    assert customers(env["GARDE_SHOP_URL"]) == 9


def test_without_a_terminal_nobody_is_asked(env: dict[str, str]) -> None:
    process = subprocess.run([sys.executable, "-m", "garde", "shop", "generate", "--customers", "3",
                              "--as-of", "2026-01-01"], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=120, env=env, cwd=ROOT, check=False)
    assert process.returncode == 0, process.stderr
    assert "Drop the shop's tables" not in process.stderr
    assert customers(env["GARDE_SHOP_URL"]) == 3


def test_a_sweep_says_how_many_rows_are_due_and_a_no_deletes_nothing(env: dict[str, str]) -> None:
    assert on_a_terminal(["shop", "generate", "--customers", "30", "--yes"], "", env).returncode == 0
    before = customers(env["GARDE_SHOP_URL"])
    refused = on_a_terminal(["retention", "sweep"], "n\n", env)
    assert refused.returncode == 1, refused.stderr
    assert "rows are due in" in refused.stderr and "nothing done" in refused.stderr
    runs = on_a_terminal(["retention", "runs", "--format", "json"], "", env)
    assert runs.returncode == 0 and runs.stdout.strip() in ("[]", ""), runs.stdout
    assert customers(env["GARDE_SHOP_URL"]) == before
