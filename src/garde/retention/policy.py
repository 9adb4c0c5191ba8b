"""Which retention rules govern each annotated column, and what happens when they expire.

A column is used by the activities its annotation lists. For each of them,
the rules of that activity that apply to the column's category (a rule with
``categories`` applies to those categories and their sub-categories; one
without applies to every category of the activity) and whose event has a
date on the table (or on a table it references) govern it.

Several rules of *one* activity are alternative limits: by default the
activity stops needing the data at the first one reached ("until
consent_withdrawn" and "3 years after last_contact": until unsubscription, at
most three years after the last contact). An activity whose register says
``retention_combination: latest_of`` needs it until the last one is reached:
each of its rules is then a limit of its own, and one that cannot be
evaluated (no date on the table, a criterion or a condition in words, no
limit) keeps the data. A range is due at its upper bound, which is its
``period``. Across activities the longest still applies: data shared
by several activities stays until every one of them has stopped needing it,
and once the shorter ones expire it is kept only for the remaining
activities. So a column is due when, for *every* activity using it, at
least *one* of that activity's rules has expired (:meth:`ColumnPolicy.limits`).

A column is never due, and the plan says why, when one of its activities has
no rule for its category ("no rule"), none with a date on the table, only
rules in words ("not executable: criterion in words", "... condition in
words": the sweep never guesses them), a rule that says ``review`` (a person
decides: the plan lists it as due for review), or an activity-scope legal
hold. Under "first reached" a rule in words beside rules the sweep evaluates
does not block: the data goes at the first of those, which is reached
whatever the words say; the plan lists it.

A rule that says ``archive`` has two limits (:mod:`garde.retention.archive`):
the rule itself, when the row moves to the table's intermediate archive, and
the archive's end (``archive.until``), when it is deleted; the archive table
is governed by the second. Its column is never due when the data map names
no archive for the table or the register gives the archive no end.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from garde.datasets import ColumnMap, DataMap, Reference, TableMap, TableRef
from garde.problems import GardeError
from garde.register import Register, load_register
from garde.register.model import RetentionRule
from garde.retention.columns import PLACEHOLDER, Facts, fit
from garde.retention_rule import Combination, RetentionPeriod

Action = Literal["delete", "anonymise", "archive"]
#: One activity's alternative limits on a column: the activity is done with it once one has expired.
Limit = tuple[RetentionPeriod, ...]


def applies(rule: RetentionRule, category: str) -> bool:
    """Whether ``rule`` governs data of ``category`` (rules without categories govern all)."""
    return rule.covers(category)


@dataclass(frozen=True)
class Governing:
    """One activity's rule over a column: that activity needs the column until it expires (or until
    another of its rules over the column expires first)."""

    activity: str
    rule: RetentionRule
    combination: Combination = "first_reached"

    @property
    def period(self) -> RetentionPeriod:
        """When it is due (only rules with a period govern; rules in words are listed apart)."""
        if self.rule.rule is None:
            raise GardeError(f"{self.activity}: '{self.rule.summary()}' has no period to evaluate")
        return self.rule.rule

    def __str__(self) -> str:
        return f"{self.activity}: {self.rule.summary()} ({self.rule.action})"

    @property
    def final(self) -> RetentionPeriod:
        """When the activity is done with the data for good: the archive's end for an archiving rule
        (:func:`column_policy` keeps only archiving rules that state one), else the rule."""
        return self.rule.final or self.period


@dataclass(frozen=True)
class ColumnPolicy:
    """The rules governing one column; ``blocked`` says why it is never due, if it is not.

    ``undated`` are rules of its activities that match its category but whose
    event has no date on the table: they cannot be evaluated, so the
    activity's other rules decide alone (an activity with no dated rule
    blocks the column). ``placeholder`` and ``refused`` say how a NOT NULL
    column is masked, or why it is not (:mod:`garde.retention.columns`).
    """

    column: ColumnMap
    governing: tuple[Governing, ...] = ()
    blocked: tuple[str, ...] = ()
    undated: tuple[Governing, ...] = ()
    in_words: tuple[Governing, ...] = ()
    review: tuple[Governing, ...] = ()
    placeholder: bool = False
    refused: str | None = None

    @property
    def sweepable(self) -> bool:
        return not self.blocked and bool(self.governing)

    @property
    def maskable(self) -> bool:
        """Sweepable, and its masked value fits the column (rows that go are deleted all the same); an
        archived column is never masked: the archive keeps it whole."""
        return self.sweepable and self.refused is None and self.action != "archive"

    def limits(self) -> tuple[Limit, ...]:
        """Per activity, its alternative limits: the column is due when each has one expired (an
        archiving rule's limit is the archive's end: then the data goes for good).

        An activity whose rules combine as "latest of" gives one limit per rule:
        all of them must have expired.
        """
        return self._limits(lambda g: g.final)

    def archive_limits(self) -> tuple[Limit, ...]:
        """Like :meth:`limits`, archiving rules at the rule itself: when the data leaves the live table."""
        return self._limits(lambda g: g.period)

    def _limits(self, period: Callable[[Governing], RetentionPeriod]) -> tuple[Limit, ...]:
        by_activity: dict[str, list[RetentionPeriod]] = {}
        latest: list[Limit] = []
        for g in self.governing:
            if g.combination == "latest_of":
                latest.append((period(g),))
            else:
                by_activity.setdefault(g.activity, []).append(period(g))
        return minimal_limits([*by_activity.values(), *latest])

    @property
    def action(self) -> Action:
        """``delete`` when every governing rule deletes, ``archive`` when they delete or archive, else
        ``anonymise`` (keep what is not identifying)."""
        actions = {g.rule.action for g in self.governing}
        return "delete" if actions <= {"delete"} else "archive" if actions <= {"delete", "archive"} \
            else "anonymise"

    def to_data(self) -> dict[str, object]:
        return {"column": self.column.name, "category": self.column.category,
                "rules": [{"activity": g.activity, "rule": g.rule.summary(), "action": g.rule.action,
                           "combination": g.combination,
                           **({"archive_until": str(g.final)} if g.rule.action == "archive" else {})}
                          for g in self.governing],
                "due_when": [" or ".join(map(str, limit)) for limit in self.limits()],
                **({"archived_when": [" or ".join(map(str, limit)) for limit in self.archive_limits()]}
                   if self.action == "archive" else {}),
                "undated_rules": [str(g) for g in self.undated],
                "not_executable_rules": [f"{g}: not executable: {in_words(g.rule)}" for g in self.in_words],
                "review_rules": [str(g) for g in self.review],
                "action": self.action if self.sweepable else None, "kept_because": list(self.blocked),
                "mask": PLACEHOLDER if self.placeholder else self.column.erase.to_data(),
                "mask_refused": self.refused}


def minimal_limits(limits: Iterable[Iterable[RetentionPeriod]]) -> tuple[Limit, ...]:
    """The same conjunction of alternatives, without repeats: ``a`` makes ``a or b`` redundant.

    A row is due when every limit has an expired period; a limit whose
    periods include all of another's is met whenever that one is, so it is
    dropped. Sorted, so the same rules always give the same SQL.
    """
    sets = {frozenset(limit) for limit in limits}
    kept = [s for s in sets if not any(other < s for other in sets)]
    return tuple(sorted((tuple(sorted(s, key=str)) for s in kept), key=lambda limit: [str(p) for p in limit]))


@dataclass
class TablePolicy:
    """The policies of one table's columns, and the table-scope holds covering it."""

    table: TableMap
    columns: dict[str, ColumnPolicy]
    held_by: list[str] = field(default_factory=list)

    @property
    def ref(self) -> TableRef:
        return self.table.ref

    @property
    def deletes_rows(self) -> bool:
        """Whether rows go once every column is due: every column is swept, by ``delete`` or ``archive``
        (an archived row is deleted at the archive's end, from wherever it is then)."""
        return bool(self.columns) and all(c.sweepable and c.action in ("delete", "archive")
                                          for c in self.columns.values())

    @property
    def archives_rows(self) -> bool:
        """Whether due rows move to the table's archive: they go, and a rule of a column archives."""
        return self.table.archive is not None and self.deletes_rows and any(
            c.action == "archive" for c in self.columns.values())

    def archive_limits(self) -> tuple[Limit, ...]:
        """When a row leaves the live table for the archive: every column at its archiving limit."""
        return minimal_limits(limit for c in self.columns.values() for limit in c.archive_limits())

    def sweepable(self) -> list[ColumnPolicy]:
        return [c for c in self.columns.values() if c.sweepable]

    def maskable(self) -> list[ColumnPolicy]:
        """The columns a mask step writes."""
        return [c for c in self.columns.values() if c.maskable]

    def activities(self) -> list[str]:
        return sorted({a for c in self.columns.values() for a in c.column.activities})

    def row_limits(self) -> tuple[Limit, ...]:
        """The limits of every column together: the row is due when all its columns are."""
        return minimal_limits(limit for c in self.columns.values() for limit in c.limits())


@dataclass
class RetentionPolicy:
    """Every personal table's :class:`TablePolicy`, in the map's order."""

    datamap: DataMap
    tables: dict[TableRef, TablePolicy]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.tables.values())

    def table(self, ref: TableRef) -> TablePolicy:
        return self.tables[ref]

    def masks(self, table: TablePolicy) -> bool:
        """Whether a row of ``table`` can ever be masked rather than deleted.

        Not when every row that is due goes: the table deletes rows, no
        personal row (of another table or its own) can keep one, and all its
        columns fall due together (same limits). A sweep then skips the mask
        step, which could only scan the table to find nothing.
        """
        if not table.maskable():
            return False
        if not table.deletes_rows:
            return True
        if any(child.ref in self.tables for child, _ in self.datamap.referencing(table.table)):
            return True
        return len({c.limits() for c in table.columns.values()}) > 1


def registers_for(datamap: DataMap) -> dict[str, Register]:
    """The register each dataset names (``register:`` in its file), by database name."""
    out: dict[str, Register] = {}
    for name, dataset in datamap.datasets.items():
        if dataset.register is None:
            raise GardeError(f"dataset {name!r} names no register: its retention rules are unknown")
        out[name] = load_register(Path(dataset.file).parent / dataset.register)
    return out


def build_policy(datamap: DataMap, registers: Mapping[str, Register], *,
                 held_activities: Mapping[str, str] | None = None,
                 held_tables: Mapping[str, str] | None = None, facts: Facts | None = None) -> RetentionPolicy:
    """The policy of every table with annotated columns.

    ``held_activities`` and ``held_tables`` map an activity id or a
    ``database.table`` to the reason of the legal hold covering it;
    ``facts`` is what the databases say about nullability
    (:func:`garde.retention.columns.reflect`).
    """
    held_activities = held_activities or {}
    held_tables = held_tables or {}
    tables: dict[TableRef, TablePolicy] = {}
    for table in datamap:
        if not table.columns:
            continue
        register = registers[table.database]
        columns = {c.name: column_policy(datamap, table, c, register, held_activities)
                   for c in table.columns.values()}
        known = (facts or {}).get(table.ref, {})
        for name, policy in columns.items():
            placeholder, refused = fit(policy.column.erase, known.get(name))
            columns[name] = replace(policy, placeholder=placeholder, refused=refused)
        # a hold on a table keeps its archived rows too: they are the same records
        scopes = [str(table.ref)] + ([f"{table.database}.{table.archive_of}"] if table.archive_of else [])
        held = [f"legal hold: {held_tables[scope]}" for scope in scopes if scope in held_tables][:1]
        table_policy = TablePolicy(table, columns, held)
        if not table_policy.archives_rows:
            for name, column in columns.items():
                if column.sweepable and column.action == "archive":
                    columns[name] = replace(column, blocked=(
                        f"{table.ref}: archived with its row, but the row does not move: another column is "
                        "anonymised or kept",))
        tables[table.ref] = table_policy
    return RetentionPolicy(datamap, tables)


def in_words(rule: RetentionRule) -> str:
    """What the sweep cannot evaluate in a rule: its criterion or its condition in words."""
    return "criterion in words" if rule.rule is None else "condition in words"


def event_of(rule: RetentionRule) -> str:
    """The event a rule runs from ("" for a criterion in words)."""
    return rule.rule.event if rule.rule is not None else ""


def column_policy(datamap: DataMap, table: TableMap, column: ColumnMap, register: Register,
                  held_activities: Mapping[str, str]) -> ColumnPolicy:
    governing: list[Governing] = []
    undated: list[Governing] = []
    words: list[Governing] = []
    review: list[Governing] = []
    blocked: list[str] = []
    if not column.activities:
        blocked.append("no activity uses it")
    for activity_id in column.activities:
        activity = register.activity(activity_id)
        if activity is None:
            blocked.append(f"{activity_id}: not in the register")
            continue
        if activity_id in held_activities:
            blocked.append(f"{activity_id}: legal hold: {held_activities[activity_id]}")
        combination = activity.retention_combination
        stated = [r for r in activity.retention if applies(r, column.category)]
        if table.archive_of is not None:
            stated = [as_archived(r) for r in stated]
        # A rule kept "indefinitely" is never due: it is no limit, only the register's statement.
        # A criterion or a condition in words is no date the sweep can compute: never guessed.
        rules = [r for r in stated if r.executable]
        unlimited = [r for r in stated if r.rule is not None and r.rule.indefinite]
        worded = [r for r in stated if not r.executable and r not in unlimited]
        words += [Governing(activity_id, r, combination) for r in worded]
        if not stated:
            blocked.append(f"{activity_id}: no rule for {column.category}")
        elif not rules and worded:
            blocked += [f"{activity_id}: '{r.summary()}': not executable: {in_words(r)}" for r in worded]
        elif not rules:
            blocked.append(f"{activity_id}: '{stated[0].summary()}': the register keeps it without limit")
        dated = [r for r in rules if event_path(datamap, table, event_of(r)) is not None]
        undated += [Governing(activity_id, r, combination) for r in rules if r not in dated]
        if rules and not dated:
            blocked.append(f"{activity_id}: " + "; ".join(
                f"{r.rule}: no `{event_of(r)}` timestamp on {table.ref} nor on a table it references"
                for r in rules))
        elif combination == "latest_of" and dated and len(dated) < len(stated):
            # "latest of": the data stays while any rule may still keep it
            blocked.append(f"{activity_id}: kept until the latest of its rules, and "
                           + ", ".join(f"'{r.summary()}'" for r in stated if r not in dated)
                           + " cannot be evaluated here")
        for rule in dated:
            why = archive_problem(table, rule)
            if why is not None:
                blocked.append(f"{activity_id}: {rule.rule} then archive: {why}")
            if rule.action == "review":
                blocked.append(f"{activity_id}: {rule.rule} then review: due for review (a person decides; "
                               "never swept)")
                review.append(Governing(activity_id, rule, combination))
            governing.append(Governing(activity_id, rule, combination))
    return ColumnPolicy(column, tuple(governing), tuple(blocked), tuple(undated), tuple(words), tuple(review))


def archive_problem(table: TableMap, rule: RetentionRule) -> str | None:
    """Why an archiving rule cannot be applied to ``table`` (None when it can, or does not archive)."""
    if rule.action != "archive":
        return None
    if rule.final is None or rule.final.indefinite:
        return "the register gives the archive no end (`archive.until`), so nothing is archived (GL070)"
    if table.archive is None and table.archive_of is None:
        return (f"the data map names no archive for {table.ref} (`archive:` on the table), so its rows stay "
                "in the live table")
    return None


def as_archived(rule: RetentionRule) -> RetentionRule:
    """An archiving rule as it governs the archive table: delete at the archive's end."""
    if rule.action != "archive" or rule.final is None:
        return rule
    return rule.model_copy(update={"rule": rule.final, "action": "delete", "archive": None})


def holds_by_scope(holds: Collection[tuple[str, str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """``(activity -> reason, table -> reason)`` from ``(scope_kind, scope, reason)`` triples."""
    activities = {scope: reason for kind, scope, reason in holds if kind == "activity"}
    tables = {scope: reason for kind, scope, reason in holds if kind == "table"}
    return activities, tables


def event_path(datamap: DataMap, table: TableMap, event: str, depth: int = 3) -> tuple[Reference, ...] | None:
    """Where ``table``'s rows find the date of ``event``: () for their own column, else the
    references to follow to the nearest table that has it (an order's ``relationship_end`` is
    its customer's); None when no table within ``depth`` hops has it.
    """
    if table.timestamp(event) is not None:
        return ()
    if depth == 0:
        return None
    tables = datamap.datasets[table.database].tables
    for reference in table.references.values():
        parent = tables.get(reference.target)
        if parent is None or parent is table:
            continue
        rest = event_path(datamap, parent, event, depth - 1)
        if rest is not None:
            return (reference, *rest)
    return None
