"""The sweep: execute the plan in batches, logged before committed, resumable after any crash.

Two databases are involved: the engine's store (journal and audit) and the
business database (the data). For each batch:

1. select the next due primary keys (keyset pagination by primary key,
   after the last key the journal holds for this step);
2. write the batch (run, table, operation, keys) to the journal and its
   audit entry, and COMMIT that in the store;
3. apply the operation in the business database with ``WHERE pk IN (batch)
   AND <due predicate>`` (for masks also "not already masked") and COMMIT;
4. mark the batch done in the store.

A kill between 2 and 4 leaves a pending batch: the next sweep resumes the
same run (same ``today``, hence the same due set), re-applies the pending
batch — a no-op for the rows already treated, since they no longer match
the predicate — and continues after its last key. Deletes go children
first (:meth:`DataMap.deletion_order`), then masks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import DataMap, sql_table
from garde.problems import GardeError
from garde.register import Register
from garde.retention import journal
from garde.retention.columns import Facts, reflect
from garde.retention.holds import Holds, gather_holds
from garde.retention.plan import OPERATIONS, Operation, step_predicate
from garde.retention.policy import RetentionPolicy, TablePolicy, build_policy
from garde.retention.predicate import Predicates

#: Called after each batch with (``database.table``, operation, rows affected).
Progress = Callable[[str, str, int], None]


@dataclass
class SweepResult:
    run_id: str
    today: date
    dry_run: bool
    resumed: bool
    affected: dict[str, int] = field(default_factory=dict)
    batches: int = 0

    def total(self) -> int:
        return sum(self.affected.values())

    def to_data(self) -> dict[str, Any]:
        return {"run": self.run_id, "today": self.today.isoformat(), "dry_run": self.dry_run,
                "resumed": self.resumed, "batches": self.batches, "affected": self.affected}


def steps(policy: RetentionPolicy) -> list[tuple[TablePolicy, Operation]]:
    """Deletes children first, then masks: the order a sweep runs its steps in."""
    out: list[tuple[TablePolicy, Operation]] = []
    for ref in policy.datamap.deletion_order():
        table = policy.tables.get(ref)
        if table is not None and table.deletes_rows and not table.held_by:
            out.append((table, "delete"))
    out.extend((t, "mask") for t in policy if t.maskable() and not t.held_by)
    return out


class Sweeper:
    """One sweep over a data map; see the module docstring for the protocol."""

    def __init__(self, store: Engine, datamap: DataMap, engines: Mapping[str, Engine],
                 registers: Mapping[str, Register]) -> None:
        self.store = store
        self.datamap = datamap
        self.engines = engines
        self.registers = registers
        self._facts: Facts | None = None

    def holds(self) -> Holds:
        with self.store.connect() as conn:
            return gather_holds(conn, self.datamap, self.engines)

    def facts(self) -> Facts:
        """Nullability of the columns masks would set to NULL, reflected once per sweeper."""
        if self._facts is None:
            self._facts = reflect(self.datamap, self.engines)
        return self._facts

    def policy(self, holds: Holds | None) -> RetentionPolicy:
        """The policy under ``holds`` (None: as if no hold were in force)."""
        if holds is None:
            return build_policy(self.datamap, self.registers, facts=self.facts())
        return build_policy(self.datamap, self.registers, held_activities=holds.activities(),
                            held_tables=holds.tables(), facts=self.facts())

    def count(self, today: date, holds: Holds | None = None) -> dict[str, int]:
        """Rows each step will touch on ``today`` (what a dry run reports, the progress bar's total)."""
        holds = holds or self.holds()
        policy = self.policy(holds)
        out: dict[str, int] = {}
        for table, operation in steps(policy):
            engine = self.engines[table.table.database]
            t = sql_table(table.table)
            predicates = Predicates(policy, today, engine.dialect.name, holds.keys)
            with engine.connect() as conn:
                n = conn.execute(sa.select(sa.func.count()).select_from(t)
                                 .where(step_predicate(predicates, table, operation, t))).scalar_one()
            out[f"{table.ref}:{operation}"] = int(n)
        return out

    def run(self, *, today: date | None = None, batch_size: int = 1000, dry_run: bool = False,
            progress: Progress | None = None) -> SweepResult:
        """Sweep (or resume the unfinished sweep); ``today`` defaults to the current day."""
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        holds = self.holds()
        holds.check()
        with self.store.begin() as conn:
            run = None if dry_run else journal.unfinished_run(conn)
            resumed = run is not None
            if run is None:
                run = journal.start_run(conn, today or date.today(), batch_size, dry_run)
                audit.record(conn, "retention.run.started", {"run": run.id, "today": run.today.isoformat(),
                                                             "dry_run": dry_run, "batch_size": batch_size})
            else:
                journal.mark_resumed(conn, run.id)
                audit.record(conn, "retention.run.resumed", {"run": run.id})
        result = SweepResult(run.id, run.today, dry_run, resumed)
        if dry_run:
            result.affected = self.count(run.today, holds)
            with self.store.begin() as conn:
                journal.finish_run(conn, run.id, result.to_data())
            return result
        policy = self.policy(holds)
        for table, operation in steps(policy):
            predicates = Predicates(policy, run.today, self.engines[table.table.database].dialect.name,
                                    holds.keys)
            # a resumed run continues with this sweep's batch size: keyset pagination does not depend on it
            self._step(run.id, batch_size, predicates, table, operation, result, progress)
        with self.store.begin() as conn:
            result.affected = journal.run_totals(conn, run.id)
            audit.record(conn, "retention.run.finished", result.to_data())
            journal.finish_run(conn, run.id, result.to_data())
        return result

    def _step(self, run_id: str, batch_size: int, predicates: Predicates, table: TablePolicy,
              operation: Operation, result: SweepResult, progress: Progress | None) -> None:
        ref = table.ref
        with self.store.connect() as conn:
            last = journal.last_batch(conn, run_id, ref.database, ref.table, operation)
        if last is not None and last.status == "pending":
            self._apply_and_mark(last.id, last.keys, predicates, table, operation, result, progress)
        seq = 0 if last is None else last.seq
        after = None if last is None else last.last_key
        t = sql_table(table.table)
        pk = t.c[table.table.primary_key]
        due = step_predicate(predicates, table, operation, t)
        engine = self.engines[ref.database]
        while True:
            query = sa.select(pk).where(due).order_by(pk).limit(batch_size)
            if after is not None:
                query = query.where(pk > after)
            with engine.connect() as conn:
                # Straight from the DBAPI cursor: keys need no type processing, and SQLAlchemy's
                # per-row work would cost more than the database's for 10,000-key batches.
                cursor = conn.execute(query).cursor
                keys = [row[0] for row in cursor.fetchall()] if cursor is not None else []
            if not keys:
                return
            seq += 1
            with self.store.begin() as conn:
                batch_id = journal.log_batch(conn, run_id, seq, ref.database, ref.table, operation, keys)
                audit.record(conn, "retention.batch", {
                    "run": run_id, "batch": batch_id, "table": str(ref), "operation": operation,
                    "columns": [c.column.name for c in table.maskable()], "count": len(keys),
                    "first_key": keys[0], "last_key": keys[-1],
                    "keys_sha256": hashlib.sha256(json.dumps(keys, default=str).encode()).hexdigest()})
            self._apply_and_mark(batch_id, keys, predicates, table, operation, result, progress)
            after = keys[-1]

    def _apply_and_mark(self, batch_id: int, keys: list[Any], predicates: Predicates, table: TablePolicy,
                        operation: Operation, result: SweepResult, progress: Progress | None) -> None:
        try:
            affected = apply_batch(self.engines[table.table.database], predicates, table, operation, keys)
        except sa.exc.IntegrityError as exc:
            # e.g. a NOT NULL identity column whose `erase` says delete, on a row a child keeps
            raise GardeError(
                f"{table.ref}: {operation} batch {batch_id} refused by the database ({exc.orig}); nothing of "
                "it was applied and it stays pending: give the column an `erase` strategy the column "
                "accepts (hash, fixed), then run the sweep again to resume") from None
        with self.store.begin() as conn:
            journal.batch_done(conn, batch_id, affected)
        result.batches += 1
        if progress is not None:
            progress(str(table.ref), operation, affected)


def apply_batch(engine: Engine, predicates: Predicates, table: TablePolicy, operation: Operation,
                keys: list[Any]) -> int:
    """Apply one batch in the business database; re-applying it changes nothing. Returns rows affected."""
    t = sql_table(table.table)
    pk = t.c[table.table.primary_key]
    # The batch is the due rows between its first and last key: the keys were selected in key
    # order with this same predicate, so within the run's fixed day the range holds exactly them,
    # and a range costs the database one index range scan where a 10,000-value IN list costs
    # 10,000 look-ups (and SQLAlchemy as much work to render it).
    batch = sa.and_(pk >= keys[0], pk <= keys[-1])
    with engine.begin() as conn:
        if operation == "mask":
            statement: sa.Executable = (sa.update(t).where(batch, predicates.mask_due(table, t))
                                        .values(predicates.mask_values(table, t)))
            return int(conn.execute(statement).rowcount)
        due = predicates.delete_due(table, t)
        for child, column, parent_column in predicates.cascades(table):
            c = sql_table(child, [child.primary_key, column])
            parents = sa.select(t.c[parent_column]).where(batch, due)
            conn.execute(sa.delete(c).where(c.c[column].in_(parents)))
        return int(conn.execute(sa.delete(t).where(batch, due)).rowcount)


__all__ = ["OPERATIONS", "Progress", "SweepResult", "Sweeper", "apply_batch", "steps"]
