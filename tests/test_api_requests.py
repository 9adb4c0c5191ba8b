"""Data-subject requests handled by staff over HTTP, against a real `garde serve` on SQLite and on
PostgreSQL, over the reference shop: submit, the code from the outbox, verify, run, download the
answer; extend and reject, told by mail; wrong codes counted before they are answered; the files
reachable only by their own names; keys of other roles refused.

One `garde serve` (and worker) per database and test worker, shared with other modules: each test reads
only its own requests, the mails to its own addresses and the audit entries about its own requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from garde.store import connect
from tests.api_support import Served, audit_actors, problem_of
from tests.web_support import mailed_code_to, mails_to


@pytest.fixture
def served(served_shared: Served) -> Served:
    """One `garde serve` for the tests of every module that shares it (per database and test worker):
    each asserts about its own requests."""
    return served_shared


def _request_ids(store: str, status: str | None = None) -> list[str]:
    """Every request of the store (or those with ``status``), oldest first, as the list pages them."""
    engine = connect(store)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM requests ORDER BY received_at, id")).all()
    engine.dispose()
    return [request_id for request_id, found in rows if status is None or found == status]


def test_an_agent_answers_an_access_request_from_submit_to_download(served: Served) -> None:
    before = len(mails_to(served.outbox, served.customer))
    with served.client() as http:
        submitted = http.post("/requests", json={"type": "access", "subject": {"email": served.customer},
                                                 "language": "fr"})
        assert submitted.status_code == 201, submitted.text
        receipt = submitted.json()
        request_id = receipt["request"]["id"]
        assert receipt["codes_sent"] == ["email"] and receipt["unproven"] == ["email"]
        assert receipt["request"]["status"] == "received" and receipt["request"]["identities"] == ["email"]
        assert served.customer not in submitted.text  # identities never come back, only their kinds
        code = mailed_code_to(served.outbox, served.customer, before)
        wrong = problem_of(http.post(f"/requests/{request_id}/verify",
                                   json={"code": "000000" if code != "000000" else "111111"}), 400)
        assert "wrong code; 4 attempts left" in wrong["detail"]
        assert http.get(f"/requests/{request_id}").json()["wrong_attempts"] == 1  # committed, then answered
        verified = http.post(f"/requests/{request_id}/verify", json={"code": code})
        assert verified.status_code == 200, verified.text
        assert verified.json()["status"] == "verified"
        assert verified.json()["proofs"]["email"]["method"] == "code"
        early = problem_of(http.get(f"/requests/{request_id}/files"), 409)
        assert early["detail"].endswith("no answer files yet")
        ran = http.post(f"/requests/{request_id}/run")
        if served.store.startswith("postgresql"):  # queued for the workers: 202, the job, where to poll
            assert ran.status_code == 202, ran.text
            assert ran.headers["location"] == f"/api/v1/requests/{request_id}"
            assert ran.json()["request_id"] == request_id and ran.json()["status"] == "queued"
            assert isinstance(ran.json()["job_id"], int)
            ran = served.ended(http, ran)
        assert ran.status_code == 200, ran.text
        done = ran.json()
        assert done["status"] == "completed" and done["result"]["files"] == ["access.json", "access.html"]
        steps = [step["status"] for step in done["steps"]]
        assert steps == ["received", "verified", "in_progress", "completed"]
        assert {"at", "actor", "note"} <= set(done["steps"][0]) and done["due"] == done["deadline"]
        files = http.get(f"/requests/{request_id}/files").json()
        assert [(f["name"], f["media_type"]) for f in files] == [
            ("access.html", "text/html; charset=utf-8"), ("access.json", "application/json")]
        answer = http.get(f"/requests/{request_id}/files/access.json")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.headers["content-disposition"] == 'attachment; filename="access.json"'
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert served.customer in json.dumps(answer.json(), ensure_ascii=False)
        page = http.get(f"/requests/{request_id}/files/access.html")
        assert page.headers["content-type"] == "text/html; charset=utf-8" and "<html" in page.text.lower()
        assert page.headers["content-security-policy"] == "sandbox"
    subjects = [subject for subject, _ in served.mails(to=served.customer)[before:]]
    assert any("votre réponse est prête" in subject for subject in subjects)
    actors = audit_actors(served.store, "request.", request_id)
    assert set(actors) == {"key:callcentre"} and len(actors) >= 4, actors
    assert "key:callcentre" in audit_actors(served.store, "request.answer_read", request_id)


def test_answer_files_are_reached_by_their_own_names_only(served: Served) -> None:
    with served.client("dpo") as http:
        ids = []
        for _ in range(2):
            submitted = http.post("/requests", json={"type": "access", "subject": {"email": served.customer}})
            request_id = submitted.json()["request"]["id"]
            checked = http.post(f"/requests/{request_id}/verify", json={
                "out_of_band": "customer card shown in store", "checked": ["email"]})
            assert checked.status_code == 200, checked.text
            ids.append(request_id)
        assert served.run(http, ids[0]).json()["status"] == "completed"
        for name in ("access.jsonx", ".access.json", "..%2F..%2Fgarde.db", "%2E%2E", "garde.db",
                     "%2Fetc%2Fpasswd", "access.json%00"):
            assert http.get(f"/requests/{ids[0]}/files/{name}").status_code == 404, name
        # the other request is not answered: it has no files, not even its neighbour's
        assert http.get(f"/requests/{ids[1]}/files/access.json").status_code == 409
        assert http.get(f"/requests/{'f' * 36}/files/access.json").status_code == 404


def test_submitting_tells_nothing_about_whether_the_person_is_known(served: Served) -> None:
    def anonymous(answer: dict[str, Any]) -> dict[str, Any]:
        request = {k: v for k, v in answer["request"].items()
                   if k not in ("id", "received_at", "steps")}
        return {**answer, "request": request}

    with served.client() as http:
        known = http.post("/requests", json={"type": "erasure", "subject": {"email": served.customer}})
        unknown = http.post("/requests", json={"type": "erasure", "subject": {"email": "nobody@example.net"}})
    assert known.status_code == unknown.status_code == 201
    assert anonymous(known.json()) == anonymous(unknown.json())
    assert [s["status"] for s in known.json()["request"]["steps"]] == ["received"]


def test_extend_and_reject_tell_the_subject_by_mail(served: Served) -> None:
    with served.client() as http:
        request_id = http.post("/requests", json={"type": "access", "subject": {"email": "ana@example.org"},
                                                  "language": "en"}).json()["request"]["id"]
        extended = http.post(f"/requests/{request_id}/extend", json={"reason": "several systems to search"})
        assert extended.status_code == 200, extended.text
        assert extended.json()["extension_reason"] == "several systems to search"
        assert extended.json()["due"] == extended.json()["extended_deadline"] != extended.json()["deadline"]
        again = problem_of(http.post(f"/requests/{request_id}/extend", json={"reason": "again"}), 400)
        assert "already extended" in again["detail"]
        rejected = http.post(f"/requests/{request_id}/reject", json={"reason": "manifestly unfounded"})
        assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
        assert problem_of(http.post(f"/requests/{request_id}/reject", json={"reason": "twice"}), 409)
        assert problem_of(http.post(f"/requests/{request_id}/extend", json={"reason": ""}), 422)
    mails = served.mails(to="ana@example.org")
    assert [subject for subject, _ in mails][1:] == [
        f"Your request {request_id}: more time needed to answer",
        f"Your request {request_id}: we cannot act on it"]
    assert "several systems to search" in mails[1][1] and "manifestly unfounded" in mails[2][1]
    assert audit_actors(served.store, "request.notified", request_id) == ["key:callcentre"] * 2


def test_wrong_codes_lock_the_request_and_each_is_counted_before_its_answer(served: Served) -> None:
    with served.client() as http:
        request_id = http.post("/requests", json={"type": "access", "subject": {"email": "bob@example.org"}}
                               ).json()["request"]["id"]
        code = mailed_code_to(served.outbox, "bob@example.org", 0)
        wrong = "000000" if code != "000000" else "111111"
        for attempt in range(1, 6):
            problem_of(http.post(f"/requests/{request_id}/verify", json={"code": wrong}), 400)
            assert http.get(f"/requests/{request_id}").json()["wrong_attempts"] == attempt
        locked = problem_of(http.post(f"/requests/{request_id}/verify", json={"code": code}), 400)
        assert "locked" in locked["detail"]
        shown = http.get(f"/requests/{request_id}").json()
        assert shown["locked"] is True and shown["status"] == "received"
        assert [item["id"] for item in http.get("/requests", params={"status": "locked"}).json()["items"]] \
            == [request_id]  # the module's only locked request
        refused = problem_of(http.post(f"/requests/{request_id}/codes", json={}), 400)
        assert "locked" in refused["detail"]


def test_an_agent_checks_a_customer_number_out_of_band(served: Served) -> None:
    with served.client() as http:
        receipt = http.post("/requests", json={"type": "access", "subject": {"customer_id": "C-404"}}).json()
        assert receipt["codes_sent"] == [] and receipt["unproven"] == ["customer_id"]
        request_id = receipt["request"]["id"]
        assert problem_of(http.post(f"/requests/{request_id}/run"), 409)["detail"].endswith(
            "(verify the requester's identity first)")
        neither = problem_of(http.post(f"/requests/{request_id}/verify", json={}), 422)
        assert "code or out_of_band" in json.dumps(neither)
        unnamed = problem_of(http.post(f"/requests/{request_id}/verify", json={"out_of_band": "ID card"}),
                             400)
        assert "names no identity" in unnamed["detail"]
        checked = http.post(f"/requests/{request_id}/verify",
                            json={"out_of_band": "ID card shown in store", "checked": ["customer_id"]}).json()
        assert checked["status"] == "verified"
        assert checked["proofs"]["customer_id"]["by"] == "key:callcentre"
        assert checked["proofs"]["customer_id"]["note"] == "ID card shown in store"


def test_lists_filter_and_page_with_cursors(served: Served) -> None:
    with served.client() as http:
        made = [http.post("/requests", json={"type": "objection", "subject": {"customer_id": f"C-9{i}"},
                                             "send_code": False}).json()["request"]["id"] for i in range(5)]
        http.post(f"/requests/{made[1]}/reject", json={"reason": "not a customer"})
        seen, cursor = [], None
        while True:
            page = http.get("/requests", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            assert len(page["items"]) <= 2
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == _request_ids(served.store) and seen[-5:] == made  # every request once, in order
        rejected = http.get("/requests", params={"status": "rejected"}).json()
        assert [item["id"] for item in rejected["items"]] == _request_ids(served.store, "rejected")
        assert made[1] in _request_ids(served.store, "rejected") and rejected["next_cursor"] is None
        assert not set(made) - {made[1]} & set(_request_ids(served.store, "rejected"))
        assert http.get("/requests", params={"overdue": True}).json()["items"] == []
        bad = problem_of(http.get("/requests", params={"cursor": "bm90IGEgY3Vyc29y"}), 400)
        assert bad["errors"][0]["field"] == "query.cursor"
        too_many = problem_of(http.get("/requests", params={"limit": 201}), 422)
        assert too_many["errors"][0]["field"] == "query.limit"
        assert problem_of(http.get("/requests", params={"status": "lost"}), 422)


def test_keys_reach_only_their_roles_routes(served: Served) -> None:
    with served.client() as agent:
        request_id = agent.post("/requests", json={"type": "access", "subject": {"customer_id": "C-1"},
                                                   "send_code": False}).json()["request"]["id"]
        for method, path in (("GET", "/registers"), ("GET", "/audit/verify"), ("POST", "/decisions")):
            assert problem_of(agent.request(method, path, json={}), 403)["detail"] == \
                "the role agent may not use this route"
    for role in ("service", "auditor"):
        with served.client(role) as other:
            for method, path in (("GET", "/requests"), ("GET", f"/requests/{request_id}"),
                                 ("POST", f"/requests/{request_id}/run"), ("POST", "/requests"),
                                 ("GET", f"/requests/{request_id}/files/access.json")):
                assert problem_of(other.request(method, path, json={}), 403), (role, path)
    with httpx.Client(base_url=served.url, timeout=30) as anonymous:
        assert problem_of(anonymous.get(f"/api/v1/requests/{request_id}"), 401)
        assert problem_of(anonymous.get("/opendsr/discovery"), 401)


def test_staff_check_a_rectifications_new_address_through_the_api(served: Served) -> None:
    """The new value of a rectification (garde.rights.new_identity) is proven by its own code
    (``identity: new_email``) or a staff check naming it, with the reason, audited under the key."""
    with served.client("dpo") as http:
        submitted = http.post("/requests", json={
            "type": "rectification", "subject": {"email": served.customer},
            "corrections": {"contact.email": "new.address@example.net"}, "send_code": False})
        request_id = submitted.json()["request"]["id"]
        no_code = problem_of(http.post(f"/requests/{request_id}/verify",
                                       json={"code": "123456", "identity": "new_email"}), 400)
        assert "no code waiting" in no_code["detail"]
        checked = http.post(f"/requests/{request_id}/verify", json={
            "out_of_band": "called back on the number on file", "checked": ["email", "new_email"]})
        assert checked.status_code == 200, checked.text
        proofs = checked.json()["proofs"]
        assert proofs["new_email"]["method"] == "out_of_band" and proofs["email"]["method"] == "out_of_band"
        assert proofs["new_email"]["note"] == "called back on the number on file"
    assert audit_actors(served.store, "request.proven", request_id) == ["key:dpo-office"]
