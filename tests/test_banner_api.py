"""The cookie banner's routes and CORS: a real `garde serve` on SQLite and PostgreSQL, and the app
over ASGI for the refusals.

A choice lands in the consent ledger (method cookie_banner, the notice version of the banner's
language, one event per category and activity, the visitor's id hashed as a ``visitor`` identity);
garbage is a 4xx problem; a visitor id reads nothing back; cross-origin calls come from the
configured origins only.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from garde.api import create_app
from garde.documents import notice_version
from garde.documents.banner import banner_version
from garde.register import load_register
from garde.settings import Settings
from garde.store import connect
from tests.api_support import Client, garde_serve
from tests.banner_support import ASKED, REGISTER_ID, banner_register, ledger

SHOP = "http://shop.test:8080"
CHOICES = f"/banner/v1/{REGISTER_ID}/choices"
CONFIG = f"/banner/v1/{REGISTER_ID}/config.json"
PROBLEM = "application/problem+json"


@pytest.fixture
def register_path(tmp_path: Path) -> Path:
    folder = tmp_path / "registers"
    folder.mkdir()
    return banner_register(folder)


@pytest.fixture
def client(sqlite_url: str, register_path: Path) -> Iterator[Client]:
    app = create_app(Settings(database_url=sqlite_url, registers=register_path, allowed_origins=(SHOP,)))
    with Client(app).running() as running:
        yield running


def _choice(client: Client | httpx.Client, choices: dict[str, bool], visitor: str | None = None,
            lang: str = "fr", **headers: str) -> httpx.Response:
    version = client.get(CONFIG, params={"lang": lang}).json()["version"]
    return client.post(CHOICES, json={"visitor_id": visitor or str(uuid.uuid4()), "lang": lang,
                                      "version": version, "choices": choices}, headers=headers)


# --- over a real server ----------------------------------------------------------------------

def test_a_choice_lands_in_the_ledger_over_a_real_server(database_url: str, register_path: Path,
                                                         tmp_path: Path) -> None:
    env = {**os.environ, "GARDE_DATABASE_URL": database_url, "GARDE_REGISTERS": str(register_path),
           "GARDE_ALLOWED_ORIGINS": SHOP}
    visitor = str(uuid.uuid4())
    with garde_serve(env, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
        shown = http.get(CONFIG, params={"lang": "fr"})
        assert shown.status_code == 200, shown.text
        config = shown.json()
        assert [c["id"] for c in config["categories"] if c["choice"]] == list(ASKED)
        assert config["notice_version"] == notice_version(load_register(register_path), "fr")
        assert config["months"] == 13 and config["texts"]["refuse_all"] == "Tout refuser"
        analytics = next(c for c in config["categories"] if c["id"] == "cookie.analytics")
        assert analytics["trackers"][0]["lifetime"] == [{"text": "13 mois", "lang": "fr"}]
        assert analytics["purposes"] == [[{"text": "Mesurer l'audience du site", "lang": "fr"}]]

        recorded = _choice(http, {"cookie.analytics": True, "cookie.advertising": False}, visitor,
                           Origin=SHOP)
        assert recorded.status_code == 201, recorded.text
        assert recorded.headers["access-control-allow-origin"] == SHOP
        assert set(recorded.json()) == {"recorded", "notice_version", "expires_at"}

        garbage = http.post(CHOICES, content=b"not json", headers={"Content-Type": "application/json"})
        assert garbage.status_code == 422 and garbage.headers["content-type"] == PROBLEM

        allowed = http.options(CHOICES, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST",
                                                 "Access-Control-Request-Headers": "content-type"})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == SHOP
        refused = http.options(CHOICES, headers={"Origin": "http://evil.test",
                                                 "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    events = ledger(database_url)
    assert [(e["activity"], e["channel"], e["action"]) for e in events] == [
        ("web-audience", "cookie.analytics", "given"), ("web-advertising", "cookie.advertising", "refused")]
    assert {e["method"] for e in events} == {"cookie_banner"}
    assert {e["notice_version"] for e in events} == {config["notice_version"]}
    assert {e["identity"] for e in events} == {"visitor"}
    assert events[0]["expires_at"] is not None and events[1]["expires_at"] is None
    engine = connect(database_url)
    with engine.connect() as conn:  # the visitor's id is kept as its HMAC only
        assert visitor not in repr(conn.execute(sa.text("SELECT * FROM subject_identifiers")).all())
        assert visitor not in repr(conn.execute(sa.text("SELECT * FROM audit_log")).all())
    engine.dispose()


# --- a change of mind, and what a visitor id gives away ------------------------------------------

def test_withdrawing_is_one_choice_like_giving(client: Client, sqlite_url: str) -> None:
    visitor = str(uuid.uuid4())
    for analytics in (True, False):
        answer = _choice(client, {"cookie.analytics": analytics, "cookie.advertising": True}, visitor)
        assert answer.status_code == 201
    assert [(e["channel"], e["action"]) for e in ledger(sqlite_url)] == [
        ("cookie.analytics", "given"), ("cookie.advertising", "given"),
        ("cookie.analytics", "withdrawn"), ("cookie.advertising", "given")]


@pytest.mark.parametrize("signal", ["body", "header"])
def test_global_privacy_control_refuses_advertising_and_is_recorded(client: Client, sqlite_url: str,
                                                                   signal: str) -> None:
    version = client.get(CONFIG, params={"lang": "en"}).json()["version"]
    body = {"visitor_id": str(uuid.uuid4()), "lang": "en", "version": version,
            "choices": dict.fromkeys(ASKED, True)}
    sent = client.post(CHOICES, json={**body, "gpc": True} if signal == "body" else body,
                       headers={"Sec-GPC": "1"} if signal == "header" else {})
    assert sent.status_code == 201, sent.text
    assert [(e["channel"], e["action"]) for e in ledger(sqlite_url)] == [
        ("cookie.analytics", "given"), ("cookie.advertising", "refused")]
    engine = connect(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT scope FROM subject_objections")).scalars().all() == [
            "targeted_advertising"]
    engine.dispose()


def test_a_visitor_id_reads_nothing_back(client: Client) -> None:
    """The answer to a choice is the same for a new and a known visitor; no route takes a visitor
    id to read, and no answer holds one."""
    known = str(uuid.uuid4())
    first = _choice(client, {"cookie.analytics": True, "cookie.advertising": True}, known).json()
    again = _choice(client, {"cookie.analytics": True, "cookie.advertising": True}, known).json()
    stranger = _choice(client, {"cookie.analytics": True, "cookie.advertising": True}).json()
    assert first.keys() == again.keys() == stranger.keys() == {"recorded", "notice_version", "expires_at"}
    assert first["recorded"] == again["recorded"] == stranger["recorded"] == 2
    for path in (CONFIG, f"{CONFIG}?visitor_id={known}", f"/banner/v1/{REGISTER_ID}/choices/{known}"):
        answer = client.get(path)
        assert known not in answer.text
    assert client.get(f"/banner/v1/{REGISTER_ID}/choices").status_code == 405


def test_the_consent_lapses_with_the_configured_lifetime(sqlite_url: str, register_path: Path) -> None:
    """GARDE_COOKIE_CONSENT_MONTHS (6 here): the consent recorded lapses then, and the banner's
    version changes with it (a browser asks again)."""
    app = create_app(Settings(database_url=sqlite_url, registers=register_path, cookie_consent_months=6))
    with Client(app).running() as client:
        config = client.get(CONFIG).json()
        assert config["months"] == 6
        assert _choice(client, {"cookie.analytics": True, "cookie.advertising": False}).status_code == 201
    given = ledger(sqlite_url)[0]
    assert 181 <= (given["expires_at"] - given["at"]).days <= 184
    assert config["version"] == banner_version(load_register(register_path), 6)
    assert config["version"] != banner_version(load_register(register_path), 13)


# --- garbage -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "status"), [
    ({"visitor_id": "not-a-uuid", "choices": {"cookie.analytics": True, "cookie.advertising": True}}, 400),
    # a fixed version-1 UUID (a random UUID4 with its first "-4" replaced was still a UUID4 one time in 16)
    ({"visitor_id": "6fa459ea-ee8a-1ca4-894e-db77e160355e", "choices": dict.fromkeys(ASKED, True)}, 400),
    ({"choices": {"cookie.analytics": True}}, 400),  # a category missing
    ({"choices": {"cookie.analytics": True, "cookie.advertising": True, "cookie.social": True}}, 400),
    ({"choices": {f"cookie.c{i}": True for i in range(33)}}, 422),
    ({"choices": {"cookie.analytics": "yes please", "cookie.advertising": True}}, 422),
    ({"choices": dict.fromkeys(ASKED, True), "extra": 1}, 422),
    ({"choices": dict.fromkeys(ASKED, True), "lang": "de"}, 422),
    ({"choices": dict.fromkeys(ASKED, True), "version": "0" * 16}, 409),
    ({"choices": dict.fromkeys(ASKED, True), "visitor_id": "x" * 5000}, 413),
])
def test_garbage_is_a_4xx_problem_and_records_nothing(client: Client, sqlite_url: str,
                                                      body: dict[str, Any], status: int) -> None:
    version = client.get(CONFIG, params={"lang": "en"}).json()["version"]
    answer = client.post(CHOICES, json={"visitor_id": str(uuid.uuid4()), "lang": "en", "version": version,
                                        **body})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert ledger(sqlite_url) == []


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/banner/v1/nowhere/config.json", 404),
    ("GET", f"{CONFIG}?lang=de", 422),
    ("GET", f"/banner/v1/{'x' * 200}/config.json", 422),
    ("POST", "/banner/v1/nowhere/choices", 422),
    ("POST", CHOICES, 422),
])
def test_wrong_addresses_are_4xx_problems(client: Client, method: str, path: str, status: int) -> None:
    answer = client.request(method, path, content=b"{}" if method == "POST" else None)
    assert answer.status_code == status and answer.headers["content-type"] == PROBLEM


def test_a_page_of_another_origin_cannot_record(client: Client, sqlite_url: str) -> None:
    """A browser sends a no-preflight POST whatever CORS says: the route refuses it itself."""
    refused = _choice(client, dict.fromkeys(ASKED, True), Origin="http://evil.test")
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert ledger(sqlite_url) == []
    assert _choice(client, dict.fromkeys(ASKED, True), Origin=SHOP).status_code == 201


def test_choices_are_rate_limited_per_address(client: Client) -> None:
    """30 a minute per address, counted in the store in clock-aligned windows: when a window's edge
    fell among the 31 choices, they are made again from another address (nothing waits for a window)."""
    for attempt in range(3):
        caller = client.from_address(f"192.0.2.{attempt + 1}")
        window = time.time() // 60
        answers = [_choice(caller, dict.fromkeys(ASKED, False)) for _ in range(31)]
        if time.time() // 60 == window:
            break
    else:
        pytest.fail("three windows' edges in three rounds of 31 choices")
    assert [a.status_code for a in answers[:30]] == [201] * 30 and answers[30].status_code == 429
    assert answers[30].headers["content-type"] == "application/problem+json"
    assert 1 <= int(answers[30].headers["retry-after"]) <= 60


def test_the_script_is_served_small_and_self_contained(client: Client) -> None:
    import gzip

    script = client.get("/banner/v1/banner.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert len(gzip.compress(script.content)) < 10 * 1024
    assert b"http://" not in script.content and b"https://garde.example" in script.content  # the example only


# --- CORS ------------------------------------------------------------------------------------------

def _preflight(client: Client, path: str, origin: str, method: str = "POST") -> httpx.Response:
    return client.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type, authorization"})


@pytest.mark.parametrize("path", [CHOICES, CONFIG, "/api/v1/decisions"])
def test_a_preflight_from_an_allowed_origin_succeeds(client: Client, path: str) -> None:
    answer = _preflight(client, path, SHOP)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == SHOP
    assert "access-control-allow-credentials" not in answer.headers
    assert "POST" in answer.headers["access-control-allow-methods"]


@pytest.mark.parametrize("origin", ["http://evil.test", "http://shop.test", "https://shop.test:8080",
                                    "http://shop.test:8080.evil.test", "null"])
@pytest.mark.parametrize("path", [CHOICES, CONFIG, "/api/v1/decisions"])
def test_a_preflight_from_another_origin_is_refused(client: Client, path: str, origin: str) -> None:
    answer = _preflight(client, path, origin)
    assert answer.status_code == 403 and answer.headers["content-type"] == PROBLEM
    assert not any(name.startswith("access-control-") for name in answer.headers)
    simple = client.get(CONFIG, headers={"Origin": origin})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


def test_no_origin_is_allowed_by_default(sqlite_url: str, register_path: Path) -> None:
    with Client(create_app(Settings(database_url=sqlite_url, registers=register_path))).running() as client:
        assert _preflight(client, CONFIG, SHOP, "GET").status_code == 403
        assert "access-control-allow-origin" not in client.get(CONFIG, headers={"Origin": SHOP}).headers


@pytest.mark.parametrize("value", ["*", "https://*.shop.test", "https://shop.test/", "https://shop.test/path",
                                   "shop.test", "ftp://shop.test", "https://user@shop.test", "null",
                                   "https://shop.test:99999", "https://shop.test?x", "http://a b",
                                   "https://bücher.test", "http://shop..test", "http://-shop.test"])
def test_an_origin_that_is_not_one_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="allowed_origins"):
        Settings(allowed_origins=value)


def test_origins_are_read_as_browsers_send_them() -> None:
    settings = Settings(allowed_origins="HTTPS://Shop.Test:443, http://127.0.0.1:8001 ,https://shop.test")
    assert settings.allowed_origins == ("https://shop.test", "http://127.0.0.1:8001")


@pytest.mark.parametrize("months", [0, 14, 25])
def test_a_consent_lifetime_over_13_months_is_refused(months: int) -> None:
    with pytest.raises(ValueError, match="cookie_consent_months"):
        Settings(cookie_consent_months=months)


def test_serve_names_a_bad_setting_and_stops(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "GARDE_ALLOWED_ORIGINS": "https://shop.test/", "GARDE_DATABASE_URL":
           f"sqlite:///{tmp_path / 'g.db'}"}
    done = subprocess.run([sys.executable, "-m", "garde", "serve"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "GARDE_ALLOWED_ORIGINS" in done.stderr and "Traceback" not in done.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_setting_text_is_origins_or_a_refusal_naming_it(text: str) -> None:
    """Whatever GARDE_ALLOWED_ORIGINS holds, it reads as exact origins or is refused by name."""
    try:
        origins = Settings(allowed_origins=text).allowed_origins
    except ValueError as exc:
        assert "allowed_origins" in str(exc)
        return
    for origin in origins:
        parts = urlsplit(origin)
        assert origin == f"{parts.scheme}://{parts.netloc}" and parts.scheme in ("http", "https")
        assert "*" not in origin and "@" not in origin and origin == origin.lower() and origin.isascii()
        assert not any(c.isspace() for c in origin)
        assert Settings(allowed_origins=origin).allowed_origins == (origin,)  # read back as itself


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["http", "HTTP", "https", "Https"]),
       st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?(\.[a-zA-Z]{2,6}){0,2}", fullmatch=True),
       st.one_of(st.none(), st.integers(1, 65535)))
def test_an_origin_is_read_as_a_browser_sends_it(scheme: str, host: str, port: int | None) -> None:
    written = f"{scheme}://{host}" + (f":{port}" if port is not None else "")
    (origin,) = Settings(allowed_origins=written).allowed_origins
    default = {"http": 80, "https": 443}[scheme.lower()]
    shown_port = f":{port}" if port not in (None, default) else ""
    assert origin == f"{scheme.lower()}://{host.lower()}{shown_port}"
