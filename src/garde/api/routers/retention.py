"""``/retention``: what is due (plan), past sweeps (runs), and a sweep.

A sweep deletes, anonymises or archives what the register's rules say is due, over the data
map's databases (the ``datasets`` setting): it is the DPO's alone, and asked with an explicit
``{"confirm": true}`` (a dry run needs none). It is the library's sweep: journalled and
audited batch by batch before each commit, resumable, idempotent; its audit entries name the
key. One sweep at a time per store: a second one is a 409.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, StrictBool

from garde import retention
from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import Day, Strict
from garde.api.pagination import Cursor, Limit, Page, decode_cursor, page
from garde.api.problems import responses
from garde.api.state import service
from garde.datasets import opened_datamap
from garde.keys import identifier_data_key
from garde.problems import GardeError

router = APIRouter(prefix="/retention", tags=["retention"], responses=responses(401, 403, 422))
Reader = Annotated[ApiKey, Depends(allow("auditor"))]
Dpo = Annotated[ApiKey, Depends(allow())]
Today = Annotated[Day, Query(description="evaluate as of this day, YYYY-MM-DD (default: today)")]


@router.get("/plan", response_model=dict[str, Any])
def plan(request: Request, key: Reader, today: Today = None,
         days: Annotated[int, Query(ge=0, le=366, description="also count the next N days")] = 0,
         ) -> dict[str, Any]:
    """What retention deletes, anonymises or archives today and in the next N days, what legal
    holds keep and what no rule reaches, as `garde retention plan --format json`; to an auditor key a
    subject hold names its identity by its keyed digest (`email:hmac-sha256:…`), as the audit log does."""
    held = service(request)
    # An auditor is trusted with no subject: a subject hold is named by its keyed digest, as the audit
    # log names it (red team of 2026-12-08); the DPO reads the value they placed.
    digest_key = None if key.role == "dpo" else identifier_data_key(held.engine)
    with opened_datamap(held.settings.datasets) as (datamap, engines):
        found: dict[str, Any] = retention.plan(held.engine, datamap, engines, today=today,
                                               days=days).to_data(digest_key)
    return found


class RunOut(BaseModel):
    id: str
    today: date = Field(description="the day the run evaluated its rules as of")
    status: str = Field(description="running (unfinished: the next sweep resumes it) or done")
    dry_run: bool
    batch_size: int
    started_at: datetime
    finished_at: datetime | None
    resumed: int = Field(description="how many times it was resumed")
    summary: dict[str, Any]


class RunsOut(Page[RunOut]):
    """A page of past sweeps, newest first."""


@router.get("/runs", response_model=RunsOut)
def runs(request: Request, key: Reader, limit: Limit = 50, cursor: Cursor = None) -> RunsOut:
    """Past retention sweeps, newest first: when, as of which day, status, rows affected."""
    before = decode_cursor(cursor, (datetime, str))
    found = retention.runs(service(request).engine, limit + 1,
                           before=None if before is None else (before[0], before[1]))
    shown, next_cursor = page(found, limit, lambda run: (run.started_at, run.id))
    return RunsOut(items=[RunOut.model_validate(run.to_data()) for run in shown], next_cursor=next_cursor)


class SweepIn(Strict):
    # Strict: only JSON true confirms (pydantic would read "yes", "1" or 1 as true).
    confirm: StrictBool = Field(default=False, description="true: delete or anonymise what is due now "
                                                           "(required unless dry_run)")
    dry_run: StrictBool = Field(default=False, description="count what would go; change nothing")
    batch_size: int = Field(default=retention.BATCH_SIZE, ge=1, le=1_000_000, description="rows per batch")
    today: Day = Field(default=None,
                       description="as of this day, YYYY-MM-DD, not after today (default: today)")


class SweepOut(BaseModel):
    run: str
    today: date
    dry_run: bool
    resumed: bool = Field(description="this sweep finished a run an earlier one left unfinished")
    batches: int
    affected: dict[str, int] = Field(description="rows per `database.table:operation`")


@router.post("/sweep", response_model=SweepOut, responses=responses(400, 409))
def sweep(body: SweepIn, request: Request, key: Dpo) -> SweepOut:
    """Delete, anonymise or archive what is due, in audited batches; resumes an unfinished sweep.
    Destructive: only with `{"confirm": true}`."""
    if not (body.confirm or body.dry_run):
        raise GardeError('a sweep deletes or anonymises data: send {"confirm": true} to run it '
                         '(or {"dry_run": true} to count what would go)')
    held = service(request)
    with opened_datamap(held.settings.datasets) as (datamap, engines):
        result = retention.sweep(held.engine, datamap, engines, today=body.today, batch_size=body.batch_size,
                                 dry_run=body.dry_run, actor=key.actor)
    return SweepOut.model_validate(result.to_data())
