"""``decide()`` audited on PostgreSQL: CPU a decision in the deciding process and in the audit
writer process, and the wall time.

``bench_decide.py``'s register, subjects and plan (1,000 subjects, 10,000 decisions after 500
warm-up), on a database of its own created on the server of ``$GARDE_BENCH_POSTGRES_URL`` (or
``$GARDE_TEST_POSTGRES_URL``, or the first argument) and dropped at the end. Run it on two
checkouts in turn to compare them (a throw-away database: the demo identifier key is allowed).

``python -m benchmarks.profile_decide_postgres [URL]``.
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid

import sqlalchemy as sa

from benchmarks.bench_decide import REGISTER, REQUESTS, _writer_cpu, populate
from garde.decide import DecisionPoint
from garde.register import parse_register
from garde.store import connect, migrate


def main(argv: list[str], subject_count: int = 1000, calls: int = 10_000) -> None:
    server = (argv[0] if argv else None) or os.environ.get("GARDE_BENCH_POSTGRES_URL") or os.environ.get(
        "GARDE_TEST_POSTGRES_URL")
    if not server:
        print("profile_decide_postgres: no URL ($GARDE_BENCH_POSTGRES_URL or an argument)")
        return
    os.environ.setdefault("GARDE_ALLOW_DEMO_KEY", "true")  # a database of its own, dropped below
    name = f"garde_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        engine = connect(sa.make_url(server).set(database=name).render_as_string(hide_password=False))
        migrate(engine)
        rng = random.Random(7)
        ids = populate(engine, subject_count, rng)
        plan = [(rng.choice(ids), *rng.choice(REQUESTS)) for _ in range(calls)]
        with DecisionPoint(parse_register(REGISTER).register, engine) as point:
            for sid, activity, categories in plan[:500]:
                point.decide(activity, sid, categories)
            point.audit_writer.flush()  # type: ignore[union-attr]
            writer, cpu, wall = _writer_cpu(point), time.process_time(), time.perf_counter()
            for sid, activity, categories in plan:
                point.decide(activity, sid, categories)
            point.audit_writer.flush()  # type: ignore[union-attr]
            writer, cpu = _writer_cpu(point) - writer, time.process_time() - cpu
            wall = time.perf_counter() - wall
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"decide() on PostgreSQL, audited: {cpu / calls * 1e6:.1f} µs CPU a decision in this process "
          f"+ {writer / calls * 1e6:.1f} µs in the audit writer process; wall {wall / calls * 1e6:.1f} µs "
          f"a decision; load average {load:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
