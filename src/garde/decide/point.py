"""The decision point: ``decide(activity, subject, categories)``, fast and audited.

Applications ask it before using personal data for a purpose. It holds the
register compiled in memory (:class:`DecisionModel`) and reads what the
store knows of the subject in **one** indexed statement (state and dates,
objections, suppression, the consent events for that activity), so there is
no cache to invalidate: every decision sees every committed write. Each
decision is appended to the audit log through a buffered
:class:`garde.audit.ProcessAuditWriter`, whose child process hashes and
writes the batches (see :class:`garde.audit.AuditWriter` for the durability
window).

The statement is built and compiled once per dialect and run on the
DBAPI connection directly, in autocommit mode: on the hot path SQLAlchemy's
per-call work would cost more than the query itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from garde.audit import AuditWriter, Event, ProcessAuditWriter
from garde.consent.ledger import consent_channel
from garde.consent.state import ConsentEvent, as_utc
from garde.decide.model import Decision, DecisionModel
from garde.decide.rules import SubjectFacts, evaluate
from garde.keys import identifier_data_key
from garde.register import Register
from garde.subjects import identifier_hash, now

_SUBJECT = "SELECT subject_id FROM subject_identifiers WHERE {match} LIMIT 1"
_FACTS = """
SELECT 0, s.state, s.id, s.created_at, s.relationship_started_at, s.relationship_ended_at,
       s.last_contact_at, CAST(NULL AS BIGINT)
  FROM subjects s WHERE s.id = {sid}
UNION ALL
SELECT 1, o.scope, NULL, NULL, NULL, NULL, NULL, NULL
  FROM subject_objections o WHERE o.subject_id = {sid}
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM subject_identifiers si JOIN suppression_list sl ON sl.kind = si.kind AND sl.hash = si.hash
 WHERE si.subject_id = {sid}
UNION ALL
SELECT 3, c.channel, c.action, c.at, c.expires_at, NULL, NULL, c.id
  FROM consent_events c WHERE c.subject_id = {sid} AND c.activity = :activity
"""
_SUPPRESSED_HASHES = """
UNION ALL
SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM suppression_list WHERE {match}
"""

# The facts statements by (dialect, number of identities): the same text for every point.
_STATEMENTS: dict[tuple[str, int], tuple[str, tuple[str, ...] | None]] = {}


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
    """

    def __init__(self, register: Register | Iterable[Register] | DecisionModel, engine: sa.Engine, *,
                 audit: AuditWriter | bool = True, clock: Callable[[], datetime] = now,
                 actor: str = "garde") -> None:
        self.model = register if isinstance(register, DecisionModel) else DecisionModel(register)
        self.engine = engine
        self.clock = clock
        self.actor = actor
        self._owns_writer = audit is True
        self.audit_writer: AuditWriter | None = (
            _new_writer(engine) if audit is True else audit if not isinstance(audit, bool) else None)
        self._lock = threading.Lock()
        self._connection: sa.Connection | None = None

    # -- reading the subject -------------------------------------------------
    def _dbapi(self) -> Any:
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection.connection.dbapi_connection

    def _statement(self, identities: int) -> tuple[str, tuple[str, ...] | None]:
        """The facts statement for a subject id (0) or for n identities, compiled once per dialect
        in the process (the API makes a point per request: compiling cost ≈ 0.4 ms a decision)."""
        cached = _STATEMENTS.get((self.engine.dialect.name, identities))
        if cached is not None:
            return cached
        if identities:
            match = " OR ".join(f"(kind = :k{i} AND hash = :h{i})" for i in range(identities))
            sid = "(" + _SUBJECT.format(match=match) + ")"
            text = _FACTS.format(sid=sid) + _SUPPRESSED_HASHES.format(match=match)
        else:
            text = _FACTS.format(sid=":sid")
        compiled = sa.text(text).compile(dialect=self.engine.dialect)
        positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        _STATEMENTS[self.engine.dialect.name, identities] = (compiled.string, positions)
        return compiled.string, positions

    def facts(self, activity: str, subject: str | Mapping[str, str] | None) -> SubjectFacts:
        """What the store knows about ``subject`` (an id, or identities {kind: value}) for ``activity``."""
        params: dict[str, Any] = {"activity": activity}
        if subject is None:
            return SubjectFacts(None, None)
        if isinstance(subject, str):
            params["sid"] = subject
            sql, positions = self._statement(0)
        else:
            key = identifier_data_key(self.engine)
            for i, (kind, value) in enumerate(subject.items()):
                params[f"k{i}"], params[f"h{i}"] = kind, identifier_hash(kind, value, key)
            sql, positions = self._statement(len(subject))
        args: Any = tuple(params[name] for name in positions) if positions else params
        with self._lock:
            rows = self._run(sql, args)
        return _facts_from(rows, activity, subject if isinstance(subject, str) else None)

    def _run(self, sql: str, args: Any) -> list[Any]:
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
        raise AssertionError("unreachable")

    # -- deciding ------------------------------------------------------------
    def decide(self, activity: str, subject: str | Mapping[str, str] | None,
               categories: Sequence[str] | None = None, channel: str | None = None) -> Decision:
        """May ``activity`` use ``categories`` of ``subject``'s data (on ``channel``)? Audited."""
        moment = self.clock()
        channel = consent_channel(channel)  # asked as recorded: `Email` is the channel `email`
        rules = self.model.get(activity)
        facts = self.facts(activity, subject) if rules is not None else SubjectFacts(None, None)
        decision = evaluate(activity, rules, facts, categories, channel, moment)
        if self.audit_writer is not None:
            self.audit_writer.add(Event("decision", {
                "activity": activity, "channel": channel, "requested": list(categories or ()),
                "allowed": decision.allowed, "categories": list(decision.categories),
                "reasons": decision.codes(), "at": moment.isoformat()},
                subject_id=decision.subject_id, actor=self.actor))
        return decision

    def close(self) -> None:
        """Flush the audit buffer (when this point owns it) and release the connection."""
        if self._owns_writer and self.audit_writer is not None:
            self.audit_writer.close()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> DecisionPoint:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _new_writer(engine: sa.Engine) -> AuditWriter:
    # a child process hashes and writes the batches: their CPU and GIL are not the decisions'
    return ProcessAuditWriter(engine)


def _facts_from(rows: list[Any], activity: str, subject_id: str | None) -> SubjectFacts:
    state = created = started = ended = contact = None
    objections: set[str] = set()
    suppressed = False
    events: list[ConsentEvent] = []
    for part, a, b, d1, d2, d3, d4, n in rows:
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
