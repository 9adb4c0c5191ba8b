"""The privacy center over HTTP, on SQLite and PostgreSQL: a subject signs in with the code from
the mail, submits a request, changes a consent (in the ledger with method web_form and the notice
version), objects to direct marketing; no page under /privacy/me without a session, no change
without the session's CSRF token, and one subject's cookie never reaches another's request."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.api.app import route_table
from garde.consent.ledger import consent_events
from garde.store import connect, migrate
from garde.subjects import ensure_subject
from garde.web.headers import CSP
from tests.api_support import Client
from tests.conftest import mailed_code
from tests.subjects_support import answered_request
from tests.web_support import csrf_of, web_client

ANA, BEA = "ana@example.com", "bea@example.com"
ME = "/privacy/me"


def _sign_in(client: Client, email: str, outbox: Path) -> str:
    """Sign in through the two forms; the CSRF token of the session's forms."""
    home = client.get("/privacy/")
    assert home.status_code == 200, home.text
    asked = client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
    assert asked.status_code == 303 and asked.headers["location"] == "/privacy/code", asked.text
    form = client.get("/privacy/code")
    confirmed = client.post("/privacy/code", data={"csrf": csrf_of(form.text), "code": mailed_code(outbox)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == ME, confirmed.text
    cookie = confirmed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/privacy" in cookie
    return csrf_of(client.get(ME).text)


def _prepare(url: str, tmp_path: Path) -> dict[str, str]:
    engine = connect(url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        for email in (ANA, BEA):
            ensure_subject(conn, {"email": email})
        answered = {email: answered_request(conn, email, tmp_path / "results") for email in (ANA, BEA)}
    engine.dispose()
    return answered


def _events(url: str) -> list[sa.Row[tuple[object, ...]]]:
    engine = connect(url)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(consent_events).order_by(consent_events.c.id)))
    engine.dispose()
    return rows


def _count(url: str, table: str) -> int:
    engine = connect(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(found)


def test_a_subject_signs_in_submits_and_changes_a_consent(migrated_url: str, tmp_path: Path) -> None:
    answered = _prepare(migrated_url, tmp_path)
    with web_client(migrated_url, tmp_path) as (client, _):
        csrf = _sign_in(client, ANA, tmp_path / "outbox")
        page = client.get(ME)
        assert answered[ANA] in page.text and answered[BEA] not in page.text
        assert f"/privacy/me/requests/{answered[ANA]}/files/access.json" in page.text
        assert page.headers["content-security-policy"] == CSP
        download = client.get(f"/privacy/me/requests/{answered[ANA]}/files/access.json")
        assert download.status_code == 200 and ANA in download.text

        submitted = client.post(f"{ME}/requests", data={"csrf": csrf, "type": "access"})
        assert submitted.status_code == 303, submitted.text
        assert _count(migrated_url, "requests") == 3

        given = client.post(f"{ME}/consents", data={"csrf": csrf, "activity": "newsletter",
                                                    "channel": "email", "action": "give"})
        withdrawn = client.post(f"{ME}/consents", data={"csrf": csrf, "activity": "newsletter",
                                                        "channel": "email", "action": "withdraw"})
        assert given.status_code == withdrawn.status_code == 303
        events = _events(migrated_url)
        assert [e.action for e in events] == ["given", "withdrawn"]
        for event in events:
            assert event.method == "web_form" and event.notice_version
            assert event.actor.startswith("subject-session:")

        objected = client.post(f"{ME}/object", data={"csrf": csrf})
        assert objected.status_code == 303
        assert "Object to direct marketing" not in client.get(ME).text

        french = client.get(f"{ME}?lang=fr").text
        assert all(w in french for w in ("Mes demandes", "Accéder à mes données", "identité vérifiée"))
        out = client.post(f"{ME}/logout", data={"csrf": csrf})
        assert out.status_code == 303
        assert client.get(ME).status_code == 303


def test_a_post_without_the_sessions_csrf_token_changes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    _prepare(sqlite_url, tmp_path)
    with web_client(sqlite_url, tmp_path) as (client, _):
        _sign_in(client, ANA, tmp_path / "outbox")
        for token in ("", "0" * 64):
            refused = client.post(f"{ME}/consents", data={"csrf": token, "activity": "newsletter",
                                                          "channel": "email", "action": "give"})
            assert refused.status_code == 403
            assert client.post(f"{ME}/requests", data={"csrf": token, "type": "erasure"}).status_code == 403
            assert client.post(f"{ME}/object", data={"csrf": token}).status_code == 403
        assert _events(sqlite_url) == []
        assert _count(sqlite_url, "requests") == 2 and _count(sqlite_url, "subject_objections") == 0
        home = client.get("/privacy/")
        assert client.post("/privacy/", data={"csrf": "x", "email": BEA}).status_code == 403
        assert home.status_code == 200


def test_no_privacy_page_under_me_without_a_session(sqlite_url: str, tmp_path: Path) -> None:
    answered = _prepare(sqlite_url, tmp_path)
    with web_client(sqlite_url, tmp_path) as (client, _):
        routes = sorted((method, path) for method, path, _ in route_table(client.app)
                        if path.startswith(ME))
        assert ("GET", ME) in routes and ("POST", f"{ME}/consents") in routes and len(routes) >= 6
        for method, path in routes:
            url = path.replace("{request_id}", answered[ANA]).replace("{name}", "access.json")
            for cookie in (None, "gs_not-a-token"):
                client.http.cookies.clear()
                if cookie is not None:
                    client.http.cookies.set("garde_privacy", cookie)
                answer = client.request(method, url, data={"csrf": "x"})
                if method == "GET":
                    assert (answer.status_code, answer.headers["location"]) == (303, "/privacy/"), url
                else:
                    assert answer.status_code == 401, url


def test_one_subjects_cookie_never_reaches_anothers_request(migrated_url: str, tmp_path: Path) -> None:
    answered = _prepare(migrated_url, tmp_path)
    with web_client(migrated_url, tmp_path) as (client, _):
        _sign_in(client, ANA, tmp_path / "outbox")
        for name in ("access.json", "access.html", "copies.json"):
            assert client.get(f"{ME}/requests/{answered[BEA]}/files/{name}").status_code == 404
        assert client.get(f"{ME}/requests/{answered[ANA]}/files/copies.json").status_code == 404
        assert client.get(f"{ME}/requests/made-up/files/access.json").status_code == 404


@pytest.mark.parametrize("lang", ["fr", "en", "it"])
def test_the_notice_is_the_published_one(sqlite_url: str, tmp_path: Path, lang: str) -> None:
    from garde.publish import register_document
    from garde.register import load_register
    from tests.api_support import REGISTER

    expected = register_document(load_register(REGISTER), f"notice-{lang}.html")[1]
    with web_client(sqlite_url, tmp_path) as (client, _):
        notice = client.get(f"/privacy/notice?lang={lang}")
        home = client.get(f"/privacy/?lang={lang}")
    assert notice.status_code == 200 and notice.content == expected
    # The notice's own inline style is allowed by its hash, and nothing else inline is.
    styles = re.findall(rb"<style[^>]*>(.*?)</style>", expected, re.S)
    assert styles
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
        assert f"'sha256-{digest}'" in notice.headers["content-security-policy"]
    assert "unsafe-inline" not in notice.headers["content-security-policy"]
    assert home.status_code == 200 and f'<html lang="{lang}">' in home.text


def test_over_https_the_session_cookie_is_secure(sqlite_url: str, tmp_path: Path) -> None:
    _prepare(sqlite_url, tmp_path)
    with web_client(sqlite_url, tmp_path) as (client, _):
        client.http.base_url = "https://garde.test"
        home = client.get("/privacy/")
        client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": ANA})
        form = client.get("/privacy/code")
        confirmed = client.post("/privacy/code", data={"csrf": csrf_of(form.text),
                                                       "code": mailed_code(tmp_path / "outbox")})
        assert confirmed.status_code == 303
        cookie = confirmed.headers["set-cookie"].lower()
        assert cookie.startswith("__host-garde_privacy=gs_") and "; secure" in cookie and "httponly" in cookie
        assert client.get(ME).status_code == 200


def test_someone_new_sees_the_consent_they_just_gave(migrated_url: str, tmp_path: Path) -> None:
    """A new person's first consent makes them a subject: their session sees it at once."""
    with web_client(migrated_url, tmp_path) as (client, _):
        csrf = _sign_in(client, "new@example.com", tmp_path / "outbox")
        assert "Withdraw" not in client.get(ME).text
        client.post(f"{ME}/consents", data={"csrf": csrf, "activity": "newsletter", "channel": "email",
                                            "action": "give"})
        assert "Withdraw" in client.get(ME).text
        client.post(f"{ME}/object", data={"csrf": csrf})
        assert "Object to direct marketing" not in client.get(ME).text
        assert _count(migrated_url, "subject_objections") == 1


def test_one_identity_changes_its_consents_a_bounded_number_of_times(sqlite_url: str, tmp_path: Path) -> None:
    """The consent form wrote to the ledger (and the audit log) without limit: a stranger with any
    mailbox could sign in once and fill them, a row per click. Changes are counted per identity
    (from any address) and per address; past either, 429 and nothing written."""
    from garde.rights.my_consents import CHANGES_PER_IDENTITY

    with web_client(sqlite_url, tmp_path) as (client, _):
        csrf = _sign_in(client, ANA, tmp_path / "outbox")
        for n in range(CHANGES_PER_IDENTITY.limit):
            changed = client.post(f"{ME}/consents", data={"csrf": csrf, "activity": "newsletter", "channel":
                                                          "email", "action": "give" if n % 2 else "withdraw"})
            assert changed.status_code == 303, changed.text
        refused = client.post(f"{ME}/consents", data={"csrf": csrf, "activity": "newsletter",
                                                      "channel": "email", "action": "give"})
        assert refused.status_code == 429, refused.text
        assert len(_events(sqlite_url)) == CHANGES_PER_IDENTITY.limit
