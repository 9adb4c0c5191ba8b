"""Cancelling a request before it starts (``garde.rights.cancel``), on SQLite and PostgreSQL: once,
audited, its identities dropped; never once a run began; and a run that read the request before a
cancellation committed cannot overwrite it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from garde.problems import GardeError
from garde.rights import cancel, get_request, submit, verify_out_of_band
from garde.rights.intake import RequestConflict, transition
from tests.api_support import audit_actors


def test_a_request_not_started_is_cancelled_once(engine: sa.Engine, database_url: str) -> None:
    with engine.begin() as conn:
        request = submit(conn, "erasure", {"email": "ana@example.org"}, actor="key:tool")
        with pytest.raises(GardeError, match="needs a reason"):
            cancel(conn, request.id, " ", actor="key:tool")
        cancelled = cancel(conn, request.id, "the subject withdrew it", actor="key:tool")
        assert cancelled.status == "cancelled" and cancelled.identities == {}  # Art. 5(1)(c)
        assert cancel(conn, request.id, "again", actor="key:tool") == cancelled
        assert [step["status"] for step in get_request(conn, request.id).steps] == ["received", "cancelled"]
        with pytest.raises(GardeError, match="can no longer be proven"):
            verify_out_of_band(conn, request.id, "ID card", actor="agent", identities=["email"])
    assert audit_actors(database_url, "request.cancelled") == ["key:tool"]


def test_a_request_being_run_or_answered_is_not_cancelled(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        request = submit(conn, "access", {"customer_id": "C-1"})
        verified = verify_out_of_band(conn, request.id, "card shown", actor="agent",
                                      identities=["customer_id"])
        started = transition(conn, verified, "in_progress")
        with pytest.raises(RequestConflict, match="only a request not yet started"):
            cancel(conn, request.id, "too late", actor="key:tool")
        transition(conn, started, "completed", values={"result": "{}"})
        with pytest.raises(RequestConflict, match="is completed"):
            cancel(conn, request.id, "too late", actor="key:tool")


def test_a_run_that_read_the_request_before_its_cancellation_does_not_start_it(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        request = submit(conn, "erasure", {"customer_id": "C-1"})
        read_by_the_run = verify_out_of_band(conn, request.id, "card", actor="agent",
                                             identities=["customer_id"])
    with engine.begin() as conn:
        cancel(conn, request.id, "withdrawn", actor="key:tool")
    with engine.begin() as conn, pytest.raises(RequestConflict, match="changed meanwhile"):
        transition(conn, read_by_the_run, "in_progress")
    with engine.connect() as conn:
        assert get_request(conn, request.id).status == "cancelled"
