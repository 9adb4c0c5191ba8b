"""Round trips and statements one queued access request costs a `garde worker`, by connection.

Run: ``python -m benchmarks.trace_workers --postgres postgresql+psycopg://user@host/garde_bench
[--customers 20000] [--requests 100]`` (or set ``GARDE_BENCH_POSTGRES_URL``). Needs ``strace`` (Debian's
``strace`` package) and the PostgreSQL server on this machine's network (the worker's sockets are matched
to their databases through ``pg_stat_activity``'s client ports).

One ``garde worker`` runs over the shop's store (``bench_workers``'s), warmed by a few requests; then
``strace -f`` follows its ``sendto`` and ``recvfrom`` calls while ``--requests`` verified access requests
are queued at once and run. Each call's bytes are decoded as PostgreSQL's protocol: a ``Bind`` is one
statement (extended protocol), a ``Query`` a simple one (``BEGIN``, an empty liveness query); a
``recvfrom`` that returned data is a round trip's answer. Counts per request, by connection (its database
and whether it is the queue's pool, read from the last statement ``pg_stat_activity`` showed for it);
counts do not depend on the machine's load. docs/performance.md, "Issue 15, seventh pass".
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.bench_workers import _queued_round, _started, workers
from benchmarks.request_shop import Shop, load, on_postgres, open_deployment, sample_emails, warm

CALL = re.compile(r"(sendto|recvfrom)\((\d+), \"((?:\\x[0-9a-f]{2})*)\"")


def _ports(pid: int) -> dict[int, int]:
    """The process's TCP sockets: file descriptor -> local port."""
    inodes: dict[str, int] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes[target[8:-1]] = int(fd)
    ports: dict[int, int] = {}
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports[inodes[fields[9]]] = int(fields[1].rsplit(":", 1)[1], 16)
    return ports


def _connections(store: sa.Engine, ports: dict[int, int]) -> dict[int, str]:
    """File descriptor -> "database role", the role the queue's when its last statement was one."""
    with store.connect() as conn:
        seen = {port: (database, query or "") for port, database, query in conn.execute(sa.text(
            "SELECT client_port, datname, left(query, 60) FROM pg_stat_activity WHERE client_port IN :ports"
        ).bindparams(sa.bindparam("ports", expanding=True)), {"ports": list(ports.values()) or [0]})}
    named: dict[int, str] = {}
    for fd, port in ports.items():
        database, query = seen.get(port, ("?", ""))
        role = "queue" if "procrastinate" in query or "LISTEN" in query else "garde"
        named[fd] = f"{database} {role} (fd {fd})"
    return named


def _messages(data: bytes) -> Counter[str]:
    """The frontend messages in one ``sendto``'s bytes: statements (``Bind``), simple queries (``Query``)."""
    counted: Counter[str] = Counter()
    at = 0
    while at + 5 <= len(data):
        kind, size = chr(data[at]), int.from_bytes(data[at + 1:at + 5], "big")
        if kind == "B":
            counted["statements"] += 1
        elif kind == "Q":
            text = data[at + 5:at + 1 + size].rstrip(b"\0").decode(errors="replace").strip().upper()
            counted["begin" if text.startswith("BEGIN") else "simple_queries"] += 1
        at += 1 + size
    return counted


def _read(trace: Path, named: dict[int, str], count: int) -> dict[str, dict[str, float]]:
    by_connection: dict[str, Counter[str]] = {}
    for line in trace.read_text().splitlines():
        call = CALL.search(line)
        if call is None or "EAGAIN" in line:
            continue
        name = named.get(int(call.group(2)), f"not a database socket (fd {call.group(2)})")
        counted = by_connection.setdefault(name, Counter())
        if call.group(1) == "recvfrom":
            counted["round_trips"] += 1
        else:
            counted.update(_messages(bytes.fromhex(call.group(3).replace("\\x", ""))))
    return {name: {key: round(value / count, 2) for key, value in sorted(counted.items())}
            for name, counted in sorted(by_connection.items())}


def bench(shop: Shop, requests: int, seed: int = 3) -> dict[str, Any]:
    load_before = load()
    warm(shop)
    deployment, store = open_deployment(shop, shop.work / "results")
    emails = sample_emails(deployment.engines["shop"], shop.customers, requests + 20, random.Random(seed))
    deployment.dispose()
    trace = shop.work / "worker.strace"
    with workers(shop, 1) as started:
        _started(store, 1)
        _queued_round(shop, store, emails[:10])  # warm: every connection open, statements prepared
        named = _connections(store, _ports(started[0].pid))
        tracer = subprocess.Popen(["strace", "-f", "-qq", "-xx", "-s", "65536", "-e", "trace=sendto,recvfrom",
                                   "-o", str(trace), "-p", str(started[0].pid)])
        time.sleep(1.0)  # attached to every thread
        _queued_round(shop, store, emails[10:10 + requests])
        tracer.terminate()
        tracer.wait()
    store.dispose()
    per_connection = _read(trace, named, requests)
    totals: Counter[str] = Counter()
    for name, counted in per_connection.items():
        if not name.startswith("not a database"):
            totals.update(counted)
    return {"shop": shop.label(), "requests": requests, "load_average_before": load_before,
            "load_average_after": load(), "per_request_by_connection": per_connection,
            "per_request_all_databases": {key: round(value, 2) for key, value in sorted(totals.items())},
            "note": "a worker traced with strace; round_trips: recvfrom calls that returned data"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.set_defaults(customers=20_000)
    parser.add_argument("--requests", type=int, default=100, help="traced access requests")
    args = parser.parse_args(argv)
    on_postgres(args, lambda shop: bench(shop, args.requests))


if __name__ == "__main__":
    main()
