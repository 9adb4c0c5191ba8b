"""Rows due for review: what a rule whose action is ``review`` hands to a person.

A register may say that when a period ends someone decides what follows
(keep, archive, delete) rather than the engine. The sweep never applies such
a rule (:mod:`.policy` blocks the columns it governs); the plan counts, per
table and rule, the rows whose period has ended today, with the predicate
the sweep would use (:meth:`Predicates.rule_due`), minus what legal holds keep.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from garde.datasets import TableRef, sql_table
from garde.retention.policy import RetentionPolicy
from garde.retention.predicate import Predicates


def due_for_review(policy: RetentionPolicy, connections: Mapping[str, sa.Connection], today: date,
                   held_keys: Mapping[TableRef, Collection[Any]]) -> list[dict[str, Any]]:
    """Per table and review rule: the columns it governs and the rows due for review today."""
    out: list[dict[str, Any]] = []
    for table in policy:
        rules: dict[tuple[str, str], list[str]] = {}
        periods = {}
        for column in table.columns.values():
            for governing in column.review:
                key = (governing.activity, governing.rule.summary())
                rules.setdefault(key, []).append(column.column.name)
                periods[key] = governing.period
        if not rules:
            continue
        conn = connections[table.ref.database]
        predicates = Predicates(policy, today, conn.dialect.name, held_keys)
        t = sql_table(table.table)
        for (activity, rule), columns in rules.items():
            due = 0
            if not table.held_by:
                query = sa.select(sa.func.count()).select_from(t).where(
                    predicates.rule_due(periods[(activity, rule)], table.table, t),
                    predicates.not_held(table.table, t))
                due = int(conn.execute(query).scalar_one())
            out.append({"table": str(table.ref), "activity": activity, "rule": rule, "columns": columns,
                        "due_for_review": due})
    return out
