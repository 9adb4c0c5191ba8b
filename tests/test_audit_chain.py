"""The audit chain detects any modified, deleted, inserted or reordered entry."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit
from garde.store import connect, migrate


def fill(engine: sa.Engine, n: int) -> None:
    with engine.begin() as conn:
        audit.record_many(conn, [audit.Event("decision", {"i": i, "allowed": i % 2 == 0}) for i in range(n)])


def test_untouched_chain_verifies(engine: sa.Engine) -> None:
    fill(engine, 20)
    with engine.begin() as conn:
        audit.record(conn, "consent.given", {"activity": "newsletter"}, subject_id="s1")
        result = audit.verify(conn)
    assert result == audit.Verification(True, 21)


def test_modified_entry_is_named(engine: sa.Engine) -> None:
    fill(engine, 10)
    with engine.begin() as conn:
        conn.execute(audit.audit_log.update().where(audit.audit_log.c.seq == 4)
                     .values(payload='{"allowed":true,"i":99}'))
        result = audit.verify(conn)
    assert (result.ok, result.first_bad) == (False, 4)


def test_deleted_last_entry_is_detected_through_the_head(engine: sa.Engine) -> None:
    fill(engine, 5)
    with engine.begin() as conn:
        conn.execute(audit.audit_log.delete().where(audit.audit_log.c.seq == 5))
        result = audit.verify(conn)
    assert (result.ok, result.first_bad) == (False, 5)


N = 12
tampering = st.one_of(
    st.tuples(st.just("modify"), st.integers(1, N)),
    st.tuples(st.just("delete"), st.integers(1, N)),
    st.tuples(st.just("swap"), st.integers(1, N - 1)),
    st.tuples(st.just("insert"), st.integers(1, N)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tampering)
def test_any_single_tampering_is_detected(sqlite_url: str, change: tuple[str, int]) -> None:
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(audit.audit_log.delete())
        conn.execute(audit.audit_head.delete())
    fill(engine, N)
    what, seq = change
    log = audit.audit_log
    with engine.begin() as conn:
        if what == "modify":
            conn.execute(log.update().where(log.c.seq == seq).values(actor="mallory"))
        elif what == "delete":
            conn.execute(log.delete().where(log.c.seq == seq))
        elif what == "swap":
            a, b = (conn.execute(sa.select(log).where(log.c.seq == s)).one()._asdict()
                    for s in (seq, seq + 1))
            conn.execute(log.delete().where(log.c.seq.in_([seq, seq + 1])))
            conn.execute(log.insert(), [{**b, "seq": seq}, {**a, "seq": seq + 1}])
        else:
            conn.execute(log.update().where(log.c.seq >= seq).values(seq=log.c.seq + 1000))
            forged = conn.execute(sa.select(log).where(log.c.seq == seq + 1000)).one()._asdict()
            conn.execute(log.insert().values({**forged, "seq": seq, "kind": "forged"}))
            conn.execute(log.update().where(log.c.seq >= seq + 1000).values(seq=log.c.seq - 999))
        result = audit.verify(conn)
    engine.dispose()
    assert not result.ok
    assert result.first_bad is not None and result.first_bad <= seq + 1


def test_first_writers_at_once_neither_deadlock_nor_fork_the_chain(engine: sa.Engine) -> None:
    """On an empty log, several transactions race to create the head row: all must append."""
    import threading

    ready = threading.Barrier(8)
    errors: list[BaseException] = []

    def first_write(n: int) -> None:
        try:
            with engine.connect() as conn:  # connect first: the transactions themselves must race
                conn.execute(sa.text("SELECT 1"))
                conn.commit()
                ready.wait()
                with conn.begin():
                    audit.record(conn, "consent.given", {"n": n})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=first_write, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with engine.connect() as conn:
        assert audit.verify(conn) == audit.Verification(True, 8)


# what the COPY of a batch (PostgreSQL) and executemany (SQLite) must carry byte for byte: tabs,
# backslashes, line breaks, quotes, non-ASCII, "\N" as text, and NULL (no character NUL: PostgreSQL's
# text refuses it however it is sent)
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
short = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                max_size=12)
events = st.lists(st.builds(audit.Event, short, st.dictionaries(short, text | st.integers(), max_size=3),
                            st.none() | short | st.just("\\N"), short), min_size=2, max_size=12)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events)
def test_a_batch_is_stored_as_appended_and_verifies(engine: sa.Engine, batch: list[audit.Event]) -> None:
    """A batch of entries with any text in its fields (one COPY on PostgreSQL, one executemany on
    SQLite) reads back field for field, and the whole chain verifies."""
    with engine.begin() as conn:
        last = audit.record_many(conn, batch)
    with engine.connect() as conn:
        stored = list(audit.entries(conn, after=last - len(batch)))
        assert audit.verify(conn).ok
    assert [(e["kind"], e["payload"], e["subject_id"], e["actor"]) for e in stored] == [
        (e.kind, e.payload, e.subject_id, e.actor) for e in batch]


# A batch as the writers receive it: payloads as mappings, canonical JSON, or a decision's parts
# (head, time, tail) with the time a UTC time's POSIX seconds, a datetime (any offset) or a str.
_text = st.text(max_size=12)
_moments = st.one_of(
    st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),  # up to 2100
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                            timezone(timedelta(hours=-3))])),
    _text)
_payloads = st.one_of(st.dictionaries(_text, _text, max_size=3), _text,
                      st.tuples(_text, _moments, _text))
_items = st.lists(st.tuples(st.sampled_from(["decision", "consent.given", 'k"\\\n']), _payloads,
                            st.one_of(st.none(), _text), st.sampled_from(["garde", "é\t"])),
                  min_size=1, max_size=8)


@given(_items, st.sampled_from([audit.GENESIS, "a" * 64, 'odd "head"\\']))
def test_a_batch_is_chained_as_each_entry_alone_would_be(items: list[Any], prev: str) -> None:
    """The chain's shortcuts (what a batch repeats quoted once, a decision's payload quoted in
    parts) give each entry the hash :func:`audit.entry_hash` gives it alone, which
    ``garde audit verify`` recomputes."""
    at = "2026-12-06T20:00:00.000001Z"
    rows = audit._chain(items, 41, prev, at)
    for (kind, data, subject_id, actor), row in zip(items, rows, strict=True):
        payload = audit.payload_text(data)
        assert row == (row[0], at, kind, subject_id, actor, payload, prev,
                       audit.entry_hash(row[0], at, kind, subject_id, actor, payload, prev), None)
        prev = row[7]
    assert [row[0] for row in rows] == list(range(42, 42 + len(items)))


# POSIX seconds as the decisions send them: any float up to 2100, those of a datetime's timestamp(),
# and those a hair either side of a microsecond's half (rounding, and the carry into the next second)
_seconds = st.one_of(
    st.floats(min_value=0, max_value=4_102_444_799.999, allow_nan=False),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31),
                 timezones=st.just(UTC)).map(lambda moment: moment.timestamp()),
    st.tuples(st.integers(0, 4_102_444_799), st.integers(0, 999_999),
              st.sampled_from([0.5, 0.4999, 0.5001, 1.0])).map(lambda p: p[0] + (p[1] + p[2]) / 1e6),
    st.sampled_from([0.0, 0.9999995, 1.9999996, 1_765_000_000.0, 1_765_000_000.0000005,
                     4_102_444_799.9999995]))


@given(st.lists(_seconds, min_size=1, max_size=20))
def test_the_writers_time_text_is_isoformat_of_the_utc_time(moments: list[float]) -> None:
    """:func:`audit.utc_isoformat` writes a decision's time as ``fromtimestamp(…, UTC).isoformat()``
    does, whatever it met before (its seconds are cached): the entry's bytes, so its hash, are the
    ones ``garde audit verify`` recomputes from the stored payload."""
    for seconds in moments:
        assert audit.utc_isoformat(seconds) == datetime.fromtimestamp(seconds, UTC).isoformat()
