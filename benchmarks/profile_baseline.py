"""Where the hand-written baseline's access time goes on PostgreSQL, technique by technique.

Run: ``python -m benchmarks.profile_baseline --postgres URL [--customers 1000000] [--requests 60]``
(the shop of ``bench_requests``, generated once; files prewarmed). The same reads of one subject
(:class:`~benchmarks.request_shop.HandWritten`'s, rows checked equal) are run four ways, alternated
subject by subject so that every way sees the same machine:

1. ``sqlalchemy``: :class:`HandWritten` as it is (``text()`` with literal ``IN (…)`` lists, a pooled
   connection per database, each checkout pinged and each close rolled back);
2. ``raw``: psycopg on one connection per database kept open, autocommit, one ``= ANY(%s)`` array
   parameter per list, nothing prepared (each statement parsed and planned at each run);
3. ``prepared``: the same, each statement prepared on its first run;
4. ``pipelined``: the same, the independent reads of each level of both databases sent together
   (:class:`TunedHandWritten`, the floor the benchmark reports as the tuned baseline).

For each: client CPU and wall time per subject (medians), the CPU of the server processes serving
those connections (``/proc/<pid>/stat``), and from libpq's protocol trace the round trips (each
``Sync`` or simple ``Query`` waits for the server) and statements parsed anew, per subject. Then the
answer file's part (``json.dumps`` of the rows, a new folder and file) measured alone, and a
cProfile of the ``sqlalchemy`` way grouped by package.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.bench_throughput import cpu_seconds
from benchmarks.request_shop import HandWritten, TunedHandWritten, load, postgres_shop, sample_emails, warm


def _sent(trace: Path) -> Counter[str]:
    """What the client sent, by message (``Sync``, ``Query``, ``Parse`` of an unnamed statement...)."""
    kinds: Counter[str] = Counter()
    for line in trace.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) > 3 and fields[1] == "F":
            kind = fields[3].split(" ")[0]
            kinds[kind] += 1
            if kind == "Parse" and len(fields) > 4 and fields[4].startswith(' ""'):
                kinds["parsed_anew"] += 1
    return kinds


def profile(shop: Any, requests: int) -> dict[str, Any]:
    engines = {name: sa.create_engine(url, pool_pre_ping=True, pool_use_lifo=True)
               for name, url in shop.urls.items()}
    emails = sample_emails(engines["shop"], shop.customers, 5 * requests + 10, random.Random(time.time_ns()))
    cache = warm(shop)
    load_before = load()
    old = HandWritten(engines["shop"], engines["crm"])
    ways: dict[str, Any] = {
        "sqlalchemy": old,
        "raw": TunedHandWritten(shop.urls["shop"], shop.urls["crm"], prepare=False, pipeline=False),
        "prepared": TunedHandWritten(shop.urls["shop"], shop.urls["crm"], pipeline=False),
        "pipelined": TunedHandWritten(shop.urls["shop"], shop.urls["crm"]),
    }
    pids: dict[str, set[int]] = defaultdict(set)

    def checkout(raw: Any, _record: Any, _proxy: Any) -> None:
        pids["sqlalchemy"].add(raw.info.backend_pid)

    for engine in engines.values():
        sa.event.listen(engine, "checkout", checkout)
    for name, way in ways.items():
        if name != "sqlalchemy":
            pids[name] = {c.info.backend_pid for c in way.connections}
    for email in emails[:6]:  # warm: imports, prepared statements, the pool's connections
        for way in ways.values():
            way.read(email)
    cpu: dict[str, list[float]] = defaultdict(list)
    wall: dict[str, list[float]] = defaultdict(list)
    server_before = {name: sum(cpu_seconds(p) for p in pids[name]) for name in ways}
    subjects = iter(emails[10:])
    for _ in range(requests):
        for name, way in ways.items():
            email = next(subjects)  # a subject nobody read before: no way reads another's warm pages
            started, clock = time.process_time(), time.perf_counter()
            way.read(email)
            cpu[name].append(time.process_time() - started)
            wall[name].append(time.perf_counter() - clock)
    server = {name: (sum(cpu_seconds(p) for p in pids[name]) - server_before[name]) / requests
              for name in ways}
    # the protocol: a few more subjects under libpq's trace, way by way
    sent: dict[str, dict[str, float]] = {}
    traced = [next(subjects) for _ in range(5)]
    with tempfile.TemporaryDirectory() as folder:
        for name, way in ways.items():
            trace = Path(folder) / f"{name}.trace"
            with trace.open("w") as out:
                def on(raw: Any, _record: Any, _proxy: Any) -> None:
                    raw.pgconn.trace(out.fileno())

                if name == "sqlalchemy":
                    for engine in engines.values():
                        engine.pool.dispose()
                        sa.event.listen(engine, "checkout", on)
                else:
                    for connection in way.connections:
                        connection.pgconn.trace(out.fileno())
                for email in traced:
                    way.read(email)
                if name == "sqlalchemy":
                    for engine in engines.values():
                        sa.event.remove(engine, "checkout", on)
                        engine.pool.dispose()
                else:
                    for connection in way.connections:
                        connection.pgconn.untrace()
            kinds = _sent(trace)
            sent[name] = {"round_trips": (kinds["Sync"] + kinds["Query"]) / len(traced),
                          "statements": (kinds["Execute"] + kinds["Query"]) / len(traced),
                          "parsed_anew": kinds["parsed_anew"] / len(traced),
                          "simple_queries": kinds["Query"] / len(traced)}
    # the answer file alone: the rows of one subject encoded and written to a new folder
    rows = old.read(emails[0])
    answer_cpu: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as folder:
        for i in range(200):
            started = time.process_time()
            text = json.dumps(rows, default=str)
            answer_cpu["json.dumps"].append(time.process_time() - started)
            started = time.process_time()
            answer = Path(folder) / f"answer-{i}"
            answer.mkdir()
            (answer / "access.json").write_text(text)
            answer_cpu["folder and file written"].append(time.process_time() - started)
    # the old way's client CPU by package
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(min(requests, 30)):
        old.read(next(subjects))
    profiler.disable()
    by_package = _packages(pstats.Stats(profiler))
    for way in ways.values():
        if isinstance(way, TunedHandWritten):
            way.close()
    for engine in engines.values():
        engine.dispose()
    return {
        "shop": shop.label(), "subjects_per_way": requests, "file_cache": cache,
        "load_average_before": load_before, "load_average_after": load(),
        "per_subject": {name: {"wall_ms": round(statistics.median(wall[name]) * 1000, 2),
                               "cpu_ms": round(statistics.median(cpu[name]) * 1000, 2),
                               "server_cpu_ms": round(server[name] * 1000, 2), **sent[name]}
                        for name in ways},
        "answer_file_cpu_ms": {part: round(statistics.median(values) * 1000, 3)
                               for part, values in answer_cpu.items()},
        "sqlalchemy_client_cpu_by_package": by_package,
    }


def _packages(stats: pstats.Stats) -> dict[str, str]:
    """The share of CPU spent in each package's own code (tottime), largest first."""
    spent: dict[str, float] = defaultdict(float)
    table: Any = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in table.items():
        spent[_package(filename, function)] += tottime
    total = sum(spent.values()) or 1.0
    return {name: f"{100 * value / total:.0f} %"
            for name, value in sorted(spent.items(), key=lambda item: -item[1])[:8]}


def _package(filename: str, function: str) -> str:
    for name in ("sqlalchemy", "psycopg", "json", "benchmarks"):
        if f"/{name}/" in filename:
            return name
    if filename == "~":  # a builtin: the socket's waits, the C parts of psycopg
        return f"built-in {function.split(' of ')[0].strip('<>')[:40]}"
    return "other Python"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args(argv)
    if not args.postgres:
        raise SystemExit("PostgreSQL only: pass --postgres URL or set GARDE_BENCH_POSTGRES_URL")
    shop = postgres_shop(args.customers, args.postgres, Path(tempfile.mkdtemp(prefix="garde-bench-")))
    from benchmarks.request_shop import drop_postgres

    try:
        print(json.dumps(profile(shop, args.requests), indent=2))
    finally:
        drop_postgres(shop, keep_shop=not args.drop)


if __name__ == "__main__":
    main()
