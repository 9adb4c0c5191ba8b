"""How many codes a request may be sent and how many wrong ones it may try.

The limits bound what an attacker can guess: a six-digit code has a million
values; with at most :data:`MAX_ATTEMPTS` wrong codes per request (across
every code it is sent) and :data:`CODES_PER_IDENTITY` codes a day to one
identity across all requests and subjects' sessions, guessing someone's code stays below one chance
in 40,000 a day however many requests are opened for them. The figures and
their reasons are in ``docs/requests.md``.

The day's codes are counted on the identity's mailbox (:func:`mailbox`): an e-mail's sub-addresses
(``ada+1@``, ``ada+2@``) reach one inbox and share its five, so that no one floods an inbox with code
mails by varying the tag. The identity itself stays as typed (each sub-address its own).

Every limit is enforced in the store, so it holds between processes: an
attempt is claimed by one conditional UPDATE before the code is compared
(never read, then written); a code is counted as sent with the request's row
(and, on PostgreSQL, the identity) locked for the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.rights.intake import Request, get_request, record_step
from garde.rights.tables import requests, subject_sessions, verification_codes, verification_sends
from garde.store import is_postgres
from garde.subjects import identifier_hash, now

# Wrong codes per request, across all its codes and identities; then it is locked.
MAX_ATTEMPTS = 5
# Codes sent per request: in all, and in any hour (a lost mail, a typo, a late SMS).
CODES_PER_REQUEST = 5
CODES_PER_HOUR = 3
# Codes sent to one identity across every request, in any 24 hours.
CODES_PER_IDENTITY = 5
IDENTITY_WINDOW = timedelta(hours=24)

NOUNS = {"email": "e-mail address", "phone": "telephone number"}


def mailbox(kind: str, value: str) -> str:
    """The mailbox a code to ``kind``: ``value`` reaches: an e-mail address without its sub-address tag
    (``ada+news@example.org`` → ``ada@example.org``: the ``+tag`` convention of the common mail
    providers and servers); anything else as it is. Dots are not folded: only some providers ignore
    them, and ``a.da@`` is another person's mailbox elsewhere."""
    if kind != "email" or "@" not in value:
        return value
    local, domain = value.rsplit("@", 1)
    box = local.split("+", 1)[0]
    return f"{box}@{domain}" if box and not local.startswith('"') else value


def mailbox_hash(bind: sa.Engine | sa.Connection, kind: str, value: str) -> str:
    """The keyed digest of the :func:`mailbox` of ``kind``: ``value`` (its identity's digest when the
    address has no tag), on which the day's codes are counted."""
    return identifier_hash(kind, mailbox(kind, value.strip()), identifier_data_key(bind))


def claim_attempt(conn: sa.Connection, request_id: str) -> int | None:
    """Claim one attempt (the count so far, this one included), or None when none is left."""
    r = requests.c
    claimed = conn.execute(requests.update().where(
        r.id == request_id, r.wrong_attempts < MAX_ATTEMPTS, r.locked_at.is_(None))
        .values(wrong_attempts=r.wrong_attempts + 1).returning(r.wrong_attempts)).scalar()
    return None if claimed is None else int(claimed)


def release_attempt(conn: sa.Connection, request_id: str) -> None:
    """Give back the attempt of a right code: only wrong codes count."""
    r = requests.c
    conn.execute(requests.update().where(r.id == request_id).values(wrong_attempts=r.wrong_attempts - 1))


def lock_if_exhausted(conn: sa.Connection, request: Request, *, actor: str) -> bool:
    """Lock the request when its wrong codes reached the limit (once, audited ``request.locked``)."""
    r = requests.c
    locked = conn.execute(requests.update().where(
        r.id == request.id, r.wrong_attempts >= MAX_ATTEMPTS, r.locked_at.is_(None))
        .values(locked_at=now()).returning(r.id)).first()
    if locked is None:
        return False
    record_step(conn, request.id, "locked", actor, f"{MAX_ATTEMPTS} wrong codes",
                payload={"wrong_attempts": MAX_ATTEMPTS})
    return True


def unlock(conn: sa.Connection, request_id: str, reason: str, *, actor: str) -> Request:
    """The DPO lifts a lock after checking the requester out of band: the count starts again.

    Codes still waiting are withdrawn (the next try needs a new code); the
    codes already sent still count against the sending limits.
    """
    if not reason.strip():
        raise GardeError("unlocking a request needs a reason (how the requester was checked)")
    request = get_request(conn, request_id)
    if request.locked_at is None:
        raise GardeError(f"request {request.id} is not locked")
    conn.execute(requests.update().where(requests.c.id == request.id)
                 .values(locked_at=None, wrong_attempts=0))
    codes = verification_codes.c
    conn.execute(verification_codes.delete().where(codes.request_id == request.id, codes.used_at.is_(None)))
    record_step(conn, request.id, "unlocked", actor, reason)
    return get_request(conn, request.id)


def hold_request(conn: sa.Connection, request_id: str) -> None:
    """Hold the request's row until the transaction ends, so that changes to it are made in turn."""
    if is_postgres(conn):
        conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id).with_for_update())
    else:
        # SQLite: a first write takes the database's write lock until the commit.
        conn.execute(requests.update().where(requests.c.id == request_id).values(id=requests.c.id))


def _serialise(conn: sa.Connection, request_id: str, box: str) -> None:
    """Hold the request (and the mailbox) for this transaction, so two sends are counted in turn."""
    hold_request(conn, request_id)
    hold_identity(conn, box)


def hold_identity(conn: sa.Connection, identity_hash: str) -> None:
    """On PostgreSQL, hold the identity for this transaction (an advisory lock on its digest), so
    that sends to it, for a request or a subject's session, are counted in turn. On SQLite the
    transaction's first write already holds the whole database."""
    if is_postgres(conn):
        key = int(identity_hash[:15], 16)  # fits a bigint
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def codes_to_identity(conn: sa.Connection, box: str, at: datetime) -> int:
    """Codes sent to one mailbox (``box``: :func:`mailbox_hash`) in the :data:`IDENTITY_WINDOW` before
    ``at``: for requests and for subjects' sessions together (a session's code counts even when, the
    identity being unknown, nothing was mailed: the answer must not tell the two apart)."""
    s, t = verification_sends.c, subject_sessions.c
    since = at - IDENTITY_WINDOW
    for_requests = conn.execute(sa.select(sa.func.count()).select_from(verification_sends).where(
        s.mailbox_hash == box, s.sent_at > since)).scalar_one()
    for_sessions = conn.execute(sa.select(sa.func.count()).select_from(subject_sessions).where(
        t.mailbox_hash == box, t.created_at > since)).scalar_one()
    return int(for_requests) + int(for_sessions)


def identity_free_at(conn: sa.Connection, box: str, at: datetime) -> datetime:
    """When the oldest code counted against the mailbox at ``at`` leaves the window (a new code
    may then be sent, if no other went out since)."""
    s, t = verification_sends.c, subject_sessions.c
    since = at - IDENTITY_WINDOW
    to_requests = sa.select(s.sent_at).where(s.mailbox_hash == box, s.sent_at > since)
    to_sessions = sa.select(t.created_at).where(t.mailbox_hash == box, t.created_at > since)
    times = [*conn.execute(to_requests).scalars(), *conn.execute(to_sessions).scalars()]
    oldest = min((moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in times), default=at)
    return oldest + IDENTITY_WINDOW


def record_send(conn: sa.Connection, request: Request, kind: str, at: datetime, *, address: str,
                identity_hash: str | None = None) -> None:
    """Count a code about to be sent to ``address``, the request's ``kind`` identity (or the one whose
    digest is ``identity_hash``: a rectification's new value), or refuse it past a limit."""
    identity_hash = identity_hash or request.identity_hashes[kind]
    box = mailbox_hash(conn, kind.removeprefix("new_"), address)
    _serialise(conn, request.id, box)
    s = verification_sends.c
    count = sa.select(sa.func.count()).select_from(verification_sends)
    for_request = conn.execute(count.where(s.request_id == request.id)).scalar_one()
    last_hour = conn.execute(count.where(s.request_id == request.id, s.sent_at > at - timedelta(hours=1))
                             ).scalar_one()
    if for_request >= CODES_PER_REQUEST or last_hour >= CODES_PER_HOUR:
        limit = (f"{CODES_PER_REQUEST} codes were sent for request {request.id}" if for_request
                 >= CODES_PER_REQUEST else f"{CODES_PER_HOUR} codes were sent for request {request.id} "
                 "in the last hour; try again later")
        raise GardeError(f"{limit}; an agent may check the requester out of band")
    if codes_to_identity(conn, box, at) >= CODES_PER_IDENTITY:
        noun = NOUNS.get(kind.removeprefix("new_"), kind)
        raise GardeError(f"{CODES_PER_IDENTITY} codes were sent to this {noun} in the last "
                         "24 hours, across requests; no more are sent for now")
    conn.execute(verification_sends.insert().values(
        request_id=request.id, kind=kind, identity_hash=identity_hash, mailbox_hash=box, sent_at=at))
