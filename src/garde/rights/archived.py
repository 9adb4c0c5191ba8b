"""What an access answer says of a row read from an intermediate archive (``docs/requests.md``).

Rows of an archive table (``archive:`` in the data map) are the subject's data like any other
(Art. 15(1)); each is marked as archived, with the day it entered the archive and the day the
retention sweep will delete it (Art. 15(1)(d)), as the register's rule and the row's own dates set it.
"""

from __future__ import annotations

from typing import Any

from garde import audit
from garde.datasets import Footprint, TableMap
from garde.documents.wording import Wording
from garde.retention.archive import archive_limits_of, archived_until
from garde.retention.forecast import day_of
from garde.rights.deployment import Deployment
from garde.rights.wording import strings


def archived_note(deployment: Deployment, table: TableMap, row: dict[str, Any],
                  lang: str) -> dict[str, Any] | None:
    """``{archived_at, deleted_on, text}`` for a row of an archive table; None for a live table's row."""
    if table.archive_of is None:
        return None
    limits = deployment.cached(("archive_limits", table.ref), lambda: archive_limits_of(
        deployment.datamap, deployment.register(table.database), table))
    archived = day_of(row.get(table.timestamps.get("archiving", "archived_at")))
    deleted = archived_until(table, limits, row)
    words = strings(lang)["report"]
    wording = Wording(lang, lang)
    text = words["archived"].format(archived=wording.date(archived) if archived else "—")
    if deleted is not None:
        text += words["archived_until"].format(deleted=wording.date(deleted))
    return {"archived_at": archived.isoformat() if archived else None,
            "deleted_on": deleted.isoformat() if deleted else None, "text": text}


def archive_reads(deployment: Deployment, footprint: Footprint, request_id: str, request_type: str,
                  subject_id: str | None, actor: str) -> list[audit.Event]:
    """The audit entry of a request that read intermediate archives: which, how many rows. Reading an
    archive is restricted, so each reading is on record, in the transaction that completes the request."""
    read = {str(ref): len(footprint.keys[ref]) for ref in footprint.tables()
            if deployment.datamap.table(ref).archive_of is not None}
    if not read:
        return []
    return [audit.Event("archive.read", {"request": request_id, "type": request_type, "tables": read},
                        subject_id, actor)]
