"""The queue of data-subject requests as a DPO watches it: by due date, with days left.

GDPR Art. 12(3): an answer is due within one month of receipt, extendable by two. The queue puts
the open requests first, the earliest due first, each with its days left and its standing:
``overdue`` (past its due date), ``this_week`` (due within 7 days), ``later``, or ``closed``
(completed or rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from garde import audit
from garde.problems import NotFound
from garde.rights.access import report_ready
from garde.rights.intake import Request, get_request, list_requests
from garde.subjects import now

Standing = Literal["overdue", "this_week", "later", "closed"]
WEEK = 7


@dataclass(frozen=True)
class Queued:
    request: Request
    days_left: int
    standing: Standing


def standing(request: Request, today: date) -> tuple[int, Standing]:
    """Days left until the request's due date (negative: overdue), and its standing."""
    left = (request.due - today).days
    if not request.is_open:
        return left, "closed"
    return left, "overdue" if left < 0 else "this_week" if left <= WEEK else "later"


def queue(conn: sa.Connection, *, closed: bool = False, today: date | None = None) -> list[Queued]:
    """Open requests, earliest due first (``closed``: then the completed and rejected ones)."""
    today = today or now().date()
    entries = [Queued(r, *standing(r, today)) for r in list_requests(conn) if closed or r.is_open]
    return sorted(entries, key=lambda q: (q.standing == "closed", q.request.due, q.request.received_at))


def extendable(request: Request, today: date | None = None) -> bool:
    """Can the deadline still be extended (Art. 12(3): once, within the first month)?
    :func:`garde.rights.extend` decides; this says whether to offer it."""
    today = today or now().date()
    return request.is_open and request.extended_deadline is None and today <= request.deadline


def answer_files(request: Request, results: Path) -> dict[str, Path]:
    """The answer files of a request (``access.html``, ``portability.zip``...) by name: the regular
    files of its results folder, nothing outside it, nothing hidden (a partial write)."""
    folder = results / request.id
    if not folder.is_dir():
        return {}
    report_ready(folder, results)  # an access answer's HTML report, rendered on its first reading
    return {path.name: path for path in sorted(folder.iterdir())
            if path.is_file() and not path.is_symlink() and not path.name.startswith(".")}


def answer_file(conn: sa.Connection, request_id: str, results: Path, name: str, *, actor: str) -> Path:
    """One answer file of the request, by its name; NotFound for any other name. It holds the
    subject's data: who reads it is audited (``request.answer_read``, as the API does)."""
    request = get_request(conn, request_id)
    files = answer_files(request, results)
    if name not in files:
        raise NotFound(f"request {request.id} has no answer file {name!r}")
    audit.record(conn, "request.answer_read", {"request": request.id, "file": name},
                 subject_id=request.subject_id, actor=actor)
    return files[name]
