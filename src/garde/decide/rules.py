"""The decision rules: a pure function of the register and what the store knows.

:func:`evaluate` is shared by :meth:`DecisionPoint.decide` (one subject) and
:func:`garde.audience.audience` (every subject, streamed), so a subject is
in an audience exactly when ``decide()`` would allow contacting them.

The rules, in order:

1. The activity must be in the register, and each category used must be
   declared for it (Art. 5(1)(b)-(c), purpose limitation and minimisation).
2. An erased subject (Art. 17) is never processed; a restricted one
   (Art. 18(2)) only for legal claims.
3. Marketing (direct marketing, targeted advertising) never reaches a
   subject on the suppression list.
4. An objection to the activity, to direct marketing (Art. 21(3), absolute)
   or to targeted advertising (a Global Privacy Control signal) stops it.
5. ePrivacy: e-mail and SMS marketing (Directive 2002/58 Art. 13(1)) and
   non-essential cookies (Art. 5(3)) need consent, with one exception, the
   **soft opt-in** of Art. 13(2) (CNIL: "produits ou services analogues"):
   a customer — a subject whose relationship with the controller has
   started — may receive e-mail or SMS marketing without prior consent as
   long as they have not objected, unsubscribed (withdrawn or refused that
   consent) or been suppressed, and the activity rests on legitimate
   interests rather than consent. That the products are similar and that
   each message offers an opt-out is the register's declaration, not
   something garde can check.
6. At least one declared Art. 6(1) basis must hold: consent given, not
   withdrawn and not expired (the earlier of the event's expiry and the
   activity's ``consent.expiry``); a contract running (relationship started
   and not ended); legitimate interests, legal obligation, vital interests
   and public task hold by themselves (objections are rule 4).
7. Categories past retention are not usable: one of their rules is due
   (the register's ``retention_combination``: ``first_reached``, the default,
   as the retention sweep deletes them) or every one (``latest_of``).
   ``collection`` runs from the subject's creation, ``last_contact`` from the
   last contact (else creation), ``relationship_end`` from its end,
   ``consent_withdrawn`` from the withdrawal. Rules on other events
   (``invoice_date``...) and rules in words (a criterion, a condition) are
   never due here; the retention sweep handles the former.

An activity the register declares ``role: processor`` is carried out on behalf of other
controllers, on their documented instructions only (GDPR Art. 28(3)(a), 29); the subject's
rights are exercised against them (Art. 28(3)(e)). Its decision follows :func:`_as_processor`
instead of rules 2-6: allowed within the instructions the register records (a controller of
``on_behalf_of`` with its Art. 28(3) contract), its reason "processor for *controller*" rather than
a legal basis of the organisation's own; refused where a client controller instructed a
restriction of the subject (recorded by the DPO: :mod:`garde.rights.instructed_restriction`), until
it instructs its lifting (Art. 18(3)). After a client controller's instructed erasure
(:mod:`garde.rights.instructed_erasure`) its activities are still allowed, with the reason
``erased_on_instruction`` (not blocking): the erasure was of what was held then, and what the
controller sends since (the subject ordering again through it) comes with its standing documented
instructions; a copy kept from before (a cache, a replica) is not to be processed. A controller
that wants no more processing of the subject instructs a restriction, which refuses.
What the subject asked of the organisation as a controller (its restriction, erasure or
objection, the suppression list) and the organisation's own consent ledger do not reach it: those
are passed on to the controller, whose instruction decides. Rule 1 and rule 7 apply as to any
activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from garde.consent.state import ConsentEvent, ConsentState, best_state, effective_expiry
from garde.decide.model import ActivityRules, Decision, Reason

ELECTRONIC_MAIL = frozenset({"email", "sms"})  # ePrivacy Art. 2(h): "electronic mail" includes SMS
ESSENTIAL_COOKIES = "cookie.necessary"


@dataclass(frozen=True)
class SubjectFacts:
    """What the store knows about one subject, for one activity."""

    subject_id: str | None
    state: str | None  # None: the subject is unknown to the engine
    created_at: datetime | None = None
    relationship_started_at: datetime | None = None
    relationship_ended_at: datetime | None = None
    last_contact_at: datetime | None = None
    objections: frozenset[str] = frozenset()
    suppressed: bool = False
    consent_events: tuple[ConsentEvent, ...] = ()


def needs_consent_by_eprivacy(activity: ActivityRules, channel: str | None) -> bool:
    if channel is None:
        return False
    if channel.startswith("cookie."):
        return channel != ESSENTIAL_COOKIES
    return activity.direct_marketing and channel in ELECTRONIC_MAIL


def contract_running(facts: SubjectFacts, now: datetime) -> bool:
    started, ended = facts.relationship_started_at, facts.relationship_ended_at
    return started is not None and started <= now and (ended is None or ended > now)


def consent_reason(state: ConsentState) -> Reason:
    on = f" on {state.channel}" if state.channel else ""
    since = f" on {state.since:%Y-%m-%d}" if state.since else ""
    if state.status == "withdrawn":
        return Reason("consent_withdrawn", f"consent to {state.activity}{on} was withdrawn{since}")
    if state.status == "refused":
        return Reason("consent_withdrawn", f"consent to {state.activity}{on} was refused{since}")
    if state.status == "expired":
        until = f" on {state.expires_at:%Y-%m-%d}" if state.expires_at else ""
        return Reason("consent_expired", f"consent to {state.activity}{on} expired{until}; ask again")
    return Reason("consent_missing", f"no consent to {state.activity}{on} was recorded")


# The reasons whose words never change, built once: a decision shares them (a Reason is frozen).
_ERASED = Reason("subject_erased", "the subject's data was erased (GDPR Art. 17)")
_RESTRICTED = Reason("subject_restricted",
                     "processing is restricted: storage only, except legal claims (GDPR Art. 18)")
_SUPPRESSED = Reason("subject_suppressed", "the subject is on the suppression list: do not contact")
_SOFT_OPT_IN = Reason("soft_opt_in", "existing customer, no objection: soft opt-in (ePrivacy Art. 13(2))",
                      blocks=False)
_NO_CONTRACT = Reason("no_contract", "no contract is running with the subject (GDPR Art. 6(1)(b))")
_LEGAL_BASIS: dict[str, Reason] = {}  # by basis: the register's vocabulary, a handful
_NO_CONSENT: dict[tuple[str, str | None], ConsentState] = {}  # "none" by (activity, channel), bounded


def _legal_basis(basis: str) -> Reason:
    reason = _LEGAL_BASIS.get(basis)
    if reason is None:
        reason = Reason("legal_basis", f"legal basis: {basis}", blocks=False)
        if len(_LEGAL_BASIS) < 256:
            _LEGAL_BASIS[basis] = reason
    return reason


def consent_for(activity: ActivityRules, facts: SubjectFacts, channel: str | None,
                now: datetime) -> ConsentState:
    """:func:`best_state` of the subject's consent to ``activity``; without an event of that
    activity (most decisions) its "none" state, kept once per (activity, channel)."""
    activity_id = activity.id
    events = facts.consent_events
    for event in events:
        if event.activity == activity_id:
            return best_state(events, activity_id, channel, now, activity.consent_validity)
    key = (activity_id, channel)
    state = _NO_CONSENT.get(key)
    if state is None:
        state = ConsentState(activity_id, channel, "none")
        if len(_NO_CONSENT) < 4096:  # channels are the vocabulary's (consent_channel), activities few
            _NO_CONSENT[key] = state
    return state


def _retention_due(activity: ActivityRules, facts: SubjectFacts, consent: ConsentState,
                   now: datetime) -> list[bool | None]:
    """Per retention rule: due, not due, or None when the engine cannot tell."""
    due: list[bool | None] = []
    for rule in activity.retention:
        event = rule.event
        if not event:  # kept "indefinitely": the register sets no limit, so never due
            due.append(False)
            continue
        if event == "collection":
            start = facts.created_at
        elif event == "last_contact":
            start = facts.last_contact_at or facts.created_at
        elif event == "relationship_end":
            start = facts.relationship_ended_at
        elif event == "consent_withdrawn":
            start = consent.since if consent.status == "withdrawn" else None
        else:
            due.append(None)
            continue
        if start is None:  # the event has not happened: the period has not started
            due.append(False)
            continue
        end = start if rule.period is None else rule.period.after(start)
        due.append(end <= now)
    return due


def past_retention(activity: ActivityRules, categories: Sequence[str], facts: SubjectFacts,
                   consent: ConsentState, now: datetime) -> list[str]:
    """The categories past retention: one of their rules is due ("first reached", the default, as the
    sweep deletes them), or every one ("latest of"); a rule the engine cannot evaluate here is never
    due, so under "latest of" it keeps the category."""
    if not activity.retention or facts.state is None:
        return []
    due = _retention_due(activity, facts, consent, now)
    combine = all if activity.retention_combination == "latest_of" else any
    past = []
    for category in categories:
        rules = activity.retention_rules_of(category)
        if rules and combine(bool(due[i]) for i in rules):
            past.append(category)
    return past


def evaluate(activity_id: str, activity: ActivityRules | None, facts: SubjectFacts,
             categories: Sequence[str] | None, channel: str | None, now: datetime) -> Decision:
    """The decision for ``activity`` on ``facts``; see the module's rules 1-7.

    Written for the common case (a subject with no restriction, objection or consent event for
    the activity): the reasons whose words never change are shared, the "none" consent state is
    kept, and no step runs that the facts make moot."""
    if activity is None:
        return Decision(False, (), [Reason("activity_unknown", f"{activity_id!r} is not in the register")],
                        activity_id, facts.subject_id, channel)
    reasons: list[Reason] = []
    if categories:
        requested = list(dict.fromkeys(categories))
        declares = activity.declares
        undeclared = [c for c in requested if not declares(c)]
        if undeclared:
            usable = [c for c in requested if c not in undeclared]
            reasons.append(Reason("category_not_declared",
                                  f"{', '.join(undeclared)} not declared for {activity_id}",
                                  blocks=not usable, categories=tuple(undeclared)))
        else:
            usable = requested
    else:
        usable = list(activity.categories)  # an activity declares each of its own categories

    if activity.processor_for is not None:
        return _as_processor(activity_id, activity, facts, usable, reasons, channel, now)
    # 2. the subject's state
    state = facts.state
    if state == "erased":
        reasons.append(_ERASED)
    elif state == "restricted" and not activity.legal_claims:
        reasons.append(_RESTRICTED)
    # 3. do not contact
    if facts.suppressed and activity.marketing:
        reasons.append(_SUPPRESSED)
    # 4. objections
    if facts.objections:
        objected = sorted(activity.objection_scopes() & facts.objections)
        if objected:
            reasons.append(Reason("objection", f"the subject objected ({', '.join(objected)}; GDPR Art. 21)"))

    consent = consent_for(activity, facts, channel, now)
    # 5. ePrivacy
    if channel is not None and needs_consent_by_eprivacy(activity, channel) and not consent.valid:
        started = facts.relationship_started_at
        customer = started is not None and started <= now
        soft_opt_in = (channel in ELECTRONIC_MAIL and customer and "consent" not in activity.bases
                       and consent.status in ("none", "expired"))
        reasons.append(_SOFT_OPT_IN if soft_opt_in else consent_reason(consent))
    # 6. a legal basis that holds
    failures: list[Reason] = []
    holding: str | None = None
    for basis in activity.ordered_bases:
        if basis == "consent":
            if consent.valid:
                holding = basis
                break
            failures.append(consent_reason(consent))
        elif basis == "contract":
            if contract_running(facts, now):
                holding = basis
                break
            failures.append(_NO_CONTRACT)
        else:
            holding = basis
            break
    if holding is not None:
        reasons.append(_legal_basis(holding))
    elif not activity.bases:
        reasons.append(Reason("no_legal_basis", f"{activity_id} declares no legal basis (GDPR Art. 6(1))"))
    else:
        reasons.extend(r for r in failures if r.code not in {x.code for x in reasons})
    # 7. retention
    if activity.retention and state is not None:
        past = past_retention(activity, usable, facts, consent, now)
        if past:
            usable = [c for c in usable if c not in past]
            reasons.append(Reason("retention_passed", f"{', '.join(past)} past retention for {activity_id}",
                                  blocks=not usable, categories=tuple(past)))
    blocked = False
    for reason in reasons:
        if reason.blocks:
            blocked = True
            break
    if not usable and not blocked:
        reasons.append(Reason("no_category", f"no category of {activity_id} is usable"))
        blocked = True
    if blocked or not usable:
        return Decision(False, (), reasons, activity_id, facts.subject_id, channel)
    return Decision(True, tuple(usable), reasons, activity_id, facts.subject_id, channel)


def _as_processor(activity_id: str, activity: ActivityRules, facts: SubjectFacts, usable: list[str],
                  reasons: list[Reason], channel: str | None, now: datetime) -> Decision:
    """The decision for an activity carried out as a processor (the module's last paragraph)."""
    controllers = activity.processor_for or ()
    if not controllers:
        reasons.append(Reason("processor_no_instructions",
                              f"{activity_id} is carried out as a processor, but the register records no "
                              "controller's documented instructions for it (on_behalf_of with its contract; "
                              "GDPR Art. 28(3)(a), 30(2)(a))"))
    else:
        reasons.append(Reason("processor_for", f"processor for {', '.join(controllers)}, on its documented "
                                               "instructions (GDPR Art. 28(3)(a), 29)", blocks=False))
    if facts.objections:
        erased = [name for scope, name in activity.instructed_erasures.items() if scope in facts.objections]
        if erased:  # what was held is gone; what the controller sends since is its new instruction
            reasons.append(Reason("erased_on_instruction",
                                  f"the data held of the subject was erased on the instruction of "
                                  f"{', '.join(erased)}: process only what it has sent since, never a copy "
                                  "kept from before (GDPR Art. 17, 28(3)(a), 29)",
                                  blocks=False))
        by = [name for scope, name in activity.instructed_restrictions.items() if scope in facts.objections]
        if by and not activity.legal_claims:  # Art. 18(2), as for the organisation's own
            reasons.append(Reason("restricted_by_controller",
                                  f"processing restricted on the instruction of {', '.join(by)}: storage "
                                  "only, except legal claims (GDPR Art. 18, 28(3)(a))"))
    if activity.retention and facts.state is not None:
        consent = ConsentState(activity_id, channel, "none")  # the organisation's ledger is not read
        past = past_retention(activity, usable, facts, consent, now)
        if past:
            usable = [c for c in usable if c not in past]
            reasons.append(Reason("retention_passed", f"{', '.join(past)} past retention for {activity_id}",
                                  blocks=not usable, categories=tuple(past)))
    if not usable and not any(r.blocks for r in reasons):
        reasons.append(Reason("no_category", f"no category of {activity_id} is usable"))
    if not usable or any(r.blocks for r in reasons):
        return Decision(False, (), reasons, activity_id, facts.subject_id, channel)
    return Decision(True, tuple(usable), reasons, activity_id, facts.subject_id, channel)


def stable_until(activity: ActivityRules, facts: SubjectFacts, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which :func:`evaluate` may answer otherwise on these
    facts (None: never), so a decision point may give the same answer until then.

    :func:`evaluate` compares ``now`` with: the relationship's start and end (a customer, a
    contract running), each consent's expiry, and each retention rule's end from its event (the
    creation, the last contact, the relationship's end, a withdrawal). Every such instant is a
    candidate here, a few more than needed (every event's date for a withdrawal's): the answer
    can only change at one of them. Keep this list in step with the rules above.
    """
    instants = [facts.relationship_started_at, facts.relationship_ended_at]
    activity_id = activity.id
    events = [e for e in facts.consent_events if e.activity == activity_id]
    try:
        if events:
            validity = activity.consent_validity
            instants.extend(effective_expiry(e, validity) for e in events)
        for rule in activity.retention:
            event = rule.event
            starts: Sequence[datetime | None]
            if event == "collection":
                starts = (facts.created_at,)
            elif event == "last_contact":
                starts = (facts.last_contact_at, facts.created_at)
            elif event == "relationship_end":
                starts = (facts.relationship_ended_at,)
            elif event == "consent_withdrawn":
                starts = [e.at for e in events]
            else:  # kept indefinitely, or an event the rules do not evaluate
                continue
            period = rule.period
            for start in starts:
                if start is not None:
                    instants.append(start if period is None else period.after(start))
    except OverflowError:  # an instant past the calendar's end: keep nothing rather than guess
        return now
    first: datetime | None = None
    for instant in instants:
        if instant is not None and instant > now and (first is None or instant < first):
            first = instant
    return first


def _dates_read(activity: ActivityRules, channel: str | None) -> tuple[bool, bool, bool, bool]:
    """Which of a subject's dates :func:`evaluate` reads for ``activity`` on ``channel``: the
    relationship's start, its end, the creation, the last contact (worked out once per channel)."""
    known = activity.dates_read
    reads = known.get(channel)
    if reads is None:
        contract = "contract" in activity.bases
        events = {rule.event for rule in activity.retention}
        reads = (contract or needs_consent_by_eprivacy(activity, channel),  # a contract, a customer
                 contract or "relationship_end" in events,
                 "collection" in events or "last_contact" in events,
                 "last_contact" in events)
        if len(known) < 1024:  # channels are the vocabulary's: bounded whatever callers send
            known[channel] = reads
    return reads


def facts_key(activity: ActivityRules, facts: SubjectFacts, channel: str | None) -> tuple[Any, ...]:
    """What :func:`evaluate` reads of ``facts`` for ``activity`` on ``channel``, the subject's id
    left out: two subjects with the same key get the same answer (their ids apart) at every
    instant, so one's answer, and its :func:`stable_until`, serve the other. Keep this in step
    with the rules above, as :func:`stable_until`.

    The state; suppression for marketing only; the objections that reach the activity; the
    activity's consent events (channel, action, dates, and their order of recording as a rank:
    :func:`garde.consent.state.deciding_event` compares ``seq`` with each other only) in the order
    given; and only the dates the rules read here (:func:`_dates_read`)."""
    activity_id = activity.id
    mine = [e for e in facts.consent_events if e.activity == activity_id]
    events: tuple[Any, ...] = ()
    if mine:
        rank = {seq: i for i, seq in enumerate(sorted({e.seq for e in mine}))}
        events = tuple((e.channel, e.action, e.at, e.expires_at, rank[e.seq]) for e in mine)
    started, ended, created, contact = _dates_read(activity, channel)
    return (facts.state, facts.suppressed and activity.marketing,
            (activity.objection_scopes() & facts.objections or None) if facts.objections else None, events,
            facts.relationship_started_at if started else None,
            facts.relationship_ended_at if ended else None,
            facts.created_at if created else None,
            facts.last_contact_at if contact else None)
