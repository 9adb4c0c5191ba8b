"""Confirming the requester's identity (GDPR Art. 12(6)).

A six-digit one-time code is mailed to the e-mail address the request gives;
only a salted SHA-256 of it is stored, with an expiry and a limit on wrong
attempts. An agent may instead record a verification made out of band (in
store, by phone) with its reason. Either way the request becomes
``verified`` and its identities are linked to the engine's subject.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta

import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights.intake import Request, get_request, transition
from garde.rights.mailer import Mailer
from garde.rights.tables import requests, verification_codes
from garde.rights.wording import strings
from garde.subjects import ensure_subject, now

CODE_LIFETIME = timedelta(minutes=30)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of one attempt: verified, or how many attempts are left."""

    verified: bool
    attempts_left: int
    message: str


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def send_code(conn: sa.Connection, request_id: str, mailer: Mailer, *, actor: str = "garde",
              lifetime: timedelta = CODE_LIFETIME) -> Request:
    """Mail a fresh one-time code to the request's e-mail; a new code replaces the old one."""
    request = get_request(conn, request_id)
    if request.status != "received":
        raise GardeError(f"request {request.id} is {request.status}; only a received request is verified")
    email = request.identities.get("email")
    if not email:
        raise GardeError(f"request {request.id} has no e-mail address to send a code to; "
                         "verify the requester out of band with a reason")
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    sent_at = now()
    conn.execute(verification_codes.delete().where(verification_codes.c.request_id == request.id))
    conn.execute(verification_codes.insert().values(
        request_id=request.id, code_hash=_digest(salt, code), salt=salt, sent_at=sent_at,
        expires_at=sent_at + lifetime, attempts=0))
    words = strings(request.language)["mail"]
    minutes = int(lifetime.total_seconds() // 60)
    mailer.send(email, words["subject"], words["body"].format(code=code, minutes=minutes,
                                                               request=request.id))
    audit.record(conn, "request.code_sent", {"request": request.id, "expires_at": sent_at + lifetime},
                 subject_id=request.subject_id, actor=actor)
    return request


def check_code(conn: sa.Connection, request_id: str, code: str, *, actor: str = "subject") -> CodeCheck:
    """Check a code the subject typed; a wrong one counts as an attempt (commit the result either way)."""
    request = get_request(conn, request_id)
    row = conn.execute(sa.select(verification_codes).where(
        verification_codes.c.request_id == request.id)).first()
    if request.status != "received" or row is None or row.used_at is not None:
        return CodeCheck(False, 0, f"request {request.id} has no code waiting to be checked")
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    left = MAX_ATTEMPTS - row.attempts
    if left <= 0:
        return CodeCheck(False, 0, "too many wrong codes; ask for a new one")
    if now() >= expires_at:
        return CodeCheck(False, left, "the code has expired; ask for a new one")
    if not hmac.compare_digest(_digest(row.salt, code.strip()), row.code_hash):
        conn.execute(verification_codes.update().where(verification_codes.c.request_id == request.id)
                     .values(attempts=row.attempts + 1))
        audit.record(conn, "request.code_rejected", {"request": request.id, "attempt": row.attempts + 1},
                     subject_id=request.subject_id, actor=actor)
        return CodeCheck(False, left - 1, f"wrong code; {left - 1} attempt(s) left")
    conn.execute(verification_codes.update().where(verification_codes.c.request_id == request.id)
                 .values(used_at=now(), attempts=row.attempts + 1))
    _verified(conn, request, "code", actor, "one-time code confirmed")
    return CodeCheck(True, left - 1, "identity verified")


def verify_out_of_band(conn: sa.Connection, request_id: str, reason: str, *, actor: str) -> Request:
    """Record that an agent confirmed the requester's identity another way, and why."""
    if not reason.strip():
        raise GardeError("an out-of-band verification needs a reason (how the identity was confirmed)")
    request = get_request(conn, request_id)
    if request.status != "received":
        raise GardeError(f"request {request.id} is {request.status}; only a received request is verified")
    return _verified(conn, request, "out_of_band", actor, reason)


def _verified(conn: sa.Connection, request: Request, method: str, actor: str, note: str) -> Request:
    subject_id = ensure_subject(conn, request.identities, language=request.language)
    conn.execute(requests.update().where(requests.c.id == request.id).values(subject_id=subject_id))
    return transition(conn, get_request(conn, request.id), "verified", actor=actor, note=note,
                      values={"verification": method}, payload={"method": method})


