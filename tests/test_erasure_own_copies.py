"""Erasure reaches garde's own copies; a finished rectification keeps no new value in clear.

Before, erasing Ana left her earlier access answer (``access.json``,
``access.html``), her portability archive, the copy the demo published, and
the mails sent to her, all holding her data; and a rectification kept the
new phone number in clear in the request's ``details`` for ever.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from garde import audit
from garde.keys import identifier_data_key
from garde.rights import FileMailer
from garde.rights.access import WORDS, report_ready
from garde.rights.copies import copy_answer
from garde.rights.rectification import seal
from garde.rights.running import run
from tests.test_rights_requests import Shop, new_values_checked, shop, verified  # noqa: F401


def test_erasure_removes_earlier_answers_their_copies_and_the_mails_sent(shop: Shop,  # noqa: F811
                                                                         tmp_path: Path) -> None:
    deployment = shop.deployment
    deployment.outbox = tmp_path / "outbox"
    mailer = FileMailer(deployment.outbox)
    access = verified(shop, "access", {"email": "ana@example.org"})
    run(shop.store, access, deployment)
    portability = verified(shop, "portability", {"customer_id": "C-0001"})  # Ana, by another identity
    run(shop.store, portability, deployment)
    bobs = verified(shop, "access", {"email": "bob@example.org"})
    run(shop.store, bobs, deployment)
    (tmp_path / "live").mkdir()
    report_ready(deployment.results / access, deployment.results)  # as the demo does before it copies
    published = copy_answer(deployment, access, deployment.results / access / "access.html",
                            tmp_path / "live" / "access-access.html")
    mailer.send("ana@example.org", "Your code", "Your code is 123456")
    mailer.send("dpo@example.com", "Request to check", f"Please look at request {portability}.")
    mailer.send("bob@example.org", "Your code", "Your code is 654321")
    mails = sorted(deployment.outbox.glob("*.eml"))
    ana_files = {*(deployment.results / access).glob("access.*"), deployment.results / portability /
                 "portability.zip", published, mails[0], mails[1]}
    assert all(path.is_file() for path in ana_files)

    erasure = verified(shop, "erasure", {"email": "ana@example.org"})
    done = run(shop.store, erasure, deployment, today=date(2025, 3, 1))
    assert done.status == "completed" and done.result and done.result["own_copies_removed"] == 6
    assert not any(path.exists() for path in ana_files)
    assert sorted(deployment.outbox.glob("*.eml")) == [mails[2]]  # Bob's mail stays
    # Bob's answer stays as its run left it (its report not rendered yet: nobody has read it)
    assert {p.name for p in (deployment.results / bobs).iterdir()} == {"access.json", WORDS}
    report = json.loads((deployment.results / erasure / "erasure.json").read_text())
    assert {(Path(c["file"]).resolve(), c["kind"], c["removed"]) for c in report["own_copies"]} == {
        *((p.resolve(), "answer", True) for p in ana_files if p.parent.parent == deployment.results),
        (published.resolve(), "published copy", True),
        (mails[0].resolve(), "message", True), (mails[1].resolve(), "message", True)}
    with shop.store.begin() as conn:
        removed = [e for e in audit.entries(conn) if e["kind"] == "request.copies_removed"]
        planned = [e for e in audit.entries(conn) if e["kind"] == "request.erasure_planned"]
    assert len(removed) == 1 and len(removed[0]["payload"]["files"]) == 6
    assert len(planned[0]["payload"]["own_copies"]) == 6  # listed before anything was removed


def test_a_finished_rectification_keeps_a_digest_of_the_new_value_not_the_value(shop: Shop) -> None:  # noqa: F811
    # Changing a phone (an identity) needs the phone proven too.
    request_id = verified(shop, "rectification", {"email": "ana@example.org", "phone": "+33699999999"},
                          corrections={"contact.phone": "+33600000000"})
    new_values_checked(shop, request_id, "phone")
    done = run(shop.store, request_id, shop.deployment)
    assert done.status == "completed"
    with shop.store.begin() as conn:
        stored = conn.execute(sa.text("SELECT details FROM requests WHERE id = :id"),
                              {"id": request_id}).scalar_one()
        key = identifier_data_key(conn)
    assert "+33600000000" not in stored and "600000000" not in stored
    sealed_phone = seal("contact.phone", "+33600000000", key)
    assert json.loads(stored) == {"corrections": {"contact.phone": sealed_phone}}
    assert done.details == json.loads(stored)


def test_erasure_removes_the_text_messages_sent_to_the_subjects_phone(shop: Shop,  # noqa: F811
                                                                       tmp_path: Path) -> None:
    # The file mailer keeps each code sent by SMS as a .sms file: the phone number in clear.
    deployment = shop.deployment
    deployment.outbox = tmp_path / "outbox"
    mailer = FileMailer(deployment.outbox)
    mailer.send_sms("+33 6 99 99 99 99", "Your verification code: 123456")  # Ana's phone, as she wrote it
    mailer.send_sms("+33622222222", "Your verification code: 654321")  # Bob's
    texts = sorted(deployment.outbox.glob("*.sms"))
    erasure = verified(shop, "erasure", {"email": "ana@example.org", "phone": "+33699999999"})  # both proven
    done = run(shop.store, erasure, deployment, today=date(2025, 3, 1))
    assert done.status == "completed"
    assert sorted(deployment.outbox.glob("*.sms")) == [texts[1]]  # Bob's text stays
    report = json.loads((deployment.results / erasure / "erasure.json").read_text())
    assert {(Path(c["file"]).resolve(), c["kind"]) for c in report["own_copies"]} == {
        (texts[0].resolve(), "message")}


def test_erasure_removes_the_audience_exports_that_name_the_subject(shop: Shop,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    # `garde audience --job` leaves its CSV in the exports folder, addresses in clear, for as long as
    # nobody deletes it; one computed before the erasure names someone who may no longer be contacted.
    deployment = shop.deployment
    deployment.exports = tmp_path / "exports"
    deployment.exports.mkdir()
    header = "email,phone,subject_id,basis,source\n"
    naming = {"by-mail.csv": "ANA@example.org,,,consent,shop.customers\n",  # another spelling
              "by-phone.csv.part": ",'+33 6 99 99 99 99,,consent,crm.contacts\n"}  # made inert, half written
    for name, row in {**naming, "bobs.csv": "bob@example.org,+33622222222,,consent,shop.customers\n"}.items():
        (deployment.exports / name).write_text(header + row)
    erasure = verified(shop, "erasure", {"email": "ana@example.org", "phone": "+33699999999"})
    done = run(shop.store, erasure, deployment, today=date(2025, 3, 1))
    assert done.status == "completed"
    assert sorted(p.name for p in deployment.exports.iterdir()) == ["bobs.csv"]  # Bob's audience stays
    report = json.loads((deployment.results / erasure / "erasure.json").read_text())
    assert {(Path(c["file"]).name, c["kind"]) for c in report["own_copies"]} == {
        (name, "audience export") for name in naming}
