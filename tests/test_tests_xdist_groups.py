"""The ``xdist_group``s hold: under pyproject's ``--dist loadgroup`` every test of a group runs in one
worker (the browser tests share one browser and render each page once; the held-out analyses are
run once per document). pytest 9.2 keeps a test's id where pytest-xdist 3.8 no longer changes it,
and the groups were silently spread over the workers (seen 2026-12-06): hence pytest below 9.2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GROUPED = """
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("one")


@pytest.mark.parametrize("n", range(8))
def test_where(n):
    Path(f"ran-{n}").write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_a_group_runs_in_one_worker(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not this repository's settings
    (tmp_path / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    # pytest and xdist alone, as their versions decide where a group runs: the other installed plugins
    # (hypothesis, schemathesis, faker, anyio) took 6 of the 6.5 CPU seconds of three processes.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "xdist.plugin", "-n", "2",
                           "--dist", "loadgroup", "-p", "no:cacheprovider", "test_grouped.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    workers = {path.read_text(encoding="utf-8") for path in tmp_path.glob("ran-*")}
    assert len(list(tmp_path.glob("ran-*"))) == 8 and len(workers) == 1, workers
