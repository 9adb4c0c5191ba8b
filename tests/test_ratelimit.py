"""Rate limits in the store: one conditional statement per hit, exact under concurrency,
across threads and processes, on SQLite and PostgreSQL; the API's 429 and client address."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from garde.api.ratelimits import client_address
from garde.ratelimit import Limit, RateLimited, forget_windows, hit, rate_limits
from garde.store import connect

HOUR = Limit("test.hammer", 25, timedelta(hours=1))
AT = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def _hammer(url: str, attempts: int, at: datetime) -> tuple[int, int]:
    engine = connect(url)
    accepted = refused = 0
    for _ in range(attempts):
        try:
            with engine.begin() as conn:
                hit(conn, HOUR, "same-key", at=at)
            accepted += 1
        except RateLimited:
            refused += 1
    engine.dispose()
    return accepted, refused


def test_threads_hammering_one_key_get_exactly_the_limit(engine: sa.Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    results: list[tuple[int, int]] = []
    threads = [threading.Thread(target=lambda: results.append(_hammer(url, 10, AT))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(a for a, _ in results) == 25
    assert sum(r for _, r in results) == 80 - 25


CHILD = """
import sys
from datetime import datetime
from tests.test_ratelimit import _hammer
accepted, refused = _hammer(sys.argv[1], 30, datetime.fromisoformat(sys.argv[2]))
print(accepted)
"""


def test_two_processes_hammering_one_key_get_exactly_the_limit(engine: sa.Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    children = [subprocess.Popen([sys.executable, "-c", CHILD, url, AT.isoformat()], stdout=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    accepted = [int(child.communicate(timeout=120)[0].strip()) for child in children]
    assert all(child.returncode == 0 for child in children)
    assert sum(accepted) == 25


def test_a_new_window_starts_again_and_the_refusal_says_when(engine: sa.Engine) -> None:
    limit = Limit("test.window", 2, timedelta(minutes=10))
    with engine.begin() as conn:
        assert [hit(conn, limit, "k", at=AT), hit(conn, limit, "k", at=AT)] == [1, 2]
        with pytest.raises(RateLimited) as refused:
            hit(conn, limit, "k", at=AT + timedelta(seconds=1))
        # 10:30:01 in the window 10:30-10:40: 599 s to wait
        assert refused.value.retry_after == 599 and refused.value.status == 429
        assert "2 per 10 minutes" in str(refused.value)
        assert hit(conn, limit, "other-key", at=AT) == 1  # keys are counted apart
        assert hit(conn, Limit("test.other", 2, timedelta(minutes=10)), "k", at=AT) == 1  # scopes too
        assert hit(conn, limit, "k", at=AT + timedelta(minutes=10)) == 1
        assert conn.execute(sa.select(rate_limits.c.hits).where(rate_limits.c.scope == "test.window",
                                                                rate_limits.c.key == "k")).scalar() == 1
        assert forget_windows(conn, before=AT + timedelta(days=2)) == 3
        assert conn.execute(sa.select(sa.func.count()).select_from(rate_limits)).scalar() == 0


@settings(max_examples=60, deadline=None)
@given(limit=st.integers(1, 6), offsets=st.lists(st.integers(0, 7199), max_size=30))
def test_each_window_accepts_at_most_its_limit(limit: int, offsets: list[int]) -> None:
    engine = connect("sqlite://", create=True)
    rate_limits.create(engine)
    rule = Limit("test.property", limit, timedelta(hours=1))
    accepted: dict[int, int] = {}
    with engine.begin() as conn:
        for offset in sorted(offsets):
            at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
            try:
                hit(conn, rule, "k", at=at)
                accepted[offset // 3600] = accepted.get(offset // 3600, 0) + 1
            except RateLimited as refusal:
                assert accepted.get(offset // 3600) == limit
                assert 0 < refusal.retry_after <= 3600 - offset % 3600
    asked = {window: sum(1 for o in offsets if o // 3600 == window) for window in (0, 1)}
    assert all(accepted.get(w, 0) == min(limit, asked[w]) for w in (0, 1))
    engine.dispose()


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_client_address_is_the_peer_unless_a_trusted_proxy_forwards() -> None:
    assert client_address(_request("203.0.113.9", "198.51.100.1"), []) == "203.0.113.9"  # header ignored
    assert client_address(_request("203.0.113.9", "198.51.100.1"), ["10.0.0.0/8"]) == "203.0.113.9"
    proxied = _request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3")
    # a client may write any first hop: the last one a trusted proxy did not write is the client
    assert client_address(proxied, ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_address(_request("10.0.0.2", "not-an-address"), ["10.0.0.0/8"]) == "10.0.0.2"
    assert client_address(_request("2001:db8::1:2"), []) == "2001:db8::/64"  # one subscriber, one key
    assert client_address(_request("::ffff:192.0.2.1"), []) == "192.0.2.1"
