"""The moments of the moves made before 0027, recovered from the rectifications that made them.

Since 0026 a completed rectification of an e-mail or phone unlinks the old value from its subject, but
0027's ``identity_handovers`` started empty: a request never verified that named that value before the
move was still listed to its next holder. What the store holds of such a move: the rectification's
own row, completed (``completed_at``), its result naming each identity kind it moved
(``new_identities``), and the keyed digest of the value the request was made with
(``identity_hashes``). That value changed hands at the latest at the completion, if the subject no
longer holds it: its moment is recorded then (a little after the move itself: the safe side, a
request made in between hidden too). A later move (recorded since 0027) is kept as it is.

Not recoverable, and left: the other old values discovery found (never stored) and the new value
(kept only as a seal of the correction, not as an identity digest), so a subject given a recycled
new address before 0027 may still see its former holder's unproven requests.

Revision ID: 0030
Revises: 0029
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_requests = sa.table("requests", *(sa.column(name) for name in (
    "id", "type", "status", "subject_id", "identity_hashes", "result", "completed_at")))
_linked = sa.table("subject_identifiers", sa.column("subject_id"), sa.column("kind"), sa.column("hash"))
_handovers = sa.table("identity_handovers", sa.column("digest"), sa.column("at"))


def upgrade() -> None:
    conn = op.get_bind()
    r = _requests.c
    moves: dict[str, Any] = {}
    rows = conn.execute(sa.select(r.subject_id, r.identity_hashes, r.result, r.completed_at).where(
        r.type == "rectification", r.status == "completed", r.completed_at.is_not(None),
        r.result.like('%"new_identities"%')))
    for subject_id, hashes, result, completed_at in rows:
        moved = (json.loads(result or "{}").get("new_identities") or {})
        given = json.loads(hashes or "{}")
        for kind in moved:
            digest = given.get(kind)
            if not digest or conn.execute(sa.select(_linked.c.hash).where(
                    _linked.c.subject_id == subject_id, _linked.c.kind == kind,
                    _linked.c.hash == digest)).first() is not None:
                continue  # the request gave no such value, or the subject still holds it: not moved
            moves[digest] = max(moves.get(digest, completed_at), completed_at)
    recorded = set(conn.execute(sa.select(_handovers.c.digest)).scalars())
    fresh = [{"digest": digest, "at": at} for digest, at in sorted(moves.items()) if digest not in recorded]
    if fresh:
        conn.execute(_handovers.insert(), fresh)


def downgrade() -> None:
    """Nothing to undo that can be told apart: the recovered moments stay (0027's downgrade drops them)."""
