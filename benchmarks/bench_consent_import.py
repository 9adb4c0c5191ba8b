"""Consent bulk import (CSV) against raw ``executemany`` of the same rows, same run.

garde reads and parses the CSV, hashes identities (HMAC), resolves subjects
set-based, skips rows already imported, writes subjects, identifiers and
events, and appends one audit entry per batch. The baseline gets the very
rows garde wrote, already built in memory, and inserts them into the same
three tables with the DBAPI's ``executemany``, in batches of the same size,
one transaction each. Goal: import >= 50% of the baseline's throughput.

The two run in turn, five times each, on a fresh migrated store each time
(not timed); the best time of each is kept. The store is in the system's
temporary folder (on disk, as a real store is); ``TMPDIR=/dev/shm`` puts it
in memory, where the database's own work is cheapest and the ratio lowest.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from benchmarks import Result, timed, timed_pair
from garde.consent.importing import import_csv
from garde.consent.ledger import consent_events
from garde.store import connect, migrate
from garde.subjects import subject_identifiers, subjects

BATCH = 1000


def write_csv(path: Path, rows: int, rng: random.Random) -> None:
    """An export as another tool writes it: about two events per address, each with its own
    second and (mostly) its own IP address."""
    start = datetime(2024, 1, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "activity", "channel", "action", "at", "ip"])
        for i in range(rows):
            writer.writerow(
                [
                    f"r{i}",
                    f"user{rng.randrange(rows // 2)}@example.com",
                    "newsletter",
                    "email",
                    rng.choice(["opt-in", "opt-in", "opt-out"]),
                    f"{start + timedelta(seconds=rng.randrange(366 * 86_400)):%Y-%m-%dT%H:%M:%SZ}",
                    f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                ]
            )


def run(rows: int = 50_000) -> list[Result]:
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "export.csv"
        write_csv(source, rows, rng)
        counter = iter(range(1_000_000))
        tables = (subjects, subject_identifiers, consent_events)
        captured: dict[str, list[dict[str, object]]] = {}

        engines: list[sa.Engine] = []

        def fresh() -> sa.Engine:
            engine = connect(f"sqlite:///{folder}/garde{next(counter)}.db", create=True)
            migrate(engine)
            engines.append(engine)
            return engine

        def garde_import(engine: sa.Engine) -> None:
            report = import_csv(engine, source, source="othertool", batch_size=BATCH)
            assert report.added == rows, report.problems[:3]
            if not captured:
                with engine.connect() as conn:
                    for table in tables:
                        captured[table.name] = [dict(r._mapping) for r in conn.execute(sa.select(table))]

        def raw_executemany(engine: sa.Engine) -> None:
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                for table in tables:
                    data = captured[table.name]
                    names = list(data[0])
                    marks = ", ".join("?" * len(names))
                    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
                    for start in range(0, len(data), BATCH):
                        cursor.executemany(
                            sql, [tuple(r[n] for n in names) for r in data[start : start + BATCH]]
                        )
                        raw.commit()
            finally:
                raw.close()

        garde, baseline = timed_pair(garde_import, raw_executemany, fresh)
        again = connect(f"sqlite:///{folder}/garde0.db", create=True)
        rerun = timed(lambda: import_csv(again, source, source="othertool", batch_size=BATCH), repeat=1)
        again.dispose()
        for engine in engines:
            engine.dispose()
    rate, base_rate = rows / garde, rows / baseline
    return [
        Result(
            "consent import",
            "rows/s",
            rate,
            base_rate,
            "rows/s",
            rate / base_rate,
            ">= 0.50",
            rate >= base_rate / 2,
            f"{rows} CSV rows, {len(captured['subjects'])} subjects; re-running the import "
            f"(nothing to add) takes {rerun:.2f} s",
        )
    ]


def main(argv: list[str]) -> None:
    from benchmarks.__main__ import main as run_all

    run_all(["bench_consent_import"])
