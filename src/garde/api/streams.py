"""A streamed answer keeps asking whether its caller's key still holds.

A stream (``POST /audiences``, ``GET /audit/export``) may run for minutes; its key was checked when
the call began. :func:`watched` reads the key again from the store at most every
:data:`CHECK_EVERY` seconds while pieces are sent (one indexed read a second: nothing beside the
rows' own reading), and when the key is no longer live (revoked since) it stops reading, sends a
last piece the client can tell from data (``marker``: a CSV row or a JSON line saying the answer is
cut and why), and records ``api.stream_interrupted`` in the audit log (route, key, pieces sent).
The rows' own generator is closed there: an audience cut short records no ``audience`` entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from garde import audit
from garde.api.keys import ApiKey, authenticate
from garde.store.transactions import retried

CHECK_EVERY = 1.0  # seconds between two reads of the key while a stream answers
INTERRUPTED = "api.stream_interrupted"
REASON = "key_revoked"


def watched(pieces: Iterator[str], *, engine: sa.Engine, key: ApiKey, token: str, route: str,
            marker: Callable[[str], str], every: float = CHECK_EVERY) -> Iterator[str]:
    """``pieces`` as they come, while ``token`` (``key``'s) stays live; else ``marker(REASON)`` last,
    audited."""
    clock = time.monotonic
    due = clock() + every
    sent = 0
    try:
        for piece in pieces:
            if clock() >= due:
                if not _live(engine, token):
                    _record(engine, key, route, sent)
                    yield marker(REASON)
                    return
                due = clock() + every
            yield piece
            sent += 1
    finally:
        close(pieces)


def close(iterator: Iterator[object]) -> None:
    """Close ``iterator`` if it is a generator (its ``finally`` blocks run now, their connections
    closed), rather than whenever the collector finds it."""
    ending = getattr(iterator, "close", None)
    if ending is not None:
        ending()


def _live(engine: sa.Engine, token: str) -> bool:
    with engine.connect() as conn:
        return authenticate(conn, token) is not None


def _record(engine: sa.Engine, key: ApiKey, route: str, sent: int) -> None:
    def recording(conn: sa.Connection) -> None:
        audit.record(conn, INTERRUPTED, {"route": route, "key": key.name, "reason": REASON,
                                         "pieces_sent": sent}, actor=key.actor)

    retried(engine, recording, what="a stream cut audited")
