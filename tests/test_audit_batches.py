"""Decision batches as one row of the audit log (issue 14, migration 0037): read, exported, verified
and indexed as the row-an-entry log is, and every tampering with a batch caught. SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit
from garde.audit import appending, batches, runs
from garde.audit.batch_reading import ordered_entries, subject_entries
from garde.audit.checkpoints import current_head, make_checkpoint
from garde.audit.keys import AuditKey, Keyring
from garde.settings import get_settings
from garde.store import connect, migrate

HEAD, TAIL = '{"activity":"newsletter","allowed":true,"at":', ',"reasons":["consent"]}'
SECRET = b"0123456789abcdef0123456789abcdef"
KEY = AuditKey.from_secret(SECRET)
KEYS = Keyring.of([SECRET])
_TABLES = ("audit_batch_subjects", "audit_batches", "audit_subject_runs", "audit_runs", "audit_log",
           "audit_head")


def _subject(n: int) -> str:
    return str(uuid.UUID(int=n + 1)) if n % 3 else f"customer-{n}"


def _decision(n: int, subject: int | None) -> tuple[str, Any, str | None, str]:
    who = None if subject is None else _subject(subject)
    return ("decision", (HEAD, 1_765_000_000.0 + n * 0.000_37, TAIL), who, "garde")


def _other(n: int, subject: int | None) -> tuple[str, Any, str | None, str]:
    who = None if subject is None else _subject(subject)
    return ("consent.given", {"n": n, "é": [None, True]}, who, "web")


def _clear(conn: sa.Connection) -> None:
    for table in _TABLES:
        conn.execute(sa.text(f"DELETE FROM {table}"))


def _content(conn: sa.Connection, **filters: Any) -> list[tuple[Any, ...]]:
    return [(e["seq"], e["kind"], e["subject_id"], e["actor"], json.dumps(e["payload"], sort_keys=True))
            for e in audit.entries(conn, **filters)]


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of 3 entries merged 2 by 2, batches of at most 3: the edges met by a few entries."""
    small = functools.partial(runs.build_runs_sqlite, run_size=3, fanout=2, merged=4)
    monkeypatch.setattr(appending, "build_runs_sqlite", small)
    monkeypatch.setattr(audit, "build_runs_sqlite", small)
    monkeypatch.setattr(appending, "MOST", 3)


appends_strategy = st.lists(st.lists(st.tuples(st.booleans(), st.none() | st.integers(0, 4)), min_size=1,
                                     max_size=8), min_size=1, max_size=8)


@pytest.mark.usefixtures("small_runs")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(appends=appends_strategy, most=st.integers(1, 5))
def test_any_appends_in_any_batch_sizes_read_export_and_verify_as_rows_do(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, appends: list[list[tuple[bool, int | None]]],
        most: int) -> None:
    """Decision and other entries mixed in any appends, the decisions cut in batches of any size: the
    same entries in the same order as the row-an-entry log (all, by kind, after a seq, by subject),
    the chain verifies whole, and every link's bounds tile the log."""
    monkeypatch.setattr(appending, "MOST", most)
    logs = []
    for batched in (False, True):
        with engine.begin() as conn:
            _clear(conn)
            n = 0
            for append in appends:
                items = []
                for decision, subject in append:
                    items.append(_decision(n, subject) if decision else _other(n, subject))
                    n += 1
                audit._append(conn, items, KEY, batched=batched)
        with engine.connect() as conn:
            result = audit.verify(conn, keys=KEYS)
            assert result.ok and result.checked == n, result.reason
            assert result.sealed
            logs.append({"all": _content(conn), "decisions": _content(conn, kind="decision"),
                         "after": _content(conn, after=n // 2),
                         **{f"subject {s}": _content(conn, subject_id=_subject(s)) for s in range(5)}})
            if batched:
                count = sa.select(sa.func.count()).select_from(batches.audit_batches)
                stored = conn.execute(count).scalar_one()
                decisions = sum(1 for append in appends for decision, _ in append if decision)
                assert (stored > 0) is (decisions > 0)
    assert logs[0] == logs[1]


def test_a_batchs_body_has_one_encoding_and_entries_are_cut_out_by_offset() -> None:
    records: list[batches.Record] = [
        ("decision", _subject(1), "garde", (HEAD, TAIL, 1_765_000_000_123_456)),
        ("decision", None, "key:é", '{"x":1}'),
        ("decision", "Not-A-UUID", "garde", (HEAD, TAIL, 1_765_000_000_000_000)),
        ("decision", _subject(1).upper(), "garde", (HEAD, "", 0))]
    body = batches.encode(records)
    assert batches.decode(body) == records and batches.canonical(body) == records
    assert [batches.entry_at(body, i) for i in range(4)] == records
    assert batches.payload_of(records[0][3]) == f'{HEAD}"2025-12-06T05:46:40.123456+00:00"{TAIL}'
    # the strings in another order, the same records: not the valid encoding
    swapped = body.replace(b"decision", b"DECISION")
    assert batches.canonical(swapped) != records
    assert batches.canonical(body[:-1]) is None


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 4_102_444_799.999999, allow_nan=False))
def test_a_times_microseconds_format_as_the_row_formats_it(seconds: float) -> None:
    value = batches.micros(seconds)
    assert value is not None
    assert batches.isoformat_micros(value) == audit.utc_isoformat(seconds)


_ITEMS = st.one_of(
    st.builds(lambda n, seconds, who: ("decision", (HEAD, seconds, TAIL), who, "garde"),
              st.integers(0, 10), st.one_of(st.floats(-1e10, 2.5e11), st.floats(-1.0, 4_102_444_801.0)),
              st.one_of(st.none(), st.integers(0, 5).map(_subject))),
    st.builds(lambda who: ("decision", (HEAD, datetime(2026, 12, 7, tzinfo=UTC), TAIL), who, "garde"),
              st.one_of(st.none(), st.integers(0, 5).map(_subject))),
    st.builds(lambda who: ("decision", '{"allowed":false}', who, "garde"), st.integers(0, 5).map(_subject)),
    st.builds(lambda n: _other(n, n), st.integers(0, 5)),
    st.just(("decision", (HEAD, 1.5, TAIL), 7, "garde")),  # a subject not a str: not batched
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ITEMS, max_size=12), st.integers(0, 12), st.integers(1, 10_000))
def test_the_writers_records_in_one_pass_are_those_of_record_of(items: list[Any], start: int,
                                                                 first: int) -> None:
    """The append's one pass over a batch's items (appending._records) makes the records, the
    (subject, seq) pairs and the end that checking each item (_batched) then record_of made."""
    start = min(start, len(items))
    most = min(len(items), start + batches.MOST)
    end = start
    while end < most and appending._batched(items[end]):
        end += 1
    expected = [batches.record_of(kind, data, who, actor, audit.payload_text)
                for kind, data, who, actor in items[start:end]]
    pairs = [(record[1], first + offset) for offset, record in enumerate(expected) if record[1] is not None]
    assert appending._records(items, start, most, first) == (expected, pairs, end)


def _batched_log(engine: sa.Engine, key: AuditKey | None = None) -> None:
    """Rows, then three appends of 300 decisions (batches of 128, 128, 44) with other entries around."""
    with engine.begin() as conn:
        audit._append(conn, [("register.changed", {"v": 1}, None, "garde")], key)
    for round_ in range(3):
        with engine.begin() as conn:
            items = [_decision(round_ * 300 + n, n % 7) for n in range(300)]
            audit._append(conn, [*items, _other(round_, 1)] if round_ == 1 else items, key, batched=True)
    with engine.begin() as conn:
        audit._append(conn, [("consent.given", {"after": True}, _subject(1), "web")], key)


def _links(conn: sa.Connection) -> list[tuple[int, int]]:
    b = batches.audit_batches.c
    return [tuple(row) for row in conn.execute(sa.select(b.first_seq, b.last_seq).order_by(b.first_seq))]


def test_a_log_of_rows_then_batches_verifies_reads_and_checkpoints(engine: sa.Engine) -> None:
    _batched_log(engine)
    with engine.connect() as conn:
        assert _links(conn) == [(2, 129), (130, 257), (258, 301), (302, 429), (430, 557), (558, 601),
                                (603, 730), (731, 858), (859, 902)]
        assert audit.verify(conn).checked == 903
        entries = list(audit.entries(conn))
        assert [e["seq"] for e in entries] == list(range(1, 904))
        assert entries[1]["batch"] == 2 and entries[1]["hash"] is None and "link" in entries[1]
        assert entries[1]["payload"]["at"] == "2025-12-06T05:46:40+00:00"
        mine = [e["seq"] for e in entries if e["subject_id"] == _subject(1)]
        in_batches = [seq for seq in mine if seq not in (602, 903)]
        assert [e["seq"] for e in subject_entries(conn, _subject(1))] == in_batches
        assert [e["seq"] for e in audit.entries(conn, subject_id=_subject(1))] == mine
        assert current_head(conn)[0] == 903
    # an export line of a batch's first entry carries its link: hash and body checked outside garde
    lines = [json.loads(line) for line in audit.export_lines(engine)]
    first = lines[1]["link"]
    body = base64.b64decode(first["body"])
    assert batches.batch_hash(2, 129, first["at"], first["prev_hash"], body) == first["hash"]
    assert lines[0]["hash"] == first["prev_hash"]


def _one_statement(engine: sa.Engine, sql: str, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), values)


def _verdict(engine: sa.Engine, **options: Any) -> audit.Verification:
    with engine.connect() as conn:
        return audit.verify(conn, **options)


def _body(engine: sa.Engine, first: int) -> bytes:
    with engine.connect() as conn:
        return bytes(conn.execute(sa.text("SELECT body FROM audit_batches WHERE first_seq = :f"),
                                  {"f": first}).scalar_one())


def test_a_byte_changed_inside_a_batch_is_caught_at_that_batch(engine: sa.Engine) -> None:
    _batched_log(engine)
    body = bytearray(_body(engine, 130))
    body[200] ^= 1
    _one_statement(engine, "UPDATE audit_batches SET body = :b WHERE first_seq = 130", b=bytes(body))
    result = _verdict(engine)
    assert not result.ok and result.first_bad == 130
    assert "batch of entries 130-257 was modified" in str(result.reason)


def test_a_batch_removed_reordered_or_its_range_altered_is_caught(engine: sa.Engine) -> None:
    _batched_log(engine)
    with engine.connect() as conn:
        saved = [dict(row._mapping) for row in conn.execute(sa.select(batches.audit_batches))]
    _one_statement(engine, "DELETE FROM audit_batches WHERE first_seq = 430")
    assert _verdict(engine).first_bad == 430
    with engine.begin() as conn:
        conn.execute(batches.audit_batches.insert(), [row for row in saved if row["first_seq"] == 430])
    assert _verdict(engine).ok
    # two batches swapped (each keeps its bounds, takes the other's body and chain)
    a, b = (next(row for row in saved if row["first_seq"] == first) for first in (2, 130))
    table = batches.audit_batches
    with engine.begin() as conn:
        for target, source in ((a, b), (b, a)):
            conn.execute(table.update().where(table.c.first_seq == target["first_seq"])
                         .values(body=source["body"], prev_hash=source["prev_hash"], hash=source["hash"]))
    assert _verdict(engine).first_bad == 2
    with engine.begin() as conn:
        for row in (a, b):
            conn.execute(table.update().where(table.c.first_seq == row["first_seq"])
                         .values(body=row["body"], prev_hash=row["prev_hash"], hash=row["hash"]))
    assert _verdict(engine).ok
    _one_statement(engine, "UPDATE audit_batches SET last_seq = 256 WHERE first_seq = 130")
    result = _verdict(engine)
    assert not result.ok and result.first_bad == 130


def test_a_batch_rewritten_with_its_hash_recomputed_is_caught_by_its_encoding_or_its_seal(
        engine: sa.Engine) -> None:
    """Someone without the key recomputes a batch's hash: a body with other bytes for the same entries
    fails as not the one valid encoding; the chain after it then breaks, and the seal catches the whole
    recomputation."""
    _batched_log(engine, KEY)
    assert _verdict(engine, keys=KEYS).ok
    body = _body(engine, 558)
    records = batches.decode(body)
    strings, count, start = batches._strings(body)
    # the same records, with the offsets table pointing at the same places but a string added unused
    padded = (batches._HEADER.pack(1, len(strings) + 1, count) + body[batches._HEADER.size:start]
              + batches._LENGTH.pack(1) + b"x" + body[start:])
    with engine.connect() as conn:
        table = batches.audit_batches
        row = conn.execute(sa.select(table).where(table.c.first_seq == 558)).one()
    digest = batches.batch_hash(558, 601, row.at, row.prev_hash, padded)
    _one_statement(engine, "UPDATE audit_batches SET body = :b, hash = :h WHERE first_seq = 558",
                   b=padded, h=digest)
    result = _verdict(engine, keys=KEYS)
    assert not result.ok and result.first_bad == 558
    assert len(records) == 44


def test_a_checkpoint_inside_a_batch_or_at_another_hash_fails(engine: sa.Engine) -> None:
    _batched_log(engine)
    with engine.connect() as conn:
        seq, digest = current_head(conn)
        table = batches.audit_batches.c
        hashes = dict(conn.execute(sa.select(table.last_seq, table.hash)).all())
    good = make_checkpoint(seq, seq, digest, Keyring())
    assert _verdict(engine, checkpoints=[good]).ok
    assert _verdict(engine, checkpoints=[make_checkpoint(257, 257, hashes[257], Keyring())]).ok
    inside = make_checkpoint(200, 200, hashes[257], Keyring())
    result = _verdict(engine, checkpoints=[inside])
    assert not result.ok and result.first_bad == 130 and "inside the batch" in str(result.reason)
    wrong = make_checkpoint(257, 257, hashes[129], Keyring())
    assert _verdict(engine, checkpoints=[wrong]).first_bad == 257


def test_the_batches_subject_index_is_checked(engine: sa.Engine) -> None:
    """An index row of a batch's entry deleted or naming another subject would hide it from an access
    answer: verify says so (SQLite: the runs; PostgreSQL: audit_batch_subjects)."""
    _batched_log(engine)
    with engine.begin() as conn:
        for _ in range(2):  # past the frontier too: runs of everything
            audit._append(conn, [_decision(n, 1) for n in range(1100)], None, batched=True)
    assert _verdict(engine).ok
    table = "audit_subject_runs" if engine.dialect.name == "sqlite" else "audit_batch_subjects"
    _one_statement(engine, f"UPDATE {table} SET subject_id = 'someone-else' WHERE seq = 200")
    result = _verdict(engine)
    assert not result.ok and result.first_bad is None and "access answer would miss" in str(result.reason)


@pytest.fixture
def batch_rows(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GARDE_AUDIT_BATCH_ROWS", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("batch_rows")
def test_the_writer_process_writes_the_batches_this_process_writes(tmp_path: Path) -> None:
    """Same bodies from the child process and the in-process writer (only the append's time differs),
    whatever the time's form; both verify."""
    times: list[Any] = [1_765_000_000.25, datetime(2026, 12, 6, 5, 0, 0, 1, tzinfo=UTC),
                        "2026-12-06T05:00:01+00:00"]
    stored = []
    for name, writer_class in (("child", audit.ProcessAuditWriter), ("here", audit.AuditWriter)):
        engine = connect(f"sqlite:///{tmp_path}/{name}.db", create=True)
        migrate(engine)
        with writer_class(engine, batch_size=300, max_delay=30, flush_at_exit=False) as writer:
            for n in range(300):
                writer.add_entry("decision", (HEAD, times[n % 3], TAIL), _subject(n), "garde")
            writer.add(audit.Event("consent.given", {"n": 1}))
            writer.flush()
        with engine.connect() as conn:
            assert audit.verify(conn).checked == 301
            stored.append([bytes(body) for (body,) in conn.execute(sa.select(batches.audit_batches.c.body)
                                                                   .order_by(batches.audit_batches.c.first_seq))])
            assert [e["seq"] for e in ordered_entries(conn)] == list(range(1, 301))
        engine.dispose()
    assert stored[0] == stored[1] and len(stored[0]) == 3


def _rechain(conn: sa.Connection) -> None:
    """Every link's hash recomputed in order (rows and batches), the head moved: what someone with
    write access and no key does after changing an entry."""
    log, table = audit.audit_log, batches.audit_batches
    links = [("row", dict(r._mapping)) for r in conn.execute(sa.select(log))]
    links += [("batch", dict(r._mapping)) for r in conn.execute(sa.select(table))]
    links.sort(key=lambda link: link[1]["seq"] if link[0] == "row" else link[1]["first_seq"])
    prev = audit.GENESIS
    for what, row in links:
        if what == "row":
            digest = audit.entry_hash(row["seq"], row["at"], row["kind"], row["subject_id"], row["actor"],
                                      row["payload"], prev)
            conn.execute(log.update().where(log.c.seq == row["seq"]).values(prev_hash=prev, hash=digest))
        else:
            digest = batches.batch_hash(row["first_seq"], row["last_seq"], row["at"], prev,
                                        bytes(row["body"]))
            conn.execute(table.update().where(table.c.first_seq == row["first_seq"])
                         .values(prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(audit.audit_head.update().values(hash=prev))


def test_an_entry_of_a_batch_rewritten_and_the_chain_recomputed_is_caught_by_the_seals(
        engine: sa.Engine) -> None:
    _batched_log(engine, KEY)
    body = _body(engine, 302)
    records = batches.decode(body)
    payload = records[5][3]
    assert isinstance(payload, tuple)
    records[5] = (*records[5][:3], (payload[0], payload[1], payload[2] - 86_400_000_000))  # a day earlier
    with engine.begin() as conn:
        conn.execute(batches.audit_batches.update().where(batches.audit_batches.c.first_seq == 302)
                     .values(body=batches.encode(records)))
        _rechain(conn)
    assert _verdict(engine, keys=Keyring()).ok  # the chain alone cannot tell
    result = _verdict(engine, keys=KEYS)
    assert not result.ok and result.first_bad == 302 and "seal" in str(result.reason)


def test_a_subject_id_with_quotes_braces_and_commas_is_indexed_as_written(engine: sa.Engine) -> None:
    """The batches' subjects go to PostgreSQL as an array's text: any text comes back as it was."""
    odd = ['a"b\\c,{d} NULL', "NULL", " spaced ", "é,è"]  # (an empty id filters nothing: entries())
    with engine.begin() as conn:
        items = [(*_decision(n, None)[:2], subject, "garde") for n, subject in enumerate(odd)]
        audit._append(conn, items, None, batched=True)
    with engine.connect() as conn:
        assert audit.verify(conn).ok
        for seq, subject in enumerate(odd, 1):
            assert [e["seq"] for e in audit.entries(conn, subject_id=subject)] == [seq]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.uuids().map(str), st.text(max_size=8), st.sampled_from(['"', "\\", 'a"b\\']))))
def test_the_subjects_array_text_quotes_as_each_element_quoted(texts: list[str]) -> None:
    """The PostgreSQL array text of the batches' subjects, joined whole when it can be, is the text of
    each element quoted and escaped."""
    quoted = ['"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' for text in texts]
    assert appending._array_text(iter(texts)) == "{" + ",".join(quoted) + "}"
