"""The workers' benchmark on a tiny shop: a round through one `garde worker` is timed by the queue's own
record of its jobs' ends, and the benchmark's submitter (its queueing and its poll) is measured apart.

A smoke test of ``benchmarks/bench_workers.py`` (300 customers, 6 requests, no baselines): the
round runs, every request ends, and the figures the report reads are there. No speed is asserted.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from benchmarks.bench_workers import bench
from benchmarks.request_shop import drop_postgres, postgres_shop

from garde.settings import get_settings

pytestmark = pytest.mark.postgres


def test_a_round_is_timed_by_the_queue_and_its_submitter_is_measured_apart(
        postgres_admin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the benchmark allows the demo key for its throw-away store and silences its warning: in this
    # process for this test only (set here, undone after: it made test_keys' refusal pass as allowed)
    monkeypatch.setenv("GARDE_ALLOW_DEMO_KEY", "true")
    get_settings.cache_clear()
    server = sa.make_url(postgres_admin_url).set(database=f"garde_t_bw{os.getpid()}")
    with warnings.catch_warnings():
        shop = postgres_shop(300, server.render_as_string(hide_password=False), tmp_path)
        try:
            result = bench(shop, 6, [1], baselines=False)
        finally:
            drop_postgres(shop, keep_shop=False)
    get_settings.cache_clear()
    workers = result["rounds"]["1"]["workers"]
    # the queue's record of the last end, on the server's clock: never later than the poll saw it
    # (the poll looks every 50 ms; a few ms of slack for the two clocks' starts)
    assert 0 < workers["seconds"] <= workers["seconds_seen_by_the_poll"] + 0.01
    # both rounded from the same unrounded time: equal within their roundings
    assert workers["requests_per_s"] == pytest.approx(6 / workers["seconds"], rel=0.01, abs=0.1)
    submitter = workers["submitter"]
    assert submitter["polls"] >= 1
    assert submitter["cpu_ms_per_request"] >= 0 and submitter["server_cpu_ms_per_request"] >= 0
    assert workers["wall_ms_per_request_per_process"] >= workers["idle_ms_per_request_per_process"]
    # each worker's share: the jobs it took (all of them, one worker) and its CPU, the kernel's part
    # within it; the warm-up's jobs counted apart; the machine's speed sampled while the round ran
    (worker,) = workers["per_worker"]
    assert worker["jobs"] == 6 and workers["retried_jobs"] == 0
    assert 0 <= worker["system_cpu_ms"] <= worker["cpu_ms"] and worker["loop_cpu_ms"] <= worker["cpu_ms"]
    assert sum(workers["warm_up_jobs_per_worker"]) == 4
    probe = workers["machine"]["probe_ms_quartiles"]
    assert len(probe) == 3 and 0 < probe[0] <= probe[1] <= probe[2]
