"""A decision point that counts the statements it sends to the store: the tests of kept facts
assert on it, and ``benchmarks/bench_decide_store.py`` reports it per decision."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from garde.decide import DecisionPoint


class Counting(DecisionPoint):
    """A decision point that counts the statements it sends to the store: through :meth:`_run`,
    and through the driver's cursor it keeps for the counters' check (``decide()`` runs it inline)."""

    statements = 0

    def _run(self, sql: str, args: Any = ()) -> list[Any]:
        self.statements += 1
        return super()._run(sql, args)

    def _own(self) -> sa.Connection:
        connection = super()._own()
        if self._cursor is not None and not isinstance(self._cursor, _CountedCursor):
            self._cursor = _CountedCursor(self._cursor, self)
        return connection


class _CountedCursor:
    def __init__(self, cursor: Any, point: Counting) -> None:
        self.cursor, self.point = cursor, point

    def execute(self, sql: str, args: Any = ()) -> Any:
        self.point.statements += 1
        return self.cursor.execute(sql, args)
