"""The threads that serve ``POST /decisions``: each keeps its own connection and its own
:class:`~garde.decide.DecisionPoint` for as long as the app runs.

A decision reads the store twice (the caller's key, then the subject's facts). Made per request,
a point and a key check each took a connection from the pool and gave it back, and SQLAlchemy
set and reset the connection's isolation level each time: ≈ 0.35 ms of the ≈ 1.1 ms of server
CPU a decision cost (docs/performance.md). Here a fixed set of ``threads`` threads each holds one
connection in autocommit for the key and one point (with its own connection) for the decisions:
nothing is checked out per request, and the pool is sized to the threads (two connections each,
from an engine of their own), so a thread never waits for a connection.

Nothing is cached: every request reads its key's row (a revocation is refused by the next
request, in every process) and the subject's facts. A request waits for a free thread on the
event loop, never on a thread of the pool. Each thread is used by one request at a time, so its
point (whose actor is set to the caller's key for each decision) and connections are its own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa

from garde.api.auth import Pending
from garde.api.keys import ApiKey
from garde.audit import AuditWriter
from garde.decide import DecisionPoint
from garde.decide.model import DecisionModel
from garde.store import connect

T = TypeVar("T")


@dataclass
class Seat:
    """What one decision thread holds: a connection for the key check, and a decision point."""

    connection: sa.Connection
    point: DecisionPoint

    def key(self, caller: Pending) -> ApiKey:
        """The caller's live key, read on this seat's connection (401 or 403 otherwise); a
        connection the server dropped is opened again once."""
        for attempt in (1, 2):
            try:
                return caller.key(self.connection)
            except self.connection.dialect.loaded_dbapi.OperationalError:
                if attempt == 2:
                    raise
                self.connection.invalidate()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.point.close()
        self.connection.close()


class DecisionThreads:
    """``threads`` threads, each with its :class:`Seat`; :meth:`run` calls a function in one of them."""

    def __init__(self, url: str, model: DecisionModel, audit: AuditWriter, threads: int) -> None:
        self.threads = max(1, threads)
        # two connections a thread, never more: no thread waits for the pool
        self.engine = connect(url, pool_size=2 * self.threads, max_overflow=0)
        self.model, self.audit = model, audit
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="garde-decide")
        self._local = threading.local()
        self._seats: list[Seat] = []
        self._lock = threading.Lock()

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(seat, *args)`` in a decision thread; its answer, or its error."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(self._in_thread, call, *args))

    def _in_thread(self, call: Callable[..., T], *args: Any) -> T:
        seat: Seat | None = getattr(self._local, "seat", None)
        if seat is None:
            seat = self._local.seat = self._seat()
        try:
            return call(seat, *args)
        except seat.connection.dialect.loaded_dbapi.Error as exc:  # read through the driver itself:
            driver = seat.connection.dialect.loaded_dbapi  # SQLAlchemy's error, which the API maps (503)
            raise sa.exc.DBAPIError.instance(None, None, exc, driver.Error) from exc

    def _seat(self) -> Seat:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        seat = Seat(connection, DecisionPoint(self.model, self.engine, audit=self.audit))
        with self._lock:
            self._seats.append(seat)
        return seat

    def close(self) -> None:
        """Wait for the decisions under way, then release every connection."""
        self._executor.shutdown(wait=True)
        with self._lock:
            seats, self._seats = self._seats, []
        for seat in seats:
            seat.close()
        self.engine.dispose()
