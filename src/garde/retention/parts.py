"""A sweep split into parts that several workers run at once, with the same end state as one sweep.

Tables linked by a reference (a foreign key the data map declares), and a table and its archive,
form one part: a due predicate looks only along references (a parent's date, children that still
point at a row), and deletes go children first, so the steps of one part must keep their order,
while steps of different parts never read or write each other's rows. Each part runs its steps in
the sweep's order (:func:`garde.retention.sweep.steps`) under the run's journal, which it resumes
like any sweep; the part that ends last closes the run.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from garde.datasets import DataMap, TableRef
from garde.retention.journal import retention_batches, retention_runs


def independent_parts(datamap: DataMap, tables: list[TableRef]) -> list[list[str]]:
    """``tables`` (the sweep's, in step order) grouped into parts no reference links, each part's
    tables as ``database.table`` in step order, the parts by their first step."""
    root: dict[TableRef, TableRef] = {}

    def find(ref: TableRef) -> TableRef:
        while root.setdefault(ref, ref) != ref:
            ref = root[ref]
        return ref

    def link(a: TableRef, b: TableRef) -> None:
        root[find(a)] = find(b)

    for table in datamap:
        find(table.ref)
        for child, _ in datamap.referencing(table):
            link(child.ref, table.ref)
        if table.archive_of is not None:
            link(table.ref, TableRef(table.ref.database, table.archive_of))
    parts: dict[TableRef, list[str]] = {}
    for ref in tables:
        names = parts.setdefault(find(ref), [])
        if str(ref) not in names:
            names.append(str(ref))
    return list(parts.values())


def plan_parts(conn: sa.Connection, run_id: str, parts: list[list[str]]) -> None:
    """Record the run's parts (a coordinator run again keeps the parts already done)."""
    state = _state(conn, run_id)
    state["parts"] = sorted({*state.get("parts", []), *(part[0] for part in parts)})
    state.setdefault("done", [])
    _save(conn, run_id, state)


def part_done(conn: sa.Connection, run_id: str, part: str) -> bool:
    """Mark ``part`` done (the run's row locked: parts ending at once see each other); True when
    every part of the run is done and the run is still open: the caller closes it."""
    row = conn.execute(sa.select(retention_runs.c.status).where(retention_runs.c.id == run_id)
                       .with_for_update()).one()
    state = _state(conn, run_id)
    state["done"] = sorted({*state.get("done", []), part})
    _save(conn, run_id, state)
    return row.status == "running" and set(state.get("parts", [])) <= set(state["done"])


def _state(conn: sa.Connection, run_id: str) -> dict[str, Any]:
    summary = conn.execute(sa.select(retention_runs.c.summary).where(retention_runs.c.id == run_id)).scalar()
    state: dict[str, Any] = json.loads(summary) if summary else {}
    return state


def _save(conn: sa.Connection, run_id: str, state: dict[str, Any]) -> None:
    conn.execute(retention_runs.update().where(retention_runs.c.id == run_id)
                 .values(summary=json.dumps(state, sort_keys=True)))


def run_batches(conn: sa.Connection, run_id: str) -> int:
    """The batches the run journalled, all parts together."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(retention_batches)
                            .where(retention_batches.c.run_id == run_id)).scalar_one())
