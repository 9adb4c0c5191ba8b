"""decide()'s default clock read as POSIX microseconds (issue 14, dec30): a kept answer's bounds are
compared in microseconds and a datetime is made only for a new answer, so the answers and the audit
entries must be those the clock's datetime gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from garde import audit, subjects
from garde.audit import utc_isoformat
from garde.decide import DecisionPoint
from garde.decide import point as point_module
from garde.decide.point import micros_of
from garde.store import connect, migrate
from tests.test_decide_kept import BASE, activities, apply, asks, generated_register, operations

UNIX = datetime(1970, 1, 1, tzinfo=UTC)
UNTIL = 4_102_444_800 * 1_000_000  # 2100-01-01: utc_isoformat's own range


@given(st.integers(0, UNTIL - 1))
def test_a_whole_microsecond_over_1e6_is_formatted_as_that_microsecond(micro: int) -> None:
    """The audit entry's time is sent as ``micro / 1e6``: its text must be that microsecond's."""
    assert utc_isoformat(micro / 1e6) == (UNIX + timedelta(microseconds=micro)).isoformat()


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31)),
       st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31)),
       st.sampled_from([None, UTC, timezone(timedelta(hours=5))]))
def test_microseconds_order_as_the_datetimes_do(first: datetime, second: datetime, zone: Any) -> None:
    """A kept answer's bounds in microseconds: the same order as the datetimes (naive ones as UTC)."""
    a, b = first.replace(tzinfo=zone), second.replace(tzinfo=zone)
    assert (micros_of(a) < micros_of(b)) == (a < b)
    assert (micros_of(a) <= micros_of(b)) == (a <= b)
    aware = a if a.tzinfo is not None else a.replace(tzinfo=UTC)
    assert UNIX + timedelta(microseconds=micros_of(a)) == aware


@settings(max_examples=40, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # a failure's shrinking took minutes
@given(activities, st.lists(st.tuples(operations, asks), min_size=1, max_size=3), st.integers(0, 999))
def test_the_default_clock_answers_as_a_clock_of_datetimes(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch, declared: list[dict[str, Any]],
        rounds: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]], nanos: int) -> None:
    """Random registers, histories and instants (often exactly on an expiry or a retention's end), the
    system clock's nanoseconds past each instant's microsecond: a point on the default clock (kept
    answers compared in microseconds) answers as a point reading every subject's facts on a clock
    of datetimes, and audits each decision at that microsecond."""
    # each example its own store: the fixture's file is the test's, shared by the examples
    engine = connect(sqlite_url.replace("garde.db", f"{uuid.uuid4().hex}.db"), create=True)
    migrate(engine)
    model = generated_register(declared)
    clock = [BASE]
    monkeypatch.setattr(point_module, "_time_ns", lambda: micros_of(clock[0]) * 1000 + nanos)
    email = f"{uuid.uuid4().hex}@example.com"
    with engine.begin() as conn:
        sid = subjects.ensure_subject(conn, {"email": email})
        conn.execute(subjects.subjects.update().where(subjects.subjects.c.id == sid).values(created_at=BASE))
    writer = audit.AuditWriter(engine, max_delay=None, flush_at_exit=False)
    fast = DecisionPoint(model, engine, audit=writer)
    plain = DecisionPoint(model, engine, audit=False, clock=lambda: clock[0], cache_size=0)
    times: list[str] = []
    try:
        for writes, questions in rounds:
            for operation in writes:
                apply(engine, sid, operation)
            for activity, categories, channel, when, by_identity in questions:
                clock[0] = BASE + timedelta(days=when, microseconds=when)
                subject: str | dict[str, str] = {"email": email} if by_identity else sid
                expected = plain.decide(f"a{activity}", subject, categories, channel)
                answer = fast.decide(f"a{activity}", subject, categories, channel)
                assert answer.to_data() == expected.to_data()
                times.append(clock[0].isoformat())
        writer.flush()
        with engine.connect() as conn:
            audited = [entry["payload"]["at"] for entry in audit.entries(conn, kind="decision")]
        assert len(audited) == len(times), (len(audited), len(times))
        assert audited == times, [(a, t) for a, t in zip(audited, times, strict=True) if a != t][:3]
    finally:
        fast.close()
        plain.close()
        writer.close()
        engine.dispose()
