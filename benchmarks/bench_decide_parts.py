"""Where a decision's CPU goes, part by part (issue 14: say where the floor is).

Same data as ``bench_decide.py`` (its register, subjects and plan). Each
part is timed alone, in CPU time (``time.process_time``) over many calls,
so a busy machine slows the figures less than wall time would:

- ``evaluate``: the rules alone on facts in memory (a new answer);
- ``decide, kept, no audit``: an answer the point keeps, no audit;
- ``counter read``: the store's write counter, read before every decision;
- ``queue an entry``: :meth:`AuditWriter.add_entry` (the caller's share of auditing);
- ``decide, kept, audited``: the above together, entries queued to a writer
  with no thread whose full batches are dropped (the queueing, not the writing);
- ``writer thread, per entry``: the in-process share of the writer process's
  batches (pickling, the pipe);
- ``writer process, per entry``: the child's CPU (read from ``/proc``) to hash
  and write one decision's entry, batches of ``audit_batch_size``; then its
  parts, timed in this process on a batch of 500 such entries (their times as
  POSIX seconds, as :meth:`DecisionPoint.decide` sends them): unpickling the
  batch, formatting and hashing the chain (:func:`garde.audit._chain`), and the
  SQL (the rows inserted, the head locked and moved, the commit); then the chain
  again with the times as datetimes, as ``decide_many()`` sends them.

``python -m benchmarks decide_parts``.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from benchmarks.bench_decide import Plan, _writer_cpu, prepared
from garde.audit import GENESIS, AuditWriter, ProcessAuditWriter, _append, _chain
from garde.decide import Decision, DecisionPoint, Reason
from garde.decide.freshness import subject_bucket
from garde.decide.point import payload_parts
from garde.decide.reading import arguments, check_statement
from garde.decide.rules import evaluate, stable_until


def per_call(action: Callable[[], object], calls: int) -> float:
    """CPU µs per call of ``action``, the best of 3 rounds (the loop's own cost included: ≈ 0.03 µs)."""
    def loop() -> int:
        for _ in range(calls):
            action()
        return calls

    return cpu(loop)


def cpu(loop: Callable[[], int], repeat: int = 3) -> float:
    """CPU µs per item of ``loop`` (which returns how many items it did), the best of ``repeat``
    rounds: the first ones pay for warming up (caches, the interpreter's specialisation)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        count = loop()
        best = min(best, (time.process_time() - start) / count * 1e6)
    return best


class _Dropping(AuditWriter):
    """A writer whose full batches are dropped, not written: the caller's share of auditing alone,
    with the buffer a real writer keeps (``audit_batch_size`` entries)."""

    def _write_queued(self) -> None:
        with self._state:
            self._queue.clear()


def _writer_parts(engine: sa.Engine, plan: Plan, size: int = 500) -> list[tuple[str, float]]:
    """The writer process's work on one batch of ``size`` decisions' entries, part by part."""
    moment = datetime.now(UTC)
    parts = {}
    for _sid, activity, categories in plan[:size]:
        parts.setdefault((activity, tuple(categories)), payload_parts(
            activity, None, categories, Decision(True, tuple(categories), [Reason("legal_basis", "")])))
    # decide() gives its time as POSIX seconds, decide_many() as a datetime: both paths timed
    timed = [("decision", (head, moment + timedelta(microseconds=i), tail), sid, "garde")
             for i, ((sid, activity, categories), (head, tail)) in enumerate(
                 (p, parts[(p[1], tuple(p[2]))]) for p in plan[:size])]
    items = [(kind, (head, at.timestamp(), tail), sid, actor) for kind, (head, at, tail), sid, actor in timed]
    data = pickle.dumps((False, items), pickle.HIGHEST_PROTOCOL)

    def unpickle() -> int:
        for _ in range(20):
            pickle.loads(data)
        return 20 * size

    def chain(batch: list[Any] = items) -> int:
        for _ in range(20):
            _chain(batch, 0, GENESIS, "2026-12-06T05:00:00.000000Z")
        return 20 * size

    def append() -> int:
        with engine.connect() as conn:
            for _ in range(20):
                with conn.begin():
                    _append(conn, items, None)
        return 20 * size

    hashing, writing = cpu(chain), cpu(append)
    return [("  of which: unpickling the batch", cpu(unpickle)),
            ("  of which: payloads joined, chain hashed", hashing),
            ("  of which: SQL (insert, head, commit)", writing - hashing),
            ("  (chain hashed, times as datetimes: decide_many)", cpu(lambda: chain(timed)))]


def main(argv: list[str], subject_count: int = 2000, calls: int = 20_000) -> None:
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        engine, register, plan = prepared(folder, subject_count, calls)
        at = datetime.now(UTC)

        with DecisionPoint(register, engine, audit=False) as point:
            facts = [(point.model.get(a), point.facts(a, sid), a, c) for sid, a, c in plan[:2000]]

            def rules() -> int:
                for _ in range(5):
                    for rules_, facts_, activity, categories in facts:
                        evaluate(activity, rules_, facts_, categories, None, at)
                return 5 * len(facts)

            rows.append(("evaluate (a new answer's rules)", cpu(rules)))
            subjects_ = list(dict.fromkeys(sid for sid, _, _ in plan))[:1000]

            def read() -> int:
                with point._lock:
                    for sid in subjects_:
                        point._read([sid], None, stamped=True)  # what a point keeps per subject
                return len(subjects_)

            rows.append(("read a subject's facts (every activity)", cpu(read)))

            def bounds() -> int:
                for rules_, facts_, _activity, _categories in facts:
                    stable_until(rules_, facts_, at)  # type: ignore[arg-type]
                return len(facts)

            rows.append(("stable_until (a new answer's bounds)", cpu(bounds)))
            decisions = [(a, c, evaluate(a, r, f, c, None, at)) for r, f, a, c in facts]

            def parts() -> int:
                for activity, categories, decision in decisions:
                    payload_parts(activity, None, categories, decision)
                return len(decisions)

            rows.append(("payload_parts (a new answer's audit JSON)", cpu(parts)))
            fresh = list(dict.fromkeys((a, sid, tuple(c)) for sid, a, c in plan))

            def new() -> int:
                with DecisionPoint(register, engine, audit=False) as other:  # nothing kept yet
                    decide = other.decide
                    for activity, sid, categories in fresh:
                        decide(activity, sid, categories)
                return len(fresh)

            rows.append(("decide, every answer new, no audit", cpu(new)))

            def kept() -> int:
                decide = point.decide
                for sid, activity, categories in plan:
                    decide(activity, sid, categories)
                return len(plan)

            kept()  # every answer kept
            rows.append(("decide, kept, no audit", cpu(kept)))
            cursor = point._cursor
            compiled = check_statement(engine.dialect, 1)
            check = compiled[0], arguments(compiled, {"c_0": subject_bucket(plan[0][0])})
            rows.append(("counter read (SQL, every decision)",
                         per_call(lambda: cursor.execute(*check).fetchone(), calls)))

        queue = _Dropping(engine, max_delay=None, flush_at_exit=False)
        payload = ('{"activity":"orders","allowed":true,"at":', "2026-12-06T00:00:00+00:00", "}")
        rows.append(("queue an entry (add_entry)",
                     per_call(lambda: queue.add_entry("decision", payload, "s", "garde"), calls)))
        queue.close()

        queue = _Dropping(engine, max_delay=None, flush_at_exit=False)
        with DecisionPoint(register, engine, audit=queue) as point:
            kept()  # every answer and its payload kept
            rows.append(("decide, kept, audited (queued only)", cpu(kept)))
        queue.close()

        writer = ProcessAuditWriter(engine)
        with DecisionPoint(register, engine, audit=writer) as point:
            kept()
            writer.flush()
            child_start = _writer_cpu(point)
            rows.append(("decide, kept, audited (+ writer thread)", cpu(lambda: (kept(), writer.flush())[0])))
            child = (_writer_cpu(point) - child_start) / (3 * len(plan))
            rows.append(("writer process, per entry", child * 1e6))
        writer.close()
        rows += _writer_parts(engine, plan)
        engine.dispose()
    width = max(len(name) for name, _ in rows)
    print(f"{'part':<{width}}  CPU µs per call")
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:6.2f}")
