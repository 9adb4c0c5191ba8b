"""Legal holds as a retention sweep sees them: what they keep, found once per plan or sweep.

A table-scope hold (``shop.invoices``) keeps the whole table; an
activity-scope hold (``recruitment``) makes that activity's rules never
expire, so every column it uses stays; a subject-scope hold keeps every row
of one data subject. The store keeps no raw identifier (only HMACs), so a
subject hold names an identity the way a request does, ``kind:value``
(``email:alice@example.com``, ``customer_id:C000042``); the subject's rows
are found with :func:`garde.datasets.find_subject`, across every database,
and their primary keys are excluded from every predicate. A subject hold
whose scope is not such an identity cannot be honoured: a sweep refuses to
run rather than delete what it may cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets import DataMap, TableRef, find_subject
from garde.legal_holds import LegalHold, active_holds, digested_scope
from garde.problems import GardeError


@dataclass
class Holds:
    """The active holds, and the rows subject holds keep."""

    holds: list[LegalHold] = field(default_factory=list)
    keys: dict[TableRef, set[Any]] = field(default_factory=dict)
    rows: dict[int, dict[str, int]] = field(default_factory=dict)
    unresolved: dict[int, str] = field(default_factory=dict)

    def activities(self) -> dict[str, str]:
        return {h.scope: h.reason for h in self.holds if h.scope_kind == "activity"}

    def tables(self) -> dict[str, str]:
        return {h.scope: h.reason for h in self.holds if h.scope_kind == "table"}

    def check(self) -> None:
        """Refuse to sweep while a subject hold cannot be located."""
        if self.unresolved:
            problems = "; ".join(f"hold {i}: {why}" for i, why in sorted(self.unresolved.items()))
            raise GardeError(f"legal holds cannot be honoured, nothing was swept: {problems}")

    def to_data(self, digest_key: bytes | None = None) -> list[dict[str, Any]]:
        """The holds as data; with ``digest_key`` (the store's identifier data key), each subject hold's
        identity by its keyed digest, as the audit log names it: for readers trusted with no subject
        (an ``auditor`` key reading the plan; red team of 2026-12-08)."""
        def scope(hold: LegalHold) -> str:
            if digest_key is None or hold.scope_kind != "subject":
                return hold.scope
            return digested_scope(digest_key, hold.scope)

        def problem(hold: LegalHold) -> str | None:
            found = self.unresolved.get(hold.id)
            if found is None or scope(hold) == hold.scope:
                return found
            return found.replace(hold.scope, scope(hold))  # a scope it could not read, quoted

        return [{"id": h.id, "scope_kind": h.scope_kind, "scope": scope(h), "reason": h.reason,
                 "ends_at": h.ends_at.isoformat() if h.ends_at else None,
                 "rows": self.rows.get(h.id, {}), "problem": problem(h)} for h in self.holds]


def gather_holds(store: sa.Connection, datamap: DataMap, engines: Mapping[str, Engine],
                 at: datetime | None = None) -> Holds:
    """The holds in force at ``at``, with the primary keys each subject hold keeps."""
    found = Holds(holds=active_holds(store, at))
    known = set(datamap.identity_kinds())
    for hold in found.holds:
        if hold.scope_kind == "table":
            database, _, table = hold.scope.partition(".")
            if database not in datamap.datasets or table not in datamap.datasets[database].tables:
                found.unresolved[hold.id] = f"no table {hold.scope!r} in the data map"
            continue
        if hold.scope_kind != "subject":
            continue
        kind, sep, value = hold.scope.partition(":")
        if not sep or kind not in known:
            found.unresolved[hold.id] = (f"subject scope {hold.scope!r} is not an identity `kind:value` "
                                         f"with kind one of {', '.join(sorted(known)) or 'none'}")
            continue
        footprint = find_subject(datamap, engines, {kind: value})
        found.rows[hold.id] = footprint.counts()
        for ref, keys in footprint.keys.items():
            found.keys.setdefault(ref, set()).update(keys)
    return found
