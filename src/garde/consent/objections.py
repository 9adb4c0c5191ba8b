"""Objections, unsubscriptions and the Global Privacy Control signal.

GDPR Art. 21(2)-(3): an objection to direct marketing is absolute, so it is
recorded on the subject *and* puts their identifiers on the suppression
list (do not contact), which outlives erasure. An unsubscription is a
withdrawal that also stops every marketing message; consenting again to
what one unsubscribed from lifts that (an objection stays).

Art. 21(5) lets a subject object "by automated means using technical
specifications": a browser's ``Sec-GPC: 1`` header (Global Privacy Control)
is recorded as an objection to sale/sharing and targeted advertising, scope
``targeted_advertising``, which every activity marked
``targeted_advertising: true`` in the register honours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.consent.ledger import LedgerEvent, history, withdraw
from garde.consent.state import fold_all
from garde.subjects import now, objections, record_objection
from garde.suppression import UNSUBSCRIBED, lift_subject, suppress_subject

DIRECT_MARKETING = "direct_marketing"
TARGETED_ADVERTISING = "targeted_advertising"


def object_to(conn: sa.Connection, subject_id: str, scope: str, reason: str | None = None,
              actor: str = "garde") -> bool:
    """Record an Art. 21 objection (scope: an activity id, ``direct_marketing`` or
    ``targeted_advertising``); returns False when the same objection was already recorded."""
    if scope in objections(conn, subject_id):
        return False
    record_objection(conn, subject_id, scope, reason)
    if scope == DIRECT_MARKETING:
        suppress_subject(conn, subject_id, "objection")
    audit.record(conn, "objection", {"scope": scope, "reason": reason}, subject_id=subject_id, actor=actor)
    return True


def unsubscribe(conn: sa.Connection, subject_id: str, activity: str, channel: str | None = None,
                **details: Any) -> LedgerEvent:
    """Withdraw consent through an unsubscribe link: the subject also goes on the suppression list."""
    details.setdefault("method", "unsubscribe_link")
    event = withdraw(conn, subject_id, activity, channel=channel, **details)
    suppress_subject(conn, subject_id, UNSUBSCRIBED)
    return event


def lift_unsubscription(conn: sa.Connection, subject_id: str, actor: str = "garde") -> int:
    """After a consent is given: when the subject now consents again to every activity (and channel)
    they unsubscribed from, lift the suppression their unsubscriptions put on their identifiers.

    Consenting to something else does not: an unsubscription from one activity keeps every
    marketing activity from contacting them, soft opt-in included. Returns the entries lifted."""
    events = list(history(conn, subject_id))
    left = {(e.activity, e.channel) for e in events
            if e.action == "withdrawn" and e.method == "unsubscribe_link"}
    if not left:
        return 0
    valid = {(s.activity, s.channel) for s in fold_all((e.as_state_event() for e in events), now())
             if s.valid}
    if not all((activity, channel) in valid or (activity, None) in valid for activity, channel in left):
        return 0
    lifted = lift_subject(conn, subject_id, UNSUBSCRIBED)
    if lifted:
        audit.record(conn, "suppression.lifted", {"reason": "unsubscribed", "identifiers": lifted,
                                                  "because": "consent given again"},
                     subject_id=subject_id, actor=actor)
    return lifted


def gpc_signal(headers: Mapping[str, str]) -> bool:
    """Whether request headers carry Global Privacy Control (``Sec-GPC: 1``)."""
    for name, value in headers.items():
        if name.lower() == "sec-gpc":
            return value.strip() == "1"
    return False


def record_gpc(conn: sa.Connection, subject_id: str, actor: str = "garde") -> bool:
    """Record a GPC signal as an objection to sale/sharing and targeted advertising."""
    return object_to(conn, subject_id, TARGETED_ADVERTISING, "Global Privacy Control (Sec-GPC: 1)", actor)
