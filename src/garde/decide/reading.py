"""The statements a decision point reads the store with: the facts of one subject or of many in
**one** statement, and the counters that tell whether facts it keeps still hold.

The subjects of a statement are a table (``asked``: each one's place and id) joined with the
facts' tables; each row is tagged with its subject's place: its state and dates (part 0),
objections (1), whether an identifier is suppressed (2), consent events (3) and, on a store that
counts its writes (:mod:`garde.decide.freshness`), the sum of its buckets' counters (4), read in
the same statement and so in the same snapshot as the facts.
A subject is an id or identities ``{kind: digest}`` (the subject found by any of them).
Statements are compiled once per dialect and shape, and run on the DBAPI connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import sqlalchemy as sa

from garde.decide.freshness import subject_bucket_sql, sum_sql

_SUBJECT = "(SELECT min(subject_id) FROM subject_identifiers WHERE {match})"
_FACTS = """
SELECT a.tag, 0, s.state, s.id, s.created_at, s.relationship_started_at, s.relationship_ended_at,
       s.last_contact_at, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(64))
  FROM asked a JOIN subjects s ON s.id = a.sid
UNION ALL
SELECT a.tag, 1, o.scope, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM asked a JOIN subject_objections o ON o.subject_id = a.sid
UNION ALL
SELECT a.tag, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM asked a JOIN subject_identifiers si ON si.subject_id = a.sid
  JOIN suppression_list sl ON sl.kind = si.kind AND sl.hash = si.hash
UNION ALL
SELECT a.tag, 3, c.channel, c.action, c.at, c.expires_at, NULL, NULL, c.id, c.activity
  FROM asked a JOIN consent_events c ON c.subject_id = a.sid{activity}
"""
_ONE_ACTIVITY = " AND c.activity = :activity"
_SUPPRESSED_HASHES = """
UNION ALL
SELECT h.tag, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM hashes h JOIN suppression_list sl ON sl.kind = h.kind AND sl.hash = h.hash
"""
_STAMP = """
UNION ALL
SELECT m.tag, 4, NULL, NULL, NULL, NULL, NULL, NULL, CAST(sum(v.version) AS BIGINT), NULL
  FROM marks m JOIN decide_facts_buckets v ON v.bucket = m.bucket GROUP BY m.tag
"""
# one subject: the same parts, each with its own index lookup (a little cheaper than a join with a
# table of one row on SQLite, ≈ 10 µs)
_ONE = """
SELECT 0, 0, s.state, s.id, s.created_at, s.relationship_started_at, s.relationship_ended_at,
       s.last_contact_at, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(64))
  FROM subjects s WHERE s.id = {sid}
UNION ALL
SELECT 0, 1, o.scope, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM subject_objections o WHERE o.subject_id = {sid}
UNION ALL
SELECT 0, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM subject_identifiers si JOIN suppression_list sl ON sl.kind = si.kind AND sl.hash = si.hash
 WHERE si.subject_id = {sid}
UNION ALL
SELECT 0, 3, c.channel, c.action, c.at, c.expires_at, NULL, NULL, c.id, c.activity
  FROM consent_events c WHERE c.subject_id = {sid}{activity}
"""
_ONE_SUPPRESSED = """
UNION ALL
SELECT 0, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM suppression_list WHERE {match}
"""
_ONE_STAMP = """
UNION ALL
SELECT 0, 4, NULL, NULL, NULL, NULL, NULL, NULL, {stamp}, NULL
"""
# a subject asked by id has one bucket: its counter's own row (none: never written, a sum of 0, as
# the caller takes a missing part 4), ≈ 3 µs less on SQLite than the sum over an expression
_ONE_BUCKET_ROW = """
UNION ALL
SELECT 0, 4, NULL, NULL, NULL, NULL, NULL, NULL, version, NULL
  FROM decide_facts_buckets WHERE bucket = :bucket_0
"""
STAMP_PART = 4
CHUNK = 100  # subjects read in one statement by decide_many()
BUCKETS = 1024  # buckets whose counters decide_many() reads in one statement

Compiled = tuple[str, tuple[str, ...] | None]  # the statement's text and its parameters' order
# by (dialect, shape, every activity's consents, stamped): the same texts for every point
_STATEMENTS: dict[tuple[str, tuple[int, ...], bool, bool], Compiled] = {}
_STAMPS: dict[tuple[str, tuple[int, ...]], Compiled] = {}
_MOST = 1024  # statements kept per process (decide_many() makes one a shape of batch)
K = TypeVar("K")


def facts_statement(dialect: sa.Dialect, shape: Sequence[int], every_activity: bool,
                    stamped: bool) -> Compiled:
    """The facts of ``len(shape)`` subjects: the i-th by id (``:sid_i``) when ``shape[i]`` is 0,
    else by that many identities (``:k_i_j``, ``:h_i_j``; their buckets ``:b_i_j``). The subjects
    are a table the facts' tables are joined with (an index lookup each): one statement of a
    hundred subjects costs about what five single ones do."""
    key = (dialect.name, tuple(shape), every_activity, stamped)
    cached = _STATEMENTS.get(key)
    if cached is not None:
        return cached
    if len(shape) == 1:
        return _remember(_STATEMENTS, key, dialect, _one(dialect, shape[0], every_activity, stamped))
    asked, hashes, buckets = [], [], []
    for i, identities in enumerate(shape):
        if identities:
            match = " OR ".join(f"(kind = :k_{i}_{j} AND hash = :h_{i}_{j})" for j in range(identities))
            asked.append(f"({i}, {_SUBJECT.format(match=match)})")
            hashes += [f"({i}, :k_{i}_{j}, :h_{i}_{j})" for j in range(identities)]
            buckets += [f"({i}, :b_{i}_{j})" for j in range(identities)]
        else:
            asked.append(f"({i}, :sid_{i})")
    ctes = [f"asked(tag, sid) AS (VALUES {', '.join(asked)})"]
    text = _FACTS.format(activity="" if every_activity else _ONE_ACTIVITY)
    if hashes:
        ctes.append(f"hashes(tag, kind, hash) AS (VALUES {', '.join(hashes)})")
        text += _SUPPRESSED_HASHES
    if stamped:  # a subject's bucket, and its identities' (identical pairs once)
        marks = f"SELECT tag, {subject_bucket_sql(dialect.name, 'sid')} FROM asked WHERE sid IS NOT NULL"
        if buckets:
            ctes.append(f"named(tag, bucket) AS (VALUES {', '.join(buckets)})")
            marks += " UNION SELECT tag, bucket FROM named"
        ctes.append(f"marks(tag, bucket) AS ({marks})")
        text += _STAMP
    return _remember(_STATEMENTS, key, dialect, "WITH " + ",\n     ".join(ctes) + text)


def _one(dialect: sa.Dialect, identities: int, every_activity: bool, stamped: bool) -> str:
    activity = "" if every_activity else _ONE_ACTIVITY
    if identities:
        match = " OR ".join(f"(kind = :k_0_{j} AND hash = :h_0_{j})" for j in range(identities))
        sid = _SUBJECT.format(match=match)
        text = _ONE.format(sid=sid, activity=activity) + _ONE_SUPPRESSED.format(match=match)
        buckets = [f":b_0_{j}" for j in range(identities)] + [subject_bucket_sql(dialect.name, sid)]
    else:
        text = _ONE.format(sid=":sid_0", activity=activity)
        return text + _ONE_BUCKET_ROW if stamped else text
    if stamped:
        text += _ONE_STAMP.format(stamp=sum_sql(", ".join(buckets)))
    return text


def check_statement(dialect: sa.Dialect, count: int) -> Compiled:
    """What :meth:`garde.decide.DecisionPoint.decide` reads before using kept facts: the counters
    of ``count`` buckets (``:c_0`` ...) as one row of one column, their sum. For one bucket (a
    subject asked by id) the bucket's own row, with no aggregate around it: ``(version,)``, or no
    row when it was never written (a sum of 0; :func:`expected_check`). The cheapest statement
    SQLite runs on a table (≈ 0.2 - 0.4 µs less than the sum's); the rest of its ≈ 3.5 µs is the
    read transaction each statement opens (two ``fcntl`` calls on the WAL's shared memory)."""
    key = (dialect.name, (-2, count))
    cached = _STAMPS.get(key)
    if cached is not None:
        return cached
    if count == 1:
        text = "SELECT version FROM decide_facts_buckets WHERE bucket = :c_0"
    else:
        text = "SELECT " + sum_sql(", ".join(f":c_{j}" for j in range(count)))
    return _remember(_STAMPS, key, dialect, text)


def expected_check(count: int, stamp: int) -> tuple[int] | None:
    """The row :func:`check_statement` of ``count`` buckets returns while their counters' sum is
    ``stamp``. (A bucket row holding 0, which no trigger writes, would only make kept facts be read
    again: a row that differs is never taken for current.)"""
    return None if count == 1 and stamp == 0 else (stamp,)


def versions_statement(dialect: sa.Dialect, count: int) -> Compiled:
    """The counters of ``count`` buckets (``:v_0`` ...), a row (bucket, version) for each one ever
    written: one index lookup a bucket, however many subjects share it (decide_many())."""
    key = (dialect.name, (-1, count))
    cached = _STAMPS.get(key)
    if cached is not None:
        return cached
    marks = ", ".join(f":v_{i}" for i in range(count))
    return _remember(_STAMPS, key, dialect,
                     f"SELECT bucket, version FROM decide_facts_buckets WHERE bucket IN ({marks})")


def arguments(compiled: Compiled, params: Mapping[str, object]) -> object:
    """``params`` as the DBAPI takes them for ``compiled``."""
    positions = compiled[1]
    return tuple(params[name] for name in positions) if positions else params


def _remember(cache: dict[K, Compiled], key: K, dialect: sa.Dialect, text: str) -> Compiled:
    compiled = sa.text(text).compile(dialect=dialect)
    positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    if len(cache) >= _MOST:
        cache.clear()
    cache[key] = (compiled.string, positions)
    return cache[key]


def width(subject: str | Mapping[str, str]) -> int:
    """A subject's place in a statement's shape: 0 for an id, else its number of identities."""
    return 0 if isinstance(subject, str) else len(subject)


def padded(count: int, most: int = CHUNK) -> int:
    """The number of subjects (or buckets) a statement of ``count`` is padded to (a power of 2, or
    ``most``)."""
    return min(most, 1 << max(0, count - 1).bit_length())
