"""Two consent calls at once for one unchecked identity keep one confirmation and send one invitation.

:func:`garde.consent.confirmations.ask` read "no confirmation open", then inserted one: two calls in
flight for the same identity both read "none" and both inserted, so its holder got two invitations
(red29 noticed it). Two real threads, each in its own transaction, are held at the dangerous point,
the confirmation's insert, until both reach it (a barrier in SQLAlchemy's statement hook, nothing of
garde replaced). SQLite serialises writers (the first's write lock holds the second before its
first statement): the barrier then times out and the calls run one after the other.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import sqlalchemy as sa

from garde.consent.confirmations import ask


def test_two_calls_at_once_ask_one_confirmation(engine: sa.Engine) -> None:
    at_insert = threading.Barrier(2, timeout=3 if engine.dialect.name == "sqlite" else 30)

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CONSENT_CONFIRMATIONS"):
            # the other call may not come (SQLite: it waits for this one's lock): go on without it
            with contextlib.suppress(threading.BrokenBarrierError):
                at_insert.wait()

    invited: list[bool] = []
    failed: list[BaseException] = []

    def consent_call() -> None:
        try:
            with engine.begin() as conn:
                invited.append(ask(conn, "email", "bea@example.org", "newsletter", "email", actor="key:shop"))
        except BaseException as error:  # reported below (a unique violation was a 500)
            failed.append(error)

    sa.event.listen(engine, "before_cursor_execute", hold)
    try:
        calls = [threading.Thread(target=consent_call) for _ in range(2)]
        for call in calls:
            call.start()
        for call in calls:
            call.join(60)
    finally:
        sa.event.remove(engine, "before_cursor_execute", hold)
    assert not failed, failed
    assert sorted(invited) == [False, True]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_confirmations")).scalar() == 1
