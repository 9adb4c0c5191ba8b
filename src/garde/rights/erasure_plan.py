"""Deciding, field by field, what an erasure removes and what it must keep (GDPR Art. 17).

For each column of each of the subject's rows: the column's activities give
their legal bases and retention rules. A column is KEPT while an activity
based on a legal obligation still needs it (its retention period, counted
from the row's own trigger date, has not run out: invoices ``10 years after
invoice_date``), or while an active legal hold covers the subject, the
table or one of its activities (Art. 17(3)(b) and (e)). Everything else is
erased by the column's masking strategy. A column held only as a processor
(:mod:`garde.rights.held_as_processor`) is kept: it is erased on its
controller's instruction (Art. 28(3)(a), 29; :mod:`garde.rights.forwarding`),
then that instruction's columns alone, and the subject's report says
nothing of it.

A row is deleted only when every erased column of it says ``delete``, none
is kept, and no row that stays points at it (a kept invoice keeps its order
and customer rows, masked, so foreign keys hold). Reads are one query per
table per chunk of keys; decisions are plain data for the plan and report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine

from garde.datasets import ColumnMap, Footprint, Masking, TableMap, TableRef, normalise_identity
from garde.datasets.live import reflect_table
from garde.datasets.sql import chunks, select_in
from garde.legal_holds import LegalHold
from garde.problems import GardeError
from garde.register import Activity
from garde.rights.deployment import Deployment
from garde.rights.held_as_processor import held_for, wholly_held
from garde.rights.shared import Shared, SharedRow, for_subject

#: Why a column held as a processor stays (the report leaves such fields out: they are not the
#: organisation's to report on).
HELD_AS_PROCESSOR = "held as a processor for "


@dataclass
class TableErasure:
    """The decisions for the subject's rows of one table."""

    table: TableMap
    deleted: list[Any] = field(default_factory=list)
    # rows that stay: key -> {column: None (erased) | reason (kept)}
    staying: dict[Any, dict[str, str | None]] = field(default_factory=dict)
    kept_for: dict[Any, str] = field(default_factory=dict)  # why a whole row stays
    maskings: dict[str, Masking] = field(default_factory=dict)  # per column, for rows that stay
    shared: dict[Any, SharedRow] = field(default_factory=dict)  # another person's rows (they stay)

    def updates(self, shared: bool | None = None) -> dict[tuple[str, ...], list[Any]]:
        """Staying rows grouped by the columns to mask: one UPDATE per group (``shared``: only the
        shared rows, or only the others)."""
        groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
        for key, columns in self.staying.items():
            if shared is not None and (key in self.shared) != shared:
                continue
            erased = tuple(sorted(c for c, reason in columns.items() if reason is None))
            if erased:
                groups[erased].append(key)
        return dict(groups)


@dataclass(frozen=True)
class Unlink:
    """``column`` of the rows ``keys`` of ``table`` set to NULL: a link to or from the erased subject.

    ``targets``: the subject's values the column may hold (the update touches
    only rows still pointing at them); None for the subject's own rows.
    """

    table: TableMap
    column: str
    keys: list[Any]
    targets: list[Any] | None


@dataclass
class ErasurePlan:
    subject_id: str | None
    today: date
    tables: dict[TableRef, TableErasure]
    unlinks: list[Unlink] = field(default_factory=list)
    apart: set[TableRef] = field(default_factory=set)  # tables held as a processor as a whole
    instructed_by: str | None = None  # the controller whose instruction this erasure follows

    def report(self) -> dict[str, Any]:
        """Field by field: what is erased (and how), what is kept and why: the subject's report.

        The subject's own rows by table and key; another person's rows (a shared row, a row pointing at
        the subject) counted per table and column, never named by key: a key may be that person's data
        (their contact's number, an address keying a table). Staff's list is :meth:`shared_rows`."""
        erased: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        theirs: Counter[tuple[str, str, str, str]] = Counter()  # (section, table, column, action or reason)
        for ref, decision in self.tables.items():
            if ref in self.apart and not decision.deleted and not any(
                    reason is None for fields in decision.staying.values() for reason in fields.values()):
                continue  # kept whole, held for another controller: not the subject's report's
            columns = decision.table.columns
            for key in decision.deleted:
                erased.append({"table": str(ref), "key": key, "columns": sorted(columns), "action": "delete"})
            for key, fields in decision.staying.items():
                for column, reason in sorted(fields.items()):
                    if reason is not None and reason.startswith(HELD_AS_PROCESSOR):
                        continue
                    if key in decision.shared:
                        theirs["kept" if reason else "erased", str(ref), column,
                               reason or decision.maskings[column].strategy] += 1
                    elif reason is None:
                        erased.append({"table": str(ref), "key": key, "column": column,
                                       "action": decision.maskings[column].strategy})
                    else:
                        kept.append({"table": str(ref), "key": key, "column": column, "reason": reason})
                if key in decision.kept_for and key not in decision.shared:
                    kept.append({"table": str(ref), "key": key, "column": decision.table.primary_key,
                                 "reason": decision.kept_for[key]})
        for (section, table, column, word), rows in sorted(theirs.items()):
            entry = {"table": table, "rows": rows, "column": column, "shared": True}
            (erased if section == "erased" else kept).append(
                {**entry, "action": word} if section == "erased" else {**entry, "reason": word})
        unlinked = [{"table": str(u.table.ref), "key": key, "column": u.column,
                     "reason": "the subject's link to another person"}
                    for u in self.unlinks if u.targets is None for key in u.keys]
        unlinked += [{"table": str(u.table.ref), "column": u.column, "rows": len(u.keys),
                      "reason": "another person's row pointing at the subject: only the link is removed"}
                     for u in self.unlinks if u.targets is not None]
        return {"erased": erased, "kept": kept, "unlinked": unlinked,
                "shared": for_subject(row.to_data() for row in self.shared_rows())}

    def shared_rows(self) -> list[SharedRow]:
        """Another person's rows among the subject's (garde.rights.shared), for staff, by table and key."""
        return [row for decision in self.tables.values()
                for row in sorted(decision.shared.values(), key=lambda r: str(r.key))]


#: The value of a NOT NULL text column of a row that stays: ``erased:<database>.<table>:<key>``.
#: Not derived from the erased value (a SHA-256 of an e-mail is still personal data: anyone
#: holding the e-mail can compute it), and distinct per row and table, so a unique constraint
#: holds and discovery never links two erased rows through a shared value.
ROW_PLACEHOLDER = Masking("anonymise", value="erased:{table}:{key}")


def staying_masking(engine: Engine, table: TableMap, column: ColumnMap) -> Masking:
    """How a column of a row that stays is erased.

    A ``delete`` column is nulled instead; a text column that cannot be NULL
    gets :data:`ROW_PLACEHOLDER` (reported as ``anonymise``). A NOT NULL
    column of another type has no neutral value: the plan stops, before
    anything changes, and asks for a declared strategy.
    """
    masking = Masking("null") if column.erase.strategy == "delete" else column.erase
    if masking.strategy != "null":
        return masking
    facts = (reflect_table(engine, table.name) or {}).get(column.name)
    if facts is None or facts.nullable:
        return masking
    if not facts.text:
        raise GardeError(f"{table.database}.{table.name}.{column.name} is NOT NULL and not text: a row "
                         "that stays cannot have it nulled; make the column nullable or declare its "
                         "erase strategy (fixed with a value, hash)")
    return ROW_PLACEHOLDER


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _held_identity(scope: str, identities: dict[str, set[str]]) -> bool:
    kind, _, value = scope.partition(":")
    try:
        return normalise_identity(kind, value) in identities.get(kind, set())
    except GardeError:  # a malformed identity in an old hold covers nobody
        return False


class _Rules:
    """Why a column must be kept, from the register and the legal holds."""

    def __init__(self, deployment: Deployment, holds: list[LegalHold], identities: dict[str, set[str]],
                 today: date, instructed: str | None = None) -> None:
        self.deployment = deployment
        self.today = today
        self.instructed = instructed  # the controller whose instruction the erasure follows
        # A subject hold names one identity (`email:alice@example.com`): it covers the subject
        # when discovery met that identity anywhere in the datasets.
        self.subject_hold = next((h for h in holds if h.scope_kind == "subject"
                                  and _held_identity(h.scope, identities)), None)
        self.table_holds = {h.scope: h for h in holds if h.scope_kind == "table"}
        self.activity_holds = {h.scope: h for h in holds if h.scope_kind == "activity"}

    def obligations(self, table: TableMap, column: ColumnMap) -> list[Activity]:
        found = []
        for activity_id in column.activities:
            activity = self.deployment.activity(table.database, activity_id)
            if activity is not None and "legal_obligation" in activity.bases():
                found.append(activity)
        return found

    def reason(self, table: TableMap, column: ColumnMap, row: dict[str, Any],
               held: tuple[str, ...] | None = None) -> str | None:
        """Why this column of this row is kept, or None when it is erased; ``held``: the controllers
        the column is held for as a processor (None: the organisation's own)."""
        if self.instructed is None:
            if held:
                return f"{HELD_AS_PROCESSOR}{', '.join(held)}: erased on its instruction"
        elif held != (self.instructed,):
            # The instructing controller's data alone: not the organisation's own, nor a column held
            # for several controllers (one of them does not decide for the others).
            return ("not held for " + self.instructed if not held
                    else f"{HELD_AS_PROCESSOR}{', '.join(held)}: one controller's instruction does not "
                         "erase it")
        if self.subject_hold:
            return f"legal hold on the subject: {self.subject_hold.reason}"
        # a hold on a table keeps its archived rows too (the same records), as the retention sweep does
        for name in (table.name, table.archive_of):
            hold = self.table_holds.get(f"{table.database}.{name}") if name else None
            if hold:
                return f"legal hold on {table.database}.{name}: {hold.reason}"
        for activity_id in column.activities:
            if activity_id in self.activity_holds:
                return f"legal hold on activity {activity_id}: {self.activity_holds[activity_id].reason}"
        for activity in self.obligations(table, column):
            reason = self.obligation_reason(table, column, activity, row)
            if reason:
                return reason
        return None

    def obligation_reason(self, table: TableMap, column: ColumnMap, activity: Activity,
                          row: dict[str, Any]) -> str | None:
        vocabulary = self.deployment.vocabulary
        rules = [r for r in activity.retention
                 if not r.categories or any(vocabulary.covers(c, column.category) for c in r.categories)]
        basis = f"legal obligation (activity {activity.id})"
        if not rules:
            return f"{basis}; the register states no retention period, so it is kept"
        for stated in rules:
            if stated.rule is None or stated.condition is not None:
                return f"{basis}: '{stated.summary()}' is in words garde cannot evaluate, so it is kept"
            # an archived rule's obligation lasts until the archive's end (Art. 17(3)(b)), live or archived
            final = stated.final
            if final is None:
                return f"{basis}: '{stated.rule}' then archived, the archive's end not stated, so it is kept"
            if final.indefinite:
                return f"{basis}: '{final}'; the register keeps it without limit, so it is kept"
            event = final.event
            timestamp = table.timestamp(event)
            if timestamp is None:
                return f"{basis}: '{final}'; {table.name} records no {event} date, so it is kept"
            started = _day(row.get(timestamp))
            if final.period is None:
                if started is None:
                    return f"{basis}: '{final}'; {event} has not happened yet"
                continue
            if started is None:
                return f"{basis}: '{final}'; the row has no {event} date, so it is kept"
            until = final.period.after(started)
            if until > self.today:
                return f"{basis}: '{final}', kept until {until.isoformat()}"
        return None


def deletion_order(deployment: Deployment) -> list[TableRef]:
    """The data map's tables, children first (:meth:`DataMap.deletion_order`), walked once per
    deployment: an erasure's plan and its steps follow it."""
    return deployment.cached("deletion_order", deployment.datamap.deletion_order)


def plan_erasure(deployment: Deployment, footprint: Footprint, holds: list[LegalHold],
                 subject_id: str | None, today: date, *, instructed: str | None = None,
                 shared: Shared | None = None) -> ErasurePlan:
    """Every decision of an erasure, before anything is changed; ``instructed``: the erasure a client
    controller instructs of the data held for it (:func:`garde.rights.forwarding.instruct_erasure`);
    ``shared``: the rows that are another person's (:func:`garde.rights.shared.shared_rows`), of which
    the requester's identity columns alone are erased."""
    rules = _Rules(deployment, holds, footprint.identities, today, instructed)
    datamap = deployment.datamap
    forced: dict[TableRef, dict[Any, str]] = defaultdict(dict)  # parents that kept children point at
    plan = ErasurePlan(subject_id, today, {}, instructed_by=instructed)
    for ref in deletion_order(deployment):  # children first: their staying rows pin their parents
        keys = footprint.primary_keys(*ref)
        if not keys:
            continue
        table = datamap.table(ref)
        held = held_for(deployment, table)
        if held and wholly_held(deployment, table):
            plan.apart.add(ref)
        engine = deployment.engines[ref.database]
        decision = TableErasure(table, maskings={name: staying_masking(engine, table, column)
                                                 for name, column in table.columns.items()})
        names = [table.primary_key, *table.references, *table.timestamps.values()]
        # a table keyed by an identity (a list keyed by e-mail address): a row is never named by its
        # key in a reason, which the audit log keeps for ever (red team of 2026-12-08; its report's
        # keys are sealed: garde.rights.erasure.identity_keyed)
        named_by_identity = table.primary_key in table.identities.values()
        mixed = (shared or {}).get(ref, {})
        for row in footprint.rows(deployment.engines, ref, names):
            key = row[table.primary_key]
            theirs = mixed.get(key)
            # A shared row (garde.rights.shared): the requester's identity columns alone, by their own
            # rules; the row and its other columns are another person's and stay untouched.
            fields = {name: rules.reason(table, column, row, held.get(name))
                      for name, column in table.columns.items() if theirs is None or name in theirs.matched}
            kept = any(reason is not None for reason in fields.values())
            erased = [table.columns[c] for c, reason in fields.items() if reason is None]
            deletable = theirs is None and not kept and key not in forced[ref] and any(
                c.erase.strategy == "delete" for c in erased)
            if theirs is not None:
                decision.shared[key] = theirs
            if deletable:
                decision.deleted.append(key)
                continue
            decision.staying[key] = fields
            if key in forced[ref]:
                decision.kept_for[key] = forced[ref][key]
            for column, reference in table.references.items():
                if row.get(column) is not None and reference.cascades:
                    parent = TableRef(table.database, reference.target)
                    why = f"row kept: {ref} row {key} that stays points at it"
                    if named_by_identity:  # its key is an address: the reason goes to the audit log
                        why = f"row kept: a row of {ref} that stays points at it"
                    if theirs is not None:  # another person's row: never named in the subject's report
                        why = f"row kept: a row of {ref} that is another person's points at it"
                    if ref in plan.apart:  # which of the client's records: not the subject's report's
                        clients = ", ".join(sorted({c for names in held.values() for c in names}))
                        why = f"row kept: data held as a processor for {clients} points at it"
                    forced[parent].setdefault(row[column], why)
        plan.tables[ref] = decision
    plan.unlinks = _unlinks(deployment, footprint, plan)
    return plan


def _unlinks(deployment: Deployment, footprint: Footprint, plan: ErasurePlan) -> list[Unlink]:
    """The ``on_erase: nullify`` links to the subject's rows, and from the subject's staying rows.

    Another person's row that points at the subject (a customer they
    referred) stays, with only the link set to NULL; so does the subject's
    own link to another person (who referred them) on a row that stays.
    """
    out: list[Unlink] = []
    datamap = deployment.datamap
    for ref, decision in plan.tables.items():
        table = decision.table
        if ref in plan.apart and plan.instructed_by is None:
            continue  # a link of data held for another controller changes on its instruction only
        deleted, theirs = set(decision.deleted), decision.shared  # a shared row's links are not ours
        for column, reference in table.references.items():
            if reference.cascades:
                continue
            rows = footprint.rows(deployment.engines, ref, [column])
            own = [row[table.primary_key] for row in rows if row[column] is not None
                   and row[table.primary_key] not in deleted and row[table.primary_key] not in theirs]
            if own:
                out.append(Unlink(table, column, sorted(own, key=str), None))
        nullified = deployment.cached(("nullified_by", ref), partial(datamap.nullified_by, table))
        for child, reference in nullified:
            if plan.instructed_by is None and child.columns and wholly_held(deployment, child):
                continue
            targets = sorted({row[reference.target_column] for row in footprint.rows(
                deployment.engines, ref, [reference.target_column])
                if row[table.primary_key] not in theirs} - {None}, key=str)
            gone = set(plan.tables[child.ref].deleted) if child.ref in plan.tables else set()
            query = select_in(child.name, (child.primary_key,), (reference.column,))
            keys: set[Any] = set()
            with deployment.engines[ref.database].connect() as conn:
                for batch in chunks(targets):
                    keys.update(conn.execute(query, {"v0": list(batch)}).scalars())
            others = sorted(keys - gone, key=str)
            if others:
                out.append(Unlink(child, reference.column, others, targets))
    return out
