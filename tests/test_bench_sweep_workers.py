"""The sweep-across-workers benchmark on a tiny table: it runs, and every scenario ends exact.

A smoke test of ``benchmarks/bench_sweep_workers.py`` (10,000 rows, two tables): the raw ``DELETE``,
the inline sweep and the sweep taken by one and by two ``garde worker`` processes leave the same rows
(the benchmark refuses to go on otherwise) and the audit chain verifies. No time is asserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.bench_sweep_workers import SCENARIOS, measure, report

pytestmark = pytest.mark.postgres


def test_the_benchmark_runs_every_scenario_to_the_same_end_state(postgres_admin_url: str,
                                                                 tmp_path: Path) -> None:
    results = measure(postgres_admin_url, 10_000, 2, 1_000, list(SCENARIOS), tmp_path)
    assert [m.scenario for m in results] == list(SCENARIOS)
    assert {tuple(m.state) for m in results} == {tuple(results[0].state)}
    assert sum(count for count, _, _ in results[0].state) == 9_000  # every tenth row was due
    assert len(report(results)) == 3
