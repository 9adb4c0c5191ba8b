"""garde's records of another person never reach a subject through an identity linked to that person.

Red team of 2026-12-07 (red25). A telephone number changes hands outside garde: Bob held it when
the shop's checkout recorded his newsletter consent with it and his e-mail (one engine subject
holding both), and the shop's customer record now gives it to Ana. Discovery reads it in Ana's
record (a system of record) and counts it hers, rightly for the shop's rows; but garde's own
records were read by every engine subject holding one of her identities, so Ana's access answer
listed Bob's consent and Bob's request with its steps, and her erasure removed Bob's answer files
(and the mails about his request). Now an engine subject counts as the requester's only if every
identity it holds is one discovery found theirs (or it is the request's own): Bob's subject also
holds Bob's e-mail. Against a real `garde serve` over the reference shop, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from tests.api_support import Served
from tests.web_support import answer_files, answered


def test_a_number_linked_to_its_former_holder_opens_none_of_their_records(served_shared: Served) -> None:
    served = served_shared
    ana, bob = served.customers[11], served.customers[12]
    shop = sa.create_engine(served.env["GARDE_SHOP_URL"])
    with shop.connect() as conn:
        number, card = conn.execute(sa.text("SELECT phone, customer_number FROM customers WHERE email = :e"),
                                    {"e": ana}).one()
    shop.dispose()
    assert number and card
    with served.client("service") as service, served.client("agent") as staff:
        given = service.post("/consents/give", json={
            "activity": "newsletter", "subject": {"email": bob, "phone": number}, "channel": "email",
            "method": "web_form"})
        assert given.status_code == 201, given.text
        # Ana's own consent, recorded by her customer number alone: another engine subject, hers
        own = service.post("/consents/give", json={
            "activity": "segmentation", "subject": {"customer_id": card}, "channel": "email",
            "method": "web_form"})
        assert own.status_code == 201, own.text
        bobs = answered(served, staff, "access", bob)
        assert answer_files(staff, bobs) == {"access.html", "access.json"}

        anas = answered(served, staff, "access", ana)
        answer: dict[str, Any] = json.loads(staff.get(f"/requests/{anas}/files/access.json").content)
        # the number is Ana's for the shop: her own record shows it, matched through her e-mail
        assert number in json.dumps(answer)
        held = answer["held"]
        # her consent by customer number, not Bob's (before: listed too)
        assert [c["activity"] for c in held["consents"]] == ["segmentation"], held["consents"]
        assert [r["id"] for r in held["requests"]] == [anas]  # not Bob's request (before: with its steps)
        assert bobs not in json.dumps(answer)

        answered(served, staff, "erasure", ana)
        # Bob's answer is still his (before: Ana's erasure removed it as one of "her" earlier answers)
        assert answer_files(staff, bobs) == {"access.html", "access.json"}
        assert (served.results / bobs / "access.json").is_file()
