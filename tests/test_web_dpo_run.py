"""Running a verified request from the DPO dashboard, on SQLite and PostgreSQL: the same library run
as ``POST /api/v1/requests/{id}/run``, under the DPO's name, and the library's refusal shown on the
page when the request cannot be run."""

from __future__ import annotations

import httpx
import pytest

from tests.api_support import Served, audit_actors
from tests.web_support import log_in

RUN = "Run the request"


@pytest.fixture
def served(served_shared: Served) -> Served:
    """The served shop other modules' tests share: this test reads only its own request's entries."""
    return served_shared


def _at(request_id: str) -> httpx.Response:
    """Where the API shows the request (what a queued run's ``Location`` says)."""
    return httpx.Response(202, headers={"location": f"/api/v1/requests/{request_id}"})


def test_the_dpo_runs_a_verified_request_and_its_answer_files_show(served: Served) -> None:
    with served.client() as api:  # an agent receives the request; the DPO runs it
        submitted = api.post("/requests", json={"type": "access", "subject": {"email": served.customers[2]}})
        request_id = submitted.json()["request"]["id"]
        with httpx.Client(base_url=served.url, timeout=60) as browser:
            csrf = log_in(browser, served.keys["dpo"])
            assert RUN not in browser.get(f"/dpo/requests/{request_id}").text
            refused = browser.post(f"/dpo/requests/{request_id}/run", data={"csrf": csrf})
            assert refused.status_code == 409
            assert "is received; it cannot be run (verify the requester&#39;s identity first)" in refused.text
            assert audit_actors(served.store, "request.in_progress", request_id) == []

            checked = api.post(f"/requests/{request_id}/verify",
                               json={"out_of_band": "customer card shown in store", "checked": ["email"]})
            assert checked.status_code == 200, checked.text
            page = browser.get(f"/dpo/requests/{request_id}")
            assert RUN in page.text and "files/access" not in page.text
            ran = browser.post(f"/dpo/requests/{request_id}/run", data={"csrf": csrf})
            assert (ran.status_code, ran.headers["location"]) == (303, f"/dpo/requests/{request_id}")
            # on PostgreSQL the run was queued (the page did not wait for it): a worker ends it
            assert served.ended(api, _at(request_id)).json()["status"] == "completed"
            page = browser.get(f"/dpo/requests/{request_id}")
            assert f"/dpo/requests/{request_id}/files/access.html" in page.text
            assert "<td>completed</td>" in page.text and RUN not in page.text
            again = browser.post(f"/dpo/requests/{request_id}/run", data={"csrf": csrf})
            assert again.status_code == 409 and "is completed; it cannot be run" in again.text
    ran_by = audit_actors(served.store, "request.in_progress", request_id) \
        + audit_actors(served.store, "request.completed", request_id)
    assert ran_by and set(ran_by) == {"key:dpo-office"}, ran_by
    assert (served.results / request_id / "access.html").is_file()
