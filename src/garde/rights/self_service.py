"""What a data subject reaches with their own session: their requests, consents and answer files.

A session proved one identity (:mod:`garde.rights.sessions`); everything here is read
through it, never through an id the caller gives alone:

- **their requests**: those where that identity was proven (by whoever proved it, it was
  the person holding it), and the unverified ones naming it. A request that proved another
  identity and only named this one unproven is someone else's: it is not shown;
- **their consents**: those of the engine subject holding that identity;
- **their answer files**: the files of those requests once answered.

An id that is not one of theirs — another subject's real request, a made-up one — gets the
same :class:`NotFound` as a missing one, so guessing tells nothing. What is shown leaves out
which member of staff acted (GDPR Art. 15(4)), digests and the raw identities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde import consent
from garde.consent.ledger import LedgerEvent
from garde.consent.state import ConsentState
from garde.periods import Period
from garde.problems import NotFound
from garde.rights.intake import Request, get_request, submit
from garde.rights.sessions import SubjectSession
from garde.rights.tables import requests
from garde.rights.verification import prove_by_session

# The files an answer is made of (access, portability, the erasure report); never a manifest.
ANSWER_FILES = ("access.html", "access.json", "portability.zip", "erasure.json")


@dataclass(frozen=True)
class AnswerFile:
    request_id: str
    name: str
    size: int


def _mine(request: Request, session: SubjectSession) -> bool:
    if request.identity_hashes.get(session.kind) != session.identity_hash:
        return False
    return session.kind in request.proofs or not request.proofs


def my_requests(conn: sa.Connection, session: SubjectSession) -> list[Request]:
    """The session's subject's requests, oldest first (steps not included)."""
    rows = conn.execute(sa.select(requests.c.id).where(
        requests.c.identity_hashes.contains(session.identity_hash, autoescape=True))
        .order_by(requests.c.received_at, requests.c.id)).scalars().all()
    found = [get_request(conn, request_id) for request_id in rows]
    return [request for request in found if _mine(request, session)]


def my_request(conn: sa.Connection, session: SubjectSession, request_id: str) -> Request:
    """One of the subject's requests, with its steps; :class:`NotFound` for any other id."""
    row = conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id)).scalar()
    request = get_request(conn, row) if row is not None else None
    if request is None or not _mine(request, session):
        raise NotFound(f"no request {request_id[:64]!r}")
    return request


def request_view(request: Request, *, steps: bool = False) -> dict[str, Any]:
    """What the subject is shown of their request: no staff names, no digests, no raw identities."""
    data = request.to_data()
    shown = {key: data[key] for key in (
        "id", "type", "status", "language", "received_at", "deadline", "extended_deadline",
        "extension_reason", "due", "overdue", "verified_at", "completed_at", "rejected_at",
        "rejection_reason", "locked")}
    shown["identities"] = {kind: kind in request.proofs for kind in sorted(request.identity_hashes)}
    if steps:
        shown["steps"] = [{"at": step["at"], "status": step["status"], "note": step["note"]}
                          for step in data["steps"]]
    return shown


def my_consents(conn: sa.Connection, session: SubjectSession,
                validity: Mapping[str, Period | None]) -> tuple[list[ConsentState], list[LedgerEvent]]:
    """The subject's consents as they stand, and their history (both empty for an unknown subject)."""
    if session.subject_id is None:
        return [], []
    return (consent.current(conn, session.subject_id, validity=dict(validity)),
            list(consent.history(conn, session.subject_id)))


def my_answer_files(conn: sa.Connection, session: SubjectSession, results: Path) -> list[AnswerFile]:
    """The answer files of the subject's answered requests."""
    files = []
    for request in my_requests(conn, session):
        if request.status == "completed":
            for name in ANSWER_FILES:
                path = results / request.id / name
                if path.is_file():
                    files.append(AnswerFile(request.id, name, path.stat().st_size))
    return files


def my_answer_file(conn: sa.Connection, session: SubjectSession, results: Path, request_id: str,
                   name: str) -> Path:
    """The path of one answer file of one of the subject's answered requests, else :class:`NotFound`."""
    missing = NotFound(f"no answer file {name[:64]!r} for request {request_id[:64]!r}")
    try:
        request = my_request(conn, session, request_id)
    except NotFound:
        raise missing from None
    path = results / request.id / name
    if name not in ANSWER_FILES or request.status != "completed" or not path.is_file():
        raise missing
    return path


def submit_mine(conn: sa.Connection, session: SubjectSession, type: str, *, language: str | None = None,
                details: Mapping[str, Any] | None = None) -> Request:
    """A request for the session's subject: its identity is the session's, already proven by the
    session's code, so the request is ``verified`` at once (audited as such)."""
    request = submit(conn, type, {session.kind: session.identity}, language=language or session.language,
                     details=details, actor=session.actor)
    return prove_by_session(conn, request.id, session.kind, session.id, actor=session.actor)
