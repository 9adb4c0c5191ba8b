"""The files of a request's answer, as staff hand them over: listed, then read one by name.

A run writes its answer files in the request's own folder of the results
(``<results>/<request id>/``: ``access.json`` and ``access.html``,
``portability.zip``, ``erasure.json``). A file is reached by its name among
the regular files of that folder, compared as a whole: a name is never joined
to a path, so ``../`` or an absolute path names nothing. The folder is named
by the id the store gives back, never by what a caller typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from garde import audit
from garde.problems import NotFound
from garde.rights.access import report_ready
from garde.rights.intake import RequestConflict, get_request

MEDIA_TYPES = {".json": "application/json", ".html": "text/html; charset=utf-8",
               ".zip": "application/zip", ".csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class AnswerFile:
    """One file of an answer: its name, where it is, its media type and size in bytes."""

    name: str
    path: Path
    media_type: str
    size: int


def answer_files(conn: sa.Connection, request_id: str, results: Path) -> list[AnswerFile]:
    """The files of the answer of a completed request, by name."""
    request = get_request(conn, request_id)
    if request.status != "completed":
        raise RequestConflict(f"request {request.id} is {request.status}; it has no answer files yet")
    folder = results / request.id
    if not folder.is_dir():
        return []
    report_ready(folder, results)  # an access answer's HTML report, rendered on its first reading
    return [AnswerFile(path.name, path, MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                       path.stat().st_size)
            for path in sorted(folder.iterdir())
            if path.is_file() and not path.is_symlink() and not path.name.startswith(".")]


def answer_file(conn: sa.Connection, request_id: str, name: str, results: Path, *, actor: str) -> AnswerFile:
    """The answer file called ``name`` of a completed request (one of :func:`answer_files`); who
    reads it is audited (``request.answer_read``), since it holds the subject's data."""
    request = get_request(conn, request_id)
    for found in answer_files(conn, request.id, results):
        if found.name == name:
            audit.record(conn, "request.answer_read", {"request": request.id, "file": name},
                         subject_id=request.subject_id, actor=actor)
            return found
    raise NotFound(f"request {request.id} has no answer file {name!r}")
