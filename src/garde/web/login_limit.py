"""Login attempts per address: after :data:`FAILURES` wrong keys in :data:`WINDOW`, that address is
refused (429) until the oldest failure leaves the window.

A dpo key has 256 random bits: nobody guesses one. The limit keeps a guesser from filling the
logs and the store's connections. The counter is in the process's memory (each worker of
`garde serve` counts its own); a store-backed limiter shared by the workers is to replace it.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from threading import Lock

FAILURES = 10
WINDOW = 15 * 60.0
ADDRESSES = 10_000  # the oldest addresses are forgotten past this many: memory stays bounded


class LoginLimit:
    def __init__(self, failures: int = FAILURES, window: float = WINDOW) -> None:
        self.failures, self.window = failures, window
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = Lock()

    def _recent(self, address: str, moment: float) -> deque[float]:
        times = self._seen.get(address, deque())
        while times and times[0] <= moment - self.window:
            times.popleft()
        return times

    def refused(self, address: str) -> bool:
        """Has ``address`` used up its failures?"""
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self.failures

    def failed(self, address: str) -> None:
        with self._lock:
            moment = time.monotonic()
            times = self._recent(address, moment)
            times.append(moment)
            self._seen[address] = times
            self._seen.move_to_end(address)
            while len(self._seen) > ADDRESSES:
                self._seen.popitem(last=False)
