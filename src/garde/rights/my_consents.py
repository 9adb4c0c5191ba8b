"""A data subject changing their own consents with their session (the privacy center's forms).

What the subject sees: every activity of the register that asks for consent, once per channel
it declares (or once when it declares none), with where the subject's consent stands. What the
subject changes goes into the consent ledger through :func:`garde.consent.recording.record_choice`,
the function every edge uses: the session's proven identity, method ``web_form``, the version of
the notice in the language of the page the subject saw (a withdrawal records it too: which notice
was in force is part of the proof), the session as actor.

Objecting to direct marketing (GDPR Art. 21(2)-(3)) is absolute: it is recorded at once on the
subject and puts their identifiers on the suppression list (:func:`garde.consent.objections.object_to`),
and it lands in the consent ledger as the subject's choice for every consent the register asks for
direct marketing (an activity marked ``direct_marketing: true`` on consent): withdrawn where it was
given, refused where it was not, method ``web_form``, with the notice version of the page, in the
same transaction. The ledger then proves that choice as it proves a withdrawal (Art. 7(1)).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from garde import audit, consent
from garde.consent.confirmations import answered
from garde.consent.identities import recorded_with
from garde.consent.ledger import Evidence, LedgerEvent
from garde.consent.objections import DIRECT_MARKETING, object_to
from garde.consent.recording import ConsentChoice, check_activity, record_choice
from garde.consent.state import ConsentState, fold
from garde.decide.model import DecisionModel
from garde.documents import notice_version
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.ratelimit import Limit, hit
from garde.register.model import text_in
from garde.rights.sessions import SubjectSession, bind_subject
from garde.rights.vouching import confirm
from garde.store.transactions import retried
from garde.subjects import ensure_subject, now, objections
from garde.suppression import suppress_hashes, suppression_list
from garde.taxonomy import load_vocabulary

METHOD = "web_form"
# Consent changes one identity makes in an hour, from whatever addresses: each writes the ledger and
# the audit log for good, and anyone with a mailbox can open a session.
CHANGES_PER_IDENTITY = Limit("consents.change.identity", 30, timedelta(hours=1))


@dataclass(frozen=True)
class ConsentLine:
    """One activity (and channel) the subject may consent to, and where their consent stands."""

    activity: str
    channel: str | None
    status: str  # "given", "withdrawn", "refused", "expired", "none", or "objected" (see consent_lines)
    name: str = ""  # the activity's name in the page's language (its id when the register has none)
    channel_name: str = ""  # the channel's label in the page's language (the vocabulary's)

    @property
    def given(self) -> bool:
        return self.status == "given"


def consent_lines(model: DecisionModel, state: list[ConsentState], lang: str = "en", *,
                  objected: bool = False, asked: Collection[tuple[str, str | None]] = (),
                  ) -> list[ConsentLine]:
    """Every consent the register asks for, per channel, with the subject's ``state`` folded in,
    named in ``lang`` (the activity's name in the register, the channel's label in the vocabulary).

    When the subject ``objected`` to direct marketing, every direct-marketing line stands as
    ``"objected"``: the objection outlives any consent (Art. 21(3)), so ``decide()`` refuses it
    whatever the ledger says, and the page must not show it as given. A line not given whose
    confirmation the shop asked of the session's identity (``asked``: (activity, channel) pairs,
    :func:`garde.consent.confirmations.open_for`) stands as ``"asked"``."""
    standing: dict[tuple[str, str | None], str] = {(s.activity, s.channel): s.status for s in state}
    wanted = set(asked)
    for activity, channel in _asked(model, state):
        if standing.get((activity, channel)) != "given" and {(activity, channel), (activity, None)} & wanted:
            standing[(activity, channel)] = "asked"
    if objected:
        standing |= {(a, c): "objected" for a, c in _asked(model, state) if _direct_marketing(model, a)}
    return [ConsentLine(activity, channel, standing.get((activity, channel), "none"),
                        _activity_name(model, activity, lang),
                        load_vocabulary().label("channels", channel, lang) if channel else "")
            for activity, channel in _asked(model, state)]


def _asked(model: DecisionModel, state: list[ConsentState]) -> list[tuple[str, str | None]]:
    asked = [(activity, channel) for activity in model.activities
             if (rules := model.get(activity)) is not None and "consent" in rules.bases
             for channel in rules.channels or (None,)]
    return asked + [(s.activity, s.channel) for s in state if (s.activity, s.channel) not in set(asked)]


def _direct_marketing(model: DecisionModel, activity: str) -> bool:
    rules = model.get(activity)
    return rules is not None and rules.direct_marketing


class ObjectionStands(GardeError):
    """A consent to direct marketing given after an objection to it: it would not be used."""


def _activity_name(model: DecisionModel, activity_id: str, lang: str) -> str:
    owner = model.register_of(activity_id)
    activity = owner.activity(activity_id) if owner is not None else None
    return (text_in(activity.name, lang) if activity is not None else None) or activity_id


def change_my_consent(engine: sa.Engine, model: DecisionModel, session: SubjectSession, activity: str,
                      channel: str | None, give: bool, lang: str, *, ip: str | None = None,
                      user_agent: str | None = None) -> LedgerEvent:
    """Give or withdraw the session's subject's consent to ``activity`` (on ``channel``); at most
    :data:`CHANGES_PER_IDENTITY` (else :class:`~garde.ratelimit.RateLimited`)."""
    check_activity(model, activity)
    rules = model.get(activity)
    if rules is not None and channel is not None and channel not in rules.channels:
        raise GardeError(f"{activity!r} has no channel {channel!r}")
    if session.narrowed:
        with engine.connect() as conn:
            _within_scope(conn, model, session, activity, channel)
    if give and _direct_marketing(model, activity):
        with engine.connect() as conn:
            if objects_to_direct_marketing(conn, session):
                raise ObjectionStands(
                    f"{activity!r} is direct marketing and you objected to direct marketing: a consent "
                    "would not be used while your objection stands")
    # counted, committed, before the choice is recorded
    retried(engine, lambda conn: hit(conn, CHANGES_PER_IDENTITY, session.identity_hash),
            what="a consent change")
    owner = model.register_of(activity)
    version = notice_version(owner, lang) if owner is not None else None
    event = record_choice(engine, model, ConsentChoice(
        action="given" if give else "withdrawn", activity=activity,
        identities={session.kind: session.identity}, channel=channel, method=METHOD, notice_version=version,
        notice_lang=lang, ip=ip, user_agent=user_agent, actor=session.actor))
    if session.subject_id is not None and not give:  # a bound session's withdrawal: nothing else to write
        return event

    def binding(conn: sa.Connection) -> None:
        if session.subject_id is None:  # their first consent made them a subject: the session reads it
            bind_subject(conn, session, event.subject_id)
            confirm(conn, event.subject_id, [(session.kind, session.identity_hash)])
        if give:  # the holder's own consent answers what the shop asked of this identity (double opt-in)
            answered(conn, session.kind, session.identity_hash, activity, event.channel, event.event_id,
                     actor=session.actor)

    retried(engine, binding, what="a session's subject and the confirmations it answers")
    return event


OBJECTION = "objection"  # the suppression list's reason for an objection (as consent.objections writes it)


class OutsideScope(GardeError):
    """A consent a narrowed session may not change: another identity of its subject recorded it."""

    status = 403


def _within_scope(conn: sa.Connection, model: DecisionModel, session: SubjectSession, activity: str,
                  channel: str | None) -> None:
    """Nothing, when the consent to ``activity`` on ``channel`` stands as an event recorded with the
    session's identity decided it; else :class:`OutsideScope`. A narrowed session
    (:mod:`garde.rights.vouching`) shares its engine subject with identities the shop's systems
    linked to it: giving or withdrawing there would change another person's consent."""
    if session.subject_id is not None:
        events = [e.as_state_event() for e in consent.history(conn, session.subject_id, activity)]
        standing = fold(events, activity, channel, now(), model.validity().get(activity))
        if standing.event_id is not None and standing.event_id in recorded_with(conn, session.kind,
                                                                                session.identity_hash):
            return
    raise OutsideScope(
        f"the consent to {activity!r} was not recorded with the identity you proved: garde also holds "
        "other identities with it; prove them (or ask the shop) to change it")


def direct_marketing_consents(model: DecisionModel, state: list[ConsentState]) -> list[ConsentLine]:
    """The consents the register asks for direct marketing, with the subject's ``state`` folded in."""
    return [line for line in consent_lines(model, state)
            if (rules := model.get(line.activity)) is not None and rules.direct_marketing]


def object_to_direct_marketing(engine: sa.Engine, model: DecisionModel, session: SubjectSession, lang: str,
                               *, ip: str | None = None, user_agent: str | None = None) -> bool:
    """Record the session's subject's objection to direct marketing, on the subject and in the
    consent ledger (see the module's doc); False, and nothing recorded, when already objected."""
    key = identifier_data_key(engine) if ip is not None else None
    evidence = {}  # the notice shown, per activity: built before the transaction (it renders the notice)
    for activity in model.activities:
        owner = model.register_of(activity)
        rules = model.get(activity)
        if rules is not None and rules.direct_marketing and "consent" in rules.bases and owner is not None:
            evidence[activity] = Evidence.from_request(ip, user_agent, notice_version(owner, lang), key=key)

    def objecting(conn: sa.Connection) -> bool:
        if session.narrowed:  # the subject is shared with identities not proven: this identity only
            if objects_to_direct_marketing(conn, session):  # nothing recorded, as for a whole subject
                return False  # (the unlimited route posted again grew the audit log: red team of 2026-12-08)
            suppress_hashes(conn, [(session.kind, session.identity_hash)], OBJECTION)
            audit.record(conn, "objection", {"scope": DIRECT_MARKETING, "identity": session.kind,
                                             "narrowed": True}, subject_id=session.subject_id,
                         actor=session.actor)
            return True
        subject_id = session.subject_id or ensure_subject(conn, {session.kind: session.identity})
        confirm(conn, subject_id, [(session.kind, session.identity_hash)])
        bind_subject(conn, session, subject_id)
        if not object_to(conn, subject_id, DIRECT_MARKETING, actor=session.actor):
            return False
        state = consent.current(conn, subject_id, validity=dict(model.validity()))
        for line in direct_marketing_consents(model, state):
            consent.record_consent(conn, subject_id, line.activity, "withdrawn" if line.given else "refused",
                                   channel=line.channel, method=METHOD, actor=session.actor,
                                   evidence=evidence.get(line.activity))
        return True

    return retried(engine, objecting, what="an objection to direct marketing", races_to_create=True)


def objects_to_direct_marketing(conn: sa.Connection, session: SubjectSession) -> bool:
    """Whether the session's subject already objected to direct marketing (a narrowed session's
    identity: whether it is on the suppression list for an objection)."""
    if session.narrowed:
        listed = suppression_list.c
        return conn.execute(sa.select(listed.reason).where(
            listed.kind == session.kind, listed.hash == session.identity_hash)).scalar() == OBJECTION
    return session.subject_id is not None and DIRECT_MARKETING in objections(conn, session.subject_id)
