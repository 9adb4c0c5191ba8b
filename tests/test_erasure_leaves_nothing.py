"""After an erasure, garde itself keeps nothing that names the person (GDPR Art. 17(1), 5(1)(c)).

A shop customer goes through everything garde offers a subject, against a real `garde serve` (and a
real `garde worker` on PostgreSQL) with the file mailer: consents given and withdrawn through the
API and the privacy center, a banner choice, privacy-center and API sessions, access, portability
and rectification answered, an audience exported; then they are erased. Every table of garde's store
(procrastinate's job rows, sessions, rate limits, the mail outbox, identity handovers, audit
payloads...) and every file garde wrote (answers, mails, its logs, the SQLite store's own file) is
then searched for their e-mail, phone, names, postal address and customer number, in every spelling
garde writes them (``tests.leftovers``). What may stay is listed below with its reason.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from garde.store import connect
from tests.api_support import Served, served_shop
from tests.leftovers import in_files, in_store, owner_only, spellings
from tests.web_support import csrf_of, mailed_code_to, mails_to, privacy_center

NEW_NAME = "Quentinella"  # the first name the subject rectifies theirs to

# Nothing in the store may name the erased person afterwards. In garde's files, one thing: the mail
# telling them the erasure was carried out (Art. 12(3), 19), addressed to them and written after it;
# the file mailer's outbox is its delivery (an SMTP mailer's is the server's).


@pytest.fixture
def served(migrated_url: str, tmp_path: Path, request: pytest.FixtureRequest,
           umask_022: None) -> Iterator[Served]:
    """The reference shop and a real `garde serve` over it (its log in ``serve.log``), and a worker on
    PostgreSQL (its log in ``worker.log``), all under ``tmp_path``, started under umask 022."""
    admin = None if migrated_url.startswith("sqlite") else request.getfixturevalue("postgres_admin_url")
    with served_shop(migrated_url, tmp_path, admin, serve_log=tmp_path / "serve.log") as running:
        yield running


def _person(served: Served, email: str) -> dict[str, str]:
    shop = sa.create_engine(served.env["GARDE_SHOP_URL"])
    try:
        with shop.connect() as conn:
            row = conn.execute(sa.text("SELECT id, customer_number, phone, first_name, last_name "
                                       "FROM customers WHERE email = :e"), {"e": email}).one()
            street, postal = conn.execute(sa.text(  # not the city: other customers' rows name it too
                "SELECT street, postal_code FROM addresses WHERE customer_id = :c"), {"c": row.id}).one()
    finally:
        shop.dispose()
    return {"email": email, "phone": row.phone, "customer_number": row.customer_number,
            "first_name": row.first_name, "last_name": row.last_name, "street": street, "postal_code": postal}


def _privacy_center(served: Served, email: str) -> None:
    with privacy_center(served, email) as browser:
        csrf = csrf_of(browser.get("/privacy/me").text)
        for action in ("give", "withdraw"):
            changed = browser.post("/privacy/me/consents", data={
                "csrf": csrf, "activity": "newsletter", "channel": "email", "action": action})
            assert changed.status_code == 303, changed.text
        assert browser.post("/privacy/me/requests", data={"csrf": csrf, "type": "access"}).status_code == 303
        assert browser.post("/privacy/me/logout", data={"csrf": csrf}).status_code == 303


def _api_session(served: Served, email: str) -> dict[str, str]:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        before = len(mails_to(served.outbox, email))
        started = http.post("/api/v1/me/session", json={"email": email, "language": "fr"})
        assert started.status_code == 202, started.text
        confirmed = http.post("/api/v1/me/session/confirm", json={
            "session": started.json()["session"], "code": mailed_code_to(served.outbox, email, before)})
        assert confirmed.status_code == 200, confirmed.text
        return {"Authorization": f"Bearer {confirmed.json()['token']}"}


def _everything_then_erasure(served: Served, person: dict[str, str]) -> str:
    email = person["email"]
    with served.client("service") as shop:
        subject = {"email": email, "phone": person["phone"], "customer_id": person["customer_number"]}
        given = shop.post("/consents/give", json={"activity": "newsletter", "subject": subject,
                                                  "ip": "203.0.113.7", "user_agent": "Firefox"})
        assert given.status_code == 201, given.text
        assert shop.post("/consents/withdraw", json={"activity": "newsletter", "subject": {"email": email},
                                                     "unsubscribe": True}).status_code == 201
        assert shop.post("/audiences", json={"activity": "newsletter", "channel": "email"}).status_code == 200
    with httpx.Client(base_url=served.url, timeout=60) as visitor:
        config = visitor.get("/banner/v1/reference-shop/config.json")
        assert config.status_code == 200, config.text
    _privacy_center(served, email)
    mine = _api_session(served, email)
    with httpx.Client(base_url=f"{served.url}/api/v1", timeout=120, headers=mine) as me, \
            served.client("agent") as agent:
        asked = []
        for body in ({"type": "access"}, {"type": "portability"},
                     {"type": "rectification",
                      "details": {"corrections": {"shop.customers.first_name": NEW_NAME}}}):
            submitted = me.post("/me/requests", json={**body, "language": "fr"})
            assert submitted.status_code == 201, submitted.text
            asked.append(submitted.json()["id"])
        waiting = [r["id"] for r in me.get("/me/requests").json() if r["status"] == "verified"]
        assert set(asked) < set(waiting)  # the privacy center's request too: staff run the queue
        for request_id in waiting:
            ran = served.run(agent, request_id)
            assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text
        for file in me.get("/me/files").json():
            assert me.get(f"/me/requests/{file['request_id']}/files/{file['name']}").status_code == 200
        # This session stays open through the erasure: the erasure ends it (it holds the address).
        erasure = agent.post("/requests", json={"type": "erasure", "subject": {"email": email},
                                                "send_code": False})
        assert erasure.status_code == 201, erasure.text
        erasure_id = erasure.json()["request"]["id"]
        verified = agent.post(f"/requests/{erasure_id}/verify", json={
            "out_of_band": "ID card seen in store", "checked": ["email"]})
        assert verified.status_code == 200, verified.text
        ran = served.run(agent, erasure_id)
        assert ran.json()["status"] == "completed", ran.text
        assert me.get("/me/requests").status_code == 401
    _mails_settled(served, email)
    return erasure_id


def _mails_settled(served: Served, email: str) -> None:
    """The answered mails are sent after the answer: wait until the count stops moving."""
    count, end = -1, time.monotonic() + 30
    while time.monotonic() < end:
        now = len(list(served.outbox.rglob("*")))
        if now == count:
            return
        count = now
        time.sleep(1)


def _mail_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body()
    return f"{message['Subject']} {body.get_content() if body is not None else ''}"


def test_an_erased_customer_is_left_nowhere_in_garde_s_store_or_files(served: Served, tmp_path: Path) -> None:
    person = _person(served, served.customers[2])
    erasure = _everything_then_erasure(served, person)
    values = spellings(person | {"new_first_name": NEW_NAME})
    store = connect(served.store)
    try:
        left = in_store(store, values)
    finally:
        store.dispose()
    (told,) = [path for path in served.outbox.iterdir() if erasure in _mail_text(path)]
    shop_files = [tmp_path / "shop.db", tmp_path / "crm.db"]
    left_in_files = in_files([tmp_path], values, {("email", told.name)}, skip=shop_files)
    assert (left, left_in_files) == ([], []), "\n".join(map(str, left + left_in_files))
    # Every file garde wrote is owner-only (the logs are the test's own files, made by its harness).
    assert [f for f in owner_only([tmp_path]) if not f.split()[0].endswith(".log")] == []
    # The engine subject the shop's consent call linked her three identities to is erased, not only the
    # request's own (her address alone did not vouch for it; discovery found all three hers): decide()
    # refuses her (garde.rights.vouching, red25)
    with served.client("service") as shop:
        decided = shop.post("/decisions", json={"activity": "reviews-surveys",
                                                "subject": {"email": person["email"]}})
    assert decided.status_code == 200 and not decided.json()["allowed"], decided.text
