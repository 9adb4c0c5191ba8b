"""No test calls ``asyncio.run()`` in its own thread: a browser test's event loop may still run there
(CI failed on it twice, 2026-12-06). Coroutines go through ``tests.own_loop.run_in_own_loop``."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
ALLOWED = {"own_loop.py"}


def _bare_runs(path: Path) -> list[int]:
    """Lines of ``asyncio.run(...)`` / ``loop.run_until_complete(...)`` calls in ``path``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                (node.func.attr == "run" and isinstance(node.func.value, ast.Name)
                 and node.func.value.id == "asyncio")
                or node.func.attr == "run_until_complete"):
            lines.append(node.lineno)
    return lines


def test_no_test_runs_an_event_loop_in_its_own_thread() -> None:
    found = {path.name: lines for path in sorted(TESTS.glob("*.py"))
             if path.name not in ALLOWED and (lines := _bare_runs(path))}
    assert found == {}, f"use tests.own_loop.run_in_own_loop instead of asyncio.run in: {found}"
