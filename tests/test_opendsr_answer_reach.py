"""red28: what an ``opendsr`` key's word opens to a data subject's session.

An OpenDSR tool's key reaches only ``/opendsr/*``, and the answer files of the requests it sends are
staff's to fetch (sec27: a 403 on ``results_url``). But the identities such a request names count as
checked, all of them, and the request's subject links them as *proven*. Someone who uses a privacy
tool that checked only their own mailbox (or holds the tool's key) sends an access request naming
their mailbox beside another customer's number; staff run it as any verified request; the sender
then signs in to garde's own subject API with their mailbox and reads the request's answer: the
other customer's account, orders and addresses. Against a real `garde serve`, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import sqlalchemy as sa

from tests.api_support import Served, bearer


def _customer_number(served: Served, email: str) -> str:
    engine = sa.create_engine(served.env["GARDE_SHOP_URL"], poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT customer_number FROM customers WHERE email = :e"),
                                    {"e": email}).scalar_one())
    finally:
        engine.dispose()


def _sent_by_tool(served: Served, mailbox: str, number: str) -> str:
    """An OpenDSR access request naming ``mailbox`` beside the customer number ``number``, sent with
    the tool's key; its id."""
    sent = {"regulation": "gdpr", "subject_request_id": str(uuid.uuid4()), "subject_request_type": "access",
            "subject_identities": [
                {"identity_type": "email", "identity_value": mailbox, "identity_format": "raw"},
                {"identity_type": "controller_customer_id", "identity_value": number,
                 "identity_format": "raw"}]}
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["opendsr"])) as tool:
        assert tool.post("/opendsr/requests", json=sent).status_code == 201
    return str(sent["subject_request_id"])


def _signed_in(me: httpx.Client, served: Served, email: str) -> str:
    """A subject session's token for ``email``: the code read from the last mail to it."""
    before = len(served.mails(to=email))
    started = me.post("/session", json={"email": email})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 30
    while len(mails := served.mails(to=email)) == before:
        assert time.monotonic() < deadline, mails
        time.sleep(0.05)
    code = re.search(r"\b(\d{6})\b", mails[-1][1])
    assert code
    confirmed = me.post("/session/confirm",
                        json={"session": started.json()["session"], "code": code.group(1)})
    assert confirmed.status_code == 200, confirmed.text
    token: str = confirmed.json()["token"]
    return token


def test_an_opendsr_requests_answer_is_not_read_through_one_of_its_identities(served_shared: Served) -> None:
    served = served_shared
    victim = served.customers[-2]
    number = _customer_number(served, victim)
    mallory = f"mallory-{uuid.uuid4().hex[:8]}@example.net"  # her own mailbox, never a customer
    request_id = _sent_by_tool(served, mallory, number)
    with httpx.Client(base_url=served.url, timeout=60, headers=bearer(served.keys["opendsr"])) as tool:
        # the tool itself cannot fetch the answer (sec27)
        assert tool.get(f"/api/v1/requests/{request_id}/files").status_code == 403
    with served.client("dpo") as dpo:  # staff run the verified request, as every day
        assert served.run(dpo, request_id).json()["status"] == "completed"
    with httpx.Client(base_url=f"{served.url}/api/v1/me", timeout=60) as me:
        me.headers.update(bearer(_signed_in(me, served, mallory)))
        listed = me.get("/files").json()
        read = me.get(f"/requests/{request_id}/files/access.json")
    shown = json.dumps(listed) + (read.text if read.status_code == 200 else "")
    assert victim not in shown and number not in shown, "Mallory read the customer's access answer"
    assert read.status_code == 404


def test_an_opendsr_request_does_not_link_the_senders_mailbox_to_a_customers_subject(
        served_shared: Served) -> None:
    served = served_shared
    victim = served.customers[-3]
    number = _customer_number(served, victim)
    mallory = f"mallory-{uuid.uuid4().hex[:8]}@example.net"
    with served.client("service") as shop:  # the customer's consent, recorded by her account's number
        given = shop.post("/consents/give", json={"activity": "newsletter", "channel": "email",
                                                  "subject": {"customer_id": number}, "method": "web_form"})
        assert given.status_code == 201, given.text
    _sent_by_tool(served, mallory, number)
    with httpx.Client(base_url=f"{served.url}/api/v1/me", timeout=60) as me:
        me.headers.update(bearer(_signed_in(me, served, mallory)))
        consents = me.get("/consents").json()
    assert not consents["state"], "Mallory's session reads the customer's consents"
