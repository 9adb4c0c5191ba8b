"""``/holds``: legal holds (GDPR Art. 17(3)): list, place, release, as `garde hold`. The DPO's alone.

A hold keeps what it covers (a subject, a table, an activity) out of erasure and retention
sweeps until it ends or is released. A subject is named by an identity ``kind:value`` in the
body, never in a URL. Placing and releasing are audited with the key's name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import Day, Strict
from garde.api.pagination import Cursor, Limit, Page, decode_cursor, page
from garde.api.problems import responses
from garde.api.state import service
from garde.datasets import load_datamap
from garde.legal_holds import LegalHold, get_hold, list_holds, place_known_hold, release_hold
from garde.rights.deployment import configured_phone_region
from garde.store.transactions import retried

router = APIRouter(prefix="/holds", tags=["holds"], responses=responses(401, 403, 404, 422))
Dpo = Annotated[ApiKey, Depends(allow())]
HoldId = Annotated[int, Path(ge=1, lt=2**31, description="the hold's id")]


class HoldOut(BaseModel):
    id: int
    scope_kind: Literal["subject", "table", "activity"]
    scope: str
    reason: str
    starts_at: datetime
    ends_at: datetime | None = Field(description="when it ends (UTC); null: until released")
    released_at: datetime | None


class HoldsOut(Page[HoldOut]):
    """A page of legal holds, oldest first."""


def _out(hold: LegalHold) -> HoldOut:
    return HoldOut.model_validate(hold.to_data())


@router.get("", response_model=HoldsOut)
def holds(request: Request, key: Dpo, limit: Limit = 50, cursor: Cursor = None,
          all: Annotated[bool, Query(description="also released and ended holds")] = False) -> HoldsOut:
    """The legal holds in force (or all of them): scope, reason, end."""
    after = decode_cursor(cursor, (int,))
    with service(request).engine.connect() as conn:
        found = list_holds(conn, everything=all, after=None if after is None else after[0], limit=limit + 1)
    shown, next_cursor = page(found, limit, lambda hold: (hold.id,))
    return HoldsOut(items=[_out(h) for h in shown], next_cursor=next_cursor)


class PlaceIn(Strict):
    scope_kind: Literal["subject", "table", "activity"]
    scope: str = Field(max_length=200, description="the subject as kind:value (email:ana@example.org), the "
                                                   "table as database.table, or the activity id")
    reason: str = Field(min_length=1, max_length=2000, description="why it is kept: litigation, fraud...")
    until: Day = Field(default=None, description="its last day (default: until released)")


@router.post("", response_model=HoldOut, status_code=201)
def place(body: PlaceIn, request: Request, key: Dpo) -> HoldOut:
    """Place a legal hold on what the data map and the register know; audited with the key's name."""
    held = service(request)
    datamap = load_datamap(held.settings.datasets)
    return _out(retried(held.engine, lambda conn: place_known_hold(
        conn, datamap, held.model.activities, body.scope_kind, body.scope, body.reason, body.until,
        actor=key.actor, region=configured_phone_region(held.settings)), what="a legal hold placed"))


@router.post("/{hold_id}/release", response_model=HoldOut)
def release(hold_id: HoldId, request: Request, key: Dpo) -> HoldOut:
    """Release a hold in force: what it kept is erased or swept when due from now on; audited."""
    def releasing(conn: sa.Connection) -> LegalHold:
        release_hold(conn, hold_id, actor=key.actor)
        return get_hold(conn, hold_id)

    return _out(retried(service(request).engine, releasing, what=f"legal hold {hold_id} released"))
