"""The sweep's journal in the engine's store: runs, and the batches of each run.

A batch row is written, with its audit entry, and committed *before* the
batch touches the business database ("logged before committed"); it is
marked done in the same store commit that journals the next batch (or at
the end of its step), so at most the latest batch of a step is pending. A
run's ``today`` is fixed when it starts, so resuming it evaluates exactly
the same due set.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from garde.store import metadata
from garde.subjects import now

retention_runs = sa.Table(
    "retention_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("today", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("resumed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("summary", sa.Text),
)

retention_batches = sa.Table(
    "retention_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("retention_runs.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("database", sa.String(64), nullable=False),
    sa.Column("table_name", sa.String(128), nullable=False),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("keys", sa.Text, nullable=False),
    sa.Column("last_key", sa.Text, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("affected", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Run:
    id: str
    today: date
    status: str
    dry_run: bool
    batch_size: int
    started_at: datetime
    finished_at: datetime | None
    resumed: int
    summary: dict[str, Any]

    def to_data(self) -> dict[str, Any]:
        return {"id": self.id, "today": self.today.isoformat(), "status": self.status,
                "dry_run": self.dry_run,
                "batch_size": self.batch_size, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "resumed": self.resumed, "summary": self.summary}


@dataclass(frozen=True)
class Span:
    """Where a batch treated by range ran: the integer keys ``low < pk <= high``, or, ``blocks``
    (PostgreSQL), the table's pages ``low <= page < high`` (``ctid`` from ``(low,0)`` to ``(high,0)``)."""

    low: int
    high: int
    blocks: bool = False

    def to_data(self) -> dict[str, Any]:
        if self.blocks:
            return {"first_block": self.low, "end_block": self.high}
        return {"after_key": self.low, "through_key": self.high}


@dataclass(frozen=True)
class Batch:
    """A journalled batch: its keys, or (a batch treated by range) its :class:`Span`."""

    id: int
    seq: int
    keys: list[Any] | None
    span: Span | None
    last_key: Any
    status: str


def _run(row: Any) -> Run:
    return Run(row.id, row.today, row.status, bool(row.dry_run), row.batch_size, row.started_at,
               row.finished_at, row.resumed, json.loads(row.summary) if row.summary else {})


def start_run(conn: sa.Connection, today: date, batch_size: int, dry_run: bool) -> Run:
    run_id = str(uuid.uuid4())
    conn.execute(retention_runs.insert().values(id=run_id, today=today, status="running", dry_run=dry_run,
                                                batch_size=batch_size, started_at=now()))
    return get_run(conn, run_id)


def get_run(conn: sa.Connection, run_id: str) -> Run:
    return _run(conn.execute(sa.select(retention_runs).where(retention_runs.c.id == run_id)).one())


def unfinished_run(conn: sa.Connection) -> Run | None:
    """The run a crash or a kill left running, if any (the oldest)."""
    row = conn.execute(sa.select(retention_runs).where(retention_runs.c.status == "running",
                                                       retention_runs.c.dry_run.is_(False))
                       .order_by(retention_runs.c.started_at).limit(1)).first()
    return None if row is None else _run(row)


def mark_resumed(conn: sa.Connection, run_id: str) -> None:
    conn.execute(retention_runs.update().where(retention_runs.c.id == run_id)
                 .values(resumed=retention_runs.c.resumed + 1))


def lock_open_run(conn: sa.Connection, run_id: str) -> bool:
    """Lock the run's row for the transaction; whether it is still running (not closed meanwhile)."""
    status = conn.execute(sa.select(retention_runs.c.status).where(retention_runs.c.id == run_id)
                          .with_for_update()).scalar()
    return status == "running"


def finish_run(conn: sa.Connection, run_id: str, summary: dict[str, Any]) -> None:
    conn.execute(retention_runs.update().where(retention_runs.c.id == run_id)
                 .values(status="done", finished_at=now(), summary=json.dumps(summary, sort_keys=True)))


def list_runs(conn: sa.Connection, limit: int = 20, *,
              before: tuple[datetime, str] | None = None) -> list[Run]:
    """Runs newest first (``started_at``, then id); ``before``: those after that one in this order."""
    r = retention_runs.c
    query = sa.select(retention_runs)
    if before is not None:
        started, run_id = before
        query = query.where(sa.or_(r.started_at < started, sa.and_(r.started_at == started, r.id < run_id)))
    rows = conn.execute(query.order_by(r.started_at.desc(), r.id.desc()).limit(limit))
    return [_run(row) for row in rows]


def _step(run_id: str, database: str, table: str, operation: str) -> sa.ColumnElement[bool]:
    b = retention_batches.c
    return sa.and_(b.run_id == run_id, b.database == database, b.table_name == table,
                   b.operation == operation)


def last_batch(conn: sa.Connection, run_id: str, database: str, table: str, operation: str) -> Batch | None:
    """The latest batch of one step of a run: pending (to re-apply) or done (continue after its last key)."""
    row = conn.execute(sa.select(retention_batches).where(_step(run_id, database, table, operation))
                       .order_by(retention_batches.c.seq.desc()).limit(1)).first()
    if row is None:
        return None
    keys, span = decode_keys(row.keys)
    return Batch(row.id, row.seq, keys, span, json.loads(row.last_key), row.status)


def keys_json(keys: list[Any]) -> str:
    """A batch's keys as the journal stores them (and the audit entry hashes them)."""
    return json.dumps(keys, default=str)


def span_json(span: Span) -> str:
    """A batch treated by range, as the journal stores it: ``{"after": low, "through": high}``
    (keys) or ``{"blocks": [low, high]}`` (pages)."""
    if span.blocks:
        return json.dumps({"blocks": [span.low, span.high]})
    return json.dumps({"after": span.low, "through": span.high})


def decode_keys(stored: str) -> tuple[list[Any] | None, Span | None]:
    """The ``keys`` column read back: (keys, None), or (None, the span) for a batch run by range."""
    data = json.loads(stored)
    if isinstance(data, dict):
        if "blocks" in data:
            return None, Span(int(data["blocks"][0]), int(data["blocks"][1]), blocks=True)
        return None, Span(int(data["after"]), int(data["through"]))
    return data, None


def log_batch(conn: sa.Connection, run_id: str, seq: int, database: str, table: str, operation: str,
              keys: list[Any] | None = None, encoded: str | None = None, *,
              span: Span | None = None, count: int | None = None) -> int:
    """Journal a batch as pending: its ``keys`` (``encoded`` is :func:`keys_json` of them when
    already made), or its key range ``span`` and the ``count`` of rows it treated."""
    if span is not None:
        stored, last, size = span_json(span), json.dumps(span.high), count or 0
    elif keys:
        stored = encoded if encoded is not None else keys_json(keys)
        last, size = json.dumps(keys[-1], default=str), len(keys)
    else:
        raise ValueError("a batch has keys or a key range")
    result = conn.execute(retention_batches.insert().values(
        run_id=run_id, seq=seq, database=database, table_name=table, operation=operation,
        keys=stored, last_key=last, count=size, status="pending", created_at=now()))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def batch_done(conn: sa.Connection, batch_id: int, affected: int) -> None:
    conn.execute(retention_batches.update().where(retention_batches.c.id == batch_id)
                 .values(status="done", affected=affected, done_at=now()))


def sealed_key(table: str, key: Any, data_key: bytes) -> Any:
    """A key of a table keyed by an identity as its keyed digest (``{"hmac_sha256": ...}``, as an
    erasure's records hold such keys: :func:`garde.rights.rectification.seal`); one sealed already
    is left as it is."""
    from garde.rights.rectification import seal  # the rights package is not imported by a sweep

    return key if isinstance(key, dict) and "hmac_sha256" in key else seal(table, key, data_key)


def seal_keys(conn: sa.Connection, run_id: str, tables: Collection[str], data_key: bytes) -> None:
    """At the end of a run, the keys and last key of its batches on ``tables`` (``database.table``
    keyed by an identity: a newsletter list keyed by the address) as keyed digests: a finished run is
    never resumed, and the keys only said which rows it swept (red30: the swept addresses stayed in
    clear in the journal)."""
    if not tables:
        return
    b = retention_batches.c
    rows = conn.execute(sa.select(b.id, b.database, b.table_name, b["keys"], b.last_key)
                        .where(b.run_id == run_id)).all()
    for row in rows:
        table = f"{row.database}.{row.table_name}"
        keys, _ = decode_keys(row.keys)
        if table not in tables or keys is None:
            continue
        conn.execute(retention_batches.update().where(b.id == row.id).values(
            keys=keys_json([sealed_key(table, key, data_key) for key in keys]),
            last_key=json.dumps(sealed_key(table, json.loads(row.last_key), data_key), default=str)))


def run_totals(conn: sa.Connection, run_id: str) -> dict[str, int]:
    """Rows affected per ``database.table:operation`` by a run's done batches."""
    b = retention_batches.c
    rows = conn.execute(sa.select(b.database, b.table_name, b.operation, sa.func.sum(b.affected))
                        .where(b.run_id == run_id, b.status == "done")
                        .group_by(b.database, b.table_name, b.operation))
    return {f"{d}.{t}:{o}": int(n or 0) for d, t, o, n in rows}
