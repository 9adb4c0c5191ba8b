"""Workers SIGKILLed at random points of access and erasure requests on PostgreSQL, 20 times each.

Each request is queued; once a job of it is running, the worker is stopped after a random delay (from a
fixed seed under CI=true; printed otherwise, GARDE_KILL_SEED replays it) and killed if a job of the request
is still running; a request that ended first counts for nothing, and another is tried, until 20 kills of
each kind have stopped a running job, however fast or slow the machine. The killed worker's job is
handed back by procrastinate's stalled-job recovery (:func:`garde.jobs.requests.retry_stalled`) and a
new worker ends the request. The end state is then compared with a twin shop where the same requests
ran inline, unkilled: the same rows, the same answers, each audit entry that must be written once
written once, and the audit chain verified.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from garde.jobs import submit
from garde.jobs.requests import retry_stalled, run_job
from garde.rights.running import run
from tests.requests_jobs_support import World, answer, emails, rows, shop_world
from tests.test_erasure_reference_shop import AS_OF
from tests.worker_kills import Workers, killable_workers

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TRIALS = 20  # kills that stop a running job of a request, of each kind
SPARE = 20  # requests that may end before their kill point (then tried again with another person)
REACH = {"access": 0.35, "erasure": 0.5}  # seconds after a request starts (a warm worker ends most sooner)
ONCE = {"access": ("request.subject_found", "request.completed", "request.notified"),
        "erasure": ("request.erasure_planned", "subject.erased", "request.completed", "request.notified")}


def _seed() -> int:
    if os.environ.get("CI") == "true":
        return 15
    return int(os.environ.get("GARDE_KILL_SEED") or random.SystemRandom().randrange(1_000_000))


def _killed_run(world: World, workers: Workers, kind: str, email: str, reach: float,
                rng: random.Random) -> tuple[str, bool]:
    """Queue the request and, at a random point after a worker starts it, stop the workers: if a job of
    the request is running, kill them, recover its jobs and start a new worker to end it (True); if it
    has ended already, let them go on (False)."""
    request_id = world.request(kind, email)
    submit(world.store, run_job, {"request_id": request_id, "today": AS_OF.isoformat()})
    world.wait(request_id, frozenset({"in_progress", "completed", "failed"}), poll=0.005)  # started
    world.wait_for(rng.uniform(0, reach))
    workers.pause()
    if not workers.running(request_id):
        workers.resume()
        return request_id, False
    workers.kill_all()
    retry_stalled(world.url, seconds_since_heartbeat=0)  # no worker is alive: every job "doing" is stalled
    workers.start()
    return request_id, True


def test_workers_killed_mid_request_lose_nothing_and_do_nothing_twice(postgres_admin_url: str,
                                                                     tmp_path: Path) -> None:
    seed = _seed()
    print(f"kill points from seed {seed} (GARDE_KILL_SEED={seed} replays them)")
    rng = random.Random(seed)
    with shop_world(postgres_admin_url, tmp_path / "expected", customers=45 + SPARE) as expected, \
            shop_world(postgres_admin_url, tmp_path / "killed", customers=45 + SPARE) as killed:
        people = emails(expected, 2 * TRIALS + SPARE + 1)
        warm_up = people.pop()
        run(expected.store, expected.request("access", warm_up), expected.deployment)  # the twin too
        with killable_workers(killed.env, killed.store, tmp_path / "workers.log",
                              killed.request("access", warm_up)) as workers:
            workers.start()
            tried = _trials(expected, killed, workers, iter(people), rng, tmp_path / "workers.log")
        print(f"requests run to kill {TRIALS} running jobs of each kind: {tried}")
        assert rows(killed) == rows(expected)
        assert killed.chain_ok()


def _trials(expected: World, killed: World, workers: Workers, people: Iterator[str], rng: random.Random,
            log: Path) -> dict[str, int]:
    """Requests inline in ``expected``, killed and recovered in ``killed``, compared one by one, until
    :data:`TRIALS` kills of each kind have stopped a running job (a request that ended before its kill
    point counts for nothing, and the next kill point of its kind is drawn from half the span).
    Returns how many requests of each kind that took."""
    tried = dict.fromkeys(REACH, 0)
    for kind, reach in REACH.items():
        hits = 0
        while hits < TRIALS:
            email = next(people, None)
            assert email is not None, f"{tried} requests ended before their kill point: give SPARE more"
            tried[kind] += 1
            inline_id = expected.request(kind, email)
            done = run(expected.store, inline_id, expected.deployment, today=AS_OF)
            request_id, hit = _killed_run(killed, workers, kind, email, reach, rng)
            hits += hit
            reach = reach if hit else reach / 2
            assert killed.wait(request_id) == "completed", log.read_text()[-3000:]
            name = f"{kind}.json"
            assert answer(killed, request_id, name) == answer(expected, inline_id, name), email
            assert _kept(killed.result(request_id)) == _kept(done.result or {}), email
            audited = killed.audited(request_id)
            assert {k: audited[k] for k in ONCE[kind]} == dict.fromkeys(ONCE[kind], 1), (email, audited)
            applied = Counter(expected.audited(inline_id))["request.erasure_applied"]
            assert audited["request.erasure_applied"] == applied, email  # once per database
    return tried


def _kept(result: dict[str, object]) -> dict[str, object]:
    """The result but its paths and the count of garde's records of the subject (``held``: a killed
    run's own steps, ``in_progress`` then ``resumed``, are in the request's trail)."""
    return {key: value for key, value in result.items() if key not in ("file", "files", "held")}
