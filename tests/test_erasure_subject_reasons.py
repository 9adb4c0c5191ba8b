"""What a subject wrote as the reason of an objection or a restriction outlives their erasure.

Red team of 2026-12-07 (red30, medium-low, not fixed). A subject's objection or restriction request
takes a free-text ``reason`` (the privacy center's form, ``POST /api/v1/me/requests``); people write
there what they object about: "I live at 12 rue des Lilas now, stop mailing Ana Lima". garde copies
it into the audit entry (``subject.objected``, ``subject.restricted``: append-only, read by an
``auditor`` key), the request's ``details`` and ``result``, and ``subject_objections.reason``. After
the same subject's erasure completes, all four still hold it (``tests/test_erasure_leaves_nothing.py``
took the subject through no objection or restriction). On SQLite and PostgreSQL.

Fixed (fix31): the log says a reason was given, with its keyed digest; the words stay in the
request and the objection, which staff and the subject's access answer show, and which the erasure
replaces by ``[erased]`` in the transaction completing it.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from garde import audit
from garde.rights.intake import get_request
from garde.rights.restriction import ERASED, said
from garde.rights.running import run
from garde.subjects import subject_objections
from tests.leftovers import in_store
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)

WORDS = "Lilasnouveau"  # a street name only this test writes


def test_an_erasure_leaves_nothing_of_the_reasons_the_subject_wrote(shop: Shop) -> None:  # noqa: F811
    asked = {"objection": {"scope": "direct_marketing", "reason": f"I live at 12 rue des {WORDS} now"},
             "restriction": {"reason": f"my address, rue des {WORDS}, is wrong"}}
    for kind, details in asked.items():
        assert run(shop.store, verified(shop, kind, {"email": "ana@example.org"}, **details),
                   shop.deployment).status == "completed"
    erasure = verified(shop, "erasure", {"email": "ana@example.org"})
    assert run(shop.store, erasure, shop.deployment).status == "completed"
    assert in_store(shop.store, {"reason": {WORDS.casefold()}}) == []


def test_the_log_says_a_reason_was_given_and_the_request_and_objection_keep_the_words(
        shop: Shop) -> None:  # noqa: F811
    words = f"I live at 12 rue des {WORDS} now"
    objection = verified(shop, "objection", {"email": "ana@example.org"}, scope="direct_marketing",
                         reason=words)
    restriction = verified(shop, "restriction", {"email": "ana@example.org"})  # no reason given
    for request_id in (objection, restriction):
        assert run(shop.store, request_id, shop.deployment).status == "completed"
    with shop.store.connect() as conn:
        logged = list(audit.entries(conn))
        objected = next(e["payload"] for e in logged if e["kind"] == "subject.objected")
        restricted = next(e["payload"] for e in logged if e["kind"] == "subject.restricted")
        assert objected["reason_given"] and objected["reason_hash"] == said(conn, words)["reason_hash"]
        assert "reason" not in objected and restricted == {"request": restriction, "reason_given": False}
        assert WORDS.casefold() not in json.dumps(logged, default=str).casefold()
        request = get_request(conn, objection)
        assert request.details["reason"] == words and request.result is not None
        assert request.result["reason"] == words  # staff's page of the request shows it
        kept = conn.execute(sa.select(subject_objections.c.reason)).scalars().all()
        assert kept == [words]
    erasure = verified(shop, "erasure", {"email": "ana@example.org"})
    assert run(shop.store, erasure, shop.deployment).status == "completed"
    with shop.store.connect() as conn:
        request = get_request(conn, objection)
        assert request.details["reason"] == ERASED and request.result is not None
        assert request.result["reason"] == ERASED
        assert conn.execute(sa.select(subject_objections.c.reason)).scalars().all() == [ERASED]
