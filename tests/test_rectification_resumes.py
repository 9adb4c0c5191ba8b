"""A rectification waiting for its new e-mail runs once the subject types the code sent to it, as a run
started by staff does: here on SQLite, by a worker on PostgreSQL; once, however often the code is sent.

Before, the proof was recorded and nothing more: the request stayed ``verified`` until staff ran it
again, and the subject's page said "being prepared" for as long as no one looked.
"""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from tests.api_support import Served, audit_actors
from tests.test_web_privacy_requests import _signed_in
from tests.web_support import csrf_of, mailed_code_to


def _status(back_office: httpx.Client, served: Served, request_id: str) -> str:
    """The request's status once no worker is about to change it (on PostgreSQL: polled, bounded)."""
    at = httpx.Response(202, headers={"location": f"/api/v1/requests/{request_id}"})
    return str(served.ended(back_office, at).json()["status"])


def _customer_email(served: Served, number: int) -> str:
    engine = sa.create_engine(served.env["GARDE_SHOP_URL"])
    with engine.connect() as conn:
        email = conn.execute(sa.text("SELECT email FROM customers WHERE email IS NOT NULL ORDER BY id "
                                     "LIMIT 1 OFFSET :n"), {"n": number}).scalar_one()
    engine.dispose()
    return str(email)


def test_the_subjects_code_for_the_new_address_runs_the_request_once(served_shared: Served) -> None:
    served, customer = served_shared, served_shared.customers[7]
    new = f"moved.{uuid.uuid4().hex[:8]}@example.net"
    with served.client("dpo") as back_office:
        submitted = back_office.post("/requests", json={
            "type": "rectification", "subject": {"email": customer}, "corrections": {"contact.email": new}})
        assert submitted.status_code == 201, submitted.text
        request_id = submitted.json()["request"]["id"]
        checked = back_office.post(f"/requests/{request_id}/verify",
                                   json={"out_of_band": "customer card shown in store", "checked": ["email"]})
        assert checked.status_code == 200, checked.text
        # Staff run it: it waits (409 here, or a worker's run that stops), and a code goes to the new address.
        assert back_office.post(f"/requests/{request_id}/run").status_code in (202, 409)
        code = mailed_code_to(served.outbox, new, 0)
        assert _status(back_office, served, request_id) == "verified"

        mine, _ = _signed_in(served, customer)
        page = f"/privacy/me/requests/{request_id}"
        shown = mine.get(page)
        assert "Waiting for your new contact details to be confirmed" in shown.text
        proven = mine.post(page + "/confirm", data={"csrf": csrf_of(shown.text), "code": code})
        assert (proven.status_code, proven.headers["location"]) == (303, page), proven.text
        assert _status(back_office, served, request_id) == "completed"
        assert _customer_email(served, 7) == new

        again = mine.post(page + "/confirm", data={"csrf": csrf_of(mine.get(page).text), "code": code})
        # Nothing runs a second time. The completed rectification moved the customer's link to the new
        # address: the session opened with the old one no longer opens the request at all.
        assert again.status_code == 404
        assert _status(back_office, served, request_id) == "completed"
        mine.close()
    assert len(audit_actors(served.store, "request.in_progress", request_id)) == 1
    assert len(audit_actors(served.store, "request.completed", request_id)) == 1
