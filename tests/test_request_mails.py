"""The subject is told by mail when a request is extended, rejected or answered (issue 11).

GDPR Art. 12(3): an extension is told within the first month, with the
reasons for the delay; Art. 12(4): a refusal with its reasons, the right to
complain to a supervisory authority and to seek a judicial remedy. Every
mail is in the request's language, audited, never carries the personal data
itself, and is one of garde's own copies that an erasure removes. On SQLite
and PostgreSQL (the ``shop`` fixture of test_rights_requests).
"""

from __future__ import annotations

import json
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from garde import audit
from garde.rights import FileMailer, extend, reject, submit
from garde.rights.running import run
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401

ANA = "ana@example.org"
# What Ana's rows hold (test_rights_requests.fill): none of it may travel by mail.
ANAS_DATA = ("Ana Lima", "1 rue A", "2 rue B", "75001", "+33611111111", "+33699999999", "C-0001", "vip",
             "Where is my parcel?")


def _mails(outbox: Path) -> list[EmailMessage]:
    return FileMailer(outbox).messages()


def _body(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _notified(shop: Shop, request_id: str) -> list[dict[str, object]]:  # noqa: F811
    with shop.store.connect() as conn:
        return [e["payload"] for e in audit.entries(conn, kind="request.notified")
                if e["payload"]["request"] == request_id]


def test_an_extension_is_told_with_its_reason_and_new_date(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="fr")
    with shop.store.begin() as conn:
        extended = extend(conn, request_id, "plusieurs systèmes à consulter", mailer=FileMailer(outbox),
                          registers=shop.deployment.registers.values())
    [mail] = _mails(outbox)
    assert mail["To"] == ANA and request_id in str(mail["Subject"])
    assert "délai de réponse prolongé" in str(mail["Subject"])
    body = _body(mail)
    assert "plusieurs systèmes à consulter" in body and "article 12, paragraphe 3" in body
    assert extended.extended_deadline is not None
    due = extended.extended_deadline
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre"]
    assert f"{due.day} {months[due.month - 1]} {due.year}" in body.replace("\u202f", " ")
    assert "Mini Shop SAS" in body
    assert _notified(shop, request_id) == [{"request": request_id, "about": "extended", "channel": "email",
                                            "proven": True}]


def test_a_rejection_is_told_with_reasons_complaint_and_judicial_remedy(shop: Shop,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    with shop.store.begin() as conn:
        request = submit(conn, "erasure", {"email": ANA}, language="it")
        rejected = reject(conn, request.id, "un ordine è ancora aperto", mailer=FileMailer(outbox),
                          registers=shop.deployment.registers.values())
    assert rejected.status == "rejected" and rejected.identities == {}
    [mail] = _mails(outbox)
    body = _body(mail)
    assert mail["To"] == ANA and "non possiamo darvi seguito" in str(mail["Subject"])
    assert "un ordine è ancora aperto" in body
    assert "proporre reclamo" in body and "CNIL" in body and "ricorso giurisdizionale" in body
    assert "articoli 12, paragrafo 4, 77 e 79" in body
    assert _notified(shop, request.id)[0]["about"] == "rejected"
    with shop.store.connect() as conn:  # the audit entry names no address
        assert ANA not in json.dumps(list(audit.entries(conn, kind="request.notified")))


def test_an_answer_is_told_without_the_data_itself(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    run(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))
    [mail] = _mails(outbox)
    body = _body(mail)
    assert mail["To"] == ANA and "your answer is ready" in str(mail["Subject"])
    assert request_id in body and "holds none of your data" in body
    assert "replying to this message, quoting reference" in body  # the register names no route
    for value in ANAS_DATA:
        assert value not in body and value not in str(mail["Subject"]), value
    assert not mail.is_multipart() and not list(mail.iter_attachments())
    assert _notified(shop, request_id)[0]["about"] == "answered"


def test_a_carried_out_erasure_is_told_without_its_details(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    outbox = tmp_path / "outbox"
    request_id = verified(shop, "restriction", {"email": ANA}, language="fr")
    run(shop.store, request_id, shop.deployment, mailer=FileMailer(outbox))
    [mail] = _mails(outbox)
    assert "a été traitée" in str(mail["Subject"]) and "(restriction" not in _body(mail)
    assert "(limitation)" in _body(mail)


def test_a_request_without_an_email_sends_no_mail_and_records_none(shop: Shop,  # noqa: F811
                                                                  tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    with shop.store.begin() as conn:
        request = submit(conn, "access", {"customer_id": "C-0001"}, language="en")
        reject(conn, request.id, "not a customer", mailer=FileMailer(outbox),
               registers=shop.deployment.registers.values())
    assert _mails(outbox) == [] and _notified(shop, request.id) == []


def test_the_mails_are_garde_copies_an_erasure_removes(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    outbox = tmp_path / "outbox"
    shop.deployment.outbox = outbox
    mailer = FileMailer(outbox)
    access = verified(shop, "access", {"email": ANA}, language="en")
    with shop.store.begin() as conn:
        extend(conn, access, "several systems", mailer=mailer, registers=shop.deployment.registers.values(),
               today=date.today())
    run(shop.store, access, shop.deployment, mailer=mailer)
    assert len(_mails(outbox)) == 2
    erasure = verified(shop, "erasure", {"email": ANA}, language="en")
    run(shop.store, erasure, shop.deployment)
    assert _mails(outbox) == []


def test_the_cli_tells_the_subject_of_a_rejection_and_an_extension(cli_env: Path) -> None:
    import re

    from typer.testing import CliRunner

    from garde.cli import app

    runner = CliRunner()
    submitted = runner.invoke(app, ["request", "submit", "--type", "access", "--email", ANA, "--lang", "en",
                                    "--no-code"])
    request_id = re.search(r"request (\S+) received", submitted.output).group(1)  # type: ignore[union-attr]
    extended = runner.invoke(app, ["request", "extend", request_id, "--reason", "several systems"])
    assert extended.exit_code == 0 and "told by mail" in extended.output
    rejected = runner.invoke(app, ["request", "reject", request_id, "--reason", "identity not confirmed"])
    assert rejected.exit_code == 0 and "told by mail" in rejected.output
    subjects = [str(m["Subject"]).strip() for m in _mails(cli_env / "outbox")]
    assert subjects == [f"Your request {request_id}: more time needed to answer",
                        f"Your request {request_id}: we cannot act on it"]
