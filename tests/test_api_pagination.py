"""Cursor pagination (``garde.api.pagination``) over the requests' stable order, on SQLite and
PostgreSQL: every request there all along is listed exactly once across pages, whatever is received
between pages (before or after the current position, at equal times); cursors that do not decode
are refused by name."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde.api.pagination import BadCursor, Paging
from garde.api.pagination import decode_cursor as decode
from garde.api.pagination import encode_cursor as encode
from garde.rights.intake import list_requests, submit
from garde.rights.tables import request_identities, request_steps, requests

START = datetime(2026, 1, 1, tzinfo=UTC)
KEY = (datetime, str)
moments = st.lists(st.integers(0, 30), max_size=4)  # seconds after START: equal times are common


def _receive(engine: sa.Engine, seconds: list[int]) -> list[str]:
    with engine.begin() as conn:
        return [submit(conn, "access", {"customer_id": f"C-{n}"}, received_at=START + timedelta(seconds=s)).id
                for n, s in enumerate(seconds)]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(st.integers(0, 30), max_size=20), limit=st.integers(1, 6),
       arrivals=st.lists(moments, max_size=12))
def test_every_request_is_listed_once_across_pages_whatever_arrives(
        engine: sa.Engine, first: list[int], limit: int, arrivals: list[list[int]]) -> None:
    with engine.begin() as conn:
        conn.execute(request_steps.delete())
        conn.execute(request_identities.delete())
        conn.execute(requests.delete())
    there = _receive(engine, first)
    seen: list[tuple[datetime, str]] = []
    cursor: str | None = None
    pages = 0
    while True:
        paging = Paging(cursor=cursor, limit=limit)
        with engine.connect() as conn:
            found = list_requests(conn, after=paging.after(KEY), limit=paging.read)
        items, cursor = paging.page(found, lambda r: (r.received_at, r.id))
        assert len(items) <= limit
        seen += [(r.received_at, r.id) for r in items]
        if pages < len(arrivals):  # received meanwhile, anywhere in the order
            _receive(engine, arrivals[pages])
        pages += 1
        assert pages <= 100, "paging does not move on"
        if cursor is None:
            break
    ids = [request_id for _, request_id in seen]
    assert len(ids) == len(set(ids))  # never twice
    assert set(there) <= set(ids)  # every request there all along
    assert seen == sorted(seen)  # in the stable order


@given(st.datetimes(timezones=st.just(UTC)), st.text(st.characters(exclude_characters="\x00"), max_size=40))
def test_a_cursor_gives_back_its_key(moment: datetime, request_id: str) -> None:
    assert decode(encode((moment, request_id)), KEY) == (moment, request_id)


@pytest.mark.parametrize("cursor", ["", "not a cursor", "bm90IGEgY3Vyc29y", encode(("a", "b")),
                                    encode((START,)), encode((START, 3)), "W10", "e30", "%%%"])
def test_a_cursor_this_list_did_not_give_is_refused_by_name(cursor: str) -> None:
    with pytest.raises(BadCursor) as refused:
        decode(cursor, KEY)
    assert refused.value.field == "query.cursor"


@given(st.text(max_size=80))
def test_no_cursor_breaks_decoding(cursor: str) -> None:
    with contextlib.suppress(BadCursor):
        decode(cursor, KEY)


def test_an_empty_or_exact_list_has_no_next_page() -> None:
    paging = Paging(limit=2)
    assert paging.page([], lambda n: (n,)) == ([], None)
    assert paging.page([1, 2], lambda n: (n,)) == ([1, 2], None)
    assert paging.page([1, 2, 3], lambda n: (n,)) == ([1, 2], encode((2,)))
