"""garde's own copies of a subject's data, which an erasure must reach too (GDPR Art. 17).

Answering requests leaves files behind: the answers of earlier requests by
the same subject (``access.json``, ``access.html``, ``portability.zip``
under the ``results`` folder), the messages the file mailer wrote to them
(``.eml`` files in the ``outbox``), the copies of answers published
elsewhere (the demo's live results), which :func:`copy_answer` records in
the request's folder (``copies.json``) so that they can be found again, and
the audience exports a worker wrote to the ``exports`` folder with one of
their addresses or numbers in a row: an audience computed before the erasure
names someone who may no longer be contacted, so it goes whole (the report
lists it; staff export again).

An erasure lists these files in its plan (``erasure.json``, section
``own_copies``: "garde's own copies"), before anything changes, and removes
them once the databases are erased; removing a file already gone is
nothing, so a resumed erasure removes the rest. The erasure report of an
earlier erasure stays: it holds table names, keys and reasons, and is the
proof of what was done.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from email import message_from_bytes, policy
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde.datasets import row_identity
from garde.private_files import write_private
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment
from garde.rights.held import engine_subjects
from garde.rights.intake import Request
from garde.rights.tables import requests

MANIFEST = "copies.json"
KEPT = ("erasure.json",)  # the proof of an earlier erasure: names, keys and reasons, no values


def copy_answer(deployment: Deployment, request_id: str, source: Path, target: Path) -> Path:
    """Copy an answer file elsewhere and record the copy, so an erasure of the subject finds it."""
    write_private(target, source.read_bytes())  # owner-only, like the answer it copies
    manifest = deployment.folder(request_id) / MANIFEST
    recorded = _recorded(manifest)
    if str(target.resolve()) not in recorded:
        write_private(manifest, json.dumps([*recorded, str(target.resolve())], indent=2))
    return target


def _recorded(manifest: Path) -> list[str]:
    if not manifest.is_file():
        return []
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return [str(p) for p in data] if isinstance(data, list) else []


def subject_requests(conn: sa.Connection, request: Request, identities: Mapping[str, Iterable[str]],
                     subject_ids: Iterable[str] | None = None) -> list[str]:
    """Ids of the subject's other requests: of the engine subjects holding one of the identities found
    (:func:`garde.rights.held.engine_subjects`; ``subject_ids``: those subjects, when the caller has
    them already)."""
    subject_ids = set(engine_subjects(conn, request.subject_id, identities) if subject_ids is None
                      else subject_ids)
    if not subject_ids:
        return []
    query = sa.select(requests.c.id).where(requests.c.subject_id.in_(sorted(subject_ids)),
                                           requests.c.id != request.id)
    return sorted(conn.execute(query).scalars())


def own_copies(deployment: Deployment, request: Request, others: Iterable[str],
               emails: Iterable[str], outbox: Path | None,
               phones: Iterable[str] = ()) -> list[dict[str, Any]]:
    """garde's files holding the subject's data: earlier answers, their copies, the mails and text
    messages sent to them."""
    found: list[dict[str, Any]] = []
    for other in others:
        folder = deployment.results / other
        if folder.is_dir():
            report_ready(folder, deployment.results)  # the files the plan lists are the ones there will be
            for path in sorted(folder.iterdir()):
                if path.is_file() and path.name not in KEPT and path.name != MANIFEST:
                    found.append({"file": str(path), "kind": "answer", "request": other})
            for copy in _recorded(folder / MANIFEST):
                found.append({"file": copy, "kind": "published copy", "request": other})
    for copy in _recorded(deployment.results / request.id / MANIFEST):
        found.append({"file": copy, "kind": "published copy", "request": request.id})
    if outbox is not None and outbox.is_dir():
        addresses = {e.strip().lower() for e in emails}
        mentions = {request.id, *others}
        for path in sorted(outbox.glob("*.eml")):
            if _to_subject(path, addresses, mentions):
                found.append({"file": str(path), "kind": "message"})
        numbers = set(phones)
        for path in sorted(outbox.glob("*.sms")):
            if _text_to_subject(path, numbers, mentions):
                found.append({"file": str(path), "kind": "message"})
    exports = deployment.exports
    if exports is not None and exports.is_dir():
        region = deployment.phone_region
        wanted = {row_identity(kind, value, region) for kind, values in (("email", emails), ("phone", phones))
                  for value in values} - {None}
        for path in sorted([*exports.glob("*.csv"), *exports.glob("*.csv.part")]):
            if path.is_file() and not path.is_symlink() and _export_names(path, wanted, region):
                found.append({"file": str(path), "kind": "audience export"})
    return found


def _export_names(path: Path, identities: set[str | None], region: str | None) -> bool:
    """An audience CSV with a cell holding one of ``identities`` (e-mails and phones in their normal
    form), however the cell spells it (made inert with a leading quote, another spelling of it)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle):
            for cell in row:
                value = cell.removeprefix("'").strip()
                kind = "email" if "@" in value else "phone" if value[:1] in tuple("+0123456789") else None
                if kind and value and row_identity(kind, value, region) in identities:
                    return True
    return False


def _text_to_subject(path: Path, numbers: set[str], mentions: set[str]) -> bool:
    """A text message (the file mailer's ``To: number``, blank line, body) to one of the subject's
    phones (however the number was written), or about one of their requests."""
    head, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n\n")
    to = row_identity("phone", head.removeprefix("To: ").strip())
    return to in numbers or any(mention in body for mention in mentions)


def _to_subject(path: Path, addresses: set[str], mentions: set[str]) -> bool:
    """A message addressed to one of the subject's e-mails, or about one of their requests."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    to = {address.lower() for _, address in getaddresses(message.get_all("To", []))}
    if to & addresses:
        return True
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return any(mention in text or mention in str(message["Subject"] or "") for mention in mentions)


def remove(copies: Iterable[Mapping[str, Any]]) -> list[str]:
    """Delete the files (idempotent: one already gone is skipped); every file listed, now gone."""
    gone = []
    for copy in copies:
        Path(copy["file"]).unlink(missing_ok=True)
        gone.append(str(copy["file"]))
    return gone
