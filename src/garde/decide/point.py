"""The decision point: ``decide(activity, subject, categories)``, fast and audited.

Applications ask it before using personal data for a purpose. It holds the
register compiled in memory (:class:`DecisionModel`) and reads what the
store knows of the subject in **one** indexed statement (state and dates,
objections, suppression, the consent events). Each decision is appended to
the audit log through a buffered :class:`garde.audit.ProcessAuditWriter`,
whose child process hashes and writes the batches (see
:class:`garde.audit.AuditWriter` for the durability window).

On a SQLite store whose writes are counted (:mod:`garde.decide.freshness`),
the point keeps each subject's facts, and each answer until the first
instant it may change (:func:`garde.decide.rules.stable_until`), as long as
the counter has not moved: before every decision it reads the counter, and
any write to the facts, by any connection or process, empties what it
keeps. Elsewhere (PostgreSQL) it reads the facts for every decision: every
decision sees every committed write either way.

The statement is built and compiled once per dialect and run on the
DBAPI connection directly, in autocommit mode: on the hot path SQLAlchemy's
per-call work would cost more than the query itself.
"""

from __future__ import annotations

import json.encoder
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from garde.audit import AuditWriter, ProcessAuditWriter, canonical_payload
from garde.consent.ledger import consent_channel
from garde.consent.state import ConsentEvent, as_utc
from garde.decide.freshness import VERSION_SQL, kept_in_step
from garde.decide.model import ActivityRules, Decision, DecisionModel
from garde.decide.rules import SubjectFacts, evaluate, stable_until
from garde.keys import identifier_data_key
from garde.register import Register
from garde.subjects import identifier_hash, now

_SUBJECT = "SELECT subject_id FROM subject_identifiers WHERE {match} LIMIT 1"
_FACTS = """
SELECT 0, s.state, s.id, s.created_at, s.relationship_started_at, s.relationship_ended_at,
       s.last_contact_at, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(64))
  FROM subjects s WHERE s.id = {sid}
UNION ALL
SELECT 1, o.scope, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM subject_objections o WHERE o.subject_id = {sid}
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM subject_identifiers si JOIN suppression_list sl ON sl.kind = si.kind AND sl.hash = si.hash
 WHERE si.subject_id = {sid}
UNION ALL
SELECT 3, c.channel, c.action, c.at, c.expires_at, NULL, NULL, c.id, c.activity
  FROM consent_events c WHERE c.subject_id = {sid}{activity}
"""
_ONE_ACTIVITY = " AND c.activity = :activity"
_SUPPRESSED_HASHES = """
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM suppression_list WHERE {match}
"""

# The facts statements by (dialect, number of identities, every activity's consents): the same
# text for every point.
_STATEMENTS: dict[tuple[str, int, bool], tuple[str, tuple[str, ...] | None]] = {}
# What a point keeps (on a store that counts its writes): a subject's facts by subject key (an id,
# or the identities as a tuple), and an answer by (activity, subject key, categories, channel)
# with the instants it holds between, [from, until).
_SubjectKey = str | tuple[tuple[str, str], ...]
_AnswerKey = tuple[str, _SubjectKey, tuple[str, ...] | None, str | None]
_PayloadParts = tuple[str, str]  # a decision's audit payload before and after its time (payload_parts)
_quote = json.encoder.encode_basestring  # canonical_payload's quoting of a str


def moment(value: Any) -> datetime | None:
    """A date-time column's value read through the raw DBAPI, in UTC."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite through the raw DBAPI
        value = datetime.fromisoformat(value)
    return as_utc(value)


class DecisionPoint:
    """Answers ``decide()`` for one controller's register; one per thread is cheapest.

    ``audit``: True (a buffered writer owned by this point), False (no
    audit: tests and dry runs only), or an :class:`AuditWriter` to share.
    ``cache_size``: how many answers and subjects' facts the point may keep
    on a store that counts its writes (0: keep none, read the facts for
    every decision); past it, it starts again empty.
    """

    def __init__(self, register: Register | Iterable[Register] | DecisionModel, engine: sa.Engine, *,
                 audit: AuditWriter | bool = True, clock: Callable[[], datetime] = now,
                 actor: str = "garde", cache_size: int = 100_000) -> None:
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
        self.cache_size = max(0, cache_size)
        # shared by the points of this model on this store: the API makes a point per request
        self._kept = _kept_for(engine, self.model) if self.cache_size else None

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
        return self._connection

    def _statement(self, identities: int, every_activity: bool = False) -> tuple[str, tuple[str, ...] | None]:
        """The facts statement for a subject id (0) or for n identities, compiled once per dialect
        in the process (the API makes a point per request: compiling cost ≈ 0.4 ms a decision)."""
        key = (self.engine.dialect.name, identities, every_activity)
        cached = _STATEMENTS.get(key)
        if cached is not None:
            return cached
        activity = "" if every_activity else _ONE_ACTIVITY
        if identities:
            match = " OR ".join(f"(kind = :k{i} AND hash = :h{i})" for i in range(identities))
            sid = "(" + _SUBJECT.format(match=match) + ")"
            text = _FACTS.format(sid=sid, activity=activity) + _SUPPRESSED_HASHES.format(match=match)
        else:
            text = _FACTS.format(sid=":sid", activity=activity)
        compiled = sa.text(text).compile(dialect=self.engine.dialect)
        positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        _STATEMENTS[key] = (compiled.string, positions)
        return compiled.string, positions

    def facts(self, activity: str, subject: str | Mapping[str, str] | None) -> SubjectFacts:
        """What the store knows about ``subject`` (an id, or identities {kind: value}) for ``activity``."""
        if subject is None:
            return SubjectFacts(None, None)
        with self._lock:
            return self._read_facts(subject, activity)

    def _read_facts(self, subject: str | Mapping[str, str], activity: str | None) -> SubjectFacts:
        """The subject's facts, with the consent events of ``activity`` (None: of every activity);
        the caller holds the lock."""
        params: dict[str, Any] = {"activity": activity}
        if isinstance(subject, str):
            params["sid"] = subject
            sql, positions = self._statement(0, activity is None)
        else:
            key = identifier_data_key(self._own())
            for i, (kind, value) in enumerate(subject.items()):
                params[f"k{i}"], params[f"h{i}"] = kind, identifier_hash(kind, value, key)
            sql, positions = self._statement(len(subject), activity is None)
        if activity is None:
            del params["activity"]
        args: Any = tuple(params[name] for name in positions) if positions else params
        rows = self._run(sql, args)
        return _facts_from(rows, subject if isinstance(subject, str) else None)

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
                self._raw = None
        raise AssertionError("unreachable")

    # -- keeping facts and answers -------------------------------------------
    def _in_step(self, kept: _Kept) -> bool:
        """Read the store's write counter; empty what is kept when it moved. False when this store
        keeps no counter: then nothing is kept. The caller holds both locks."""
        if kept.counted is None:
            kept.counted = kept_in_step(self._own())
        if not kept.counted:
            return False
        try:  # the counter straight from the driver's connection: this runs before every decision
            version = self._raw.execute(VERSION_SQL).fetchone()[0]
        except Exception:  # not connected yet, or a dropped connection: the careful path
            version = self._run(VERSION_SQL)[0][0]
        if version != kept.version or len(kept.answers) >= self.cache_size \
                or len(kept.facts) >= self.cache_size:
            kept.facts.clear()
            kept.answers.clear()
            kept.version = version
        return True

    def _kept_answer(self, activity: str, rules: ActivityRules, subject: str | Mapping[str, str],
                     categories: Sequence[str] | None, channel: str | None,
                     moment: datetime) -> tuple[Decision, _PayloadParts | None] | None:
        """The answer (and its audit payload's parts, when audited), from what is kept when it
        still holds, else evaluated and kept; None when nothing is kept. The caller holds the
        point's lock; the kept state's is taken here, after it (always in that order)."""
        kept = self._kept
        if kept is None:
            return None
        with kept.lock:
            if not self._in_step(kept):
                return None
            subject_key: _SubjectKey = subject if isinstance(subject, str) else tuple(subject.items())
            key = (activity, subject_key, tuple(categories) if categories else None, channel)
            answer = kept.answers.get(key)
            if answer is not None and answer[0] <= moment and (answer[1] is None or moment < answer[1]):
                return answer[2], answer[3]
            facts = kept.facts.get(subject_key)
            if facts is None:
                facts = kept.facts[subject_key] = self._read_facts(subject, None)
            decision = evaluate(activity, rules, facts, categories, channel, moment)
            parts = None if self.audit_writer is None else payload_parts(activity, channel, categories,
                                                                          decision)
            kept.answers[key] = (moment, stable_until(rules, facts, moment), decision, parts)
            return decision, parts

    # -- deciding ------------------------------------------------------------
    def decide(self, activity: str, subject: str | Mapping[str, str] | None,
               categories: Sequence[str] | None = None, channel: str | None = None) -> Decision:
        """May ``activity`` use ``categories`` of ``subject``'s data (on ``channel``)? Audited."""
        moment = self.clock()
        channel = consent_channel(channel)  # asked as recorded: `Email` is the channel `email`
        rules = self.model.get(activity)
        kept = None
        if rules is not None and subject is not None:
            with self._lock:
                kept = self._kept_answer(activity, rules, subject, categories, channel, moment)
        if kept is None:
            facts = self.facts(activity, subject) if rules is not None else SubjectFacts(None, None)
            decision = evaluate(activity, rules, facts, categories, channel, moment)
            parts = None
        else:
            decision, parts = kept
        writer = self.audit_writer
        if writer is not None:
            head, tail = parts or payload_parts(activity, channel, categories, decision)
            # the same bytes as canonical_payload() of the whole payload (only the time is new),
            # formatted and joined by the writer's process: head and tail go to it once per batch
            writer.add_entry("decision", (head, moment, tail), decision.subject_id, self.actor)
        return decision

    def close(self) -> None:
        """Flush the audit buffer (when this point owns it) and release the connection."""
        if self._owns_writer and self.audit_writer is not None:
            self.audit_writer.close()
        if self._connection is not None:
            self._connection.close()
            self._connection = self._raw = None

    def __enter__(self) -> DecisionPoint:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Kept:
    """What the points of one model on one store keep (facts, answers), and the write counter's
    value they were read at; ``counted``: whether the store counts its writes (None: not asked)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counted: bool | None = None
        self.version: int | None = None
        self.facts: dict[_SubjectKey, SubjectFacts] = {}
        self.answers: dict[_AnswerKey, tuple[datetime, datetime | None, Decision, _PayloadParts | None]] = {}


_KEPT: weakref.WeakKeyDictionary[sa.Engine, weakref.WeakKeyDictionary[DecisionModel, _Kept]] = (
    weakref.WeakKeyDictionary())
_KEPT_LOCK = threading.Lock()


def _kept_for(engine: sa.Engine, model: DecisionModel) -> _Kept:
    with _KEPT_LOCK:
        by_model = _KEPT.setdefault(engine, weakref.WeakKeyDictionary())
        kept = by_model.get(model)
        if kept is None:
            kept = by_model[model] = _Kept()
        return kept


def payload_parts(activity: str, channel: str | None, categories: Sequence[str] | None,
                  decision: Decision) -> _PayloadParts:
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
