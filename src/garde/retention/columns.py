"""What the business database says about the columns a mask would set to NULL.

A row that stays (a child row still points at it, or its rule anonymises)
has its due columns masked; a column whose ``erase`` says ``delete`` or
``null`` is masked with NULL. A column the database declares NOT NULL would
refuse that, so the sweep looks first — one reflection per table, only for
tables with such a column — and decides before anything runs:

- a NOT NULL **text** column takes :data:`PLACEHOLDER`,
  ``expired:<database>.<table>:<key>``: not derived from the value (a hash of
  an e-mail is still personal data), distinct per row (a unique constraint
  holds, nothing links two expired rows), and a fixed point, so masking it
  again changes nothing;
- a NOT NULL column of another type has no neutral value: it is **not
  masked**, and the plan says so (``refused``), asking for a declared
  strategy (``fixed`` with a value) or a nullable column. The rest of the
  sweep runs; it never fails halfway on a constraint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets import DataMap, Masking, TableRef

#: The value a NOT NULL text column takes instead of NULL (``{table}``: ``database.table``).
PLACEHOLDER = "expired:{table}:{key}"


@dataclass(frozen=True)
class ColumnFacts:
    """What reflection says about one column."""

    nullable: bool
    text: bool


Facts = Mapping[TableRef, Mapping[str, ColumnFacts]]


def masks_to_null(masking: Masking) -> bool:
    """Whether masking writes NULL (``delete`` drops the row on erasure, but masks a column with NULL)."""
    return masking.strategy in ("delete", "null") or (masking.strategy == "fixed" and masking.value is None)


def reflect(datamap: DataMap, engines: Mapping[str, Engine]) -> dict[TableRef, dict[str, ColumnFacts]]:
    """Nullability and type of the columns of every table with a column masked to NULL.

    A table the database does not have is left out: the plan's first
    statement on it names the problem.
    """
    out: dict[TableRef, dict[str, ColumnFacts]] = {}
    inspectors: dict[str, sa.Inspector] = {}
    for table in datamap:
        if not any(masks_to_null(c.erase) for c in table.columns.values()):
            continue
        if table.database not in inspectors:
            inspectors[table.database] = sa.inspect(engines[table.database])
        try:
            columns = inspectors[table.database].get_columns(table.name)
        except sa.exc.NoSuchTableError:
            continue
        out[table.ref] = {str(c["name"]): ColumnFacts(bool(c.get("nullable", True)),
                                                      isinstance(c["type"], sa.String))
                          for c in columns}
    return out


def fit(masking: Masking, facts: ColumnFacts | None) -> tuple[bool, str | None]:
    """``(placeholder, refused)`` for a column: use :data:`PLACEHOLDER`, or why it cannot be masked."""
    if facts is None or facts.nullable or not masks_to_null(masking):
        return False, None
    if facts.text:
        return True, None
    return False, ("NOT NULL and not text: its mask would write NULL; declare `erase: {strategy: fixed, "
                   "value: ...}` or make the column nullable")
