"""``POST /api/v1/decisions`` under load on loopback, against a bare endpoint of the same app.

Run: ``python -m benchmarks.bench_api [--workers 1 2] [--duration 10] [--connections 32]
[--postgres URL]`` (``make bench`` runs it too, shorter). Needs ``wrk`` (Debian: ``apt-get
install wrk``); without it the benchmark says so and measures nothing.

The server is uvicorn as ``garde serve --workers N`` runs it (same options), on the app that
``create_app`` builds from the environment's settings, with one route more that only this
benchmark's app has: ``POST /bench/bare``, which reads nothing and returns a constant body,
through the same middleware and thread pool as the decisions route (the framework's own ceiling
on this machine). The store is a fresh SQLite file (or a fresh PostgreSQL database, dropped
afterwards) with one ``service`` key and consents of 1,000 subjects, 60 % given. wrk sends, from
a Lua script, each request with the bearer key and a subject drawn at random; every decision
is audited, as in production. The bare endpoint and the decisions are measured in turn in the
same run (warm-up first), ``--rounds`` times each; the best round of each is reported with its
p50 / p99 latency and the CPU time the server's processes (workers and their children) used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from benchmarks import Result

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "registers" / "reference-shop.yaml"
BARE = "/api/v1/bench/bare"
DECISIONS = "/api/v1/decisions"
SUBJECTS = 1_000
GOAL_RATE, GOAL_P99_MS, GOAL_RATIO = 2_000, 50.0, 0.5

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GARDE_BENCH_KEY")
local subjects = tonumber(os.getenv("GARDE_BENCH_SUBJECTS"))
request = function()
  local body = string.format(
    '{"activity":"newsletter","subject":{"email":"s%d@example.com"},"channel":"email"}',
    math.random(subjects))
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('GARDE {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"non_2xx":%d,"socket_errors":%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def bench_app() -> object:
    """The app `garde serve` runs, and the bare endpoint (only in the benchmark's app).

    The bare endpoint is an ``async`` route that takes the decisions' hop (to a decision thread,
    which does nothing) and answers a constant body. It is placed in the route table just before
    the decisions' router: routes are matched in order, and FastAPI's matching costs ≈ 2 µs of CPU
    a route passed, so a route added at the end of the table (after the pages) paid ≈ 0.15 ms a
    request more than the decisions do."""
    from garde.api import create_app
    from garde.api.state import service

    app = create_app()

    @app.post(BARE, include_in_schema=False)
    async def bare(request: Request) -> Response:
        await service(request).decisions.run(_nothing)
        return Response(b'{"allowed":true}', media_type="application/json")

    routes = app.router.routes
    added = routes.pop()
    assert isinstance(added, APIRoute) and added.path == BARE
    routes.insert(_position(app, DECISIONS), added)
    return app


def _nothing(_seat: object) -> None:
    return None


def _position(app: Any, path: str) -> int:
    """The index, in the app's own route table, of the entry (a route or an included router) that
    serves ``path``."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI copies the routes into the app
        return next(index for index, route in enumerate(app.router.routes)
                    if getattr(route, "path", None) == path)
    return next(index for index, route in enumerate(app.router.routes)
                if any(context.path == path for context in iter_route_contexts([route])))


@dataclass(frozen=True)
class Load:
    path: str
    rate: float  # requests/s
    p50_ms: float
    p99_ms: float
    cpu_s: float  # of the server's processes during the run
    requests: int


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _clock_ticks()
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        total += times.get(pid, 0.0)
        pending.extend(child for child, parent in parents.items() if parent == pid)
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prepare(url: str) -> str:
    """Migrate the store, create a service key, record the subjects' consents; the key."""
    from garde.api.keys import create_key
    from garde.consent.recording import ConsentChoice, record_choice
    from garde.decide.model import DecisionModel
    from garde.store import connect, migrate

    engine = connect(url, create=True)
    migrate(engine)
    model = DecisionModel.load(REGISTER)
    with engine.begin() as conn:
        _, key = create_key(conn, "bench", "service")
    for n in range(1, SUBJECTS + 1):
        if n % 10 < 6:
            record_choice(engine, model, ConsentChoice("given", "newsletter", {"email": f"s{n}@example.com"},
                                                       channel="email"))
    engine.dispose()
    return key


@contextmanager
def _server(url: str, workers: int) -> Iterator[tuple[int, int]]:
    """uvicorn serving :func:`bench_app` as `garde serve --workers N` does; (pid, port)."""
    port = _free_port()
    code = ("import uvicorn; uvicorn.run('benchmarks.bench_api:bench_app', factory=True, host='127.0.0.1', "
            f"port={port}, workers={workers}, log_level='warning', access_log=False)")
    env = {**os.environ, "GARDE_DATABASE_URL": url, "GARDE_REGISTERS": str(REGISTER)}
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit status {process.poll()})")
            time.sleep(0.2)
        time.sleep(0.5 * workers)  # every worker up, not only the first
        yield process.pid, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wrk(pid: int, port: int, path: str, script: Path, key: str, args: argparse.Namespace,
         duration: int) -> Load:
    env = {**os.environ, "GARDE_BENCH_KEY": key, "GARDE_BENCH_SUBJECTS": str(SUBJECTS)}
    before = _tree_cpu(pid)
    done = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout",
                           "5s", "-s", str(script), f"http://127.0.0.1:{port}{path}"],
                          env=env, capture_output=True, text=True, timeout=duration + 60)
    cpu = _tree_cpu(pid) - before
    line = next((line for line in done.stdout.splitlines() if line.startswith("GARDE ")), None)
    if done.returncode or line is None:
        raise RuntimeError(f"wrk failed (exit status {done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line[len("GARDE "):])
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"{path}: {figures['non_2xx']} answers not 2xx, {figures['socket_errors']} socket "
                           "errors: the benchmark measures failures, not decisions")
    return Load(path, figures["requests"] / (figures["duration_us"] / 1e6), figures["p50_us"] / 1000,
                figures["p99_us"] / 1000, cpu, figures["requests"])


@contextmanager
def _database(kind: str, postgres: str | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="garde-bench-api-") as folder:
            yield f"sqlite:///{folder}/garde.db"
        return
    import sqlalchemy as sa

    assert postgres is not None
    name = f"garde_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(kind: str, workers: int, args: argparse.Namespace) -> tuple[Load, Load]:
    """The best round of the bare endpoint and of the decisions, measured in turn."""
    with _database(kind, args.postgres) as url, tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "decisions.lua"
        script.write_text(LUA)
        key = _prepare(url)
        with _server(url, workers) as (pid, port):
            for path in (BARE, DECISIONS):  # warm-up: connections, thread pool, caches, audit writer
                _wrk(pid, port, path, script, key, args, 2)
            loads: dict[str, list[Load]] = {BARE: [], DECISIONS: []}
            for _ in range(args.rounds):
                for path in (BARE, DECISIONS):
                    loads[path].append(_wrk(pid, port, path, script, key, args, args.duration))
    best = {path: max(runs, key=lambda load: load.rate) for path, runs in loads.items()}
    return best[BARE], best[DECISIONS]


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--postgres", default=os.environ.get("GARDE_BENCH_POSTGRES_URL")
                        or os.environ.get("GARDE_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server's URL (a database is created and dropped); "
                             "default $GARDE_BENCH_POSTGRES_URL or $GARDE_TEST_POSTGRES_URL")
    return parser.parse_args(argv)


def results(args: argparse.Namespace) -> list[Result]:
    if shutil.which("wrk") is None:
        print("bench_api: skipped, `wrk` is not installed (Debian: apt-get install wrk)")
        return []
    from garde.settings import get_settings

    # The stores are thrown away after the run: the demo identifier key may hash their subjects.
    os.environ.setdefault("GARDE_ALLOW_DEMO_KEY", "true")
    get_settings.cache_clear()
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    if not args.postgres:
        print("bench_api: PostgreSQL skipped (no --postgres, $GARDE_BENCH_POSTGRES_URL or "
              "$GARDE_TEST_POSTGRES_URL)")
    rows = []
    for kind in kinds:
        for workers in args.workers:
            bare, decided = measure(kind, workers, args)
            ratio = decided.rate / bare.rate
            met = decided.rate >= GOAL_RATE and decided.p99_ms < GOAL_P99_MS and ratio >= GOAL_RATIO
            note = (f"decisions p50 {decided.p50_ms:.1f} ms, p99 {decided.p99_ms:.1f} ms, server CPU "
                    f"{decided.cpu_s / decided.requests * 1e6:.0f} µs/request; bare p50 {bare.p50_ms:.1f} ms,"
                    " "
                    f"p99 {bare.p99_ms:.1f} ms, {bare.cpu_s / bare.requests * 1e6:.0f} µs/request")
            print(f"  {kind}, {workers} worker(s): decisions {decided.rate:,.0f}/s, bare {bare.rate:,.0f}/s; "
                  f"{note}", flush=True)
            rows.append(Result(f"API decisions ({kind}, {workers} worker{'s' if workers > 1 else ''})",
                               "requests/s", decided.rate, bare.rate, "req/s", ratio,
                               f">= {GOAL_RATIO}, >= {GOAL_RATE:,}/s, p99 < {GOAL_P99_MS:.0f} ms", met, note))
    return rows


def run() -> list[Result]:
    """`make bench`: shorter runs than the default."""
    return results(_options(["--duration", "5"]))


def main(argv: list[str]) -> int:
    from benchmarks.__main__ import table

    table(results(_options(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
