"""Executing an erasure (GDPR Art. 17): plan first, then change, resumable and idempotent.

1. The plan (:mod:`garde.rights.erasure_plan`) is written to ``erasure_steps``
   with an audit entry, and the field-by-field report to ``erasure.json``,
   and committed BEFORE any business row changes.
2. Each database's steps run in one transaction there; then their steps are
   marked done, audited, in the store.
3. Re-running the request reuses the stored plan and runs only the steps not
   done. The statements themselves skip what is already erased (a masked
   value is not masked again, a deleted row is gone), so a crash between a
   database's commit and the store's leaves nothing done twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit
from garde.datasets import Footprint, Masking, TableMap, TableRef, masking_expression
from garde.datasets.sql import chunks, delete_statement, sql_table
from garde.legal_holds import active_holds
from garde.rights.deployment import Deployment, dumps
from garde.rights.erasure_plan import ErasurePlan, plan_erasure, staying_masking
from garde.rights.intake import Request
from garde.rights.tables import erasure_steps
from garde.subjects import now, set_state


def erase(store: Engine, request: Request, deployment: Deployment, footprint: Footprint | None, *,
          today: date | None = None, actor: str = "garde") -> dict[str, Any]:
    """Plan (unless a plan is stored), apply the pending steps, mark the subject erased."""
    folder = deployment.folder(request.id)
    report_path = folder / "erasure.json"
    with store.begin() as conn:
        planned = conn.execute(sa.select(sa.func.count()).select_from(erasure_steps)
                               .where(erasure_steps.c.request_id == request.id)).scalar_one()
        if not planned:
            assert footprint is not None
            plan = plan_erasure(deployment, footprint, active_holds(conn), request.subject_id,
                                today or now().date())
            report = {"request": request.id, "subject": request.subject_id, "date": plan.today.isoformat(),
                      **plan.report()}
            _store_plan(conn, request, plan, deployment, report, actor)
            report_path.write_text(dumps(report), encoding="utf-8")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    applied = _apply_pending(store, request, deployment, actor)
    with store.begin() as conn:
        if request.subject_id:
            set_state(conn, request.subject_id, "erased")
        audit.record(conn, "subject.erased", {"request": request.id, "erased": len(report["erased"]),
                                              "kept": len(report["kept"])},
                     subject_id=request.subject_id, actor=actor)
    report["status"] = "completed"
    report["statements"] = applied
    report_path.write_text(dumps(report), encoding="utf-8")
    return {"file": str(report_path), "erased": len(report["erased"]), "kept": len(report["kept"]),
            "kept_reasons": sorted({k["reason"] for k in report["kept"]})}


def _store_plan(conn: sa.Connection, request: Request, plan: ErasurePlan, deployment: Deployment,
                report: dict[str, Any], actor: str) -> None:
    at = now()
    rows: list[dict[str, Any]] = []
    order = {ref: i for i, ref in enumerate(deployment.datamap.deletion_order())}
    for ref in sorted(plan.tables, key=order.__getitem__):
        decision = plan.tables[ref]
        base = {"request_id": request.id, "dataset": ref.database, "table_name": ref.table,
                "status": "planned", "planned_at": at}
        for columns, keys in sorted(decision.updates().items()):
            rows.append({**base, "action": "mask", "columns": json.dumps(list(columns)),
                         "keys": json.dumps(sorted(keys, key=str), default=str)})
        if decision.deleted:
            rows.append({**base, "action": "delete", "columns": "[]",
                         "keys": json.dumps(sorted(decision.deleted, key=str), default=str)})
    if rows:
        conn.execute(erasure_steps.insert(), rows)
    audit.record(conn, "request.erasure_planned",
                 {"request": request.id, "steps": len(rows), "erased": len(report["erased"]),
                  "kept": [{k: v for k, v in item.items() if k != "key"} for item in report["kept"]][:200]},
                 subject_id=request.subject_id, actor=actor)


def _apply_pending(store: Engine, request: Request, deployment: Deployment, actor: str) -> int:
    with store.connect() as conn:
        steps = conn.execute(sa.select(erasure_steps).where(
            erasure_steps.c.request_id == request.id, erasure_steps.c.status == "planned")
            .order_by(erasure_steps.c.id)).all()
    by_database: dict[str, list[Any]] = defaultdict(list)
    for step in steps:
        by_database[step.dataset].append(step)
    statements = 0
    for database, pending in by_database.items():
        engine = deployment.engines[database]
        changed = 0
        with engine.begin() as conn:
            for step in pending:
                table = deployment.datamap.table(TableRef(database, step.table_name))
                keys = json.loads(step.keys)
                changed += _run_step(conn, table, step.action, json.loads(step.columns), keys)
                statements += 1
        with store.begin() as conn:
            conn.execute(erasure_steps.update().where(erasure_steps.c.id.in_([s.id for s in pending]))
                         .values(status="done", done_at=now()))
            audit.record(conn, "request.erasure_applied",
                         {"request": request.id, "database": database, "steps": len(pending),
                          "rows_changed": changed}, subject_id=request.subject_id, actor=actor)
    return statements


def _run_step(conn: sa.Connection, table: TableMap, action: str, columns: list[str], keys: list[Any]) -> int:
    changed = 0
    for batch in chunks(keys):
        if action == "delete":
            statement: sa.Executable = delete_statement(table, batch)
        else:
            maskings = {name: staying_masking(conn.engine, table, table.columns[name]) for name in columns}
            statement = masking_update(table, maskings, batch, conn.dialect.name)
        changed += max(conn.execute(statement).rowcount, 0)
    return changed


def _already_masked(masking: Masking, column: sa.ColumnElement[Any], target: sa.ColumnElement[Any],
                    dialect: str) -> sa.ColumnElement[bool]:
    """True when ``column`` already holds its erased value, so it is not masked twice."""
    if masking.strategy == "hash":
        # SHA-256 is not idempotent: a 64-hex-digit value is already a hash.
        if dialect == "postgresql":
            return sa.or_(column.is_(None), sa.cast(column, sa.Text).regexp_match("^[0-9a-f]{64}$"))
        text = sa.cast(column, sa.Text)
        return sa.or_(column.is_(None), sa.and_(sa.func.length(text) == 64,
                                                 text.op("NOT GLOB")("*[^0-9a-f]*")))
    return column.is_not_distinct_from(target)


def masking_update(table: TableMap, maskings: dict[str, Masking], keys: Any, dialect: str) -> sa.Update:
    """UPDATE masking each column of the rows with ``keys`` unless already masked.

    ``SET c = CASE WHEN <c already masked> THEN c ELSE <masked c> END`` and a
    WHERE that skips rows where every column is already masked: rows are not
    touched twice and a hash is never hashed again.
    """
    clause = sql_table(table, [table.primary_key, *maskings])
    values: dict[str, Any] = {}
    pending: list[sa.ColumnElement[bool]] = []
    for name, masking in maskings.items():
        column = clause.c[name]
        target = masking_expression(masking, column, dialect)
        done = _already_masked(masking, column, target, dialect)
        values[name] = sa.case((done, column), else_=target)
        pending.append(sa.not_(done))
    return (sa.update(clause).where(clause.c[table.primary_key].in_(list(keys)), sa.or_(*pending))
            .values(values))
