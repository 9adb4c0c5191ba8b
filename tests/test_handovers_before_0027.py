"""Moves made before migration 0027 get their moment back (0030), from the rectification's own row.

A store upgraded to 0027 had an empty ``identity_handovers``: a request never verified that named Ana's
old address before her rectification (made with 0026's code, which already moved the link) was still
listed to whoever proved that address next. 0030 records, for each completed rectification that moved
an identity kind, the value the request was made with, at its completion, unless the subject still
holds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.rights.intake import get_request, submit
from garde.rights.self_service import my_requests
from garde.rights.sessions import SubjectSession
from garde.rights.tables import identity_handovers
from garde.store import migrate
from garde.subjects import identifier_hash
from tests.test_decide_buckets import downgrade
from tests.test_rectification_recycled import ANA, NEW, _rectified
from tests.test_rights_requests import Shop, shop  # noqa: F401


def _next_holders_requests(store: sa.Engine) -> list[str]:
    """The requests a session proving ANA (its next holder: linked to no one) lists."""
    with store.connect() as conn:
        digest = identifier_hash("email", ANA, identifier_data_key(conn))
        session = SubjectSession(id="s" * 32, kind="email", identity_hash=digest, identity=ANA,
                                 subject_id=None, language="en",
                                 expires_at=datetime.now(UTC) + timedelta(hours=1))
        return [request.id for request in my_requests(conn, session)]


def test_a_move_made_before_0027_hides_the_former_holders_unproven_requests_after_the_upgrade(
        shop: Shop) -> None:  # noqa: F811
    with shop.store.begin() as conn:
        before = submit(conn, "erasure", {"email": ANA}).id  # a form filled in, its code never typed
    assert _rectified(shop, ANA, NEW)["email"]
    with shop.store.begin() as conn:
        rectification = conn.execute(sa.text(
            "SELECT id FROM requests WHERE type = 'rectification'")).scalar_one()
        completed_at = get_request(conn, rectification).completed_at
        conn.execute(identity_handovers.delete())
    # The store as 0026 left it: the same rows, no moment recorded (0027 creates the table empty).
    downgrade(shop.store, "0026")
    migrate(shop.store)
    assert before not in _next_holders_requests(shop.store)  # before 0030: listed
    with shop.store.connect() as conn:
        digest = identifier_hash("email", ANA, identifier_data_key(conn))
        rows = conn.execute(sa.select(identity_handovers)).all()
    assert [row.digest for row in rows] == [digest]
    at = rows[0].at if rows[0].at.tzinfo else rows[0].at.replace(tzinfo=UTC)
    assert completed_at is not None and at == completed_at
