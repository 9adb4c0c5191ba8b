"""The DPO dashboard over HTTP, on SQLite and PostgreSQL: no page without a DPO's session, no
change without the session's CSRF token, and what the forms change is in the store and audited
under the key's name."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import rights
from garde.api.app import route_table
from garde.api.keys import revoke_key
from garde.api.ratelimits import LIMITS
from garde.store import connect
from garde.subjects import now
from garde.web.headers import CSP
from garde.web.sessions import session_key, start_session
from tests.api_support import REGISTER, Client, audit_actors, bearer, new_key
from tests.web_support import csrf_of, log_in, web_client

LOGIN = "/dpo/login"


def _web_routes(client: Client) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path, _ in route_table(client.app)
        if path.startswith("/dpo") and path != LOGIN
    )


def _submit(url: str, *, days_ago: int = 0, email: str = "ana@example.com") -> str:
    engine = connect(url)
    with engine.begin() as conn:
        request = rights.submit(
            conn, "access", {"email": email}, language="fr", received_at=now() - timedelta(days=days_ago)
        )
    engine.dispose()
    return request.id


def _path(path: str, request_id: str) -> str:
    return (
        path.replace("{request_id}", request_id)
        .replace("{register_id}", "reference-shop")
        .replace("{name}", "access.json")
    )


def test_no_dashboard_page_without_a_dpo_session(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        request_id = _submit(sqlite_url)
        routes = _web_routes(client)
        assert {
            ("GET", "/dpo/"),
            ("GET", "/dpo/jobs"),
            ("GET", "/dpo/requests/{request_id}"),
            ("POST", "/dpo/requests/{request_id}/extend"),
            ("POST", "/dpo/requests/{request_id}/run"),
            ("POST", "/dpo/requests/{request_id}/restriction-lifted"),
        } <= set(routes)
        for who in ({}, bearer(keys["dpo"]), {"Cookie": "garde_dpo=forged-session-id"}):
            for method, path in routes:
                answer = client.request(
                    method,
                    _path(path, request_id),
                    headers=who,
                    follow_redirects=False,
                    data={"reason": "no session", "csrf": "x"} if method == "POST" else None,
                )
                if method == "GET":
                    assert (answer.status_code, answer.headers["location"]) == (303, LOGIN), (method, path)
                else:
                    assert answer.status_code == 401, (method, path)
                    assert "garde_dpo" not in answer.headers.get("set-cookie", "")
        engine = connect(sqlite_url)
        with engine.connect() as conn:
            assert rights.get_request(conn, request_id).extended_deadline is None
        engine.dispose()


@pytest.mark.parametrize("role", ["agent", "service", "auditor"])
def test_a_key_of_another_role_cannot_log_in(sqlite_url: str, tmp_path: Path, role: str) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        form = client.get(LOGIN)
        answer = client.post(
            LOGIN, data={"csrf": csrf_of(form.text), "key": keys[role]}, follow_redirects=False
        )
        assert answer.status_code == 401
        assert "garde_dpo" not in answer.headers.get("set-cookie", "")
        assert client.get("/dpo/", follow_redirects=False).status_code == 303
    engine = connect(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM dpo_sessions")).scalar() == 0
    engine.dispose()


def test_login_sets_a_strict_http_only_cookie_and_stores_only_its_hash(
    sqlite_url: str, tmp_path: Path
) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        form = client.get("https://garde.test/dpo/login")
        answer = client.post(
            "https://garde.test/dpo/login",
            data={"csrf": csrf_of(form.text), "key": keys["dpo"]},
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, "/dpo/")
        # Over https a __Host- cookie (Path=/, no Domain: see tests/test_web_cookies.py).
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("__Host-garde_dpo="))
        session_id = cookie.split(";")[0].split("=", 1)[1]
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite=strict", "path=/", "max-age=28800"} <= flags
        engine = connect(sqlite_url)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT * FROM dpo_sessions")).mappings().all()
        engine.dispose()
        assert len(stored) == 1 and session_id not in str(dict(stored[0]))
        plain = client.post(
            LOGIN, data={"csrf": csrf_of(client.get(LOGIN).text), "key": keys["dpo"]}, follow_redirects=False
        )
        # plain http (loopback): no Secure flag, the plain name, the surface's path
        assert "secure" not in plain.headers["set-cookie"].lower()
        set_cookie = plain.headers["set-cookie"]
        assert set_cookie.startswith("garde_dpo=") and "Path=/dpo" in set_cookie
    assert audit_actors(sqlite_url, "dpo_session.") == ["key:dpo-key", "key:dpo-key"]


def test_logout_and_revocation_end_the_session(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        csrf = log_in(client, keys["dpo"])
        session = client.http.cookies["garde_dpo"]
        assert client.get("/dpo/requests").status_code == 200
        assert client.post("/dpo/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        replayed = client.get(
            "/dpo/requests", headers={"Cookie": f"garde_dpo={session}"}, follow_redirects=False
        )
        assert replayed.status_code == 303
        log_in(client, keys["dpo"])
        engine = connect(sqlite_url)
        with engine.begin() as conn:
            revoke_key(conn, "dpo-key")
        engine.dispose()
        assert client.get("/dpo/requests", follow_redirects=False).status_code == 303


def test_forms_without_the_sessions_csrf_token_are_refused(migrated_url: str, tmp_path: Path) -> None:
    with web_client(migrated_url, tmp_path) as (client, keys):
        request_id = _submit(migrated_url)
        others_token = log_in(client, keys["dpo"])  # another session's token (another browser's)
        client.http.cookies.clear()
        log_in(client, keys["dpo"])
        for action in ("extend", "reject", "run", "forward", "instructed-erasure",
                       "instructed-restriction", "restriction-lifted"):
            for form in (
                {"reason": "busy"},
                {"reason": "busy", "csrf": ""},
                {"reason": "busy", "csrf": "0" * 64},
                {"reason": "busy", "csrf": others_token},
            ):
                answer = client.post(f"/dpo/requests/{request_id}/{action}", data=form)
                assert answer.status_code == 403, (action, form)
        assert client.post("/dpo/logout", data={}).status_code == 403
        assert client.post(LOGIN, data={"key": keys["dpo"]}).status_code == 403  # the login form too
        engine = connect(migrated_url)
        with engine.connect() as conn:
            request = rights.get_request(conn, request_id)
        engine.dispose()
        assert (request.status, request.extended_deadline) == ("received", None)


def test_extend_and_reject_through_the_forms_are_stored_and_audited_under_the_key(
    migrated_url: str, tmp_path: Path
) -> None:
    with web_client(migrated_url, tmp_path) as (client, keys):
        extended_id, rejected_id = _submit(migrated_url), _submit(migrated_url, email="bo@example.com")
        csrf = log_in(client, keys["dpo"])
        answer = client.post(
            f"/dpo/requests/{extended_id}/extend",
            data={"csrf": csrf, "reason": "many systems"},
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, f"/dpo/requests/{extended_id}")
        again = client.post(f"/dpo/requests/{extended_id}/extend", data={"csrf": csrf, "reason": "again"})
        assert again.status_code == 400 and "already extended" in again.text  # the library's refusal, shown
        client.post(
            f"/dpo/requests/{rejected_id}/reject", data={"csrf": csrf, "reason": "manifestly unfounded"}
        )
        page = client.get(f"/dpo/requests/{rejected_id}")
        assert "manifestly unfounded" in page.text and "Reject the request" not in page.text
    engine = connect(migrated_url)
    with engine.connect() as conn:
        extended, rejected = rights.get_request(conn, extended_id), rights.get_request(conn, rejected_id)
    engine.dispose()
    assert extended.extension_reason == "many systems" and extended.extended_deadline is not None
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "manifestly unfounded")
    assert audit_actors(migrated_url, "request.extended") == ["key:dpo-key"]
    assert audit_actors(migrated_url, "request.rejected") == ["key:dpo-key"]
    assert len(list((tmp_path / "outbox").iterdir())) == 2  # each subject told, with the reason


def test_login_attempts_are_limited_per_address(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        for _ in range(LIMITS["dpo.login"].limit):
            wrong = client.post(LOGIN, data={"csrf": csrf_of(client.get(LOGIN).text), "key": "gk_nope"})
            assert wrong.status_code == 401
        right = client.post(LOGIN, data={"csrf": csrf_of(client.get(LOGIN).text), "key": keys["dpo"]})
        assert right.status_code == 429
        assert client.get("/dpo/", follow_redirects=False).status_code == 303


def test_every_page_carries_the_security_headers(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        log_in(client, keys["dpo"])
        for path in (
            LOGIN,
            "/dpo/",
            "/dpo/registers",
            "/dpo/requests",
            "/dpo/retention",
            "/dpo/consents",
            "/dpo/audit",
            "/dpo/jobs",
            "/static/garde.css",
            "/dpo/requests/no-such-request",
        ):
            answer = client.get(path)
            assert answer.status_code in (200, 404), path
            assert answer.headers["content-security-policy"] == CSP
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
        assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP
        assert "content-security-policy" not in client.get("/api/v1/openapi.json").headers  # the API's own


def test_findings_link_to_their_register_lines(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        log_in(client, keys["dpo"])
        page = client.get("/dpo/registers/reference-shop?lang=fr")
        assert page.headers["content-language"] == "fr" and '<html lang="fr">' in page.text
        anchors = sorted({int(n) for n in __import__("re").findall(r'source#L(\d+)"', page.text)})
        assert anchors, "no finding linked to a line"
        source = client.get("/dpo/registers/reference-shop/source")
        assert '<html lang="fr">' in source.text  # the language chosen is remembered
        for line in anchors:
            assert f'<tr id="L{line}" class="marked">' in source.text
        assert client.get("/dpo/registers/nothing").status_code == 404


def test_the_queue_shows_days_left_and_flags_overdue_and_this_week(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        overdue, soon, later = (
            _submit(sqlite_url, days_ago=40),
            _submit(sqlite_url, days_ago=26),
            _submit(sqlite_url),
        )
        log_in(client, keys["dpo"])
        rows = client.get("/dpo/requests?lang=en").text.split("<tr class=")[1:]
        assert [row.split('"')[1] for row in rows] == ["overdue", "this_week", "later"]
        assert overdue[:8] in rows[0] and soon[:8] in rows[1] and later[:8] in rows[2]
        assert "overdue</span>" in rows[0] and "this week</span>" in rows[1]


def test_answer_files_are_served_from_the_requests_folder_only(sqlite_url: str, tmp_path: Path) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        request_id = _submit(sqlite_url)
        folder = tmp_path / "results" / request_id
        folder.mkdir(parents=True)
        (folder / "access.json").write_text('{"answer": 1}')
        (tmp_path / "results" / "secret.txt").write_text("not an answer file")
        log_in(client, keys["dpo"])
        assert "files/access.json" in client.get(f"/dpo/requests/{request_id}").text
        download = client.get(f"/dpo/requests/{request_id}/files/access.json")
        assert download.json() == {"answer": 1}
        assert "attachment" in download.headers["content-disposition"]
        for name in ("..%2Fsecret.txt", "secret.txt", "%2E%2E"):
            assert client.get(f"/dpo/requests/{request_id}/files/{name}").status_code == 404


def test_reading_an_answer_file_from_the_dashboard_is_audited(sqlite_url: str, tmp_path: Path) -> None:
    """Red team: an answer file holds the subject's data; the API audits who reads one
    (``request.answer_read``), the dashboard served it without a trace. A hidden file (a partial
    write) is not served either."""
    with web_client(sqlite_url, tmp_path) as (client, keys):
        request_id = _submit(sqlite_url)
        folder = tmp_path / "results" / request_id
        folder.mkdir(parents=True)
        (folder / "access.json").write_text('{"answer": 1}')
        (folder / ".access.html.partial").write_text("half an answer")
        log_in(client, keys["dpo"])
        assert client.get(f"/dpo/requests/{request_id}/files/access.json").status_code == 200
        assert client.get(f"/dpo/requests/{request_id}/files/.access.html.partial").status_code == 404
    [reader] = audit_actors(sqlite_url, "request.answer_read")
    assert reader.startswith("key:")  # the DPO's key names who read it


def test_a_register_line_is_shown_as_text_never_as_markup(sqlite_url: str, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(
        REGISTER.read_text(encoding="utf-8") + "# <script>alert(1)</script><img src=x>\n", encoding="utf-8"
    )
    with web_client(sqlite_url, tmp_path, hostile) as (client, keys):
        log_in(client, keys["dpo"])
        page = client.get("/dpo/registers/hostile/source")
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x&gt;" in page.text
        assert "<script>" not in page.text and "<img src=x>" not in page.text


def test_a_session_ends_after_its_lifetime(sqlite_url: str) -> None:
    key = new_key(sqlite_url, "dpo")
    engine = connect(sqlite_url)
    with engine.begin() as conn:
        session_id, record = start_session(conn, key, timedelta(hours=8))
        assert session_key(conn, session_id) == record
        assert session_key(conn, session_id, at=now() + timedelta(hours=8, seconds=1)) is None
        assert session_key(conn, session_id[:-1]) is None
    engine.dispose()


def test_the_queue_and_the_request_page_name_types_and_statuses_in_words(
    sqlite_url: str, tmp_path: Path
) -> None:
    with web_client(sqlite_url, tmp_path) as (client, keys):
        request_id = _submit(sqlite_url)
        log_in(client, keys["dpo"])
        for lang, kind, status in (
            ("en", "Access (Art. 15)", "received, identity not proven"),
            ("fr", "Accès (art. 15)", "reçue, identité non prouvée"),
            ("it", "Accesso (art. 15)", "ricevuta, identità non provata"),
        ):
            row = client.get(f"/dpo/requests?lang={lang}").text.split("<tr class=")[1]
            page = client.get(f"/dpo/requests/{request_id}?lang={lang}").text
            for text in (row, page):
                assert f"<td>{kind}</td>" in text or f"<dd>{kind}</dd>" in text
                assert status in text
            assert "<td>access</td>" not in row and "<td>received</td>" not in row
