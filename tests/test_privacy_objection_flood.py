"""The privacy center's objection to direct marketing writes once, however often it is posted.

Red team of 2026-12-08 (red31, low). ``POST /privacy/me/object`` has no rate limit (the consent
changes beside it have theirs); for a session whose identity does not vouch for its subject's whole
record (narrowed: the shop's systems linked another identity to it), each post appended an
``objection`` audit entry, even when that identity was on the suppression list already. Anyone whose
own address the shop recorded beside a phone number signs in and grows the append-only, sealed log
(which no retention shortens) by one entry a post, as fast as the server answers. Now a narrowed
session's objection records and audits only when it adds the identity to the list, as the whole
subject's objection already did. Through a real `garde serve`, SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from garde.store import connect
from tests.api_support import Served
from tests.web_support import csrf_of, privacy_center

POSTS = 5


def _objections(url: str) -> int:
    engine = connect(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE kind = 'objection'")).scalar()
    engine.dispose()
    return int(found or 0)


def test_a_narrowed_sessions_objection_posted_again_writes_nothing(served: Served) -> None:
    mallory = f"mallory-{uuid.uuid4().hex[:8]}@example.org"
    phone = f"+3361{uuid.uuid4().int % 10**7:07d}"
    with served.client("service") as shop:  # the shop's form: her address and a number, linked on its word
        given = shop.post("/consents/give", json={"activity": "newsletter", "channel": "email",
                                                  "subject": {"email": mallory, "phone": phone}})
        assert given.status_code == 201, given.text
    before = _objections(served.store)
    with privacy_center(served, mallory) as browser:
        for _ in range(POSTS):
            page = browser.get("/privacy/me")
            assert page.status_code == 200, page.text
            posted = browser.post("/privacy/me/object", data={"csrf": csrf_of(page.text)})
            assert posted.status_code == 303, posted.text
    assert _objections(served.store) - before == 1
