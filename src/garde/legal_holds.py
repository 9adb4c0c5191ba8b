"""Legal holds: reasons to keep data beyond a request or a retention rule.

GDPR Art. 17(3)(b) and (e): data needed for a legal obligation or for the
establishment, exercise or defence of legal claims is kept. A hold covers a
subject, a table (``database.table``) or an activity, with a reason and an
optional end; erasure and retention sweeps skip what an active hold covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from garde.problems import GardeError, NotFound
from garde.store import metadata
from garde.subjects import now

Scope = Literal["subject", "table", "activity"]
SCOPES: tuple[Scope, ...] = ("subject", "table", "activity")

legal_holds = sa.Table(
    "legal_holds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope_kind", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True)),
    sa.Column("released_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class LegalHold:
    id: int
    scope_kind: Scope
    scope: str
    reason: str
    starts_at: datetime
    ends_at: datetime | None


def place_hold(conn: sa.Connection, scope_kind: Scope, scope: str, reason: str,
               ends_at: datetime | None = None) -> int:
    if scope_kind not in SCOPES:
        raise GardeError(f"a hold's scope is one of {', '.join(SCOPES)}, not {scope_kind!r}")
    if not reason.strip():
        raise GardeError("a legal hold needs a reason")
    result = conn.execute(legal_holds.insert().values(scope_kind=scope_kind, scope=scope, reason=reason,
                                                      starts_at=now(), ends_at=ends_at))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def release_hold(conn: sa.Connection, hold_id: int) -> None:
    result = conn.execute(legal_holds.update().where(legal_holds.c.id == hold_id,
                                                     legal_holds.c.released_at.is_(None))
                          .values(released_at=now()))
    if result.rowcount == 0:
        raise NotFound(f"no active legal hold {hold_id}")


def active_holds(conn: sa.Connection, at: datetime | None = None) -> list[LegalHold]:
    """Holds in force at ``at`` (default now)."""
    at = at or now()
    rows = conn.execute(sa.select(legal_holds).where(
        legal_holds.c.released_at.is_(None),
        legal_holds.c.starts_at <= at,
        sa.or_(legal_holds.c.ends_at.is_(None), legal_holds.c.ends_at > at),
    ).order_by(legal_holds.c.id))
    return [LegalHold(r.id, r.scope_kind, r.scope, r.reason, r.starts_at, r.ends_at) for r in rows]
