"""Consents asked for identities the shop did not check: recorded only once their holder confirms.

A shop's form relays what a visitor typed, maybe someone else's address or number; a consent is the
person's own (GDPR Art. 4(11), 7(1): the controller shows that *this* person consented; e-mail and SMS
prospecting need the addressee's own prior consent, CPCE Art. L34-5, PECR reg. 22). So a consent the
consent API receives for an identity the shop did not check (:mod:`garde.consent.unchecked`) is
recorded for nobody: garde keeps a confirmation asked of that identity (its kind and keyed digest, the
activity and channel, :data:`LIFETIME`) and mails (or texts) its holder an invitation to sign in to
the privacy center and give it there. That sign-in is the proof (the one-time code of
:mod:`garde.rights.sessions`); the consent is then recorded on the subject of that identity alone, as
any consent a subject gives there, and the confirmation marked answered (:func:`answered`). Nothing
secret is in the message: it names the controller, the activity and where to sign in.

The invitations count on the mailbox (its digest without a ``+tag``) with the figures of the sign-in
codes (:data:`PER_HOUR`, :data:`PER_DAY`), on budgets of their own: a stranger typing an address into
a form can neither flood that mailbox nor spend the codes its holder signs in with. One confirmation
open per identity, activity and channel: asking again mails nothing. A unique index says so (migration
0040) and :func:`ask` inserts or does nothing, so two calls at once for one identity keep one
confirmation and send one invitation (red team of 2026-12-07, red29: both read "none open" and both
inserted). The invitations also count on
the calling key's mail budget (``budget``: the API's ``api_key_mail_and_requests_per_hour``, as its
other routes that mail someone), so one key cannot have garde mail or text address after address
without end (red team of 2026-12-07, red29). Whether an invitation leaves (the identity known or
not, a limit reached or not) changes nothing in the API's answer; the audit log says it
(``consent.confirmation_asked``, without the identity).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde import audit
from garde.consent.confirmation_records import consent_confirmations
from garde.keys import identifier_data_key
from garde.ratelimit import Limit, RateLimited, exhausted, hit
from garde.rights.code_limits import CODES_PER_IDENTITY, IDENTITY_WINDOW, mailbox_hash
from garde.store import is_postgres
from garde.subjects import identifier_hash, now

LIFETIME = timedelta(days=30)
# The sign-in codes' figures (rights.sessions: 3 starts an hour, 5 codes a day), on budgets of their own.
PER_HOUR = Limit("consent.confirm.mailbox", 3, timedelta(hours=1))
PER_DAY = Limit("consent.confirm.mailbox.day", CODES_PER_IDENTITY, IDENTITY_WINDOW)


def ask(conn: sa.Connection, kind: str, value: str, activity: str, channel: str | None, *, actor: str,
        budget: tuple[Limit, str] | None = None, at: datetime | None = None) -> bool:
    """Keep a confirmation of ``activity`` (on ``channel``) asked of ``kind``: ``value``; whether an
    invitation is to be sent to it now (not when one is open already, nor past the mailbox's limits,
    nor past ``budget``: the calling key's limit and counter key)."""
    moment = at or now()
    c = consent_confirmations.c
    conn.execute(consent_confirmations.delete().where(c.expires_at < moment))
    digest = identifier_hash(kind, value, identifier_data_key(conn))
    values = {"id": uuid.uuid4().hex, "kind": kind, "hash": digest, "activity": activity, "channel": channel,
              "actor": actor, "asked_at": moment, "expires_at": moment + LIFETIME}
    # Insert or do nothing (the open one's unique index), not read then insert: another call for the
    # same identity in flight would read "none" too. PostgreSQL makes this insert wait for the other's
    # commit; RETURNING, not rowcount, says whether it inserted.
    insert = (postgresql.insert if is_postgres(conn) else sqlite.insert)(consent_confirmations)
    if conn.execute(insert.values(values).on_conflict_do_nothing().returning(c.id)).first() is None:
        _audited(conn, kind, activity, channel, actor, "open already")
        return False
    box = mailbox_hash(conn, kind, value)
    if budget is not None and exhausted(conn, *budget, at=moment) is not None:
        _audited(conn, kind, activity, channel, actor, f"limit {budget[0].scope}")
        return False  # checked first: a key past its budget spends no mailbox's invitations
    try:
        hit(conn, PER_HOUR, box, at=moment)
        hit(conn, PER_DAY, box, at=moment)
        if budget is not None:
            hit(conn, *budget, at=moment)
    except RateLimited as refused:  # kept, shown when its holder signs in; only the mail is not sent
        _audited(conn, kind, activity, channel, actor, f"limit {refused.limit.scope}")
        return False
    _audited(conn, kind, activity, channel, actor, None)
    return True


def _audited(conn: sa.Connection, kind: str, activity: str, channel: str | None, actor: str,
             unsent: str | None) -> None:
    audit.record(conn, "consent.confirmation_asked", {"identity": kind, "activity": activity,
                                                      "channel": channel, "mailed": unsent is None,
                                                      "not_mailed": unsent}, actor=actor)


def open_for(conn: sa.Connection, kind: str, digest: str, at: datetime | None = None,
             ) -> set[tuple[str, str | None]]:
    """The (activity, channel) pairs whose confirmation is asked of the identity ``kind`` / ``digest``."""
    c = consent_confirmations.c
    return {(str(row.activity), row.channel) for row in conn.execute(
        sa.select(c.activity, c.channel).where(c.kind == kind, c.hash == digest, c.answered_at.is_(None),
                                               c.expires_at > (at or now())))}


def answered(conn: sa.Connection, kind: str, digest: str, activity: str, channel: str | None,
             event_id: str, *, actor: str) -> int:
    """Mark answered the confirmations of ``activity`` asked of ``kind`` / ``digest`` that the consent
    ``event_id`` (its holder's, from the privacy center) answers: those of its channel, or of any
    channel when the consent is given for every channel; how many."""
    c = consent_confirmations.c
    which = (c.kind == kind) & (c.hash == digest) & (c.activity == activity) & c.answered_at.is_(None)
    if channel is not None:
        which &= c.channel.is_(None) | (c.channel == channel)
    count = conn.execute(consent_confirmations.update().where(which).values(
        answered_at=now(), event_id=event_id)).rowcount or 0
    if count:
        audit.record(conn, "consent.confirmation_answered", {"identity": kind, "activity": activity,
                                                             "channel": channel, "event": event_id},
                     actor=actor)
    return count


def forget(conn: sa.Connection, identities: list[tuple[str, str]]) -> int:
    """Delete the confirmations asked of ``identities`` ((kind, keyed digest): an erasure's proven
    ones); how many."""
    c = consent_confirmations.c
    if not identities:
        return 0
    return conn.execute(consent_confirmations.delete().where(
        sa.or_(*((c.kind == kind) & (c.hash == digest) for kind, digest in identities)))).rowcount or 0
