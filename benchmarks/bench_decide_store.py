"""decide()'s reads of the store on SQLite and PostgreSQL: facts read for every decision against
facts kept (their buckets' counters read instead), decide_many() against decide() one by one, and
what the counters cost the writers.

``python -m benchmarks.bench_decide_store [--postgres URL] [--subjects 2000] [--calls 20000]``
(PostgreSQL when ``--postgres``, ``$GARDE_BENCH_POSTGRES_URL`` or ``$GARDE_TEST_POSTGRES_URL``
names a server: a database is created and dropped). Auditing is off: the audit entry costs the
same on every path, and this measures the reads. Per decision: wall and CPU time (this process),
and the statements sent to the store. The writers' price: 1,000 consents recorded one transaction
each, with the counters' triggers and without them (dropped), in turn.
"""

from __future__ import annotations

import argparse
import os
import random
import time

import sqlalchemy as sa
from tests.decide_support import Counting

from benchmarks.bench_api import _database
from benchmarks.bench_decide import REGISTER, REQUESTS, populate
from garde import consent
from garde.decide.freshness import TRIGGERS
from garde.register import parse_register
from garde.store import connect, migrate

KEEP = 100_000


def per_decision(point: Counting, asked: list[tuple[str, str, list[str]]],
                 many: bool) -> tuple[float, float, float]:
    """µs of wall and CPU time, and statements, per decision."""
    statements, wall, cpu = point.statements, time.perf_counter(), time.process_time()
    if many:
        for start in range(0, len(asked), 100):
            point.decide_many(asked[start:start + 100])
    else:
        for activity, sid, categories in asked:
            point.decide(activity, sid, categories)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / len(asked) * 1e6, cpu / len(asked) * 1e6, (point.statements - statements) / len(asked)


def writes(engine: sa.Engine, sids: list[str], count: int = 1000) -> float:
    """µs per consent recorded in its own transaction."""
    start = time.perf_counter()
    for i in range(count):
        with engine.begin() as conn:
            consent.give(conn, sids[i % len(sids)], "newsletter", channel="email")
    return (time.perf_counter() - start) / count * 1e6


def drop_triggers(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for name in TRIGGERS["sqlite"]:
                conn.execute(sa.text(f"DROP TRIGGER {name}"))
        else:
            for name in TRIGGERS["postgresql"]:
                table = name.removeprefix("decide_buckets_").removesuffix("_truncate").removesuffix("_flush")
                conn.execute(sa.text(f"DROP TRIGGER {name} ON {table}"))


def measure(kind: str, url: str, subject_count: int, calls: int) -> None:
    engine = connect(url, create=True)
    migrate(engine)
    rng = random.Random(14)
    sids = populate(engine, subject_count, rng)
    model = parse_register(REGISTER).register
    asked = [(activity, rng.choice(sids), categories)
             for activity, categories in (rng.choice(REQUESTS) for _ in range(calls))]
    print(f"{kind}, {subject_count} subjects, {calls} decisions "
          "(µs wall / µs CPU / statements, per decision):")
    for label, size, many in (("facts read for each decision", 0, False), ("facts kept", KEEP, False),
                              ("decide_many, facts read", 0, True), ("decide_many, facts kept", KEEP, True)):
        with Counting(model, engine, audit=False, cache_size=size) as point:
            if size:
                per_decision(point, asked, many)  # what is kept, kept: the second pass is timed
            wall, cpu, statements = per_decision(point, asked, many)
        print(f"  {label:32} {wall:8.1f} {cpu:8.1f} {statements:6.2f}")
    with_triggers = writes(engine, sids)
    drop_triggers(engine)
    without = writes(engine, sids)
    print(f"  a consent recorded (one transaction): {with_triggers:.0f} µs with the counters' triggers, "
          f"{without:.0f} µs without")
    engine.dispose()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", default=os.environ.get("GARDE_BENCH_POSTGRES_URL")
                        or os.environ.get("GARDE_TEST_POSTGRES_URL"))
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args(argv)
    # the stores are thrown away after the run: the demo identifier key may hash their subjects
    os.environ.setdefault("GARDE_ALLOW_DEMO_KEY", "true")
    print(f"load average {os.getloadavg()[0]:.1f}")
    for kind in ["sqlite"] + (["postgresql"] if args.postgres else []):
        with _database(kind, args.postgres) as url:
            measure(kind, url, args.subjects, args.calls)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
