"""A decision point that counts the statements it sends to the store: the tests of kept facts
assert on it, and ``benchmarks/bench_decide_store.py`` reports it per decision."""

from __future__ import annotations

from typing import Any

from garde.decide import DecisionPoint


class Counting(DecisionPoint):
    """A decision point that counts the statements it sends to the store."""

    statements = 0

    def _run(self, sql: str, args: Any = ()) -> list[Any]:
        self.statements += 1
        return super()._run(sql, args)

    def _first(self, sql: str, args: Any) -> Any:
        return self._run(sql, args)[0]  # counted there
