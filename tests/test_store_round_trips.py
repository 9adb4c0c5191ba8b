"""Statements of the request path that do not depend on each other wait for the server once.

On PostgreSQL every wait is a round trip, paid by both processes (the client, then its server
process) on a machine that may share its cores with them: an audit append's entries and the move
of the log's head are one statement, and so are a request's move and its step (data-modifying
``WITH``s). Counted in libpq's protocol trace: each ``Sync`` and each simple ``Query`` the client
sends is one wait. On SQLite the same functions run the statements one after the other, with the
same results.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from garde import audit
from garde.audit.verification import verify
from garde.rights import submit, verify_out_of_band
from garde.rights.intake import RequestConflict, get_request, transition
from garde.store.reads import transacting, writing_on
from garde.store.transactions import retried

T = TypeVar("T")



def _waits(conn: sa.Connection, tmp_path: Path, action: Callable[[], T]) -> tuple[T, int]:
    """What ``action`` returns, and how many times the client waited for the server meanwhile (0 on
    SQLite, which has no server)."""
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name != "postgresql":
        return action(), 0
    trace = tmp_path / "protocol.trace"
    with trace.open("w") as out:
        raw.pgconn.trace(out.fileno())
        try:
            result = action()
        finally:
            raw.pgconn.untrace()
    sent = [line.split("\t") for line in trace.read_text().splitlines() if "\tF\t" in line]
    waits = sum(1 for fields in sent if len(fields) > 3 and fields[3].split(" ")[0] in ("Sync", "Query"))
    return result, waits


@pytest.mark.parametrize("count", [1, 3])
def test_an_audit_append_waits_for_the_head_then_once_more(engine: sa.Engine, tmp_path: Path,
                                                           count: int) -> None:
    """The head locked and read (one wait), then the entries and the head's move together (one
    wait: two more for one entry before, three or more for several, by ``COPY``); the chain verifies."""
    events = [audit.Event("test.appended", {"n": n}, None, "test") for n in range(count)]
    with engine.begin() as conn:
        audit.record(conn, "test.first", {})
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
        seq, waits = _waits(conn, tmp_path, lambda: audit.record_many(conn, events))
    with engine.connect() as conn:
        assert verify(conn).ok
        kinds = conn.execute(sa.text("SELECT kind FROM audit_log ORDER BY seq")).scalars().all()
    assert kinds[-count - 1:] == ["test.first", *["test.appended"] * count]
    assert seq == len(kinds)
    assert waits == (2 if engine.dialect.name == "postgresql" else 0)


def test_a_move_and_its_step_are_one_wait(engine: sa.Engine, tmp_path: Path) -> None:
    """PostgreSQL: the request's move and its step's row are one statement, sent with the audit head's
    lock (one wait, where the move and the lock were one each), then the append's entries (one): two
    waits, three before; a move from a status the request no longer has writes no step and appends
    nothing (the transaction's own counts are unchanged), on both databases."""
    with engine.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    with engine.begin() as conn:
        read = get_request(conn, request.id)
        moved, waits = _waits(conn, tmp_path, lambda: transition(conn, read, "in_progress", reread=False))
        steps = conn.execute(sa.text("SELECT count(*) FROM request_steps WHERE request_id = :id"),
                             {"id": request.id}).scalar()
        entries = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
        with pytest.raises(RequestConflict):
            transition(conn, read, "in_progress", reread=False)  # ``read`` says verified: stale
        assert conn.execute(sa.text("SELECT count(*) FROM request_steps WHERE request_id = :id"),
                            {"id": request.id}).scalar() == steps
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() == entries
    assert waits == (2 if engine.dialect.name == "postgresql" else 0)
    with engine.connect() as conn:
        again = get_request(conn, request.id)
        assert verify(conn).ok
    assert again.status == moved.status == "in_progress"
    assert [s["status"] for s in again.steps] == ["received", "verified", "in_progress"]
    assert again.steps[-1]["at"] == moved.steps[-1]["at"] and again.started_at == moved.started_at


def test_a_move_that_ends_its_transaction_commits_in_two_waits(engine: sa.Engine, tmp_path: Path) -> None:
    """PostgreSQL: a move that is the last thing its transaction does (``last``, a run's start and
    completion) waits twice in all: the move with the head's lock, then the entries with the
    ``COMMIT`` (four before: the move, the lock, the entries with the ``COMMIT`` and its own ``Sync``,
    then the pipeline's end, an empty ``Sync`` awaited). Committed when it returns: another
    connection sees the move and the chain verifies; the caller's commit has nothing left to do."""
    with engine.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org"})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    with engine.connect() as conn:
        read = get_request(conn, request.id)  # in the transaction: its BEGIN is not counted
        moved, waits = _waits(conn, tmp_path, lambda: transition(conn, read, "in_progress", reread=False,
                                                                last=True))
        if engine.dialect.name == "postgresql":
            with engine.connect() as other:
                assert get_request(other, request.id).status == "in_progress"
        conn.commit()
    assert waits == (2 if engine.dialect.name == "postgresql" else 0)
    with engine.connect() as conn:
        again = get_request(conn, request.id)
        assert verify(conn).ok
        kinds = conn.execute(sa.text("SELECT kind FROM audit_log ORDER BY seq")).scalars().all()
    assert again.status == moved.status == "in_progress" and kinds[-1] == "request.in_progress"


def test_a_held_connection_lent_to_a_transaction_commits_or_rolls_back_whole(engine: sa.Engine) -> None:
    """PostgreSQL: a connection held in autocommit (a run lock's) is lent to the caller's transactions
    (no other checkout): a failing one leaves nothing, a passing one commits, and the connection is
    in autocommit again after each. Elsewhere the engine is used, as before."""
    def fails(conn: sa.Connection) -> None:
        audit.record(conn, "test.never", {})
        raise RuntimeError("stop")

    with engine.connect() as held:
        held.execution_options(isolation_level="AUTOCOMMIT")
        target = writing_on(engine, held)
        assert (target is held) == (engine.dialect.name == "postgresql")
        with pytest.raises(RuntimeError), transacting(target) as lent:
            retried(lent, fails, what="a test")
        with transacting(target) as lent:
            retried(lent, lambda conn: audit.record(conn, "test.kept", {}), what="a test")
        assert held.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT kind FROM audit_log")).scalars().all()
    assert "test.never" not in kinds and "test.kept" in kinds
