"""The intermediate archive of a table: a separate table the live application does not read.

A table whose rows a retention rule archives (``action: archive`` in the
register) names its archive in the data map::

    invoices:
      ...
      archive:
        table: invoices_archive          # same database: a row moves in one transaction
        archived_at: archived_at         # the column the sweep sets (default: archived_at)
        description: Read by the accounting role only (GRANT SELECT ... TO accounting)

The archive table has every column of the live table, plus ``archived_at``,
and no foreign key (its rows outlive the live rows they pointed at). The
loader derives its annotations from the live table's (:func:`archive_table`):
same subject, identities, references and columns, the live timestamps plus
``archiving: archived_at``, so requests find archived rows as they find live
ones and the retention sweep purges them at the rule's ``archive.until``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from garde.datasets.model import DataMap, TableMap

#: The trigger event whose date is the archive's ``archived_at`` column.
ARCHIVING = "archiving"
ARCHIVE_FIELDS = ("table", "archived_at", "description")
_SUFFIX = {"fr": "archive", "en": "archive", "it": "archivio"}


@dataclass(frozen=True)
class ArchiveMap:
    """Where a table's archived rows go: ``table`` (same database), stamped in ``archived_at``."""

    table: str
    archived_at: str = "archived_at"
    description: str | None = None

    def to_data(self) -> str | dict[str, Any]:
        data: dict[str, Any] = {"table": self.table}
        if self.archived_at != "archived_at":
            data["archived_at"] = self.archived_at
        if self.description:
            data["description"] = self.description
        return data if len(data) > 1 else self.table


def archive_table(live: TableMap, archive: ArchiveMap) -> TableMap:
    """The annotations of ``live``'s archive table: the live table's, plus when each row was archived."""
    label = {lang: f"{live.label_in(lang)} ({_SUFFIX.get(lang, 'archive')})" for lang in {"en", *live.label}}
    return TableMap(database=live.database, name=archive.table, primary_key=live.primary_key,
                    subject=live.subject, identities=dict(live.identities), authoritative=live.authoritative,
                    owner=live.owner,
                    references=dict(live.references),
                    timestamps={**live.timestamps, ARCHIVING: archive.archived_at},
                    columns=dict(live.columns), identifiable=live.identifiable,
                    description=archive.description or f"intermediate archive of {live.name}",
                    label=label, archive_of=live.name)


def archive_warnings(datamap: DataMap) -> list[str]:
    """Where the data map and its registers disagree on archiving (shown, never an error): a rule that
    archives a table's data while the table names no archive (its rows stay live: the retention plan
    says so), or an archive that no rule fills."""
    from garde.register import load_register  # the register of each dataset, as its loader read it

    out: list[str] = []
    for dataset in datamap.datasets.values():
        if dataset.register is None:
            continue
        register = load_register(Path(dataset.file).parent / dataset.register)
        for table in dataset.tables.values():
            if table.archive_of is not None:
                continue
            archiving = sorted({f"{activity.id} ('{rule.rule}')" for column in table.columns.values()
                                for activity in map(register.activity, column.activities) if activity
                                for rule in activity.retention if rule.action == "archive"
                                and covers(rule.categories, column.category)})
            if archiving and table.archive is None:
                out.append(f"{table.ref}: {', '.join(archiving)} archives its data, but the table names no "
                           "archive (`archive:`): its rows stay in the live table")
            elif table.archive is not None and not archiving:
                out.append(f"{table.ref}: archive {table.archive.table} declared, but no rule of its "
                           "activities archives its data: nothing will be moved there")
    return out


def covers(categories: list[str], category: str) -> bool:
    """Whether a rule with ``categories`` (none: all) applies to ``category`` or its parent."""
    return not categories or any(category == c or category.startswith(c + ".") for c in categories)
