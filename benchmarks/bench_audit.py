"""``audit.verify`` against raw SHA-256 over the same bytes, same run.

Both read the same entries from the same SQLite store (streamed, same
query). The baseline only hashes each entry's canonical bytes — the floor
any verifier pays; ``verify`` also rebuilds the canonical serialisation,
checks the sequence, the links and the head. Goal: verify >= 50% of the
baseline's throughput.
"""

from __future__ import annotations

import hashlib
import json
import tempfile

import sqlalchemy as sa

from benchmarks import Result, timed
from garde import audit
from garde.store import connect, migrate


def run(entries: int = 100_000) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        engine = connect(f"sqlite:///{folder}/garde.db", create=True)
        migrate(engine)
        with engine.begin() as conn:
            for start in range(0, entries, 5000):
                audit.record_many(
                    conn,
                    [
                        audit.Event(
                            "decision",
                            {
                                "activity": "newsletter",
                                "allowed": i % 3 > 0,
                                "categories": ["contact.email"],
                                "i": i,
                            },
                            subject_id=f"{i % 977:032x}",
                        )
                        for i in range(start, start + 5000)
                    ],
                )
        log = audit.audit_log
        query = sa.select(
            log.c.seq,
            log.c.at,
            log.c.kind,
            log.c.subject_id,
            log.c.actor,
            log.c.payload,
            log.c.prev_hash,
            log.c.hash,
        ).order_by(log.c.seq)

        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # the cheapest bytes

        def raw_sha256() -> None:
            with engine.connect() as conn, conn.execution_options(yield_per=10_000).execute(query) as rows:
                for seq, at, kind, subject_id, actor, payload, prev_hash, _digest in rows:
                    body = encode([seq, at, kind, subject_id, actor, payload, prev_hash])
                    hashlib.sha256(body.encode()).hexdigest()

        def verify() -> None:
            with engine.connect() as conn:
                assert audit.verify(conn).ok

        baseline, garde = timed(raw_sha256), timed(verify)
        engine.dispose()
    rate, base_rate = entries / garde, entries / baseline
    return [
        Result(
            "audit",
            "verify",
            rate,
            base_rate,
            "entries/s",
            rate / base_rate,
            ">= 0.50",
            rate >= base_rate / 2,
            f"{entries} entries; baseline = same rows streamed, SHA-256 of the same canonical bytes",
        )
    ]


def main(argv: list[str]) -> None:
    from benchmarks.__main__ import main as run_all

    run_all(["bench_audit"])
