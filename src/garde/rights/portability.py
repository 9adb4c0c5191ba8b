"""The answer to a portability request (GDPR Art. 20): JSON and CSV in a zip.

Only data the subject *provided* (the category's ``origin`` in the
vocabulary) and processed on *consent* or *contract* (Art. 20(1)(a)): a
column qualifies when one of its activities rests on one of those bases.
Observed and derived data, and data processed only on other bases, stay out;
so do secrets (credentials), whatever their basis, as in the access answer.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from garde.datasets import ColumnMap, Footprint, TableMap
from garde.documents.spreadsheet import CsvWriter
from garde.private_files import open_private_binary
from garde.rights.access import subject_rows
from garde.rights.deployment import Deployment, plain
from garde.rights.intake import Request
from garde.rights.shared import Shared, theirs_alone, withheld

PORTABLE_BASES = {"consent", "contract"}


def portable_columns(deployment: Deployment, table: TableMap) -> list[ColumnMap]:
    """The columns of ``table`` that Art. 20 covers, secrets (credentials) excepted."""
    chosen = []
    for column in table.columns.values():
        if deployment.category_origin(column.category) != "provided" or deployment.is_secret(column.category):
            continue
        bases = set()
        for activity_id in column.activities:
            activity = deployment.activity(table.database, activity_id)
            if activity is not None:
                bases |= activity.bases()
        if bases & PORTABLE_BASES:
            chosen.append(column)
    return chosen


def build_portability(deployment: Deployment, footprint: Footprint,
                      shared: Shared | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{"shop.customers": [{column: value}, ...]}`` with only the portable columns; of a row that is
    another person's (``shared``, :mod:`garde.rights.shared`), the subject's identities alone."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ref, rows in subject_rows(deployment, footprint).items():
        table = deployment.datamap.table(ref)
        names = [c.name for c in portable_columns(deployment, table)]
        if names:
            # An identity of a claimed row not proven to be the subject's may be someone else's.
            out[str(ref)] = [{name: None if name in hidden else plain(row.get(name)) for name in names}
                             for row in rows if not theirs_alone(shared, ref, row.get(table.primary_key))
                             for hidden in (withheld(footprint, shared, ref, row),)]
    return out


def write_portability(request: Request, deployment: Deployment, footprint: Footprint,
                      shared: Shared | None = None) -> dict[str, Any]:
    """Write ``portability.zip``: ``data.json`` as stored, and one CSV per table for a spreadsheet
    (text a spreadsheet would run as a formula starts with ``'``, see :mod:`garde.documents.spreadsheet`)."""
    data = build_portability(deployment, footprint, shared)
    path = deployment.folder(request.id) / "portability.zip"
    with open_private_binary(path, within=deployment.results) as handle, \
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for name, rows in data.items():
            buffer = io.StringIO()
            writer = CsvWriter(buffer, as_held=True)  # their data as held
            columns = list(rows[0]) if rows else []
            writer.writerow(columns)
            writer.writerows([row[column] for column in columns] for row in rows)
            archive.writestr(f"{name}.csv", buffer.getvalue())
    return {"file": str(path), "tables": {name: len(rows) for name, rows in data.items()}}
