"""What a subject wrote as the reason of an objection or a restriction outlives their erasure.

Red team of 2026-12-07 (red30, medium-low, not fixed). A subject's objection or restriction request
takes a free-text ``reason`` (the privacy center's form, ``POST /api/v1/me/requests``); people write
there what they object about: "I live at 12 rue des Lilas now, stop mailing Ana Lima". garde copies
it into the audit entry (``subject.objected``, ``subject.restricted``: append-only, read by an
``auditor`` key), the request's ``details`` and ``result``, and ``subject_objections.reason``. After
the same subject's erasure completes, all four still hold it (``tests/test_erasure_leaves_nothing.py``
took the subject through no objection or restriction). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from garde.rights.running import run
from tests.leftovers import in_store
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)

WORDS = "Lilasnouveau"  # a street name only this test writes


@pytest.mark.xfail(strict=True, reason="red30: an objection's or restriction's reason, the subject's own "
                                       "words, stays in the audit log, requests and objections after erasure")
def test_an_erasure_leaves_nothing_of_the_reasons_the_subject_wrote(shop: Shop) -> None:  # noqa: F811
    asked = {"objection": {"scope": "direct_marketing", "reason": f"I live at 12 rue des {WORDS} now"},
             "restriction": {"reason": f"my address, rue des {WORDS}, is wrong"}}
    for kind, details in asked.items():
        assert run(shop.store, verified(shop, kind, {"email": "ana@example.org"}, **details),
                   shop.deployment).status == "completed"
    erasure = verified(shop, "erasure", {"email": "ana@example.org"})
    assert run(shop.store, erasure, shop.deployment).status == "completed"
    assert in_store(shop.store, {"reason": {WORDS.casefold()}}) == []
