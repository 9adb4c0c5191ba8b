"""A coroutine run to its end on an event loop of its own, in a thread of its own.

A test's thread may still run a browser test's event loop (Playwright's sync API, in the same
xdist worker): ``asyncio.run()`` there refuses to start, and the coroutine it leaves never awaited
fails an unrelated test later. Tests run their coroutines through :func:`run_in_own_loop`
(``tests/test_tests_event_loops.py`` keeps it so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``coroutine``'s result, run by ``asyncio.run`` in a new thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
