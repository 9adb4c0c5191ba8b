"""``POST /audiences``: who an activity may contact on a channel, streamed as CSV.

The same rows as `garde audience` writes (:func:`garde.audience.audience_rows`): a subject is
in it exactly when ``decide()`` would allow the contact. The CSV is streamed as it is read
(bounded memory at any size), every cell made inert against spreadsheet formulas, and the
audience is recorded in the audit log (count and hash, no address) with the key's name once
the stream ends.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from garde.api.auth import allow
from garde.api.keys import ApiKey
from garde.api.models import ACTIVITY, Strict
from garde.api.problems import responses
from garde.api.state import service
from garde.audience import audience_rows
from garde.consent.recording import check_activity
from garde.documents.spreadsheet import csv_chunks

router = APIRouter(prefix="/audiences", tags=["audiences"], responses=responses(401, 403, 404, 422))
Caller = Annotated[ApiKey, Depends(allow("service"))]
MEDIA_TYPE = "text/csv; charset=utf-8"


class AudienceIn(Strict):
    activity: str = ACTIVITY
    channel: str = Field(max_length=64, description="email, sms, phone or post", examples=["email"])
    subject_ids: bool = Field(default=False, description="only garde's subject ids and the basis, no "
                                                         "address (reads the store alone)")


@router.post("", response_class=StreamingResponse, responses={
    200: {"description": "CSV: the address columns (email; phone; or the postal columns), subject_id, "
                         "basis, source — or subject_id, basis", "content": {"text/csv": {}}}})
def audience(body: AudienceIn, request: Request, key: Caller) -> StreamingResponse:
    """Who this activity may contact on this channel, with their address, as CSV, streamed."""
    held = service(request)
    check_activity(held.model, body.activity)
    rows = audience_rows(held.engine, held.model, body.activity, body.channel,
                         datasets=None if body.subject_ids else held.settings.datasets, actor=key.actor)
    header = next(rows)  # refuses here, before the answer starts, an unknown channel or data map
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{body.activity}-{body.channel}")
    return StreamingResponse(csv_chunks(chain([header], rows)), media_type=MEDIA_TYPE,
                             headers={"Content-Disposition": f'attachment; filename="audience-{name}.csv"'})
