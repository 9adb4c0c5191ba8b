"""Where one access request's CPU goes, part by part, on the 1 M shop (SQLite or PostgreSQL).

Run: ``python -m benchmarks.profile_access [--customers 1000000] [--requests 40] [--postgres URL]
[--cprofile FILE]`` (the shop of ``bench_requests``, generated once). After three untimed requests,
``--requests`` access requests run one after the other (``rights.run``), each for another subject;
each part's CPU time (``time.process_time``) is summed by wrapping garde's own functions in this
process, so the wrapping costs a microsecond or two per call (a profiler, not the benchmark: the
request's whole CPU is also given unwrapped). Store statements are counted with SQLAlchemy's
``before_cursor_execute``, the datasets' statements by the driver calls of
:mod:`garde.datasets.sql`. ``--cprofile FILE`` writes a cProfile of the same requests as well.

On PostgreSQL (the server on this machine) the plain requests also give the CPU of the server
processes serving their connections (``/proc/<pid>/stat`` before and after; the pids from each
checkout's ``pg_backend_pid``), and N more requests run under libpq's protocol trace on every
connection: what the client sent per request (round trips: each ``Sync`` and simple ``Query`` waits
for the server; statements parsed anew against those run from a prepared statement).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import random
import resource
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments, open_shop, read_ahead
from benchmarks.bench_throughput import cpu_seconds
from benchmarks.request_shop import (
    AS_OF,
    drop_postgres,
    load,
    open_deployment,
    sample_emails,
    submit_verified,
    warm,
)

# The parts of an access request, as (module, attribute, part); nested parts are subtracted from
# the part they run in ("of which"), so the shares add up.
PARTS = (
    ("garde.rights.running", "note_registers", "the registers' versions (one read)"),
    ("garde.rights.running", "get_request", "the request read (with its steps)"),
    # since 2026-12-07 the start reads the request and the registers' versions together: both here
    ("garde.rights.running", "get_request_and", "the request read (with its steps)"),
    ("garde.rights.running", "transition", "the two transitions (UPDATE, step)"),
    ("garde.audit", "record_many", "  of which the audit appends (hash chain)"),
    ("garde.rights.running", "locate", "discovery over both databases"),
    ("garde.rights.running", "garde_held", "what garde holds of the subject (one read)"),
    ("garde.rights.access", "build_access", "building the answer from the rows"),
    ("garde.rights.access", "render_access_html", "the HTML report"),
    ("garde.rights.access", "dumps", "access.json encoded"),
    ("garde.rights.access", "write_private", "the folder and both files written (0600)"),
    ("garde.rights.access", "write_private_files", "the folder and both files written (0600)"),
)


def _wrap(spent: dict[str, float], calls: dict[str, int], module: str, attribute: str,
          part: str) -> Callable[[], None]:
    owner: Any = importlib.import_module(module)
    original = owner.__dict__.get(attribute)
    if original is None:  # a part of another version of the code (the previous one, run in turn)
        return lambda: None
    stack: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        if stack:  # re-entered (transition → get_request): counted once, in the outer call
            return original(*args, **kwargs)
        stack.append(time.process_time())
        try:
            return original(*args, **kwargs)
        finally:
            spent[part] += time.process_time() - stack.pop()
            calls[part] += 1

    setattr(owner, attribute, timed)
    return lambda: setattr(owner, attribute, original)


def _backends(engines: dict[str, sa.Engine]) -> dict[int, str]:
    """The server processes of ``engines``' connections (PostgreSQL) and the database each serves,
    filled at each checkout."""
    pids: dict[int, str] = {}

    def noted(name: str) -> Callable[..., None]:
        def checkout(raw: Any, _record: Any, _proxy: Any) -> None:
            pids[raw.info.backend_pid] = name
        return checkout

    for name, engine in engines.items():
        if engine.dialect.name == "postgresql":
            sa.event.listen(engine, "checkout", noted(name))
    return pids


def protocol(engines: list[sa.Engine], action: Callable[[], None], requests: int) -> dict[str, float]:
    """What the client sends the PostgreSQL server per request while ``action`` runs ``requests`` of
    them (libpq's protocol trace of every connection checked out): round trips (a ``Sync`` or a
    simple ``Query`` each waits for the server's answer), statements, and how many were parsed anew
    (an unnamed ``Parse``) rather than run from a statement prepared on the connection."""
    with tempfile.TemporaryDirectory() as folder:
        trace = Path(folder) / "protocol.trace"
        with trace.open("w") as out:
            def traced(raw: Any, _record: Any, _proxy: Any) -> None:
                raw.pgconn.trace(out.fileno())

            for engine in engines:
                sa.event.listen(engine, "checkout", traced)
            try:
                action()
            finally:
                for engine in engines:
                    sa.event.remove(engine, "checkout", traced)
                    engine.pool.dispose()  # their connections stop tracing with them
        sent = [line.split("\t") for line in trace.read_text().splitlines() if "\tF\t" in line]
    kinds = Counter(fields[3].split(" ")[0] for fields in sent if len(fields) > 3)
    simple = [fields[4] for fields in sent if len(fields) > 4 and fields[3] == "Query"]
    parsed = sum(1 for fields in sent if len(fields) > 4 and fields[3] == "Parse"
                 and fields[4].startswith(' ""'))
    prepared = sum(1 for fields in sent if len(fields) > 4 and fields[3] == "Parse"
                   and not fields[4].startswith(' ""'))
    per = 1 / requests
    return {"round_trips": round((kinds["Sync"] + kinds["Query"]) * per, 1),
            "statements": round((kinds["Execute"] + kinds["Query"]) * per, 1),
            "parsed_anew": round(parsed * per, 1),
            "prepared_now": round(prepared * per, 1),
            "simple_queries": dict(Counter(q.strip()[:40] for q in simple).most_common(8)),
            "copies": round(kinds["CopyDone"] * per, 1)}


def profile(shop: Any, requests: int, cprofile: str | None, ahead: bool | None = None) -> dict[str, Any]:
    from garde.rights.running import run

    deployment, store = open_deployment(shop, shop.work / "results", ahead)
    emails = sample_emails(deployment.engines["shop"], shop.customers, 3 * requests + 6,
                           random.Random(time.time_ns()))
    load_before = load()
    cache = warm(shop)
    ids = [submit_verified(store, "access", email) for email in emails]
    engines = [store, *deployment.engines.values()]
    backends = _backends({"store": store, **deployment.engines})
    for request_id in ids[:3]:  # imports, templates, reflection
        run(store, request_id, deployment, today=AS_OF)
    statements: dict[str, int] = defaultdict(int)

    def count(name: str) -> Callable[..., None]:
        def counted(*_args: Any) -> None:
            statements[name] += 1
        return counted

    sa.event.listen(store, "before_cursor_execute", count("store"))
    # Plain: the whole request, nothing wrapped.
    whole, walls = [], []
    server_before = {pid: cpu_seconds(pid) for pid in backends}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    for request_id in ids[3:3 + requests]:
        started, wall = time.process_time(), time.perf_counter()
        run(store, request_id, deployment, today=AS_OF)
        whole.append(time.process_time() - started)
        walls.append(time.perf_counter() - wall)
    after = resource.getrusage(resource.RUSAGE_SELF)
    # system CPU: the kernel's share of this process (each round trip is a send and a wait), which an
    # instruction count of the process (callgrind) does not see
    user_system = ((after.ru_utime - usage.ru_utime) / requests, (after.ru_stime - usage.ru_stime) / requests)
    server: dict[str, float] = defaultdict(float)
    for pid, database in backends.items():
        server[database] += (cpu_seconds(pid) - server_before.get(pid, 0.0)) / requests
    store_statements = statements["store"] / requests
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    undo = [_wrap(spent, calls, *part) for part in PARTS]
    # CPU time, not wall time: on PostgreSQL the wall time is mostly waits for the server (and, on a
    # loaded machine, for the scheduler)
    profiler = cProfile.Profile(time.process_time) if cprofile else None
    wrapped = []
    try:
        for request_id in ids[3 + requests:3 + 2 * requests]:
            started = time.process_time()
            if profiler is not None:
                profiler.enable()
            run(store, request_id, deployment, today=AS_OF)
            if profiler is not None:
                profiler.disable()
            wrapped.append(time.process_time() - started)
    finally:
        for restore in undo:
            restore()
    if profiler is not None and cprofile:
        profiler.dump_stats(cprofile)
    sent = None
    if store.dialect.name == "postgresql":
        traced = ids[3 + 2 * requests:3 + 3 * requests]

        def run_traced() -> None:
            for request_id in traced:
                run(store, request_id, deployment, today=AS_OF)

        sent = protocol(engines, run_traced, len(traced))
    total = sum(wrapped)
    first_quartile = statistics.quantiles(whole, n=4)[0]
    parts = {part: spent[part] for _, _, part in PARTS}
    parts["the transitions (UPDATE, step)"] = parts.pop("the two transitions (UPDATE, step)") \
        - parts["  of which the audit appends (hash chain)"]
    parts["the rest: run lock, connections, transactions' commits, the result's JSON"] = total - sum(
        v for k, v in parts.items() if not k.startswith("  "))
    deployment.dispose()
    store.dispose()
    return {"shop": shop.label(), "requests": requests, "file_cache": cache,
            "load_average_before": load_before, "load_average_after": load(),
            "cpu_ms_per_request_plain": {"median": round(statistics.median(whole) * 1000, 2),
                                         "mean": round(statistics.mean(whole) * 1000, 2),
                                         # the least disturbed by other programs on a loaded machine
                                         "first_quartile": round(first_quartile * 1000, 2),
                                         "user_mean": round(user_system[0] * 1000, 2),
                                         "system_mean": round(user_system[1] * 1000, 2)},
            "wall_ms_per_request_plain": {"median": round(statistics.median(walls) * 1000, 2),
                                          "first_quartile": round(statistics.quantiles(walls, n=4)[0] * 1000,
                                                                  2)},
            **({"server_cpu_ms_per_request_plain": {"all": round(sum(server.values()) * 1000, 2), **{
                database: round(value * 1000, 2) for database, value in sorted(server.items())}},
                "sent_per_request": sent} if sent is not None else {}),
            "cpu_ms_per_request_wrapped": round(total / requests * 1000, 2),
            "store_statements_per_request": store_statements,
            "parts_ms": {part: {"ms": round(value / requests * 1000, 3),
                                "share": f"{100 * value / total:.0f} %",
                                "calls": calls.get(part, 0) / requests if part in calls else None}
                         for part, value in parts.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--cprofile", default=None, help="write a cProfile of the wrapped requests there")
    args = parser.parse_args(argv)
    shop = open_shop(args)
    try:
        print(json.dumps(profile(shop, args.requests, args.cprofile, read_ahead(args)), indent=2,
                         ensure_ascii=False))
    finally:
        if shop.backend == "postgresql":
            drop_postgres(shop, keep_shop=not args.drop)


if __name__ == "__main__":
    main()
