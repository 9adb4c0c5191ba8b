"""How long ``identity_handovers`` keeps a value's moment (GDPR Art. 5(1)(e), storage limitation).

A row holds the keyed digest of an e-mail or phone that changed hands and when. It is needed while a
request never verified that gave that value before the moment exists (it is hidden from the value's
next holder, :func:`garde.rights.self_service.my_requests`, :func:`garde.rights.held.garde_held`) and
while a session opened before the moment may still be used (its "details changed" page): session rows
go after two days. Past both, it goes, at the next session start or move.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.rights import FileMailer, submit
from garde.rights.sessions import start_session
from garde.rights.tables import identity_handovers, requests
from garde.subjects import ensure_subject, identifier_hash, now
from tests.test_rights_requests import verified_request


def test_a_handover_goes_once_no_request_or_session_needs_it(engine: sa.Engine, tmp_path: Path) -> None:
    moment = now()
    old, recent = moment - timedelta(days=3), moment - timedelta(days=1)
    with engine.begin() as conn:
        key = identifier_data_key(conn)

        def digest(email: str) -> str:
            return identifier_hash("email", email, key)

        def made(email: str, at: object, *, proven: bool = False) -> None:
            request = (verified_request(conn, {"email": email}) if proven
                       else submit(conn, "access", {"email": email}))
            conn.execute(requests.update().where(requests.c.id == request.id).values(received_at=at))

        ensure_subject(conn, {"email": "proven@example.org"})
        made("unproven@example.org", old - timedelta(hours=1))  # never verified, before: keeps it
        made("after@example.org", old + timedelta(hours=1))  # never verified, after: not hidden by it
        made("proven@example.org", old - timedelta(hours=1), proven=True)  # verified: by its subject
        conn.execute(identity_handovers.insert(), [
            {"digest": digest("unproven@example.org"), "at": old},
            {"digest": digest("after@example.org"), "at": old},
            {"digest": digest("proven@example.org"), "at": old},
            {"digest": digest("nobody@example.org"), "at": old},
            {"digest": digest("recent@example.org"), "at": recent},  # a session of before may be open
        ])
    start_session(engine, "email", "someone@example.org", FileMailer(tmp_path))
    with engine.connect() as conn:
        kept = set(conn.execute(sa.select(identity_handovers.c.digest)).scalars())
    assert kept == {digest("unproven@example.org"), digest("recent@example.org")}
