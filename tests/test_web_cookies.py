"""The two web surfaces' session cookies (``garde.web.cookies``) stay on their own paths: a browser
signed in to both the DPO dashboard and the privacy center sends each cookie only to its own
surface, and a session's value under the other surface's cookie opens nothing there."""

from __future__ import annotations

import urllib.request
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from tests.api_support import Client, known_subject
from tests.conftest import mailed_code
from tests.web_support import csrf_of, log_in, web_client


def _sent_to(client: Client, path: str) -> dict[str, str]:
    """The cookies the client's jar sends to ``path`` (the stdlib's path matching, as a browser's)."""
    asked = urllib.request.Request(f"{client.http.base_url}{path}")
    client.http.cookies.jar.add_cookie_header(asked)
    header = asked.get_header("Cookie") or ""
    return dict(part.split("=", 1) for part in header.split("; ") if "=" in part)


def _sign_in(client: Client, email: str, outbox: Path) -> None:
    home = client.get("/privacy/")
    client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email})
    form = client.get("/privacy/code")
    confirmed = client.post("/privacy/code", data={"csrf": csrf_of(form.text), "code": mailed_code(outbox)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/privacy/me", confirmed.text


def test_each_surface_gets_only_its_own_session_cookie(sqlite_url: str, tmp_path: Path) -> None:
    known_subject(sqlite_url, "ana@example.com")
    with web_client(sqlite_url, tmp_path) as (client, keys):
        log_in(client, keys["dpo"])
        _sign_in(client, "ana@example.com", tmp_path / "outbox")
        to_dpo, to_privacy = _sent_to(client, "/dpo/requests"), _sent_to(client, "/privacy/me")
        assert "garde_dpo" in to_dpo and "garde_privacy" not in to_dpo
        assert "garde_privacy" in to_privacy and "garde_dpo" not in to_privacy
        assert not {"garde_dpo", "garde_privacy"} & set(_sent_to(client, "/api/v1/requests"))
        assert client.get("/dpo/").status_code == 200 and client.get("/privacy/me").status_code == 200
        as_subject = {"Cookie": f"garde_privacy={to_dpo['garde_dpo']}"}
        as_dpo = {"Cookie": f"garde_dpo={to_privacy['garde_privacy']}"}
        client.http.cookies.clear()
        # Each value under the other surface's cookie (a client ignoring the paths) opens nothing.
        swapped = client.get("/privacy/me", headers=as_subject)
        assert (swapped.status_code, swapped.headers["location"]) == (303, "/privacy/")
        swapped = client.get("/dpo/", headers=as_dpo)
        assert (swapped.status_code, swapped.headers["location"]) == (303, "/dpo/login")
        refused = client.post("/dpo/logout", data={"csrf": "x"}, headers=as_dpo)
        assert refused.status_code == 401 and "not logged in" in refused.text
        refused = client.post("/privacy/me/object", data={"csrf": "x"}, headers=as_subject)
        assert refused.status_code == 401 and "not signed in" in refused.text


def test_a_form_posted_without_its_cookie_is_refused_whatever_token_it_carries(
        sqlite_url: str, tmp_path: Path) -> None:
    """Another site's page posts the sign-in forms with no cookie (SameSite=Strict keeps them home):
    the token an empty secret would give is computable by anyone, so it must not pass for one."""
    from garde.web.cookies import csrf_token

    known_subject(sqlite_url, "ana@example.com")
    with web_client(sqlite_url, tmp_path) as (client, keys):
        forged = {"signin": csrf_token("", "signin"), "login": csrf_token("", "login")}
        asked = client.post("/privacy/", data={"csrf": forged["signin"], "email": "mallory@example.com"})
        assert asked.status_code == 403 and "location" not in asked.headers
        assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())
        logged = client.post("/dpo/login", data={"csrf": forged["login"], "key": keys["dpo"]})
        assert logged.status_code == 403 and "garde_dpo" not in logged.headers.get("set-cookie", "")


def _set_cookies(response: object) -> list[str]:
    return [value.lower() for key, value in response.headers.multi_items()  # type: ignore[attr-defined]
            if key.lower() == "set-cookie"]


def test_over_https_the_cookies_are_host_only_and_a_tossed_one_opens_nothing(sqlite_url: str,
                                                                            tmp_path: Path) -> None:
    """Cookie tossing: a sibling subdomain (shop.example.com) can set a cookie for the parent domain
    that a browser sends to garde's host too, under the plain name, e.g. the attacker's own session
    so that the victim acts in it. Over https garde's session and CSRF cookies are ``__Host-`` ones
    (Secure, Path=/, no Domain: only garde's host can set them) and the plain names are ignored."""
    known_subject(sqlite_url, "ana@example.com")
    with web_client(sqlite_url, tmp_path) as (client, keys):
        client.http.base_url = "https://garde.test"
        login = client.get("/dpo/login")
        logged = client.post("/dpo/login", data={"csrf": csrf_of(login.text), "key": keys["dpo"]})
        home = client.get("/privacy/")
        asked = client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": "ana@example.com"})
        form = client.get("/privacy/code")
        confirmed = client.post("/privacy/code", data={"csrf": csrf_of(form.text),
                                                       "code": mailed_code(tmp_path / "outbox")})
        assert confirmed.status_code == 303, confirmed.text
        answers = (login, logged, home, asked, confirmed)
        made = [cookie for answer in answers for cookie in _set_cookies(answer)
                if "max-age=0" not in cookie and "garde_lang" not in cookie]
        assert {cookie.split("=", 1)[0] for cookie in made} == {
            "__host-garde_login", "__host-garde_dpo", "__host-garde_signin", "__host-garde_privacy_pending",
            "__host-garde_privacy", "__host-garde_privacy_proof"}
        assert all("; secure" in c and "; path=/;" in c + ";" and "domain=" not in c for c in made), made
        token = next(c for c in made if c.startswith("__host-garde_privacy="))
        value = confirmed.headers["set-cookie"].split("__Host-garde_privacy=", 1)[1].split(";", 1)[0]
        assert value and value.lower() in token
        assert client.get("/privacy/me").status_code == 200
        client.http.cookies.clear()
        tossed = client.get("/privacy/me", headers={"Cookie": f"garde_privacy={value}"})
        assert (tossed.status_code, tossed.headers["location"]) == (303, "/privacy/")
        # A tossed sign-in nonce, whose CSRF token its chooser can compute, does not pass the form.
        from garde.web.cookies import csrf_token

        forged = {"csrf": csrf_token("chosen", "signin"), "email": "x@example.com"}
        refused = client.post("/privacy/", data=forged, headers={"Cookie": "garde_signin=chosen"})
        assert refused.status_code == 403


def _parsed(answers: list[Any]) -> list[tuple[str, dict[str, str]]]:
    """Every Set-Cookie header of ``answers``, parsed (name, attributes as the header set them)."""
    parsed = []
    for answer in answers:
        for key, header in answer.headers.multi_items():
            if key.lower() != "set-cookie":
                continue
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            assert len(jar) == 1, header
            (name, morsel), = jar.items()
            flags = {part.strip().split("=", 1)[0].lower() for part in header.split(";")[1:]}
            attributes = {attribute: str(morsel[attribute]) for attribute in ("path", "domain", "samesite",
                                                                               "max-age")}
            parsed.append((name, {**attributes, **{flag: "set" for flag in flags & {"secure", "httponly"}},
                                  "header": header}))
    return parsed


def test_over_https_every_cookie_of_every_surface_is_host_only_down_to_its_deletion(
        sqlite_url: str, tmp_path: Path) -> None:
    """A ``__Host-`` cookie that is not Secure, not on ``Path=/`` or has a Domain is refused by the
    browser, and so is its deletion: a logout whose deletion lacked one would leave the session cookie
    in place. Every Set-Cookie answered over https, by the DPO dashboard (login, pages, logout), the
    privacy center (sign-in, code, pages, a language asked, logout) and the banner's routes, parsed."""
    from tests.banner_support import REGISTER_ID, banner_register

    known_subject(sqlite_url, "ana@example.com")
    registers = tmp_path / "registers"
    registers.mkdir()
    with web_client(sqlite_url, tmp_path, banner_register(registers)) as (client, keys):
        client.http.base_url = "https://garde.test"
        answers = []
        login = client.get("/dpo/login")
        answers += [login, client.post("/dpo/login", data={"csrf": csrf_of(login.text), "key": keys["dpo"]})]
        dpo = client.get("/dpo/")
        answers += [dpo, client.get("/dpo/requests?lang=fr"), client.get("/dpo/jobs")]
        answers.append(client.post("/dpo/logout", data={"csrf": csrf_of(dpo.text)}))
        home = client.get("/privacy/")
        asked = client.post("/privacy/", data={"csrf": csrf_of(home.text), "email": "ana@example.com"})
        answers += [home, asked]
        form = client.get("/privacy/code")
        answers += [form, client.post("/privacy/code", data={"csrf": csrf_of(form.text),
                                                              "code": mailed_code(tmp_path / "outbox")})]
        me = client.get("/privacy/me?lang=it")
        assert me.status_code == 200, me.text
        answers += [me, client.get("/privacy/notice")]
        answers.append(client.post("/privacy/me/logout", data={"csrf": csrf_of(me.text)}))
        config = client.get(f"/banner/v1/{REGISTER_ID}/config.json")
        answers += [client.get("/banner/v1/banner.js"), config, client.post(
            f"/banner/v1/{REGISTER_ID}/choices", json={"visitor_id": str(uuid.uuid4()), "lang": "en",
                                                       "version": config.json()["version"],
                                                       "choices": {"cookie.analytics": False}})]
    cookies = _parsed(answers)
    names = {name for name, _ in cookies}
    assert {"__Host-garde_login", "__Host-garde_dpo", "__Host-garde_signin", "__Host-garde_privacy_pending",
            "__Host-garde_privacy", "garde_lang"} <= names, names
    deleted = {name for name, attributes in cookies if attributes["max-age"] == "0"}
    assert {"__Host-garde_dpo", "__Host-garde_privacy", "__Host-garde_login", "__Host-garde_signin"} \
        <= deleted
    for name, attributes in cookies:
        assert name.startswith("__Host-") or name == "garde_lang", attributes["header"]
        assert attributes.get("secure") == attributes.get("httponly") == "set", attributes["header"]
        assert attributes["path"] == "/" and attributes["domain"] == "", attributes["header"]
        assert attributes["samesite"].lower() == "strict", attributes["header"]


def test_every_state_changing_form_of_both_surfaces_refuses_a_wrong_csrf_token(sqlite_url: str,
                                                                              tmp_path: Path) -> None:
    """Read from the route table, so a form added later is swept too: every POST of the dashboard
    (past its login) and of the privacy center (past its sign-in), within a live session of its own,
    without the session's CSRF token or with another, is a 403 and changes nothing."""
    from garde.api.app import route_table
    from garde.rights import get_request, submit, verify_out_of_band
    from garde.store import connect
    from garde.web.cookies import csrf_token

    known_subject(sqlite_url, "ana@example.com")
    engine = connect(sqlite_url)
    with engine.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.com"}, language="en")
        verify_out_of_band(conn, request.id, "ID card", actor="agent:test", identities=["email"])
    with web_client(sqlite_url, tmp_path) as (client, keys):
        log_in(client, keys["dpo"])
        _sign_in(client, "ana@example.com", tmp_path / "outbox")
        posts = sorted(path for method, path, _ in route_table(client.app) if method == "POST"
                       and (path.startswith("/dpo/") or path.startswith("/privacy/me"))
                       and path not in ("/dpo/login",))
        assert {"/dpo/requests/{request_id}/run", "/dpo/logout", "/privacy/me/requests/{request_id}/confirm",
                "/privacy/me/object", "/privacy/me/logout"} <= set(posts), posts
        for path in posts:
            url = path.replace("{request_id}", request.id)
            for token in ({}, {"csrf": "x"}, {"csrf": csrf_token("another session's secret")}):
                answer = client.post(url, data={**token, "reason": "r", "code": "123456", "type": "access"})
                assert answer.status_code == 403, (url, token, answer.status_code)
        assert client.get("/privacy/me").status_code == 200 and client.get("/dpo/").status_code == 200
    with engine.connect() as conn:
        after = get_request(conn, request.id)
    engine.dispose()
    assert after.status == "verified" and after.extended_deadline is None
