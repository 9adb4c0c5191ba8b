"""Proving the requester's identities (GDPR Art. 12(6)), one by one.

A request acts only for the identities that were proven; any other identity
it names is not used to find or act on data. Each identity is proven on its
own: an e-mail address by a six-digit one-time code mailed to it, a
telephone number by a code sent by SMS, or any identity (a customer number
cannot receive a code) by an agent's recorded out-of-band check naming the
identities checked and how. Only a salted SHA-256 of a code is stored, with
its expiry. The first proof makes the request ``verified`` and links the
proven identities, and only those, to the engine's subject.

Guessing is bounded, also under concurrency: a check first claims an
attempt with one conditional UPDATE (``wrong_attempts < MAX_ATTEMPTS``) and
compares the code only if the claim succeeded; the count runs across every
code of the request (a new code does not reset it). At the limit the
request is locked (audited ``request.locked``) until the DPO unlocks it.
Codes sent are limited per request and per identity across requests
(:mod:`garde.rights.code_limits`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.rights.code_limits import (
    MAX_ATTEMPTS,
    NOUNS,
    claim_attempt,
    hold_request,
    lock_if_exhausted,
    record_send,
    release_attempt,
)
from garde.rights.intake import NEW, Request, get_request, record_step, transition
from garde.rights.mailer import Mailer, SmsSender
from garde.rights.tables import requests, verification_codes
from garde.rights.vouching import confirm
from garde.rights.wording import strings
from garde.store.transactions import retried
from garde.subjects import ensure_subject, find_subject, identifier_hash, link_identifiers, now

CODE_LIFETIME = timedelta(minutes=30)
# The identities a code can reach: by mail, by SMS. A customer number cannot receive one.
CODE_KINDS = ("email", "phone")
# A request's identities may still be proven while it waits to run.
PROVABLE = ("received", "verified")


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of one attempt: verified, or how many attempts are left."""

    verified: bool
    attempts_left: int
    message: str


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _provable(request: Request) -> None:
    if request.status not in PROVABLE:
        raise GardeError(f"request {request.id} is {request.status}; its identities can no longer be proven")


def send_code(conn: sa.Connection, request_id: str, mailer: Mailer, *, kind: str = "email",
              actor: str = "garde", lifetime: timedelta = CODE_LIFETIME) -> Request:
    """Send a fresh one-time code to the request's ``kind`` identity (e-mail by mail, phone by SMS).

    A new code replaces the previous one of that identity, but not the count
    of wrong attempts; the number of codes is limited per request and per
    identity (:mod:`garde.rights.code_limits`).
    """
    request = get_request(conn, request_id)
    address = _counted_send(conn, request, mailer, kind)
    _send(conn, request, mailer, kind, address, actor, lifetime)
    return request


def send_codes(conn: sa.Connection, request_id: str, mailer: Mailer, *, actor: str = "garde") -> list[str]:
    """A code to each identity of the request that can receive one and is not proven; the kinds sent.

    A phone is skipped when the mailer cannot send text messages (an agent then checks it). Every
    send is counted against the limits before any is sent: a limit reached for the phone refuses
    the whole call, rather than mailing an e-mail code that the refusal would then roll back.
    """
    request = get_request(conn, request_id)
    kinds = [kind for kind in CODE_KINDS if kind in request.identities and kind not in request.proofs
             and (kind != "phone" or isinstance(mailer, SmsSender))]
    addresses = {kind: _counted_send(conn, request, mailer, kind) for kind in kinds}
    for kind, address in addresses.items():
        _send(conn, request, mailer, kind, address, actor, CODE_LIFETIME)
    return kinds


def _counted_send(conn: sa.Connection, request: Request, mailer: Mailer, kind: str) -> str:
    """Check that a code may go to ``kind`` and count it (:func:`record_send`); its address."""
    _provable(request)
    if kind not in CODE_KINDS:
        raise GardeError(f"a {kind.replace('customer_id', 'customer number')} cannot receive a code; "
                         "an agent checks it out of band (verify --out-of-band REASON --checked KIND)")
    address = request.identities.get(kind)
    if not address:
        raise GardeError(f"request {request.id} has no {NOUNS.get(kind, kind)} to send a code to; "
                         "verify the requester out of band with a reason")
    if request.locked_at is not None:
        raise GardeError(f"request {request.id} is locked after too many wrong codes; "
                         "the DPO unlocks it after checking the requester out of band")
    if kind in request.proofs:
        raise GardeError(f"the {kind} of request {request.id} is already proven")
    if kind == "phone" and not isinstance(mailer, SmsSender):
        raise GardeError("the configured mailer cannot send text messages: plug an SMS gateway "
                         "(garde.rights.WithSms) or have an agent check the phone out of band")
    record_send(conn, request, kind, now(), address=address)
    return address


def send_new_identity_code(conn: sa.Connection, request: Request, kind: str, address: str, mailer: Mailer, *,
                           actor: str) -> None:
    """Send a code to the new ``kind`` value a rectification would write (:mod:`garde.rights.new_identity`),
    checked as ``new_<kind>``; counted against the same limits, the new value's own included (no one
    floods another person's mailbox by rectifying to it)."""
    _provable(request)
    if request.locked_at is not None:
        raise GardeError(f"request {request.id} is locked after too many wrong codes; "
                         "the DPO unlocks it after checking the requester out of band")
    digest = identity_hash_of(conn, kind, address)
    record_send(conn, request, NEW + kind, now(), address=address, identity_hash=digest)
    _send(conn, request, mailer, NEW + kind, address, actor, CODE_LIFETIME,
          texts=("confirm_mail", "confirm_sms"))


def identity_hash_of(conn: sa.Connection, kind: str, value: str) -> str:
    """The keyed digest of an identity under the store's data key, as requests and sessions keep it."""
    return identifier_hash(kind, value, identifier_data_key(conn))


def _send(conn: sa.Connection, request: Request, mailer: Mailer, kind: str, address: str, actor: str,
          lifetime: timedelta, *, texts: tuple[str, str] = ("mail", "sms")) -> None:
    """Store a fresh code for ``kind`` (replacing its previous one) and send it (``texts``: the
    mail's and the text message's words)."""
    sent_at = now()
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    codes = verification_codes.c
    conn.execute(verification_codes.delete().where(codes.request_id == request.id, codes.kind == kind))
    conn.execute(verification_codes.insert().values(
        request_id=request.id, kind=kind, code_hash=_digest(salt, code), salt=salt, sent_at=sent_at,
        expires_at=sent_at + lifetime, attempts=0))
    words = strings(request.language)
    minutes = int(lifetime.total_seconds() // 60)
    mail, sms = texts
    if kind.removeprefix(NEW) == "phone":
        assert isinstance(mailer, SmsSender)
        mailer.send_sms(address, words[sms].format(code=code, minutes=minutes, request=request.id))
    else:
        mailer.send(address, words[mail]["subject"],
                    words[mail]["body"].format(code=code, minutes=minutes, request=request.id))
    audit.record(conn, "request.code_sent", {"request": request.id, "identity": kind,
                                             "expires_at": sent_at + lifetime},
                 subject_id=request.subject_id, actor=actor)


def _waiting_kind(conn: sa.Connection, request: Request, kind: str | None) -> str | None:
    """The identity whose code is checked: ``kind``, or the only one with a code waiting."""
    if kind is not None:
        return kind
    codes = verification_codes.c
    unused = conn.execute(sa.select(codes.kind, codes.expires_at).where(
        codes.request_id == request.id, codes.used_at.is_(None))).all()
    moment = now()
    live = [kind for kind, expires in unused
            if (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) > moment]
    # An expired code is not waiting beside a live one; alone, it is checked to say it expired.
    waiting = live or [kind for kind, _ in unused]
    if len(waiting) > 1:
        raise GardeError(f"request {request.id} has codes waiting for {' and '.join(sorted(waiting))}; "
                         "say which one this is (--identity KIND)")
    return waiting[0] if waiting else None


def check_code(conn: sa.Connection, request_id: str, code: str, *, kind: str | None = None,
               actor: str = "subject") -> CodeCheck:
    """Check a code the subject typed for their ``kind`` identity (commit the result either way).

    An attempt is claimed in the store before the code is compared, so
    parallel guesses never compare more than :data:`MAX_ATTEMPTS` wrong codes.
    """
    request = get_request(conn, request_id)
    if request.locked_at is not None:
        return CodeCheck(False, 0, f"request {request.id} is locked after too many wrong codes; "
                         "contact us to have your identity checked another way")
    kind = _waiting_kind(conn, request, kind)
    codes = verification_codes.c
    row = None if kind is None else conn.execute(sa.select(verification_codes).where(
        codes.request_id == request.id, codes.kind == kind)).first()
    if request.status not in PROVABLE or row is None or row.used_at is not None:
        return CodeCheck(False, 0, f"request {request.id} has no code waiting to be checked")
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if now() >= expires_at:
        left = MAX_ATTEMPTS - request.wrong_attempts
        return CodeCheck(False, left, "the code has expired; ask for a new one")
    attempt = claim_attempt(conn, request.id)
    if attempt is None:
        return CodeCheck(False, 0, "too many wrong codes; this request is locked")
    mine = codes.request_id == request.id, codes.kind == kind
    conn.execute(verification_codes.update().where(*mine).values(attempts=codes.attempts + 1))
    if hmac.compare_digest(_digest(row.salt, code.strip()), row.code_hash):
        release_attempt(conn, request.id)  # a right code is not a wrong attempt
        used = conn.execute(verification_codes.update().where(*mine, codes.used_at.is_(None))
                            .values(used_at=now()).returning(codes.request_id)).first()
        if used is None:  # a parallel check of the same code was first
            return CodeCheck(False, 0, f"request {request.id} has no code waiting to be checked")
        assert kind is not None
        note = f"one-time code ({kind}) confirmed"
        if kind.startswith(NEW):
            _prove_new(conn, request, [kind], "code", actor, note)
        else:
            _prove(conn, get_request(conn, request.id), [kind], "code", actor, note)
        return CodeCheck(True, MAX_ATTEMPTS - attempt + 1, "identity verified")
    audit.record(conn, "request.code_rejected", {"request": request.id, "identity": kind, "attempt": attempt},
                 subject_id=request.subject_id, actor=actor)
    left = MAX_ATTEMPTS - attempt
    if lock_if_exhausted(conn, request, actor=actor):
        return CodeCheck(False, 0, f"wrong code; request {request.id} is now locked after "
                         f"{MAX_ATTEMPTS} wrong codes")
    return CodeCheck(False, left, f"wrong code; {left} attempt{'' if left == 1 else 's'} left")


def verify_out_of_band(conn: sa.Connection, request_id: str, reason: str, *, actor: str,
                       identities: Sequence[str]) -> Request:
    """Record that an agent checked the request's ``identities`` (kinds) another way, and how.

    Only the identities named are proven; the others are not used.
    """
    if not reason.strip():
        raise GardeError("an out-of-band verification needs a reason (how the identity was confirmed)")
    request = get_request(conn, request_id)
    _provable(request)
    kinds = list(dict.fromkeys(identities))
    if not kinds:
        raise GardeError("the out-of-band check names no identity: say which ones were checked "
                         f"(--checked KIND, among {', '.join(sorted(request.identities))})")
    new = [kind for kind in kinds if kind.startswith(NEW)]
    unknown = [kind for kind in kinds if kind not in request.identities and kind not in new]
    if unknown:
        raise GardeError(f"request {request.id} gives no {', '.join(unknown)}; its identities are "
                         f"{', '.join(sorted(request.identities))}")
    if new:  # a staff member's statement that the new value of a rectification was checked another way
        request = _prove_new(conn, request, new, "out_of_band", actor, reason)
    old = [kind for kind in kinds if kind not in new]
    return _prove(conn, request, old, "out_of_band", actor, reason) if old else request


def _prove_new(conn: sa.Connection, request: Request, kinds: list[str], method: str, actor: str,
               note: str) -> Request:
    """Record the proof of a rectification's new identities (``new_email``): it proves the value may
    be written, not who the requester is, so it neither verifies the request nor links anything."""
    if request.type != "rectification":
        raise GardeError(f"request {request.id} is a {request.type} request: it has no new identity to prove")
    hold_request(conn, request.id)
    request = get_request(conn, request.id)
    at = now()
    proofs = {**request.proofs, **{kind: _proof(method, at, actor, note) for kind in kinds}}
    conn.execute(requests.update().where(requests.c.id == request.id)
                 .values(proofs=json.dumps(proofs, sort_keys=True, ensure_ascii=False)))
    record_step(conn, request.id, "proven", actor, note, payload={"method": method, "identities": kinds})
    return get_request(conn, request.id)


def _prove(conn: sa.Connection, request: Request, kinds: list[str], method: str, actor: str,
           note: str) -> Request:
    """Record the proof of ``kinds``; the first proof verifies the request and finds its subject.

    The request is held and read again first: two proofs at once (a code and an agent's check)
    are merged in turn, neither lost, and make one subject, not two.
    """
    hold_request(conn, request.id)
    request = get_request(conn, request.id)
    at = now()
    proofs = {**request.proofs, **{kind: _proof(method, at, actor, note) for kind in kinds}}
    values: dict[str, Any] = {"proofs": json.dumps(proofs, sort_keys=True, ensure_ascii=False),
                              "subject_id": _proven_subject(conn, request, proofs)}
    payload = {"method": method, "identities": kinds}
    if request.status == "received":
        return transition(conn, request, "verified", actor=actor, note=note,
                          values={**values, "verification": method}, payload=payload)
    conn.execute(requests.update().where(requests.c.id == request.id).values(values))
    record_step(conn, request.id, "proven", actor, note, payload=payload)
    return get_request(conn, request.id)


def _proven_subject(conn: sa.Connection, request: Request, proofs: Mapping[str, Any]) -> str:
    """The engine subject of a request whose identities ``proofs`` proved (:mod:`garde.rights.vouching`).

    The subject one of them is linked to when they open its whole record (its links to them are
    then proven, and those not linked yet are linked to it); otherwise, a subject of the request's
    own, holding only the proven identities no subject held yet: running the request (a
    restriction, an erasure) then leaves alone the subject the shop's systems linked another
    person's identity to, and its records and sessions. A request already given a subject of its
    own keeps it until its proofs vouch for another.

    A request another privacy tool sent (OpenDSR) always gets a subject of its own, its identities
    linked as claims: the tool's word proves every identity it names for the run, but, taken for a
    proof of the links, its sender's mailbox named beside a customer's number opened that customer's
    subject to the sender's own sign-in (red team of 2026-12-07, red28).
    """
    proven = {kind: request.identities[kind] for kind in proofs
              if kind in request.identities and not kind.startswith(NEW)}
    digests = [(kind, request.identity_hashes[kind]) for kind in proven if kind in request.identity_hashes]
    tool = "opendsr" in request.details
    found = find_subject(conn, proven)
    if found is not None and not tool and confirm(conn, found, digests):
        link_identifiers(conn, found, proven.items(), proven=True)
        return found
    own = request.subject_id if request.subject_id is not None and request.subject_id != found else None
    if own is None:
        own = ensure_subject(conn, {}, language=request.language)
    link_identifiers(conn, own, proven.items(), proven=not tool)  # those no subject held yet
    return own


def _proof(method: str, at: datetime, actor: str, note: str) -> dict[str, str]:
    return {"method": method, "at": at.isoformat(), "by": actor, "note": note}


def prove_by_session(conn: sa.Connection, request_id: str, kind: str, session_id: str, *,
                     actor: str) -> Request:
    """Record that the request's ``kind`` identity was proven by the code of a subject's session
    (:mod:`garde.rights.sessions`), which the request was submitted in."""
    request = get_request(conn, request_id)
    _provable(request)
    return _prove(conn, request, [kind], "code", actor, f"one-time code ({kind}) confirmed in session "
                  f"{session_id[:8]}")


class WrongCode(GardeError):
    """A code that did not prove the identity; raised only once the attempt is committed."""

    def __init__(self, check: CodeCheck) -> None:
        super().__init__(check.message)
        self.check = check


def confirm_code(store: sa.Engine, request_id: str, code: str, *, kind: str | None = None,
                 actor: str = "subject") -> Request:
    """Check a code in its own transaction, and answer only after it committed.

    The attempt (right or wrong) is in the store before the caller learns the outcome: a caller
    that drops the connection cannot have a wrong guess rolled back and uncounted. A wrong,
    expired or refused code raises :class:`WrongCode` after the commit.
    """
    check = retried(store, lambda conn: check_code(conn, request_id, code, kind=kind, actor=actor),
                    what=f"request {request_id}: a code checked")
    if not check.verified:
        raise WrongCode(check)
    with store.connect() as conn:
        return get_request(conn, request_id)
