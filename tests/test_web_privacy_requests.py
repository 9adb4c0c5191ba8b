"""A subject's request page in the privacy center, on SQLite and PostgreSQL: its type, status, steps,
legal deadline and days left, the links to its answer files once answered, and nobody else's
request or file; objecting to direct marketing in one click lands in the consent ledger and
flips the marketing decisions."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from garde.documents import notice_version
from garde.register import load_register
from garde.rights import FileMailer, extend, submit
from garde.rights.intake import get_request
from garde.rights.self_service import my_request_status, submit_mine
from garde.rights.sessions import authenticate, confirm_session, start_session
from garde.store import connect, migrate
from garde.subjects import ensure_subject
from tests.api_support import REGISTER, Client, Served, bearer, subject_token
from tests.conftest import mailed_code
from tests.test_web_privacy import ANA, BEA, ME, _events, _prepare, _sign_in
from tests.web_support import csrf_of, mailed_code_to, mails_to, web_client


def _page(client: Client, request_id: str) -> str:
    page = client.get(f"{ME}/requests/{request_id}")
    assert page.status_code == 200, page.text
    return page.text


def test_a_subject_reads_their_answered_request_and_its_files(migrated_url: str, tmp_path: Path) -> None:
    answered = _prepare(migrated_url, tmp_path)
    with web_client(migrated_url, tmp_path) as (client, _):
        _sign_in(client, ANA, tmp_path / "outbox")
        assert f'href="{ME}/requests/{answered[ANA]}"' in client.get(ME).text  # linked from their list
        page = _page(client, answered[ANA])
        assert "Access to my data" in page and "Answered." in page and "answered" in page
        for name in ("access.html", "access.json"):
            assert f"{ME}/requests/{answered[ANA]}/files/{name}" in page
            download = client.get(f"{ME}/requests/{answered[ANA]}/files/{name}")
            assert download.status_code == 200 and ANA in download.text and BEA not in download.text
            assert download.headers["content-disposition"].startswith("attachment")
        assert "copies.json" not in page  # a file of the folder that is no answer file
        assert "days left" not in page  # closed: no deadline left to count
        assert "agent:test" not in page and "id card" not in page  # no staff name, no staff note
        french = client.get(f"{ME}/requests/{answered[ANA]}?lang=fr").text
        assert "Accéder à mes données" in french and "Fichiers de réponse" in french


def test_a_submitted_request_is_being_prepared_with_its_legal_deadline(migrated_url: str,
                                                                        tmp_path: Path) -> None:
    _prepare(migrated_url, tmp_path)
    with web_client(migrated_url, tmp_path) as (client, _):
        csrf = _sign_in(client, ANA, tmp_path / "outbox")
        client.post(f"{ME}/requests", data={"csrf": csrf, "type": "portability"})
        engine = connect(migrated_url)
        with engine.connect() as conn:
            request_id = conn.execute(sa.text("SELECT id FROM requests WHERE type = 'portability'")
                                      ).scalar_one()
            request = get_request(conn, request_id)
        engine.dispose()
        page = _page(client, request_id)
        left = (request.deadline - request.received_at.date()).days  # one fewer past midnight UTC
        assert "A copy of my data to take elsewhere" in page and "Being prepared" in page
        shown = re.search(r"\((\d+) days left\)", page)
        assert request.deadline.strftime("%B") in page and shown and int(shown[1]) in (left, left - 1)
        assert "No answer file yet" in page and "/files/" not in page  # no answer is invented
        italian = client.get(f"{ME}/requests/{request_id}?lang=it").text
        assert "In preparazione" in italian and f"{shown[1]} giorni rimanenti" in italian


def _main(html: str) -> str:
    found = re.search(r"<main.*</main>", html, re.S)
    assert found, html
    return found[0]


def test_another_subjects_request_page_and_files_are_a_404(migrated_url: str, tmp_path: Path) -> None:
    answered = _prepare(migrated_url, tmp_path)
    with web_client(migrated_url, tmp_path) as (client, _):
        _sign_in(client, BEA, tmp_path / "outbox")
        assert client.get(f"{ME}/requests/{answered[BEA]}").status_code == 200
        for path in (f"{ME}/requests/{answered[ANA]}", f"{ME}/requests/made-up", f"{ME}/requests/{'f' * 500}",
                     f"{ME}/requests/a%00b", f"{ME}/requests/a%00b/files/access.json",
                     *(f"{ME}/requests/{answered[ANA]}/files/{name}"
                       for name in ("access.html", "access.json", "portability.zip", "copies.json"))):
            refused = client.get(path)
            assert refused.status_code == 404, path
            # The same page as for a made-up id (the path itself is only in the language links).
            assert _main(refused.text) == _main(client.get(f"{ME}/requests/x").text)
        # The API's /me routes read through the same library: no id reaches the store unchecked.
        token = subject_token(client, BEA, tmp_path / "outbox")
        for path in ("/api/v1/me/requests/a%00b", "/api/v1/me/requests/a%00b/files/access.json",
                     f"/api/v1/me/requests/{answered[ANA]}"):
            assert client.get(path, headers=bearer(token)).status_code == 404, path
        # Without a session, Ana's real request and a made-up one get the same answer: sign in first.
        client.http.cookies.clear()
        for path in (f"{ME}/requests/{answered[ANA]}", f"{ME}/requests/made-up",
                     f"{ME}/requests/{answered[ANA]}/files/access.json"):
            refused = client.get(path)
            assert (refused.status_code, refused.headers["location"]) == (303, "/privacy/"), path


def test_an_answer_file_that_is_a_symlink_is_not_served(sqlite_url: str, tmp_path: Path) -> None:
    """Red team: the staff's side (garde.rights.answers) never serves a symlink of the results
    folder; the subject's side followed it (a link put there would serve whatever it points to)."""
    answered = _prepare(sqlite_url, tmp_path)
    secret = tmp_path / "server-secret.txt"
    secret.write_text("not an answer", encoding="utf-8")
    linked = tmp_path / "results" / answered[ANA] / "access.json"
    assert linked.is_file()
    linked.unlink()
    linked.symlink_to(secret)
    with web_client(sqlite_url, tmp_path) as (client, _):
        _sign_in(client, ANA, tmp_path / "outbox")
        assert "files/access.json" not in _page(client, answered[ANA])
        refused = client.get(f"{ME}/requests/{answered[ANA]}/files/access.json")
        assert refused.status_code == 404 and "not an answer" not in refused.text


def _session(url: str, email: str, outbox: Path) -> str:
    """A subject session's token, opened with the library (the code from the file mailer)."""
    engine = connect(url)
    started = start_session(engine, "email", email, FileMailer(outbox))
    started.deliver()
    token = confirm_session(engine, started.session, mailed_code(outbox), lifetime=timedelta(hours=1)).token
    engine.dispose()
    return token


def test_days_left_count_to_the_due_date_as_the_dpo_queue_counts_them(migrated_url: str,
                                                                       tmp_path: Path) -> None:
    engine = connect(migrated_url, create=True)
    migrate(engine)
    token = _session(migrated_url, ANA, tmp_path / "outbox")
    results = tmp_path / "results"
    with engine.begin() as conn:
        session = authenticate(conn, token)
        assert session is not None
        mine = submit_mine(conn, session, "access")
        staff = submit(conn, "erasure", {"email": ANA}, actor="agent:test")  # not verified yet
        deadline = mine.deadline
        assert my_request_status(conn, session, mine.id, results, today=deadline).days_left == 0
        early = my_request_status(conn, session, mine.id, results, today=deadline - timedelta(days=3))
        late = my_request_status(conn, session, mine.id, results, today=deadline + timedelta(days=2))
        assert (early.days_left, early.overdue, early.stage, early.files) == (3, False, "being_prepared", [])
        assert (late.days_left, late.overdue) == (-2, True)
        assert my_request_status(conn, session, staff.id, results).stage == "checking_identity"
        extended = extend(conn, mine.id, "many databases", today=deadline - timedelta(days=1))
        assert extended.extended_deadline is not None
        later = my_request_status(conn, session, mine.id, results, today=deadline + timedelta(days=2))
        assert later.days_left == (extended.extended_deadline - deadline).days - 2 and not later.overdue
        assert later.view["extension_reason"] == "many databases"
    engine.dispose()


def _decision(client: Client, key: str, activity: str, email: str, channel: str = "email") -> bool:
    answer = client.post("/api/v1/decisions", headers=bearer(key),
                         json={"activity": activity, "subject": {"email": email}, "channel": channel})
    assert answer.status_code == 200, answer.text
    allowed: bool = answer.json()["allowed"]
    return allowed


def test_objecting_to_direct_marketing_lands_in_the_ledger_and_flips_decisions(migrated_url: str,
                                                                                tmp_path: Path) -> None:
    engine = connect(migrated_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        for email in (ANA, BEA):
            ensure_subject(conn, {"email": email})
    engine.dispose()
    version = notice_version(load_register(REGISTER), "fr")
    with web_client(migrated_url, tmp_path) as (client, keys):
        csrf = _sign_in(client, ANA, tmp_path / "outbox")
        client.post(f"{ME}/consents?lang=fr", data={"csrf": csrf, "activity": "newsletter",
                                                    "channel": "email", "action": "give"})
        assert _decision(client, keys["service"], "newsletter", ANA)
        consents = client.get(f"{ME}?lang=fr").text  # named as the register and the vocabulary word them
        assert "<td><bdi>Lettre d&#39;information</bdi></td><td><bdi>E-mail</bdi></td>" in consents
        assert "<td><bdi>Cookies de mesure d&#39;audience</bdi></td>" in consents
        objected = client.post(f"{ME}/object?lang=fr", data={"csrf": csrf},
                               headers={"user-agent": "test-browser/1"})
        assert objected.status_code == 303
        assert not _decision(client, keys["service"], "newsletter", ANA)
        assert _decision(client, keys["service"], "newsletter", BEA) is False  # never consented
        given, withdrawn = _events(migrated_url)
        assert (given.action, withdrawn.action) == ("given", "withdrawn")
        assert (withdrawn.activity, withdrawn.channel) == ("newsletter", "email")
        assert withdrawn.method == "web_form"
        assert withdrawn.notice_version == given.notice_version == version
        assert withdrawn.user_agent == "test-browser/1" and withdrawn.actor.startswith("subject-session:")
        again = client.post(f"{ME}/object", data={"csrf": csrf})  # a second click records nothing more
        assert again.status_code == 303 and len(_events(migrated_url)) == 2

        client.http.cookies.clear()
        csrf = _sign_in(client, BEA, tmp_path / "outbox")
        client.post(f"{ME}/object", data={"csrf": csrf})
        (refused,) = _events(migrated_url)[2:]  # never given: the objection is recorded as a refusal
        assert (refused.activity, refused.action, refused.method) == ("newsletter", "refused", "web_form")
        assert refused.notice_version == notice_version(load_register(REGISTER), "en")
        assert "Object to direct marketing" not in client.get(ME).text


def test_after_an_objection_a_marketing_consent_cannot_be_given_again_in_vain(sqlite_url: str,
                                                                               tmp_path: Path) -> None:
    """The objection stands (Art. 21(3)): the page says the consent is not used, offers no Give
    button, and a crafted form is refused without writing a "given" the decisions would ignore."""
    with web_client(sqlite_url, tmp_path) as (client, keys):
        csrf = _sign_in(client, ANA, tmp_path / "outbox")
        client.post(f"{ME}/consents", data={"csrf": csrf, "activity": "newsletter", "channel": "email",
                                            "action": "give"})
        assert client.post(f"{ME}/object", data={"csrf": csrf}).status_code == 303
        page = client.get(f"{ME}?lang=en").text
        row = next(r for r in page.split("<tr>") if "Newsletter" in r)
        assert "not used: you objected to direct marketing" in row and ">Give<" not in row
        again = client.post(f"{ME}/consents?lang=en", data={"csrf": csrf, "activity": "newsletter",
                                                            "channel": "email", "action": "give"})
        assert again.status_code == 409 and "you objected to direct marketing" in again.text
        assert [e.action for e in _events(sqlite_url)] == ["given", "withdrawn"]
        assert not _decision(client, keys["service"], "newsletter", ANA)
        french = client.get(f"{ME}?lang=fr").text
        assert "<td><bdi>Cookies de mesure d&#39;audience</bdi></td>" in french  # not marketing


def _signed_in(served: Served, email: str) -> tuple[httpx.Client, str]:
    """A browser-like client of the real server, signed in as ``email``; its session's CSRF token."""
    client = httpx.Client(base_url=served.url, timeout=60)
    before = len(mails_to(served.outbox, email))
    home = client.get("/privacy/")
    client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
    form = client.get("/privacy/code")
    confirmed = client.post("/privacy/code", data={"csrf": csrf_of(form.text),
                                                   "code": mailed_code_to(served.outbox, email, before)})
    assert confirmed.status_code == 303, confirmed.text
    return client, csrf_of(client.get(ME).text)


def _verified(back_office: httpx.Client) -> set[str]:
    return {item["id"] for item in back_office.get("/requests", params={"status": "verified", "limit": 200}
                                                   ).json()["items"]}


def test_a_portability_answer_is_a_zip_only_its_subject_downloads(served_shared: Served) -> None:
    """A shop's customer asks for their data to take elsewhere; once the back office ran it, the
    page links the archive (JSON and CSV, Art. 20 scope); another subject gets the same 404. (The
    served shop is shared with other modules' tests: a customer of its own, its own request.)"""
    served, customer = served_shared, served_shared.customers[3]
    mine, csrf = _signed_in(served, customer)
    with served.client("dpo") as back_office:
        before = _verified(back_office)
        mine.post(f"{ME}/requests", data={"csrf": csrf, "type": "portability"})
        (request_id,) = _verified(back_office) - before
        assert served.run(back_office, request_id).status_code == 200
    page = mine.get(f"{ME}/requests/{request_id}").text
    archive_url = f"{ME}/requests/{request_id}/files/portability.zip"
    assert archive_url in page and "My data to take elsewhere (ZIP of JSON and CSV files)" in page
    download = mine.get(archive_url)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("data.json"))
    assert "shop.customers.csv" in names and data["shop.customers"][0]["email"] == customer
    assert "shop.invoices" not in data  # a legal obligation: not portable
    assert "crm.contacts" not in data  # legitimate interests: not portable

    other, _ = _signed_in(served, "someone.else@example.com")
    for path in (f"{ME}/requests/{request_id}", archive_url):
        assert other.get(path).status_code == 404, path
    mine.close()
    other.close()
