"""The decision point: ``decide(activity, subject, categories)``, fast and audited.

Applications ask it before using personal data for a purpose. It holds the
register compiled in memory (:class:`DecisionModel`) and reads what the
store knows of the subject in **one** indexed statement (state and dates,
objections, suppression, the consent events; :mod:`garde.decide.reading`);
:meth:`DecisionPoint.decide_many` reads many subjects in one statement. Each
decision is appended to the audit log through a buffered
:class:`garde.audit.ProcessAuditWriter`, whose child process hashes and
writes the batches (see :class:`garde.audit.AuditWriter` for the durability
window).

On a store whose writes are counted by bucket of subjects
(:mod:`garde.decide.freshness`: SQLite and PostgreSQL, migrated), the point
keeps each subject's facts with their buckets' counters (read in the same
statement), and each answer until the first instant it may change
(:func:`garde.decide.rules.stable_until`). Before using kept facts it reads
their counters (one statement, ≈ one indexed row); any write to that
subject's facts, by any connection, process or machine, makes it read them
again, while a write about another subject leaves them in place. A decision
is thus one round trip to the store, whether its facts are kept or not (two
when kept facts turn out stale). Every decision sees every write committed
before it started. On a SQLite file, the store's commit counter
(:mod:`garde.store.commits`) spares even that round trip while no commit was
made since the facts were found current; writes that bypass garde are then
seen within ``outside_writes_within`` seconds (:class:`DecisionPoint`).

The statements are compiled once per dialect and run on the DBAPI
connection directly, in autocommit mode: on the hot path SQLAlchemy's
per-call work would cost more than the query itself.
"""

from __future__ import annotations

import json.encoder
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from garde.audit import AuditWriter, ProcessAuditWriter, canonical_payload
from garde.consent.ledger import consent_channel
from garde.consent.state import ConsentEvent, as_utc
from garde.decide.freshness import identity_bucket, kept_in_step, subject_bucket
from garde.decide.keeping import Answer, Entry, Kept, PayloadParts, SubjectKey, kept_for
from garde.decide.model import ActivityRules, Decision, DecisionModel
from garde.decide.reading import (
    BUCKETS,
    CHUNK,
    STAMP_PART,
    arguments,
    check_statement,
    expected_check,
    facts_statement,
    padded,
    versions_statement,
    width,
)
from garde.decide.rules import SubjectFacts, evaluate, facts_key, stable_until
from garde.keys import identifier_data_key
from garde.register import Register
from garde.store.commits import IN_FLIGHT, CountedConnection, counter_for
from garde.subjects import identifier_hash, now

Subject = str | Mapping[str, str]  # a subject's id, or identities {kind: value}
_quote = json.encoder.encode_basestring  # canonical_payload's quoting of a str
_ANSWERS = 256  # answers kept per subject (past it, its answers start again empty)
_EVERY_BUCKET = "SELECT coalesce(sum(version), 0) FROM decide_facts_buckets"
_BY_ID = (0,)  # the shape of a statement reading one subject by id (garde.decide.reading)
_EPOCH = 1 << 64  # Kept.epoch's step: above any commit word (garde.store.commits), added to it
_monotonic = time.monotonic
_time_ns = time.time_ns
_UNIX = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _kept_answer(at: datetime, until: datetime | None, decision: Decision,
                 parts: PayloadParts | None) -> Answer:
    return (at, until, decision, parts, micros_of(at), None if until is None else micros_of(until))


def micros_of(moment: datetime) -> int:
    """``moment`` as POSIX microseconds (a naive one taken as UTC, as :func:`as_utc` does): what
    :meth:`DecisionPoint.decide` compares its time and a kept answer's bounds in (its default clock
    read as such, with no datetime made for an answer it keeps)."""
    return (as_utc(moment) - _UNIX) // _MICROSECOND


class DecisionRequest(NamedTuple):
    """One question of :meth:`DecisionPoint.decide_many`: :meth:`DecisionPoint.decide`'s arguments."""

    activity: str
    subject: Subject | None
    categories: Sequence[str] | None = None
    channel: str | None = None


def moment(value: Any) -> datetime | None:
    """A date-time column's value read through the raw DBAPI, in UTC."""
    if value is None:
        return None
    if type(value) is str:  # SQLite through the raw DBAPI: naive, UTC (as_utc's rule, inline)
        parsed = _fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return as_utc(value)


_fromisoformat = datetime.fromisoformat


class DecisionPoint:
    """Answers ``decide()`` for one controller's register; one per thread is cheapest.

    ``audit``: True (a buffered writer owned by this point), False (no
    audit: tests and dry runs only), or an :class:`AuditWriter` to share.
    ``cache_size``: how many subjects' facts (with their answers) the point
    may keep on a store that counts its writes (0: keep none, read the facts
    for every decision); past it, it starts again empty.
    ``outside_writes_within``: on a SQLite file, kept facts are trusted without asking the store
    while its commit counter (:mod:`garde.store.commits`) says nothing was committed since they
    were last found current; that counter sees every commit made through
    :func:`garde.store.connect`, at once. A write that bypasses it (the ``sqlite3`` shell,
    another program) is seen by the decisions that start at most this many seconds after its
    commit: the point looks at the store's counters that often. 0: ask the store before every
    decision on kept facts, as on PostgreSQL.
    """

    def __init__(self, register: Register | Iterable[Register] | DecisionModel, engine: sa.Engine, *,
                 audit: AuditWriter | bool = True, clock: Callable[[], datetime] = now,
                 actor: str = "garde", cache_size: int = 100_000, outside_writes_within: float = 1.0) -> None:
        self.model = register if isinstance(register, DecisionModel) else DecisionModel(register)
        self.engine = engine
        self.clock = clock
        self.actor = actor
        self._owns_writer = audit is True
        self.audit_writer: AuditWriter | None = (
            _new_writer(engine) if audit is True else audit if not isinstance(audit, bool) else None)
        self._lock = threading.Lock()
        self._connection: sa.Connection | None = None
        self._raw: Any = None  # the DBAPI connection of _connection
        self._cursor: Any = None  # a cursor of _raw, kept for the counters' check (none made a decision)
        self.cache_size = max(0, cache_size)
        self.outside_writes_within = max(0.0, outside_writes_within)
        # shared by the points of this model on this store: the API makes a point per request
        self._kept = kept_for(engine, self.model) if self.cache_size else None

    # -- reading the subject -------------------------------------------------
    def _dbapi(self) -> Any:
        self._own()
        return self._raw

    def _own(self) -> sa.Connection:
        """The point's one connection (autocommit): everything the point reads goes through it, so
        a point takes one connection of its engine's pool, never a second one (the API's decision
        threads hold exactly one each)."""
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._raw = self._connection.connection.dbapi_connection
            self._cursor = self._raw.cursor()
        return self._connection

    def facts(self, activity: str, subject: Subject | None) -> SubjectFacts:
        """What the store knows about ``subject`` (an id, or identities {kind: value}) for ``activity``."""
        if not subject:
            return SubjectFacts(None, None)
        with self._lock:
            return self._read([subject], activity, stamped=False)[0].facts

    def _read(self, subjects: Sequence[Subject], activity: str | None, stamped: bool) -> list[Entry]:
        """The subjects' facts, with the consent events of ``activity`` (None: of every activity),
        ``CHUNK`` subjects a statement; with their buckets' counters when ``stamped``. The caller
        holds the point's lock."""
        if len(subjects) == 1:  # decide(): one subject, its own statement (no order, no padding)
            subject = subjects[0]
            if type(subject) is str:
                return [self._read_id(subject, activity, stamped)]
            return self._read_chunk(subjects, activity, stamped)
        read: list[Entry | None] = [None] * len(subjects)
        # in a statement, ids first, then identities by their number, padded with ids: few shapes,
        # each statement compiled once
        order = sorted(range(len(subjects)), key=lambda i: width(subjects[i]))
        for start in range(0, len(order), CHUNK):
            places = order[start:start + CHUNK]
            places = [-1] * (padded(len(places)) - len(places)) + places
            chunk = [subjects[i] if i >= 0 else "" for i in places]
            for i, entry in zip(places, self._read_chunk(chunk, activity, stamped), strict=True):
                if i >= 0:
                    read[i] = entry
        return [entry for entry in read if entry is not None]

    def _read_id(self, sid: str, activity: str | None, stamped: bool) -> Entry:
        """:meth:`_read_chunk` of one subject asked by id (a cold ``decide()``): the statement's
        arguments made directly, run on the cursor the point keeps."""
        compiled = facts_statement(self.engine.dialect, _BY_ID, activity is None, stamped)
        bucket = subject_bucket(sid)
        params = {"sid_0": sid, "bucket_0": bucket}
        if activity is not None:
            params["activity"] = activity
        rows, stamp = [], 0 if stamped else None  # no row of counters: never written, 0
        for row in self._all(compiled[0], arguments(compiled, params)):
            if row[1] == STAMP_PART:
                stamp = int(row[8])
            else:
                rows.append(row[1:])
        return Entry(_facts_from(rows, sid), (bucket,), stamp)

    def _read_chunk(self, chunk: Sequence[Subject], activity: str | None, stamped: bool) -> list[Entry]:
        params: dict[str, Any] = {} if activity is None else {"activity": activity}
        buckets: list[tuple[str, ...]] = []
        key: bytes | None = None
        for i, subject in enumerate(chunk):
            if isinstance(subject, str):
                params[f"sid_{i}"] = subject
                buckets.append((subject_bucket(subject),))
                if stamped and len(chunk) == 1:
                    params["bucket_0"] = buckets[0][0]  # its counter's row (garde.decide.reading)
            else:
                key = key or identifier_data_key(self._own())
                digests = []
                for j, (kind, value) in enumerate(subject.items()):
                    params[f"k_{i}_{j}"], params[f"h_{i}_{j}"] = kind, identifier_hash(kind, value, key)
                    digests.append(identity_bucket(params[f"h_{i}_{j}"]))
                buckets.append(tuple(digests))
                if stamped:
                    params.update((f"b_{i}_{j}", b) for j, b in enumerate(digests))
        compiled = facts_statement(self.engine.dialect, [width(s) for s in chunk], activity is None, stamped)
        rows: list[list[Any]] = [[] for _ in chunk]
        # a subject none of whose buckets was ever written has no row of counters: 0
        stamps: list[int | None] = [0 if stamped else None] * len(chunk)
        for row in self._run(compiled[0], arguments(compiled, params)):
            if row[1] == STAMP_PART:
                stamps[row[0]] = int(row[8])
            else:
                rows[row[0]].append(row[1:])
        read = []
        for i, subject in enumerate(chunk):
            facts = _facts_from(rows[i], subject if isinstance(subject, str) else None)
            if not isinstance(subject, str) and facts.subject_id is not None:
                buckets[i] += (subject_bucket(facts.subject_id),)  # as the statement summed them
            read.append(Entry(facts, buckets[i], stamps[i]))
        return read

    def _stamps(self, entries: Sequence[Entry]) -> list[int]:
        """The sums of the counters of each entry's buckets now: every distinct bucket's counter in
        one statement (``BUCKETS`` a statement), summed here. Counters only grow: a sum equal to
        the one read with the facts means none of its counters moved since, whichever statement
        read each one."""
        buckets = list({bucket: None for entry in entries for bucket in entry.buckets})
        versions: dict[str, int] = {}
        for start in range(0, len(buckets), BUCKETS):
            chunk = buckets[start:start + BUCKETS]
            chunk += [chunk[0]] * (padded(len(chunk), BUCKETS) - len(chunk))  # few shapes
            compiled = versions_statement(self.engine.dialect, len(chunk))
            for bucket, version in self._run(compiled[0], arguments(
                    compiled, {f"v_{i}": bucket for i, bucket in enumerate(chunk)})):
                versions[bucket] = int(version)
        get = versions.get
        # each bucket once, as SQL's IN (...) counted it when the facts were read
        return [sum([get(bucket, 0) for bucket in dict.fromkeys(entry.buckets)]) for entry in entries]

    def _first(self, sql: str, args: Any) -> Any:
        """The first row of a statement's answer (None: no row), on the driver's cursor the point
        keeps (hot path)."""
        try:
            return self._cursor.execute(sql, args).fetchone()
        except Exception:  # not connected yet, or a dropped connection: the careful path
            rows = self._run(sql, args)
            return rows[0] if rows else None

    def _all(self, sql: str, args: Any) -> list[Any]:
        """A statement's rows, on the driver's cursor the point keeps (hot path)."""
        try:
            return list(self._cursor.execute(sql, args).fetchall())
        except Exception:  # not connected yet, or a dropped connection: the careful path
            return self._run(sql, args)

    def _run(self, sql: str, args: Any = ()) -> list[Any]:
        for attempt in (1, 2):
            try:
                cursor = self._dbapi().cursor()
                try:
                    cursor.execute(sql, args)
                    return list(cursor.fetchall())
                finally:
                    cursor.close()
            except self.engine.dialect.loaded_dbapi.OperationalError:
                if attempt == 2 or self._connection is None:
                    raise
                self._connection.invalidate()  # a dropped connection: reconnect once
                self._raw = self._cursor = None
        raise AssertionError("unreachable")

    # -- keeping facts and answers -------------------------------------------
    def _keeping(self) -> Kept | None:
        """What this point keeps, when the store counts its writes (asked once per model and
        store); None: read the facts for every decision. The caller holds the point's lock."""
        kept = self._kept
        if kept is None:
            return None
        if kept.counted is None:
            with kept.lock:
                if kept.counted is None:
                    counted = kept_in_step(self._own())
                    raw = self._raw
                    if counted and self.outside_writes_within > 0 and isinstance(raw, CountedConnection) \
                            and raw.counted is not None:
                        kept.commits = counter_for(raw.counted)
                    kept.counted = counted
        return kept if kept.counted else None

    def _look_outside(self, kept: Kept) -> None:
        """The look at the store that catches the writes its commit counter does not see (made by
        other programs, or in autocommit mode): the sum of every bucket's counter, which any
        write to the facts moves; when it moved since the last look, no facts kept are trusted on
        the counter's word until checked again. The caller holds the point's lock."""
        with kept.lock:
            commits = kept.commits
            if commits is not None and not commits.current():
                # removed or replaced (store.commits): the file now at the path, or none to trust;
                # a new file's words may repeat the old one's, so nothing noted is trusted on them
                kept.commits = counter_for(commits.database)
                kept.epoch += _EPOCH
            total = int(self._first(_EVERY_BUCKET, ())[0])
            if kept.outside_sum is not None and total != kept.outside_sum:
                kept.epoch += _EPOCH
            kept.outside_sum = total
            kept.outside_at = _monotonic() + self.outside_writes_within

    def _current(self, kept: Kept, subjects: Sequence[tuple[SubjectKey, Subject]]) -> list[Entry]:
        """The current facts of distinct subjects: those kept whose counters have not moved (one
        statement reads the counters), the others read (one statement) and kept. The caller holds
        the point's lock. On a store with a commit counter, those whose noted word is the current
        one are current without their counters read (:meth:`_current_one`)."""
        word = self._word(kept)
        entries: list[Entry | None] = [kept.entries.get(key) for key, _subject in subjects]
        held = [(i, e) for i, e in enumerate(entries) if e is not None and (word is None or e.seen != word)]
        if held:
            for (i, entry), stamp in zip(held, self._stamps([e for _i, e in held]), strict=True):
                if stamp != entry.stamp:
                    entries[i] = None
                else:
                    entry.seen = word
        missing = [i for i, e in enumerate(entries) if e is None]
        if missing:
            read = self._read_and_keep(kept, [subjects[i] for i in missing])
            for i, entry in zip(missing, read, strict=True):
                entries[i] = entry
                entry.seen = word  # its counters read with its facts, after the word
        return [e for e in entries if e is not None]

    def _word(self, kept: Kept) -> int | None:
        """The store's commit word (with the kept facts' epoch) before asking the store anything,
        after the look at the store when one is due; None: no counter, or a commit in flight
        (nothing may be trusted on it)."""
        commits = kept.commits
        if commits is None:
            return None
        if _monotonic() >= kept.outside_at:
            self._look_outside(kept)
            commits = kept.commits
            if commits is None:
                return None
        word = commits.word(0) + kept.epoch
        if word & IN_FLIGHT and commits.recover():  # a commit left in flight by a process now gone
            word = commits.word(0) + kept.epoch
        return None if word & IN_FLIGHT else word

    def _read_and_keep(self, kept: Kept, subjects: Sequence[tuple[SubjectKey, Subject]]) -> list[Entry]:
        read = self._read([subject for _key, subject in subjects], None, stamped=True)
        with kept.lock:
            if len(kept.entries) + len(read) > self.cache_size:
                kept.entries.clear()
            for (key, _subject), entry in zip(subjects, read, strict=True):
                kept.entries[key] = entry
        return read

    def _current_one(self, kept: Kept, subject: Subject, key: SubjectKey, entry: Entry | None) -> Entry:
        """:meth:`_current` of one subject (``entry``: what is kept of it), on the hot path: the
        counters' statement and its arguments made once per entry, run on the driver's connection
        directly. On a store with a commit counter, the word read before is noted with the facts
        found current (nothing in flight), so the next decisions need not ask the store."""
        word = self._word(kept)
        if entry is not None:
            if entry.check is None:
                count = len(entry.buckets)
                compiled = check_statement(self.engine.dialect, count)
                names = {f"c_{j}": bucket for j, bucket in enumerate(entry.buckets)}
                entry.check = (compiled[0], arguments(compiled, names),
                               expected_check(count, entry.stamp or 0))
            check = entry.check
            if self._first(check[0], check[1]) == check[2]:
                entry.seen = word
                return entry
        entry = self._read_and_keep(kept, [(key, subject)])[0]
        entry.seen = word  # its counters read with its facts, after the word
        return entry

    def _answer(self, entry: Entry, activity: str, rules: ActivityRules, categories: Sequence[str] | None,
                channel: str | None, at: datetime) -> tuple[Decision, PayloadParts | None]:
        """The answer (and its audit payload's parts, when audited) on current kept facts: the
        kept answer while it holds; else the answer given to a subject in the same state
        (:func:`facts_key`) while it holds, with this subject's id; else evaluated. Kept."""
        key = (activity, tuple(categories) if categories else None, channel)
        answer = entry.answers.get(key)
        if answer is not None and answer[0] <= at and (answer[1] is None or at < answer[1]):
            return answer[2], answer[3]
        facts, audited = entry.facts, self.audit_writer is not None
        kept = self._kept
        shared_key = (key, facts_key(rules, facts, channel))
        shared = None if kept is None else kept.shared.get(shared_key)
        if shared is not None and shared[0] <= at and (shared[1] is None or at < shared[1]):
            given = shared[2]
            decision = Decision(given.allowed, given.categories, given.reasons, activity, facts.subject_id,
                                channel)
            until, parts = shared[1], shared[3]
            if parts is None and audited:
                parts = payload_parts(activity, channel, categories, decision)
        else:
            decision = evaluate(activity, rules, facts, categories, channel, at)
            parts = payload_parts(activity, channel, categories, decision) if audited else None
            until = stable_until(rules, facts, at)
            if kept is not None:
                if len(kept.shared) >= self.cache_size:
                    kept.shared.clear()
                kept.shared[shared_key] = _kept_answer(at, until, decision, parts)
        if len(entry.answers) >= _ANSWERS:
            entry.answers.clear()
        entry.answers[key] = _kept_answer(at, until, decision, parts)
        return decision, parts

    # -- deciding ------------------------------------------------------------
    def decide(self, activity: str, subject: Subject | None,
               categories: Sequence[str] | None = None, channel: str | None = None) -> Decision:
        """May ``activity`` use ``categories`` of ``subject``'s data (on ``channel``)? Audited.

        Written for the common case, a subject whose facts the point keeps: the commit counter's
        word compared (SQLite; the counters' check otherwise, :meth:`_current_one`), the kept
        answer and the queued audit entry inline, without the helpers' calls (each
        Python call costs ≈ 0.1 µs: a kept answer took 22 calls, C functions counted, now 14)."""
        clock = self.clock
        if clock is now:  # the time as POSIX microseconds: a datetime made only for a new answer
            micro, at = _time_ns() // 1000, None
        else:
            at = clock()
            micro = micros_of(at)
        if channel is not None:
            channel = consent_channel(channel)  # asked as recorded: `Email` is the channel `email`
        rules = self.model.activities.get(activity)
        parts = None
        if rules is None or not subject:
            at = at or _UNIX + micro * _MICROSECOND
            decision = evaluate(activity, rules, SubjectFacts(None, None), categories, channel, at)
        else:
            with self._lock:
                kept = self._kept
                if kept is None or not kept.counted:
                    kept = self._keeping()
                if kept is None:
                    facts = self._read([subject], activity, stamped=False)[0].facts
                else:
                    key = subject if type(subject) is str else _key(subject)
                    held, commits = kept.entries.get(key), kept.commits
                    # no commit since the facts were last found current (garde.store.commits) and no
                    # look at the store due: current without asking the store
                    if (held is not None and commits is not None
                            and held.seen == commits.word(0) + kept.epoch and _monotonic() < kept.outside_at):
                        entry = held
                    else:
                        entry = self._current_one(kept, subject, key, held)
            if kept is None:
                at = at or _UNIX + micro * _MICROSECOND
                decision = evaluate(activity, rules, facts, categories, channel, at)
            else:
                answer = entry.answers.get((activity, tuple(categories) if categories else None, channel))
                if answer is not None and answer[4] <= micro and (answer[5] is None or micro < answer[5]):
                    decision, parts = answer[2], answer[3]
                else:
                    at = at or _UNIX + micro * _MICROSECOND
                    decision, parts = self._answer(entry, activity, rules, categories, channel, at)
        writer = self.audit_writer
        if writer is not None:
            head, tail = parts or payload_parts(activity, channel, categories, decision)
            # a UTC time goes as its POSIX seconds: a float pickles in a fifth of a datetime's time
            # on the writer's thread, and gives the same isoformat() back (garde.audit.payload_text:
            # a whole number of microseconds over 1e6 formats as exactly those microseconds)
            writer.add_entry("decision", (head, micro / 1e6 if at is None or at.tzinfo is UTC else at, tail),
                             decision.subject_id, self.actor)
        return decision

    def decide_many(self, requests: Iterable[DecisionRequest | tuple[Any, ...]]) -> list[Decision]:
        """:meth:`decide` for each request (activity, subject[, categories[, channel]]), in order,
        with the same answers and reasons, every one audited; all at one instant (the clock read
        once: the batch's decisions see every write committed before it started).

        The subjects' facts are read together: the counters of those kept in one statement, the
        facts of the others (and of those whose buckets moved) in one more, up to ``CHUNK``
        subjects a statement; the rules run on each request; the audit entries are queued as one
        batch (:meth:`AuditWriter.add_entries`)."""
        asked = [r if type(r) is DecisionRequest else DecisionRequest(*r) for r in requests]
        if len(asked) == 1:  # decide()'s own path: one counters' read on the driver, no batch to build
            return [self.decide(*asked[0])]
        at = self.clock()
        activities = self.model.activities
        channels: dict[str | None, str | None] = {None: None}
        subjects: dict[SubjectKey, Subject] = {}
        keys: list[SubjectKey | None] = []
        for request in asked:
            if request.channel not in channels:
                channels[request.channel] = consent_channel(request.channel)
            subject = request.subject
            key = None
            if subject and request.activity in activities:
                key = subject if type(subject) is str else _key(subject)
                subjects.setdefault(key, subject)
            keys.append(key)
        entries: dict[SubjectKey, Entry] = {}
        kept = None
        if subjects:
            with self._lock:
                kept = self._keeping()
                items = list(subjects.items())
                read = (self._current(kept, items) if kept is not None
                        else self._read([s for _k, s in items], None, stamped=False))
            entries = dict(zip(subjects, read, strict=True))
        writer, actor = self.audit_writer, self.actor
        decisions: list[Decision] = []
        queued: list[tuple[str, Any, str | None, str]] = []
        unknown = SubjectFacts(None, None)
        for request, key in zip(asked, keys, strict=True):
            activity, categories, channel = request.activity, request.categories, channels[request.channel]
            rules = activities.get(activity)
            parts = None
            if key is None:
                decision = evaluate(activity, rules, unknown, categories, channel, at)
            elif kept is None:
                decision = evaluate(activity, rules, entries[key].facts, categories, channel, at)
            else:
                entry = entries[key]
                answer = entry.answers.get((activity, tuple(categories) if categories else None, channel))
                if answer is not None and answer[0] <= at and (answer[1] is None or at < answer[1]):
                    decision, parts = answer[2], answer[3]
                else:
                    assert rules is not None
                    decision, parts = self._answer(entry, activity, rules, categories, channel, at)
            decisions.append(decision)
            if writer is not None:
                # the same bytes as canonical_payload() of the whole payload (only the time is new),
                # formatted and joined by the writer's process: head and tail go to it once per batch
                head, tail = parts or payload_parts(activity, channel, categories, decision)
                queued.append(("decision", (head, at, tail), decision.subject_id, actor))
        if writer is not None:
            writer.add_entries(queued)
        return decisions

    def close(self) -> None:
        """Flush the audit buffer (when this point owns it) and release the connection."""
        if self._owns_writer and self.audit_writer is not None:
            self.audit_writer.close()
        if self._connection is not None:
            self._connection.close()
            self._connection = self._raw = self._cursor = None

    def __enter__(self) -> DecisionPoint:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _key(subject: Subject) -> SubjectKey:
    return subject if isinstance(subject, str) else tuple(subject.items())


def payload_parts(activity: str, channel: str | None, categories: Sequence[str] | None,
                  decision: Decision) -> PayloadParts:
    """A decision's audit payload in canonical JSON, cut where its time goes: the payload at
    instant ``t`` is ``head + JSON string of t + tail``. Written out key by key, in the sorted order
    :func:`canonical_payload` writes them, for the usual values (strings); anything else through
    :func:`canonical_payload` itself, cut after its ``,"at":`` (which occurs once: inside a JSON
    string every quote is escaped, and ``at`` is a key of the payload's top level only)."""
    quote, allowed = _quote, decision.allowed
    try:
        if allowed is not True and allowed is not False:
            raise TypeError(allowed)
        return ('{"activity":' + quote(activity) + (',"allowed":true,"at":' if allowed
                                                     else ',"allowed":false,"at":'),
                ',"categories":[' + ",".join(map(quote, decision.categories)) + '],"channel":'
                + ("null" if channel is None else quote(channel))
                + ',"reasons":[' + ",".join([quote(r.code) for r in decision.reasons])
                + '],"requested":[' + ",".join(map(quote, categories or ())) + "]}")
    except TypeError:  # a value that is not a str: the encoder's own rules (default=str)
        pass
    text = canonical_payload({
        "activity": activity, "channel": channel, "requested": list(categories or ()),
        "allowed": decision.allowed, "categories": list(decision.categories),
        "reasons": decision.codes(), "at": ""})
    head, cut, tail = text.partition(',"at":""')
    assert cut, text
    return head + ',"at":', tail


def _new_writer(engine: sa.Engine) -> AuditWriter:
    # a child process hashes and writes the batches: their CPU and GIL are not the decisions'
    return ProcessAuditWriter(engine)


def _facts_from(rows: list[Any], subject_id: str | None) -> SubjectFacts:
    state = created = started = ended = contact = None
    objections: set[str] = set()
    suppressed = False
    events: list[ConsentEvent] = []
    for part, a, b, d1, d2, d3, d4, n, activity in rows:
        if part == 0:
            state, subject_id = a, b
            created, started, ended, contact = moment(d1), moment(d2), moment(d3), moment(d4)
        elif part == 1:
            objections.add(a)
        elif part == 2:
            suppressed = True
        else:
            at = moment(d1)
            assert at is not None
            events.append(ConsentEvent(activity, a, b, at, moment(d2), int(n)))
    return SubjectFacts(subject_id, state, created, started, ended, contact, frozenset(objections),
                        suppressed, tuple(events))
