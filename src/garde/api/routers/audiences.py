"""``POST /audiences``: who an activity may contact on a channel, streamed as CSV.

The same rows as `garde audience` writes (:func:`garde.audience.audience_rows`): a subject is
in it exactly when ``decide()`` would allow the contact. The CSV is streamed as it is read
(bounded memory at any size), every cell made inert against spreadsheet formulas, and the
audience is recorded in the audit log (count and hash, no address) with the key's name once
the stream ends. A key revoked while it streams cuts it (:mod:`garde.api.streams`): the last row
then says so (``#interrupted``, the reason), and no ``audience`` entry is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from garde.api.auth import allow, bearer_token
from garde.api.keys import ApiKey
from garde.api.models import ACTIVITY, Strict
from garde.api.problems import responses
from garde.api.state import service
from garde.api.streams import close, watched
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
                         datasets=None if body.subject_ids else held.settings.datasets, actor=key.actor,
                         exports=held.settings.exports)
    header = next(rows)  # refuses here, before the answer starts, an unknown channel or data map
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{body.activity}-{body.channel}")
    pieces = watched(audience_csv(header, rows), engine=held.engine, key=key,
                     token=bearer_token(request) or "", route="POST /api/v1/audiences", marker=_cut)
    return StreamingResponse(pieces, media_type=MEDIA_TYPE,
                             headers={"Content-Disposition": f'attachment; filename="audience-{name}.csv"'})


def audience_csv(header: list[str], rows: Iterator[list[str]], size: int = 64 * 1024) -> Iterator[str]:
    """The audience's CSV in pieces; closing it closes ``rows`` (their store and data map connections)."""
    try:
        yield from csv_chunks(chain([header], rows), size)
    finally:
        close(rows)


def _cut(reason: str) -> str:
    """The last row of an audience cut short: not a contact, and it says the file is incomplete."""
    return "".join(csv_chunks([["#interrupted", reason,
                                "this file is incomplete: ask again with a live key"]]))
