"""The sweep: execute the plan in batches, logged before committed, resumable after any crash.

Two databases are involved: the engine's store (journal and audit) and the
business database (the data). For each batch:

1. select the next due primary keys (keyset pagination by primary key,
   after the last key the journal holds for this step) — the only read of
   the due range;
2. in one store transaction, mark the previous batch done, write this batch
   (run, table, operation, keys) to the journal with its audit entry, and
   COMMIT;
3. apply the operation in the business database with one statement, ``WHERE
   pk IN (the batch's keys) AND <due predicate>`` (the keys as one parameter:
   ``json_each`` on SQLite, an array on PostgreSQL), and COMMIT.

The last batch of a step is marked done when the step ends. A kill between
2 and the next store commit leaves the latest batch pending: the next sweep
resumes the same run (same ``today``, hence the same due set), re-applies
the pending batch — a no-op for the rows already treated, since they no
longer match the predicate — and continues after its last key. Deletes go
children first (:meth:`DataMap.deletion_order`), then masks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import DataMap, sql_table
from garde.keys import identifier_data_key
from garde.legal_holds import digest_ended_holds
from garde.problems import GardeError
from garde.register import Register
from garde.retention import journal
from garde.retention.batches import Batches, Taken, apply_batch
from garde.retention.columns import Facts, reflect
from garde.retention.holds import Holds, gather_holds
from garde.retention.lock import SweepRunning, sweep_lock
from garde.retention.plan import OPERATIONS, Operation, step_predicate
from garde.retention.policy import RetentionPolicy, TablePolicy, build_policy
from garde.retention.predicate import Predicates
from garde.store import database_refusal
from garde.store.transactions import retried

#: Called after each batch with (``database.table``, operation, rows affected).
Progress = Callable[[str, str, int], None]
#: Rows per batch: large enough that the journal and audit commits are a small part of a batch.
BATCH_SIZE = 50_000


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


@contextmanager
def deferred_checkpoints(business: sa.Connection) -> Iterator[None]:
    """On SQLite, copy the step's write-ahead log into the database file once, at the end of the step.

    Each batch commits (that is what makes the sweep resumable), and by
    default SQLite checkpoints — copies the log back and syncs the file — at
    every commit that leaves more than 1,000 pages in the log: a 50,000-row
    batch would pay for a checkpoint and its fsyncs, where one statement over
    the whole table pays once. Kill -9 loses nothing: the log is on disk.
    """
    if business.dialect.name != "sqlite":
        yield
        return
    business.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    business.commit()
    try:
        yield
    finally:
        business.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
        business.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        business.commit()


def steps(policy: RetentionPolicy) -> list[tuple[TablePolicy, Operation]]:
    """Moves to archives, then deletes children first, then masks: the order a sweep runs its steps in."""
    out: list[tuple[TablePolicy, Operation]] = [(t, "archive") for t in policy
                                                if t.archives_rows and not t.held_by]
    for ref in policy.datamap.deletion_order():
        table = policy.tables.get(ref)
        if table is not None and table.deletes_rows and not table.held_by:
            out.append((table, "delete"))
    out.extend((t, "mask") for t in policy if policy.masks(t) and not t.held_by)
    return out


class Sweeper:
    """One sweep over a data map; see the module docstring for the protocol."""

    def __init__(self, store: Engine, datamap: DataMap, engines: Mapping[str, Engine],
                 registers: Mapping[str, Register], *, actor: str = "garde") -> None:
        self.store = store
        self.actor = actor  # who runs the sweep: its audit entries name them
        self.datamap = datamap
        self.engines = engines
        self.registers = registers
        self._facts: Facts | None = None
        # The tables keyed by an identity (a list keyed by the address): their keys name people, so
        # the audit entries hold them as keyed digests, and the journal once the run is finished.
        self.keyed = frozenset(str(t.ref) for t in datamap if t.primary_key in t.identities.values())

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

    def run(self, *, today: date | None = None, batch_size: int = BATCH_SIZE, dry_run: bool = False,
            progress: Progress | None = None) -> SweepResult:
        """Sweep (or resume the unfinished sweep); ``today`` defaults to the current day.

        Raises :class:`SweepRunning` when another sweep runs on this store (a dry run needs no lock),
        and :class:`GardeError` for a ``today`` after the current day (only a dry run looks ahead).
        """
        check_batch_size(batch_size)
        if dry_run:
            return self._run(today, batch_size, dry_run, progress)
        not_after_today(today)
        with sweep_lock(self.store):
            return self._run(today, batch_size, dry_run, progress)

    def _run(self, today: date | None, batch_size: int, dry_run: bool,
             progress: Progress | None) -> SweepResult:
        holds = self.holds()
        result = self.start(today, batch_size, dry_run, holds)
        if dry_run:
            result.affected = self.count(result.today, holds)
            retried(self.store, lambda conn: journal.finish_run(conn, result.run_id, result.to_data()),
                    what=f"retention run {result.run_id}: its end")
            return result
        self.sweep_steps(result, batch_size, holds, progress)
        self.finish(result)
        return result

    def start(self, today: date | None, batch_size: int, dry_run: bool, holds: Holds) -> SweepResult:
        """Start a run as of ``today``, or resume the unfinished one (audited either way); first, in a
        transaction of its own, the subject holds ended since the last sweep name their identity by
        its keyed digest only (:func:`garde.legal_holds.digest_ended_holds`; not on a dry run)."""
        if not dry_run:
            retried(self.store, lambda conn: digest_ended_holds(conn, actor=self.actor),
                    what="the ended legal holds' identities")
        holds.check()

        def starting(conn: sa.Connection) -> SweepResult:
            run = None if dry_run else journal.unfinished_run(conn)
            resumed = run is not None
            if run is None:
                run = journal.start_run(conn, today or date.today(), batch_size, dry_run)
                audit.record(conn, "retention.run.started", {"run": run.id, "today": run.today.isoformat(),
                                                             "dry_run": dry_run, "batch_size": batch_size},
                             actor=self.actor)
            else:
                journal.mark_resumed(conn, run.id)
                audit.record(conn, "retention.run.resumed", {"run": run.id}, actor=self.actor)
            return SweepResult(run.id, run.today, dry_run, resumed)

        return retried(self.store, starting, what="a retention run's start")

    def sweep_steps(self, result: SweepResult, batch_size: int, holds: Holds, progress: Progress | None,
                    tables: Collection[str] | None = None) -> None:
        """The run's steps, in order; ``tables``: only the steps on those tables (``database.table``),
        one part of a sweep split across workers (:mod:`garde.retention.parts`)."""
        check_batch_size(batch_size)
        policy = self.policy(holds)
        for table, operation in steps(policy):
            if tables is not None and str(table.ref) not in tables:
                continue
            predicates = Predicates(policy, result.today, self.engines[table.table.database].dialect.name,
                                    holds.keys)
            # a resumed run continues with this sweep's batch size: keyset pagination does not depend on it
            self._step(result.run_id, batch_size, predicates, table, operation, result, progress)

    def finish(self, result: SweepResult) -> bool:
        """Close the run: its totals from the journal, audited, and the log's head checkpointed. False
        (nothing recorded) when the run is closed already: the parts of a split sweep may reach its end
        twice (a done part's job retried while the last part's worker is slowed), it closes once."""
        def finishing(conn: sa.Connection) -> bool:
            if not journal.lock_open_run(conn, result.run_id):
                return False
            result.affected = journal.run_totals(conn, result.run_id)  # set again by each attempt
            audit.record(conn, "retention.run.finished", result.to_data(), actor=self.actor)
            journal.finish_run(conn, result.run_id, result.to_data())
            if self.keyed:
                journal.seal_keys(conn, result.run_id, self.keyed, identifier_data_key(conn))
            return True

        if not retried(self.store, finishing, what=f"retention run {result.run_id}: its end"):
            return False
        audit.checkpoint_after_job(self.store)  # the log's head after a destructive job, outside the store
        return True

    def _step(self, run_id: str, batch_size: int, predicates: Predicates, table: TablePolicy,
              operation: Operation, result: SweepResult, progress: Progress | None) -> None:
        ref = table.ref
        with self.store.connect() as conn:
            last = journal.last_batch(conn, run_id, ref.database, ref.table, operation)
        columns = [c.column.name for c in table.maskable()] if operation == "mask" else []
        with self.engines[ref.database].connect() as business, deferred_checkpoints(business):
            if last is not None and last.status == "pending":
                with business.begin():
                    affected = self._apply(business, last.id, last.keys,
                                           journal.keys_json(last.keys) if last.keys else "",
                                           predicates, table, operation, last.span)
                self._done(last.id, affected)
                self._count(result, progress, table, operation, affected)
            seq = 0 if last is None else last.seq
            after = None if last is None else last.last_key
            by_pages = None if last is None else last.span is not None and last.span.blocks
            batches = Batches(business, predicates, table, operation, batch_size, self.store, by_pages)
            due = due_sql(business, predicates, table, operation) if batches.ranges else None
            applied: tuple[int, int] | None = None  # the batch committed but not yet marked done
            try:
                while True:
                    with business.begin():  # the business commit comes after the journal's
                        taken = batches.take(after)
                        if taken is None:
                            return
                        after = taken.after
                        if not taken.count:
                            continue
                        seq += 1
                        encoded = journal.keys_json(taken.keys) if taken.keys else ""
                        batch_id = self._journal(run_id, seq, table, operation, columns, taken, encoded,
                                                 due, applied)
                        applied = None
                        affected = taken.count if batches.one_statement else self._apply(
                            business, batch_id, taken.keys, encoded, predicates, table, operation)
                    applied = (batch_id, affected)
                    self._count(result, progress, table, operation, affected)
            except sa.exc.IntegrityError as exc:
                raise refused(table, operation, exc) from None
            finally:
                if applied is not None:
                    self._done(*applied)

    def _journal(self, run_id: str, seq: int, table: TablePolicy, operation: Operation, columns: list[str],
                 taken: Taken, encoded: str, due: str | None, applied: tuple[int, int] | None) -> int:
        """One store commit: the previous batch done, this one journalled and audited."""
        ref = table.ref
        entry: dict[str, Any] = {"table": str(ref), "operation": operation, "columns": columns,
                                 "count": taken.count}
        if table.table.archive is not None and operation == "archive":
            entry["archive_table"] = f"{ref.database}.{table.table.archive.table}"
        elif table.table.archive_of is not None:
            entry["archive_of"] = f"{ref.database}.{table.table.archive_of}"
        if taken.span is not None:
            entry.update({**taken.span.to_data(), "due_rows": due})
        elif taken.keys:
            entry.update({"first_key": taken.keys[0], "last_key": taken.keys[-1],
                          "keys_sha256": hashlib.sha256(encoded.encode()).hexdigest()})

        def journalling(conn: sa.Connection) -> int:
            if applied is not None:
                journal.batch_done(conn, *applied)
            batch_id = journal.log_batch(conn, run_id, seq, ref.database, ref.table, operation, taken.keys,
                                         encoded or None, span=taken.span, count=taken.count)
            audited = entry
            if "first_key" in entry and str(ref) in self.keyed:  # an address as key: never in clear
                data_key = identifier_data_key(conn)
                audited = {**entry, **{name: journal.sealed_key(str(ref), entry[name], data_key)
                                       for name in ("first_key", "last_key")}}
                # nor by a plain hash, which a reader of the log recomputes from guessed addresses for
                # a batch of one or a few (red team of 2026-12-08): keyed as the keys are
                del audited["keys_sha256"]
                audited["keys_hmac_sha256"] = hmac.new(data_key, encoded.encode(), hashlib.sha256).hexdigest()
            audit.record(conn, "retention.batch", {"run": run_id, "batch": batch_id, **audited},
                         actor=self.actor)
            return batch_id

        return retried(self.store, journalling, what=f"retention run {run_id}: a batch of {ref}")

    def _done(self, batch_id: int, affected: int) -> None:
        """The batch committed in its business database marked done in the journal."""
        retried(self.store, lambda conn: journal.batch_done(conn, batch_id, affected),
                what=f"retention batch {batch_id}: done")

    @staticmethod
    def _count(result: SweepResult, progress: Progress | None, table: TablePolicy, operation: str,
               affected: int) -> None:
        result.batches += 1
        if progress is not None:
            progress(str(table.ref), operation, affected)

    def _apply(self, business: sa.Connection, batch_id: int, keys: list[Any] | None, encoded: str,
               predicates: Predicates, table: TablePolicy, operation: Operation,
               span: journal.Span | None = None) -> int:
        try:
            return apply_batch(business, predicates, table, operation, keys, encoded, span)
        except sa.exc.IntegrityError as exc:
            raise refused(table, operation, exc, batch_id) from None


def check_batch_size(batch_size: int) -> None:
    """Refuse a batch size below 1: a step taking batches of 0 rows would end at once, nothing swept, and
    the run would close as done (a sweep part's size comes from its job's arguments, a queue row)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise GardeError(f"batch size {batch_size!r}: it must be a whole number of rows, at least 1")


def not_after_today(today: date | None) -> None:
    """Refuse to sweep as of a day after the current one (only a dry run looks ahead)."""
    if today is not None and today > date.today():
        raise GardeError(f"a sweep as of {today.isoformat()} is after today "
                         f"({date.today().isoformat()}): it would delete what the register still keeps; "
                         "look ahead with `retention plan --today` or `retention sweep --dry-run`")


def due_sql(business: sa.Connection, predicates: Predicates, table: TablePolicy, operation: Operation) -> str:
    """The query of a step's due rows, with its values written in (the run's day, the held keys):
    with a batch's key range, it says exactly which rows the batch treated, and can be run again."""
    t = sql_table(table.table)
    query = sa.select(t.c[table.table.primary_key]).where(step_predicate(predicates, table, operation, t))
    try:
        return str(query.compile(dialect=business.dialect, compile_kwargs={"literal_binds": True}))
    except (sa.exc.CompileError, NotImplementedError):  # a value without a literal form: its parameters
        compiled = query.compile(dialect=business.dialect)
        return f"{compiled} -- {json.dumps(compiled.params, default=str, sort_keys=True)}"


def refused(table: TablePolicy, operation: str, exc: sa.exc.IntegrityError,
            batch: int | None = None) -> GardeError:
    """The database refused a batch: the plan refuses the NOT NULL columns it knows of, but another
    constraint may still refuse; the business transaction was rolled back."""
    state = (f"batch {batch} was not applied and stays pending" if batch is not None else
             "the batch was neither applied nor journalled")
    said = database_refusal(exc)  # never the row PostgreSQL quotes in its DETAIL
    if operation == "archive":
        return GardeError(f"{table.ref}: archive refused by the database ({said}); {state}: the archive "
                          "table must have every column of the live table and no row with the same key; "
                          "fix it, then run the sweep again to resume")
    return GardeError(f"{table.ref}: {operation} refused by the database ({said}); {state}: give the "
                      "column an `erase` strategy the column accepts (hash, fixed), then run the sweep again "
                      "to resume")


__all__ = ["BATCH_SIZE", "OPERATIONS", "Progress", "SweepResult", "SweepRunning", "Sweeper", "steps"]
