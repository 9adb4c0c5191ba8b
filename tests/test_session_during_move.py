"""A privacy-center session opened while a rectification's move of its identity commits (residual
closed 2026-12-07).

The move records its moment (``identity_handovers.at``) before its transaction commits. On PostgreSQL a
session started in between read the link the move had not yet removed: it was bound to the former
holder, whose rows it could no longer reach once the move committed, and its start came after the
recorded moment, so the "your contact details were changed" page was not shown either: a silent empty
page. Now the session's start reads the link under a share lock the move's delete waits for (or that
waits for the move's commit): the session comes either before the move (its start is earlier than the
moment recorded after the delete: the explanation page) or after it (the identity is linked to no one:
what any session opened after the move sees).
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.rights import FileMailer
from garde.rights.rectification import move_identities
from garde.rights.sessions import SessionStarted, authenticate, confirm_session, start_session
from garde.rights.tables import subject_sessions
from garde.subjects import ensure_subject, identifier_hash
from tests.conftest import mailed_code

ANA, NEW = "ana@example.com", "ana.new@example.net"


def test_a_session_opened_while_a_move_commits_sees_the_old_state_or_the_new_one(
        engine: sa.Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        ana = ensure_subject(conn, {"email": ANA})
    mailer = FileMailer(tmp_path)
    started: list[SessionStarted] = []
    opening = threading.Thread(target=lambda: started.append(start_session(engine, "email", ANA, mailer)))
    with engine.connect() as moving:
        moving.begin()
        old = identifier_hash("email", ANA, identifier_data_key(moving))
        move_identities(moving, ana, {"email": NEW}, {"email": {old}})  # its moment taken, not committed
        opening.start()
        opening.join(timeout=1.0)  # the session's start meanwhile (before: done, bound to Ana)
        moving.commit()
    opening.join()
    started[0].deliver()
    token = confirm_session(engine, started[0].session, mailed_code(tmp_path))
    with engine.connect() as conn:
        session = authenticate(conn, token.token)
        opened_for = conn.execute(sa.select(subject_sessions.c.subject_id)).scalar()
    assert session is not None and session.subject_id is None  # her old address opens nothing of Ana's
    # opened for Ana (before the move): the explanation page; else opened after it, as any later session
    assert opened_for is None or session.moved, (opened_for, session)
