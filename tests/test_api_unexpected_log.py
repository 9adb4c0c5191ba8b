"""The server's log of an unexpected database error names the error, never the row or values it
quotes. Threat: PostgreSQL's message carries ``DETAIL: Failing row contains (…)`` (a request's
row holds the identities given, in clear) and SQLAlchemy's the statement's parameters; whoever
reads the server's log (an operator, a log shipper, a support ticket) read the subject's e-mail."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.web_support import web_client


@pytest.mark.postgres
def test_an_unexpected_database_error_is_logged_without_the_row(
        postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with web_client(postgres_url, tmp_path) as (client, keys):
        engine = sa.create_engine(postgres_url)
        with engine.begin() as conn:  # a constraint garde does not expect: its insert is refused
            conn.execute(sa.text("ALTER TABLE requests ADD CONSTRAINT no_italian CHECK (language <> 'it')"))
        engine.dispose()
        with caplog.at_level(logging.ERROR):
            # before, the error was raised again past garde's handler (here, out of the client; under
            # uvicorn, into its log with the whole message)
            answer = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {keys['agent']}"},
                                 json={"type": "access", "subject": {"email": "ana.secret@example.com"},
                                       "language": "it", "send_code": False})
    assert answer.status_code == 500, answer.text
    logged = "\n".join(record.getMessage() + "\n" + (record.exc_text or "") for record in caplog.records)
    assert "no_italian" in logged  # what went wrong is still said
    assert "ana.secret" not in logged, [(r.name, r.getMessage()[:80]) for r in caplog.records]
