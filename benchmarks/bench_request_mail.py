"""The "answered" mail's own cost, alone: what telling the subject adds to a request's completion.

Run: ``python -m benchmarks.bench_request_mail --postgres postgresql+psycopg://user@host/garde_bench
[--customers 2000] [--requests 200] [--rounds 3]`` (or set ``GARDE_BENCH_POSTGRES_URL``). The store is
``bench_requests``'s (a new database each run); the mailer the file mailer, in a temporary folder.

For each verified access request, alternating in rounds: the completing transaction alone (one audit
entry appended), against the same preceded by the mail (the outbox's intent, the message written,
its "sent" mark and ``request.notified``: where the code under test puts them, so the same script
measures an older checkout through ``PYTHONPATH``). Per request: this process's CPU, the PostgreSQL
server's CPU (its processes for the store), the store statements, wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_requests import arguments
from benchmarks.profile_workers import _server, _server_since
from benchmarks.request_shop import Shop, load, on_postgres, open_deployment, submit_verified
from garde import audit
from garde.rights import outbox
from garde.rights.intake import Request, get_request
from garde.rights.mailer import FileMailer


def _complete(store: sa.Engine, request: Request, mailer: FileMailer | None, registers: list[Any]) -> None:
    """The mail (if any) and a completing transaction with one audit entry of its own."""
    event = audit.Event("bench.completed", {"request": request.id}, request.subject_id, "bench")
    send_once = getattr(outbox, "send_once", None)
    if mailer is None:
        with store.begin() as conn:
            audit.record_many(conn, [event])
    elif send_once is not None:  # the mark and its entry ride in the completion
        told = send_once(store, request, "answered", mailer, registers)
        with store.begin() as conn:
            audit.record_many(conn, [*(told(conn) if told else []), event])
    else:  # before: a transaction of its own for the mark
        outbox.tell_once(store, request, "answered", mailer, registers)
        with store.begin() as conn:
            audit.record_many(conn, [event])


def _side(shop: Shop, store: sa.Engine, requests: list[Request], mailer: FileMailer | None,
          registers: list[Any]) -> dict[str, Any]:
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    sa.event.listen(store, "before_cursor_execute", count)
    server = _server(store, shop)
    wall, cpu = time.perf_counter(), time.process_time()
    for request in requests:
        _complete(store, request, mailer, registers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_cpu = _server_since(store, shop, server)
    sa.event.remove(store, "before_cursor_execute", count)
    n = len(requests)
    return {"cpu_ms": round(1000 * cpu / n, 3), "server_cpu_ms": round(1000 * server_cpu / n, 3),
            "wall_ms": round(1000 * wall / n, 3), "statements": round(statements[0] / n, 2), "load": load()}


def bench(shop: Shop, requests: int, rounds: int) -> dict[str, Any]:
    deployment, store = open_deployment(shop, shop.work / "results")
    registers = list(deployment.registers.values())
    mailer = FileMailer(Path(tempfile.mkdtemp(prefix="garde-bench-mail-")))
    sides: dict[str, list[dict[str, Any]]] = {"with_mail": [], "without": []}
    serial = iter(range(10**9))

    def batch() -> list[Request]:
        ids = [submit_verified(store, "access", f"bench{next(serial)}@example.org") for _ in range(requests)]
        with store.connect() as conn:
            return [get_request(conn, request_id) for request_id in ids]

    _complete(store, batch()[0], mailer, registers)  # warm-up: imports, templates, connections
    for _ in range(rounds):
        for side in sides:
            mailing = mailer if side == "with_mail" else None
            sides[side].append(_side(shop, store, batch(), mailing, registers))
    deployment.dispose()
    store.dispose()
    pairs = list(zip(sides["with_mail"], sides["without"], strict=True))
    mail = {key: [round(w[key] - o[key], 3) for w, o in pairs]
            for key in ("cpu_ms", "server_cpu_ms", "statements")}
    return {"requests_per_round": requests, "code": outbox.__file__, "rounds": sides,
            "the_mail_adds_per_request": mail}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    arguments(parser)
    parser.set_defaults(customers=2000)
    parser.add_argument("--requests", type=int, default=200, help="requests per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (each side once a round)")
    args = parser.parse_args(argv)
    on_postgres(args, lambda shop: bench(shop, args.requests, args.rounds))


if __name__ == "__main__":
    main()
