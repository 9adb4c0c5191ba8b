"""A rectification waiting for its new e-mail runs once the subject types the code sent to it, as a run
started by staff does: here on SQLite, by a worker on PostgreSQL; once, however often the code is sent.

Before, the proof was recorded and nothing more: the request stayed ``verified`` until staff ran it
again, and the subject's page said "being prepared" for as long as no one looked.
"""

from __future__ import annotations

import time
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


def _not_running(back_office: httpx.Client, request_id: str) -> str:
    """The request's status once its run is not in progress (bounded). A request waiting for its new
    value's code stays ``verified``, which :meth:`Served.ended` takes for "not yet run" until its
    two-minute bound: this test spent 120 s a database there."""
    end = time.monotonic() + 60
    while (status := str(back_office.get(f"/requests/{request_id}").json()["status"])) == "in_progress":
        assert time.monotonic() < end, f"request {request_id} still in progress"
        time.sleep(0.05)
    return status


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
        assert _not_running(back_office, request_id) == "verified"  # waits for the code (not for a worker)

        mine, _ = _signed_in(served, customer)
        page = f"/privacy/me/requests/{request_id}"
        shown = mine.get(page)
        assert "Waiting for your new contact details to be confirmed" in shown.text
        proven = mine.post(page + "/confirm", data={"csrf": csrf_of(shown.text), "code": code})
        assert _status(back_office, served, request_id) == "completed"
        assert _customer_email(served, 7) == new
        # The completed rectification moved the customer's link to the new address: the session opened
        # with the old one opens nothing of theirs any more (before: a redirect to the request's page, a
        # 404). Where the run completed at once (SQLite), the answer to the code says why and ends the
        # session; where a worker ran it (PostgreSQL), the session's next page does (before: a 404 page
        # with no word of why).
        if proven.status_code == 303:
            assert proven.headers["location"] == page and served.env.get("GARDE_DATABASE_URL", "").startswith(
                "postgresql"), proven.text
            proven = mine.get(page)
        assert proven.status_code == 200, proven.text
        assert "Your contact details were changed" in proven.text and "Sign in again" in proven.text
        assert mine.get(page).status_code == 303  # signed out: to the sign-in page
        mine.close()

        old_address, token = _signed_in(served, customer)  # whoever holds the old address now
        again = old_address.post(page + "/confirm", data={"csrf": token, "code": code})
        assert again.status_code == 404 and customer not in again.text  # nothing runs a second time
        assert _status(back_office, served, request_id) == "completed"
        old_address.close()
    assert len(audit_actors(served.store, "request.in_progress", request_id)) == 1
    assert len(audit_actors(served.store, "request.completed", request_id)) == 1
