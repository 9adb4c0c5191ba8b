"""DPO sessions of the dashboard: a DPO pastes a ``dpo`` API key once, the browser then holds a
random session id in a cookie.

The store keeps only the SHA-256 of the session id (as for API keys: 256 random bits need no slow
hash), the key it was opened with and when it ends. Every page reads the session's row and its
key's: revoking the key (``garde keys revoke``) or its role no longer being ``dpo`` ends the
session at its next request. What a DPO does through the pages is audited as ``key:<name>``, as
through the API.

The browser holds the session id in the ``garde_dpo`` cookie; the cookie and the CSRF token of the
session's forms are :mod:`garde.web.cookies`'.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from garde import audit
from garde.api.keys import ApiKey, api_keys, authenticate
from garde.consent.state import as_utc
from garde.problems import GardeError
from garde.store import metadata
from garde.subjects import now

ROLE = "dpo"

dpo_sessions = sa.Table(
    "dpo_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(conn: sa.Connection, key: str, lifetime: timedelta) -> tuple[str, ApiKey]:
    """Open a session for ``key`` (a live ``dpo`` key): the session id, shown only now, and the key.

    Expired sessions of every key are removed on the way (a table that only grows is a table of
    stale secrets' hashes).
    """
    record = authenticate(conn, key.strip())
    if record is None or record.role != ROLE:
        raise GardeError("not a valid DPO key")  # one message: which keys exist is nobody's business
    moment = now()
    conn.execute(dpo_sessions.delete().where(dpo_sessions.c.expires_at <= moment))
    session_id = secrets.token_urlsafe(32)
    conn.execute(dpo_sessions.insert().values(id_hash=_digest(session_id), key_id=record.id,
                                              created_at=moment, expires_at=moment + lifetime))
    audit.record(conn, "dpo_session.started", {"key": record.id}, actor=record.actor)
    return session_id, record


def session_key(conn: sa.Connection, session_id: str, at: datetime | None = None) -> ApiKey | None:
    """The ``dpo`` key of a live session, or None (unknown, expired, key revoked or not dpo)."""
    if not session_id or len(session_id) > 128:
        return None
    row = conn.execute(
        sa.select(api_keys, dpo_sessions.c.expires_at.label("session_ends"))
        .join(dpo_sessions, dpo_sessions.c.key_id == api_keys.c.id)
        .where(dpo_sessions.c.id_hash == _digest(session_id))).first()
    if row is None or row.revoked_at is not None or row.role != ROLE:
        return None
    if as_utc(row.session_ends) <= (at or now()):
        return None
    return ApiKey(row.id, row.name, row.role, as_utc(row.created_at))


def end_session(conn: sa.Connection, session_id: str) -> None:
    """Log out: the session's row goes (audited when it existed). Idempotent."""
    digest = _digest(session_id)
    row = conn.execute(sa.select(dpo_sessions.c.key_id, api_keys.c.name)
                       .join(api_keys, api_keys.c.id == dpo_sessions.c.key_id)
                       .where(dpo_sessions.c.id_hash == digest)).first()
    if row is None:
        return
    conn.execute(dpo_sessions.delete().where(dpo_sessions.c.id_hash == digest))
    audit.record(conn, "dpo_session.ended", {"key": row.key_id}, actor=f"key:{row.name}")
