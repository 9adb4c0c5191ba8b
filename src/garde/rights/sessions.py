"""A data subject's own session: a one-time code to one identity, then a short-lived token.

A subject asks with an e-mail address (or a telephone number, when an SMS gateway is
plugged): garde answers with a session id and mails a six-digit code to that identity, known
or not. Asking never tells whether garde knows the identity: the answer is the same and the
mail leaves after it. Whoever holds the mailbox proves the identity, so someone garde knows
nothing about yet can open a session and submit a request for themselves (the privacy
center's way in); the mailbox holder alone learns that somebody asked, as with a request's code.

The subject posts the code; a right one gives a token of 256 random bits, valid
``lifetime`` (setting ``subject_session_minutes``), scoped to the proven identity only
(:mod:`garde.rights.self_service` reads with it). Only SHA-256 of the token and a salted
SHA-256 of the code are stored. Guessing is bounded as for requests
(:mod:`garde.rights.code_limits`): a wrong code claims an attempt by one conditional
``UPDATE`` before the comparison, the fifth wrong code locks the session (no token is ever
issued for it), and codes to one identity are counted across requests and sessions
(5 per 24 hours). Starts are also rate-limited per identity digest (:mod:`garde.ratelimit`).

A start past the identity's own limits (3 an hour, 5 codes a day to its mailbox) answers as any
start does: a session id, and nothing mailed; that session never opens (no code was stored), and
the audit log says ``subject_session.refused`` with the limit. A refusal the caller could see would
tell anyone that somebody else (the holder signing in, staff opening a rights request, whose code
counts in the day's five) had asked for a code to that address lately, and when (red team of
2026-12-07). The limits per client address (:mod:`garde.api.ratelimits`) still refuse: they tell a
caller about their own requests only.

Those limits are the mailbox's, so anyone can spend them (a stranger asking three codes leaves the
holder none for the hour). A browser that proved the mailbox keeps a proof of it
(:func:`mailbox_proof`, the privacy center's ``garde_privacy_proof`` cookie, 180 days): its sign-ins
to that mailbox count on budgets of the proof's own (3 starts an hour, 5 codes a day), never on the
mailbox's, so what strangers spend does not reach the holder, and no stranger can spend the proof's
(they hold none: it is an HMAC under the identifier data key, of the mailbox's digest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from garde import audit
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.ratelimit import Limit, RateLimited, hit
from garde.rights.code_limits import (
    CODES_PER_IDENTITY,
    IDENTITY_WINDOW,
    MAX_ATTEMPTS,
    codes_to_identity,
    hold_identity,
    mailbox_hash,
)
from garde.rights.intake import LANGUAGES
from garde.rights.mailer import Mailer, SmsSender
from garde.rights.rectification import forget_handovers
from garde.rights.tables import identity_handovers, subject_sessions
from garde.rights.vouching import confirm
from garde.rights.wording import strings
from garde.store import is_postgres
from garde.store.transactions import retried
from garde.subjects import identifier_hash, normalise_identifier, now, subject_identifiers

CODE_LIFETIME = timedelta(minutes=15)
DEFAULT_LIFETIME = timedelta(minutes=30)
KINDS = ("email", "phone")
# Starts per identity digest, on top of the 5 codes a day: no burst of mails to one person.
STARTS_PER_IDENTITY = Limit("session.start.identity", 3, timedelta(hours=1))
# Codes to one identity, requests and sessions together (counted by garde.rights.code_limits).
CODES_A_DAY = Limit("codes.identity", CODES_PER_IDENTITY, IDENTITY_WINDOW)
# A browser's proof of a mailbox: how long it holds, and the budgets its holder's proofs share (instead of
# the mailbox's, which strangers spend). Shared, counted on the mailbox's digest: one per proof made each
# sign-in mint more budget, the day's guesses at that mailbox's codes without bound for whoever kept
# proofs of a mailbox that has changed hands since (red team of 2026-12-07, red29).
PROOF_LIFETIME = timedelta(days=180)
STARTS_PER_PROOF = Limit("session.start.proof", STARTS_PER_IDENTITY.limit, STARTS_PER_IDENTITY.window)
CODES_PER_PROOF = Limit("codes.proof", CODES_PER_IDENTITY, IDENTITY_WINDOW)
# A session row keeps its identity digest this long, for the codes-per-identity count (a move's moment
# is kept as long, for the sessions opened before it: rectification.HANDOVER_SESSIONS).
KEPT = timedelta(days=2)
_TOKEN_PREFIX = "gs_"
_WRONG = "wrong or expired code, or no such session"


@dataclass(frozen=True)
class SessionStarted:
    """What the subject is told (the same whether the identity is known or not) and, for garde
    only, the mail to send once the session is committed."""

    session: str
    code_expires_at: datetime
    deliver: Callable[[], None]


@dataclass(frozen=True)
class SessionToken:
    token: str
    expires_at: datetime
    proof: str = ""  # of the mailbox the code went to (:func:`mailbox_proof`), for the browser to keep


@dataclass(frozen=True)
class SubjectSession:
    """A live session: the one identity it proved (kind, keyed digest, value) and its subject (the one
    that identity is linked to when the session was read: :func:`authenticate`)."""

    id: str
    kind: str
    identity_hash: str
    identity: str
    subject_id: str | None
    language: str
    expires_at: datetime
    # The identity it proved was moved away from the subject it was opened for while it was open (a
    # rectification): it opens nothing of theirs any more, and its page says why (privacy center).
    moved: bool = False
    # Its identity does not vouch for its subject's whole record (:mod:`garde.rights.vouching`): the
    # subject holds other identities the shop's systems linked to it, and this one's link is not
    # proven, or one of those others is not. It reaches only what was made with its identity
    # (garde.rights.self_service).
    narrowed: bool = False

    @property
    def actor(self) -> str:
        return f"subject-session:{self.id[:8]}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def start_session(engine: sa.Engine, kind: str, value: str, mailer: Mailer, *, language: str = "en",
                  region: str | None = None, proof: str = "") -> SessionStarted:
    """Open a session for the identity ``kind``: ``value`` and prepare its code (committed here).

    Call :attr:`SessionStarted.deliver` after this returns (the API does it after answering,
    so that the answer takes as long for a known identity as for an unknown one). Past the
    identity's own limits it delivers nothing and the session never opens; the answer is the same.
    ``proof``: the browser's proof of the mailbox (:func:`mailbox_proof`); when it holds for this
    identity's mailbox, the budgets the mailbox's proofs share count this start instead of the mailbox's.
    """
    if kind not in KINDS:
        raise GardeError(f"a session is opened with an e-mail address or a telephone number, not {kind!r}")
    if kind == "phone" and not isinstance(mailer, SmsSender):
        raise GardeError("no SMS gateway is configured: open a session with your e-mail address")
    if language not in LANGUAGES:
        raise GardeError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    normalised = normalise_identifier(kind, value, region)
    key = identifier_data_key(engine)
    digest = identifier_hash(kind, normalised, key)
    moment = now()
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    session_id = secrets.token_hex(16)

    box = mailbox_hash(engine, kind, normalised)  # the day's codes are the mailbox's (code_limits.mailbox)
    proven = _proof_holds(key, box, proof, moment)

    def starting(conn: sa.Connection) -> bool:
        """Whether the code goes out: not past the identity's own limits (then only the audit says so)."""
        past: Limit | None = None
        if proven:  # the holder's browsers: their budgets, which no stranger reaches
            try:  # the first write: SQLite holds the store here
                hit(conn, STARTS_PER_PROOF, box, at=moment)
                hit(conn, CODES_PER_PROOF, box, at=moment)
            except RateLimited as refused:
                past = refused.limit
            hold_identity(conn, box)
        else:
            try:
                hit(conn, STARTS_PER_IDENTITY, box, at=moment)  # the first write: SQLite holds the store here
            except RateLimited:
                past = STARTS_PER_IDENTITY
            hold_identity(conn, box)
            if past is None and codes_to_identity(conn, box, moment) >= CODES_PER_IDENTITY:
                past = CODES_A_DAY
        # The link read under a share lock a rectification's move (its delete) waits for, or that waits
        # for the move's commit and then finds the link gone: a session opened at the moment of a move is
        # opened before it (its start earlier than the moment the move records after its delete: the
        # "details changed" page) or after it (linked to no one), never bound to a subject its identity
        # no longer reaches with a start later than the move's moment (SQLite: its write lock orders).
        linked = sa.select(subject_identifiers.c.subject_id).where(
            subject_identifiers.c.kind == kind, subject_identifiers.c.hash == digest)
        subject_id = conn.execute(linked.with_for_update(read=True, key_share=True) if is_postgres(conn)
                                  else linked).scalar()
        # after the link's lock, as a move takes the link then the handovers: no lock taken in two orders
        _forget_ended(conn, moment)
        # Its entries name no subject, nor whether garde knows the identity: the caller proved nothing
        # yet, and learns the session id from the answer, so an entry naming the subject told whoever
        # reads the log (an auditor key) whose any address they guessed is (red team of 2026-12-08).
        if past is not None:  # answered as any start, so that no one learns others asked for this address
            audit.record(conn, "subject_session.refused", {"session": session_id, "identity": kind,
                                                           "limit": past.scope}, actor="subject")
            return False
        # Known or not, the code goes to the identity: whoever holds the mailbox proves it (someone
        # garde knows nothing about yet can open a session and ask for their data), and the answer
        # and the work are the same either way.
        stored = _sha(f"{salt}:{code}")
        conn.execute(subject_sessions.insert().values(
            id=session_id, kind=kind, identity_hash=digest, mailbox_hash=box, identity=normalised,
            subject_id=subject_id,
            language=language, code_hash=stored, salt=salt, created_at=moment,
            code_expires_at=moment + CODE_LIFETIME, wrong_attempts=0))
        audit.record(conn, "subject_session.started", {"session": session_id, "identity": kind},
                     actor="subject")
        return True

    sent = retried(engine, starting, what="a subject session started")
    return SessionStarted(session_id, moment + CODE_LIFETIME,
                          _delivery(mailer, kind, normalised, code, language) if sent else _nothing)


def mailbox_proof(key: bytes, box: str, at: datetime) -> str:
    """A proof, for the browser that just proved the mailbox whose digest is ``box``, valid
    :data:`PROOF_LIFETIME`: ``<until>.<nonce>.<HMAC>`` (it names no one: the HMAC is of the
    mailbox's digest, under the identifier data key ``key``)."""
    until = int((at + PROOF_LIFETIME).timestamp())
    nonce = secrets.token_hex(8)
    return f"{until}.{nonce}.{_proof_mac(key, box, until, nonce)}"


def _proof_mac(key: bytes, box: str, until: int, nonce: str) -> str:
    return hmac.new(key, f"mailbox-proof:{box}:{until}:{nonce}".encode(), "sha256").hexdigest()


def _proof_holds(key: bytes, box: str, proof: str, at: datetime) -> bool:
    until, _, rest = proof.partition(".")
    nonce, _, mac = rest.partition(".")
    if not (until.isdigit() and len(until) <= 12 and len(nonce) == 16 and len(mac) == 64):
        return False
    return int(until) > at.timestamp() and hmac.compare_digest(_proof_mac(key, box, int(until), nonce), mac)


def _nothing() -> None:
    """The delivery of a start past the identity's limits: no mail, and no session to open."""


def _delivery(mailer: Mailer, kind: str, address: str, code: str, language: str) -> Callable[[], None]:
    words = strings(language)
    minutes = int(CODE_LIFETIME.total_seconds() // 60)

    def deliver() -> None:
        if kind == "phone":
            assert isinstance(mailer, SmsSender)
            mailer.send_sms(address, words["session_sms"].format(code=code, minutes=minutes))
        else:
            mailer.send(address, words["session_mail"]["subject"],
                        words["session_mail"]["body"].format(code=code, minutes=minutes))

    return deliver


def confirm_session(engine: sa.Engine, session_id: str, code: str, *,
                    lifetime: timedelta = DEFAULT_LIFETIME) -> SessionToken:
    """The token for a right code; otherwise a :class:`GardeError` (401), after the wrong attempt
    is committed. An unknown session, an expired or used code and a wrong code get one answer."""
    moment = now()
    # a wrong attempt is counted in this transaction: run again, the same attempt is counted once
    token = retried(engine, lambda conn: _check(conn, session_id, code.strip(), moment, lifetime),
                    what=f"subject session {session_id}: a code checked")
    if token is None:
        raise SessionRefused(_WRONG)
    return token


class SessionRefused(GardeError):
    status = 401


def _check(conn: sa.Connection, session_id: str, code: str, moment: datetime,
           lifetime: timedelta) -> SessionToken | None:
    s = subject_sessions.c
    row = conn.execute(sa.select(subject_sessions).where(s.id == session_id)).first()
    if row is None or row.token_hash is not None or row.locked_at is not None \
            or moment >= _aware(row.code_expires_at):
        return None
    claimed = conn.execute(subject_sessions.update().where(
        s.id == session_id, s.wrong_attempts < MAX_ATTEMPTS, s.locked_at.is_(None), s.token_hash.is_(None))
        .values(wrong_attempts=s.wrong_attempts + 1).returning(s.wrong_attempts)).scalar()
    if claimed is None:
        return None
    if hmac.compare_digest(_sha(f"{row.salt}:{code}"), row.code_hash):
        token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = moment + lifetime
        issued = conn.execute(subject_sessions.update().where(s.id == session_id, s.token_hash.is_(None))
                              .values(wrong_attempts=s.wrong_attempts - 1, token_hash=_sha(token),
                                      confirmed_at=moment, expires_at=expires_at).returning(s.id)).first()
        if issued is None:  # a parallel check of the same code was first
            return None
        linked = conn.execute(sa.select(_i.subject_id).where(_i.kind == row.kind,
                                                             _i.hash == row.identity_hash)).scalar()
        if linked is not None:  # a subject of this identity alone: its link is proven from now on
            confirm(conn, linked, [(row.kind, row.identity_hash)])
        audit.record(conn, "subject_session.confirmed", {"session": session_id, "identity": row.kind},
                     subject_id=row.subject_id, actor="subject")
        proof = (mailbox_proof(identifier_data_key(conn), row.mailbox_hash, moment)
                 if row.mailbox_hash else "")
        return SessionToken(token, expires_at, proof)
    if int(claimed) >= MAX_ATTEMPTS:
        conn.execute(subject_sessions.update().where(s.id == session_id, s.locked_at.is_(None))
                     .values(locked_at=moment, identity=None))
        # no subject named: the codes were the caller's guesses (see the start's entries)
        audit.record(conn, "subject_session.locked", {"session": session_id, "wrong_attempts": MAX_ATTEMPTS},
                     actor="subject")
    return None


_s, _i = subject_sessions.c, subject_identifiers.c
_other = subject_identifiers.alias("other").c
# A session by its token's hash, with the subject its proven identity is linked to now, read at each
# request: once a rectification moved the link away (a recycled address), a session opened before sees
# nothing of its former holder. With it, whether that link is proven and whether the subject holds
# another identity (garde.rights.vouching). Built once: building it per request cost half again the
# read's CPU.
_LINK = (_i.kind == _s.kind) & (_i.hash == _s.identity_hash)
# another identity of the subject that identity is linked to
_OTHER = _LINK & (_other.subject_id == _i.subject_id) & ~((_other.kind == _i.kind) & (_other.hash == _i.hash))
_LIVE = sa.select(
    subject_sessions,
    sa.select(_i.subject_id).where(_LINK).scalar_subquery().label("linked"),
    sa.select(_i.proven).where(_LINK).scalar_subquery().label("proven"),
    sa.exists().where(_OTHER).label("shared"),
    sa.exists().where(_OTHER, _other.proven.is_(sa.false())).label("claimed"),
).where(_s.token_hash == sa.bindparam("token_hash"))


def authenticate(conn: sa.Connection, token: str) -> SubjectSession | None:
    """The live session ``token`` opens, or None (unknown, expired, ended, or not a token)."""
    if not token.startswith(_TOKEN_PREFIX) or len(token) > 64:
        return None
    row = conn.execute(_LIVE, {"token_hash": _sha(token)}).first()
    if row is None or row.ended_at is not None or row.locked_at is not None or row.identity is None \
            or row.expires_at is None or now() >= _aware(row.expires_at):
        return None
    return SubjectSession(row.id, row.kind, row.identity_hash, row.identity, row.linked, row.language,
                          _aware(row.expires_at), row.subject_id is not None and row.linked != row.subject_id
                          and _moved_since(conn, row.identity_hash, _aware(row.created_at)),
                          narrowed=bool(row.shared) and (not row.proven or bool(row.claimed)))


def _moved_since(conn: sa.Connection, digest: str, opened: datetime) -> bool:
    """Whether a rectification moved ``digest`` since ``opened`` (read only when the session's subject
    and its identity's link differ: rarely)."""
    h = identity_handovers.c
    at = conn.execute(sa.select(h.at).where(h.digest == digest)).scalar()
    return at is not None and _aware(at) >= opened


def bind_subject(conn: sa.Connection, session: SubjectSession, subject_id: str) -> SubjectSession:
    """The session of someone garde did not know when it started, once something they did (a first
    consent, an objection) made an engine subject of the identity it proved: it reads that subject's
    consents from now on. A session already bound keeps its subject."""
    if session.subject_id is not None:
        return session
    conn.execute(subject_sessions.update().where(subject_sessions.c.id == session.id,
                                                 subject_sessions.c.subject_id.is_(None))
                 .values(subject_id=subject_id))
    return replace(session, subject_id=subject_id)


def end_session(engine: sa.Engine, session: SubjectSession) -> None:
    """Log out: the token is refused from now on and the session's identity is wiped."""
    def ending(conn: sa.Connection) -> None:
        conn.execute(subject_sessions.update().where(subject_sessions.c.id == session.id)
                     .values(ended_at=now(), identity=None))
        audit.record(conn, "subject_session.ended", {"session": session.id}, subject_id=session.subject_id,
                     actor="subject")

    retried(engine, ending, what=f"subject session {session.id} ended")


def _forget_ended(conn: sa.Connection, moment: datetime) -> None:
    """Wipe the identity of sessions no longer usable; delete rows past the codes' count window."""
    s = subject_sessions.c
    unusable = sa.or_(s.expires_at < moment, sa.and_(s.token_hash.is_(None), s.code_expires_at < moment))
    conn.execute(subject_sessions.update().where(s.identity.is_not(None), unusable).values(identity=None))
    conn.execute(subject_sessions.delete().where(s.created_at < moment - KEPT))
    forget_handovers(conn, moment)  # the moments of moves no request or session needs any more
