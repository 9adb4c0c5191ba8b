"""Audiences: every subject who may be contacted for an activity on a channel, streamed.

One set-based statement walks the subjects with, per subject, the latest
consent event that applies (a window function: the set-based form of
:func:`garde.consent.state.fold`), whether they objected and whether they
are on the suppression list; it already drops the subjects no rule could
let through. Each remaining row is then judged by
:func:`garde.decide.rules.evaluate`, the very function behind ``decide()``,
so a subject is in the audience exactly when ``decide()`` would allow the
contact — consent, or the soft opt-in rule for customers, minus objections
and the suppression list.

Rows are streamed (``yield_per``: a server-side cursor on PostgreSQL), never
all held in memory. The engine stores hashed identifiers only: members are
subject ids, which the business joins to its own contact data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from garde import audit
from garde.consent.ledger import latest_per_key
from garde.consent.state import ConsentEvent, as_utc
from garde.decide.model import Decision, DecisionModel
from garde.decide.rules import ELECTRONIC_MAIL, SubjectFacts, evaluate
from garde.problems import GardeError
from garde.subjects import now, subject_objections, subjects
from garde.suppression import subject_suppressed

CHANNEL_CATEGORY = {"email": "contact.email", "sms": "contact.phone", "phone": "contact.phone",
                    "post": "contact.postal_address"}


@dataclass(frozen=True)
class Member:
    """One subject of an audience and the basis that lets them be contacted."""

    subject_id: str
    basis: str  # consent, soft_opt_in, or the activity's legal basis


def _basis(decision: Decision) -> str:
    codes = decision.codes()
    if "soft_opt_in" in codes:
        return "soft_opt_in"
    grant = next((r for r in decision.reasons if r.code == "legal_basis"), None)
    return grant.message.removeprefix("legal basis: ") if grant else "allowed"


def audience(conn: sa.Connection, model: DecisionModel, activity: str, channel: str,
             at: datetime | None = None, batch: int = 2000) -> Iterator[Member]:
    """The subjects ``activity`` may contact on ``channel``, in subject-id order, streamed."""
    rules = model.get(activity)
    if rules is None:
        raise GardeError(f"{activity!r} is not in the register")
    moment = as_utc(at) if at is not None else now()
    category = CHANNEL_CATEGORY.get(channel)
    categories = [category] if category and rules.declares(category) else None
    latest = latest_per_key(activity, channel)
    s = subjects
    objected = sa.exists().where(subject_objections.c.subject_id == s.c.id,
                                 subject_objections.c.scope.in_(sorted(rules.objection_scopes())))
    query = (
        sa.select(s.c.id, s.c.state, s.c.created_at, s.c.relationship_started_at, s.c.relationship_ended_at,
                  s.c.last_contact_at, latest.c.channel, latest.c.action, latest.c.at, latest.c.expires_at)
        .select_from(s.outerjoin(latest, sa.and_(latest.c.subject_id == s.c.id, latest.c.rank == 1)))
        .where(s.c.state.in_(["active", "restricted"] if rules.legal_claims else ["active"]), ~objected)
        .order_by(s.c.id))
    if rules.marketing:
        query = query.where(~subject_suppressed(s.c.id))
    soft_opt_in = (rules.direct_marketing and channel in ELECTRONIC_MAIL and "consent" not in rules.bases)
    if "consent" in rules.bases or (rules.direct_marketing and channel in ELECTRONIC_MAIL):
        given = latest.c.action == "given"
        query = query.where(sa.or_(given, s.c.relationship_started_at.is_not(None)) if soft_opt_in else given)
    result = conn.execution_options(yield_per=batch).execute(query)
    with result:
        for row in result:
            events = () if row.action is None else (
                ConsentEvent(activity, row.channel, row.action, row.at, row.expires_at),)
            facts = SubjectFacts(
                row.id, row.state, _utc(row.created_at), _utc(row.relationship_started_at),
                _utc(row.relationship_ended_at), _utc(row.last_contact_at), frozenset(), False, events)
            decision = evaluate(activity, rules, facts, categories, channel, moment)
            if decision.allowed:
                yield Member(row.id, _basis(decision))


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def audited_audience(engine: sa.Engine, model: DecisionModel, activity: str, channel: str,
                     at: datetime | None = None, actor: str = "garde") -> Iterator[Member]:
    """:func:`audience` on its own connection; once it is exhausted, one audit entry records
    the activity, channel, member count and the SHA-256 of the member ids."""
    import hashlib

    digest = hashlib.sha256()
    count = 0
    with engine.connect() as conn:
        for member in audience(conn, model, activity, channel, at):
            digest.update(member.subject_id.encode() + b"\n")
            count += 1
            yield member
    with engine.begin() as conn:
        audit.record(conn, "audience", {"activity": activity, "channel": channel, "count": count,
                                        "members_sha256": digest.hexdigest()}, actor=actor)
