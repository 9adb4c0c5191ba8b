"""The tamper-evident audit log: append-only, hash-chained.

Every decision, consent event, request step, retention action and register
change is an entry. Each entry's hash is SHA-256 over a canonical
serialisation of its fields and the previous entry's hash, so changing,
deleting, inserting or reordering any entry breaks the chain from that point,
and :func:`verify` names the first bad entry. ``audit_head`` holds the last
sequence number and hash: cutting entries off the end is detected too, and
the head row's lock serialises concurrent writers on PostgreSQL.

Someone who can write to the database can still recompute every hash. With
an audit key (``GARDE_AUDIT_KEY``, :mod:`garde.audit.keys`) each append is
sealed with an HMAC nobody without the key can recompute; checkpoints of the
head kept outside the store (:mod:`garde.audit.checkpoints`) catch a
truncation or a deletion of the whole log; :mod:`garde.audit.verification`
checks all three.

Entries are written inside the caller's transaction (:func:`record`), so a
destructive step and its audit entry commit together or not at all.

The batched writers, re-exported here, live in their own modules:
:class:`AuditWriter` (a thread of this process) in :mod:`garde.audit.writer`,
:class:`ProcessAuditWriter` (a child process) in :mod:`garde.audit.process`.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import json.encoder
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde.audit.batches import BATCHED_KINDS, has_batches
from garde.audit.keys import AuditKey, configured_keyring
from garde.audit.runs import about_subjects as about_subjects
from garde.audit.runs import build_runs_sqlite
from garde.store import is_postgres, metadata
from garde.store.bulk import insert_plan, insert_rows
from garde.store.driver import driver_copy, driver_execute, driver_many, driver_rows, driver_rows_together

GENESIS = "0" * 64

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject_id", sa.String(36)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # "<key id>:<first seq of the append>:<HMAC>" on the last entry of each append made with the
    # audit key (garde.audit.keys); NULL on the others and without a key. Not part of the hash.
    sa.Column("seal", sa.String(128)),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


@dataclass(frozen=True)
class Event:
    """An entry to append: what happened, to whom, by whom, with details."""

    kind: str
    payload: Mapping[str, Any]
    subject_id: str | None = None
    actor: str = "garde"


# Built once: ``json.dumps`` with options builds a new encoder on every call, which
# costs more than the encoding itself on the audit's hot path. Same bytes out.
_PAYLOAD_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
_ENTRY_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_quote = json.encoder.encode_basestring  # what both encoders use for a str (ensure_ascii=False)


def _one_shot_encoder() -> Any:
    """The C encoder ``_PAYLOAD_ENCODER.encode`` builds on every call, built once.

    ``JSONEncoder.encode`` of a dict is ``"".join(c_make_encoder(...)(o, 0))``
    with the encoder's own settings; this is that very object, minus the
    circular-reference bookkeeping (an audit payload is a tree). ``None``
    when the C accelerator is missing or does not give the same bytes.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    encoder = _PAYLOAD_ENCODER
    try:
        built = make(None, encoder.default, _quote, encoder.indent, encoder.key_separator,
                     encoder.item_separator, encoder.sort_keys, encoder.skipkeys, encoder.allow_nan)
        sample = {"b": [1, 2.5, None, True], "a": "é\"\\\n", "c": {"z": 1, "y": datetime(2020, 1, 1)}}
        if "".join(built(sample, 0)) != encoder.encode(sample):
            return None
    except Exception:  # another Python's signature: the plain path
        return None
    return built


_PAYLOAD_C = _one_shot_encoder()


def canonical_payload(payload: Mapping[str, Any]) -> str:
    if _PAYLOAD_C is not None and type(payload) is dict:
        return "".join(_PAYLOAD_C(payload, 0))
    return _PAYLOAD_ENCODER.encode(payload)


def _entry_body(seq: int, at: str, kind: str, subject_id: str | None, actor: str, payload: str,
                prev_hash: str) -> str:
    """``_ENTRY_ENCODER.encode([seq, at, kind, subject_id, actor, payload, prev_hash])``, the same
    bytes, written out for the usual types (an int and strings; ``None`` for no subject)."""
    if (type(seq) is int and type(at) is str and type(kind) is str and type(actor) is str
            and type(payload) is str and type(prev_hash) is str
            and (subject_id is None or type(subject_id) is str)):
        subject = "null" if subject_id is None else _quote(subject_id)
        return (f"[{int.__repr__(seq)},{_quote(at)},{_quote(kind)},{subject},{_quote(actor)},"
                f"{_quote(payload)},{_quote(prev_hash)}]")
    return _ENTRY_ENCODER.encode([seq, at, kind, subject_id, actor, payload, prev_hash])


def entry_hash(seq: int, at: str, kind: str, subject_id: str | None, actor: str, payload: str,
               prev_hash: str) -> str:
    """SHA-256 over the canonical serialisation of one entry and its predecessor's hash."""
    return _sha256(_entry_body(seq, at, kind, subject_id, actor, payload, prev_hash).encode()).hexdigest()


_sha256 = hashlib.sha256


def _timestamp() -> str:
    return stamp(datetime.now(UTC))


def stamp(moment: datetime) -> str:
    """``moment`` as the log writes its entries' times (UTC, microseconds, ``Z``; a naive one is UTC),
    so that ``since`` compares with them as text does with time."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock_head(conn: sa.Connection) -> tuple[int, str]:
    """Lock the log's head row for this transaction and read it; create it on first use.

    One statement: an insert of the first head that, when the head exists, updates it to itself
    and returns it. The update takes the row's lock (PostgreSQL waits for a concurrent appender's
    commit, then returns the head that one wrote; SQLite takes the database's write lock first, so
    two connections, the AuditWriter's thread and a record() elsewhere, never read the same head).
    No table lock, so two first writers cannot deadlock.
    """
    insert = postgresql.insert if is_postgres(conn) else sqlite.insert
    ((seq, hash_),) = driver_rows(conn, _LOCK_HEAD[insert], _NO_PARAMETERS)
    return int(seq), str(hash_)


def _lock_head_statement(insert: Any) -> Any:
    statement = insert(audit_head).values(id=1, seq=0, hash=GENESIS)
    return (statement.on_conflict_do_update(index_elements=["id"], set_={"seq": audit_head.c.seq})
            .returning(audit_head.c.seq, audit_head.c.hash))


# Built once per dialect (the append runs per request, per erasure step, per batch of decisions),
# run on the driver (garde.store.driver: SQLAlchemy's SQL, without its execution path), as the head's
# move and the entries' insert are.
_LOCK_HEAD = {insert: _lock_head_statement(insert) for insert in (postgresql.insert, sqlite.insert)}
_MOVE_HEAD = (audit_head.update().where(audit_head.c.id == 1)
              .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash")))
_NO_PARAMETERS: Mapping[str, Any] = {}


# A caller's statement run with the head's lock (:func:`record_many`'s ``along``).
Along = tuple[sa.ClauseElement, Mapping[str, Any], Callable[[list[tuple[Any, ...]]], None]]


def record_many(conn: sa.Connection, events: Sequence[Event], *, last: bool = False,
                along: Sequence[Along] = ()) -> int:
    """Append ``events`` in order inside the caller's transaction; returns the last seq.

    The append is sealed with the configured audit key (``GARDE_AUDIT_KEY``), if any.

    ``last``: the append is the last thing the caller's transaction does. The log's head stays
    locked from the append to the commit, and every other appender waits for it: on PostgreSQL
    through psycopg the append's last statement carries the ``COMMIT`` (one round trip, see
    :func:`garde.store.driver.driver_many`), so the head is held for the hashing and that round
    trip only, not for what the caller does before committing. The transaction is then committed
    when this returns; the caller's own commit has nothing left to do.

    ``along``: statements of the caller's that the entries record (a request's move, and what its
    transaction writes with it: a run's mail intent), run in order just before the head is locked,
    in the same round trip on PostgreSQL through psycopg
    (:func:`garde.store.driver.driver_rows_together`) rather than one each: ``(statement,
    parameters, check)``, each statement returning rows (``RETURNING``), each ``check`` given its
    rows before anything is appended; one raises to refuse (the caller's rollback then ends the
    transaction, and the head's lock with it)."""
    return _append(conn, [(e.kind, e.payload, e.subject_id, e.actor) for e in events],
                   configured_keyring().current, last=last, along=along)



# an entry to append, as plain data: (kind, payload, subject_id, actor); the payload a mapping, a
# str holding its canonical JSON already (every one, ``encoded``), or that JSON in three parts,
# (head, a time, tail): ``head + JSON string of the time's isoformat() + tail`` (the decisions'
# entries: a decision point keeps head and tail with its answer, the writer's process sends each
# once per batch and formats the time, a datetime, its isoformat() already, or a UTC time's POSIX
# seconds as a float, which pickles in a fifth of a datetime's time)
_Item = tuple[str, Any, "str | None", str]


def payload_text(data: Any) -> str:
    """An item's payload as the canonical JSON its entry is hashed and stored with."""
    if type(data) is str:
        return data
    if type(data) is tuple:
        head, moment, tail = data
        if type(moment) is float:  # POSIX seconds of a UTC time (exact to the microsecond until 2100)
            return f"{head}{_quote(utc_isoformat(moment))}{tail}"
        return f"{head}{_quote(moment if type(moment) is str else moment.isoformat())}{tail}"
    return canonical_payload(data)


def _append(conn: sa.Connection, items: Sequence[_Item], key: AuditKey | None, encoded: bool = False,
            last: bool = False, batched: bool = False, along: Sequence[Along] = ()) -> int:
    """Append ``items`` after the head, sealed with ``key``; returns the last seq. ``batched``: the
    audit writer's append, whose decision entries go into batch rows (:mod:`garde.audit.batches`);
    ``along``: statements sent with the head lock (a request's transition, never the writer's)."""
    if batched and any(item[0] in BATCHED_KINDS for item in items):
        from garde.audit.appending import append_links

        assert not along, "the audit writer's batches carry no statement along"
        return append_links(conn, items, key, encoded, last)
    if not encoded and len(items) <= _WITH_HEAD_MOST:  # a request's few entries: their JSON written
        items = [(kind, payload_text(data), subject_id, actor)  # before the head is locked, not under it
                 for kind, data, subject_id, actor in items]
        encoded = True
    if not along:
        seq, prev = _lock_head(conn)
    else:
        insert = postgresql.insert if is_postgres(conn) else sqlite.insert
        *answers, ((seq, prev),) = driver_rows_together(
            conn, [*((statement, parameters) for statement, parameters, _ in along),
                   (_LOCK_HEAD[insert], _NO_PARAMETERS)])
        for (_, _, check), rows in zip(along, answers, strict=True):
            check(rows)
        seq, prev = int(seq), str(prev)
    if not items:
        return seq
    rows = _chain(items, seq, prev, _timestamp(), encoded)
    if key is not None:  # one HMAC per append: the seal covers the append's entries, first to last
        final = rows[-1]
        rows[-1] = (*final[:8], f"{key.id}:{seq + 1}:{key.seal(seq + 1, final[7])}")
    seq, prev = rows[-1][0], rows[-1][7]
    _insert_entries(conn, rows, {"new_seq": seq, "new_hash": prev}, last)
    if conn.dialect.name == "sqlite":  # the subject index's runs, under the head's lock (garde.audit.runs)
        build_runs_sqlite(conn.connection.dbapi_connection, seq)
    return int(seq)


def _chain(items: Sequence[_Item], seq: int, prev: str, at: str,
           encoded: bool = False) -> list[tuple[Any, ...]]:
    """The rows (seq, at, kind, subject_id, actor, payload, prev_hash, hash, seal) that follow ``seq``,
    ``prev``: one timestamp per batch, each entry hashed with its predecessor's hash, unsealed.

    :func:`_entry_body`'s bytes, with what a batch repeats quoted once: its time, kinds, actors and
    the decisions' payload parts. JSON quoting maps each character on its own, so the quoted
    payload ``head + "time" + tail`` is the quoted head without its closing quote, the time's
    quotes escaped, and the quoted tail without its opening quote; a time formatted by
    ``isoformat()`` holds nothing to escape, nor does a hash written here (hex)."""
    rows = []
    payload_of, body_of, sha256, quote = payload_text, _entry_body, _sha256, _quote
    isoformat = utc_isoformat
    quoted_at = quote(at)
    quoted: dict[str, str] = {}
    quoted_parts: dict[tuple[str, str], tuple[str, str]] = {}
    quoted_prev = quote(prev)
    for kind, data, subject_id, actor in items:
        seq += 1
        if type(kind) is not str or type(actor) is not str or (
                subject_id is not None and type(subject_id) is not str):
            payload = data if encoded or type(data) is str else payload_of(data)
            body = body_of(seq, at, kind, subject_id, actor, payload, prev)
        else:
            kind_q = quoted.get(kind)
            if kind_q is None:
                kind_q = quoted[kind] = quote(kind)
            actor_q = quoted.get(actor)
            if actor_q is None:
                actor_q = quoted[actor] = quote(actor)
            subject_q = "null" if subject_id is None else quote(subject_id)
            if type(data) is tuple and not encoded and type(data[0]) is str and type(data[2]) is str and (
                    type(data[1]) is float or type(data[1]) is datetime):
                head, moment, tail = data
                time_text = isoformat(moment) if type(moment) is float else moment.isoformat()
                payload = f'{head}"{time_text}"{tail}'
                parts = quoted_parts.get((head, tail))
                if parts is None:
                    parts = quoted_parts[(head, tail)] = (quote(head)[:-1], quote(tail)[1:])
                body = (f'[{seq},{quoted_at},{kind_q},{subject_q},{actor_q},'
                        f'{parts[0]}\\"{time_text}\\"{parts[1]},{quoted_prev}]')
            else:
                payload = data if encoded or type(data) is str else payload_of(data)
                if type(payload) is str:
                    body = (f"[{seq},{quoted_at},{kind_q},{subject_q},{actor_q},{quote(payload)},"
                            f"{quoted_prev}]")
                else:
                    body = body_of(seq, at, kind, subject_id, actor, payload, prev)
        digest = sha256(body.encode()).hexdigest()
        rows.append((seq, at, kind, subject_id, actor, payload, prev, digest, None))
        prev = digest
        quoted_prev = f'"{digest}"'
    return rows


_modf = math.modf
#: The formatted second (``YYYY-MM-DDTHH:MM:SS``) of the POSIX seconds last met; a batch's
#: decisions fall in a few seconds. Emptied when full (a writer's process lives for days).
_SECONDS: dict[int, str] = {}
#: 2100-01-01 UTC: below it a float's microseconds are exact, and its date has four digits.
_UNTIL = 4_102_444_800.0


def utc_isoformat(seconds: float) -> str:
    """``datetime.fromtimestamp(seconds, UTC).isoformat()``, the same text, in ≈ 60 % of its time.

    Each decision's entry holds its time in that form, and the audit writer formats one a
    decision (1.2 – 1.4 µs of its CPU an entry; 0.71 µs here, 2026-12-07, load 7: no datetime
    built): here the date and clock of a second are
    formatted once and looked up, the microseconds rounded as ``fromtimestamp`` rounds them
    (half to even, a carry into the next second) and written after them, or left out when 0 as
    ``isoformat()`` leaves them."""
    if not 0.0 <= seconds < _UNTIL:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    fraction, whole = _modf(seconds)
    micro = round(fraction * 1e6)
    second = int(whole)
    if micro >= 1_000_000:
        second += 1
        micro -= 1_000_000
    clock = _SECONDS.get(second)
    if clock is None:
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        clock = _SECONDS[second] = datetime.fromtimestamp(second, UTC).isoformat()[:19]
    return f"{clock}.{micro:06d}+00:00" if micro else f"{clock}+00:00"


_ENTRY_COLUMNS = ("seq", "at", "kind", "subject_id", "actor", "payload", "prev_hash", "hash", "seal")


#: Entries of one append written with the head's move in one statement (PostgreSQL through psycopg);
#: more go by ``COPY``, whose client CPU is a fifth of a bound row's but which waits for the server
#: twice.
_WITH_HEAD_MOST = 8


def _insert_entries(conn: sa.Connection, rows: list[tuple[Any, ...]], head: Mapping[str, Any],
                    last: bool = False) -> None:
    """The entries, then the head moved to the last (``head``: its new seq and hash).

    One ``executemany`` (an ``execute`` for one entry) on the driver's cursor: every value is
    already a str or an int, the type the column takes on both databases, so SQLAlchemy's per-row
    bind processing and its execution path would only add time (about half a flush). On
    PostgreSQL through psycopg the entries of a request's append (a few) and the head's move are
    one statement (:func:`_with_head`), one wait for the server instead of two (three with
    ``COPY``); many entries (a writer's batch) go by ``COPY``: a fifth of the client's CPU a row
    (:func:`garde.store.driver.driver_copy`). ``last``: the head's move carries the transaction's
    ``COMMIT`` where the driver allows it (:func:`record_many`)."""
    sql, converters = insert_plan(conn, audit_log, _ENTRY_COLUMNS)
    psycopg = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
    if not rows:  # an append of batch rows only (garde.audit.appending): the head's move alone
        if psycopg:
            driver_many(conn, _MOVE_HEAD_PSYCOPG, [(head["new_seq"], head["new_hash"])], commit=last)
        else:
            driver_execute(conn, _MOVE_HEAD, head)
        return
    if any(converters):  # not with these columns' types; kept right should one change
        insert_rows(conn, audit_log, _ENTRY_COLUMNS, rows)
    elif psycopg and len(rows) <= _WITH_HEAD_MOST:
        driver_many(conn, _with_head(sql, len(rows)),
                    [(head["new_seq"], head["new_hash"], *(value for row in rows for value in row))],
                    commit=last)
        return
    elif psycopg:
        driver_copy(conn, audit_log.name, _ENTRY_COLUMNS, rows)
        driver_many(conn, _MOVE_HEAD_PSYCOPG, [(head["new_seq"], head["new_hash"])], commit=last)
        return
    else:
        driver_many(conn, sql, rows)
    driver_execute(conn, _MOVE_HEAD, head)


_MOVE_HEAD_PSYCOPG = "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1"


@lru_cache(maxsize=_WITH_HEAD_MOST)
def _with_head(insert: str, count: int) -> str:
    """PostgreSQL: ``insert`` (one row's ``INSERT … VALUES (%s, …)``) for ``count`` rows, with the head's
    move in a data-modifying ``WITH`` (run once, whether or not the ``INSERT`` reads it): the head's
    new seq and hash are the first two parameters."""
    head, values = insert.split(" VALUES ", 1)
    return (f"WITH moved AS (UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1) "
            f"{head} VALUES {', '.join([values] * count)}")


def record(conn: sa.Connection, kind: str, payload: Mapping[str, Any], *, subject_id: str | None = None,
           actor: str = "garde") -> int:
    """Append one entry inside the caller's transaction; returns its seq."""
    return record_many(conn, [Event(kind, payload, subject_id, actor)])


def entries(conn: sa.Connection, since: str | None = None, subject_id: str | None = None,
            kind: str | None = None, *, after: int | None = None) -> Iterator[dict[str, Any]]:
    """Entries in order, as plain data (``payload`` decoded); ``since`` is an ISO timestamp,
    ``after`` a sequence number (the entries that follow it: where an export stopped).

    The rows' entries and the batch rows' (:mod:`garde.audit.batch_reading`), merged by ``seq``:
    an entry of a batch carries ``batch`` (its batch's first seq) and no hash of its own; the first
    one given of each batch carries the batch's link (``link``)."""
    from garde.audit.batch_reading import ordered_entries, subject_entries

    query = sa.select(audit_log).order_by(audit_log.c.seq)
    if since:
        query = query.where(audit_log.c.at >= since)
    if after is not None:
        query = query.where(audit_log.c.seq > after)
    if subject_id:
        query = query.where(about_subjects(conn.dialect.name, sa.literal(subject_id, sa.String(36))))
    if kind:
        query = query.where(audit_log.c.kind == kind)
    if not has_batches(conn):  # a store below migration 0037: rows only
        batched: Iterator[dict[str, Any]] = iter(())
    elif subject_id:
        batched = iter([
            entry for entry in subject_entries(conn, subject_id)
            if (not since or entry["at"] >= since) and (after is None or entry["seq"] > after)
            and (not kind or entry["kind"] == kind)])
    else:
        batched = ordered_entries(conn, since=since, kind=kind, after=after)
    with conn.execution_options(yield_per=5000).execute(query) as result:
        for data in heapq.merge((dict(row._mapping) for row in result), batched, key=_seq_of):
            data["payload"] = json.loads(data["payload"])
            yield data


def _seq_of(entry: dict[str, Any]) -> int:
    return int(entry["seq"])


def export_lines(engine: sa.Engine, since: str | None = None, kind: str | None = None, *,
                 after: int | None = None) -> Iterator[str]:
    """:func:`entries` as JSON lines (``garde audit export``), each with its ``seq``, hashes and
    seal, to verify or archive elsewhere; read on a connection of their own, streamed."""
    with engine.connect() as conn:
        for entry in entries(conn, since=since, kind=kind, after=after):
            yield json.dumps(entry, ensure_ascii=False, default=str) + "\n"


# The writers, the verification and the checkpoints, re-exported (``from garde.audit import
# AuditWriter`` and the like keep working). Imported here at the very end, not at the top: those
# modules use the chain's names (Event, record_many, _append, ...) from this package, which must
# all be defined before they load, or the circular import would find them missing.
from garde.audit.checkpoints import Checkpoint as Checkpoint  # noqa: E402
from garde.audit.checkpoints import CheckpointWarning as CheckpointWarning  # noqa: E402
from garde.audit.checkpoints import append_checkpoint as append_checkpoint  # noqa: E402
from garde.audit.checkpoints import checkpoint_after_job as checkpoint_after_job  # noqa: E402
from garde.audit.checkpoints import checkpoint_configured as checkpoint_configured  # noqa: E402
from garde.audit.checkpoints import read_checkpoints as read_checkpoints  # noqa: E402
from garde.audit.keys import Keyring as Keyring  # noqa: E402
from garde.audit.process import WRITER_NICENESS as WRITER_NICENESS  # noqa: E402
from garde.audit.process import ProcessAuditWriter as ProcessAuditWriter  # noqa: E402
from garde.audit.process import _ChildSink as _ChildSink  # noqa: E402
from garde.audit.process import _serve_writes as _serve_writes  # noqa: E402
from garde.audit.verification import Verification as Verification  # noqa: E402
from garde.audit.verification import checkpoint as checkpoint  # noqa: E402
from garde.audit.verification import verify as verify  # noqa: E402
from garde.audit.verification import verify_store as verify_store  # noqa: E402
from garde.audit.writer import AuditWriter as AuditWriter  # noqa: E402
