"""A minimal rate limit for the banner's public write route: so many choices per client address a
minute, counted in this server process.

It stops one browser or script from filling the ledger in a loop; it is not shared between server
processes (``--workers N`` allows N times the limit). The store-backed limits of the API
(``garde/ratelimit.py``) replace it when they land.
"""

from __future__ import annotations

import threading
import time


class Window:
    """At most ``limit`` calls per key in each window of ``seconds`` (a fixed window)."""

    MAX_KEYS = 100_000  # past this many addresses in one window, the oldest window is dropped whole

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self._started = time.monotonic()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        with self._lock:
            moment = time.monotonic()
            if moment - self._started >= self.seconds or len(self._counts) >= self.MAX_KEYS:
                self._started, self._counts = moment, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
            return count <= self.limit
