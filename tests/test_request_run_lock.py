"""One run of a request at a time: a second `request run` while one works is refused and changes nothing.

Before the lock, two runs of one verified erasure both moved it to
``in_progress``, both executed it, and the loser failed completing it. The
holder here is a real second process, on SQLite (a byte-range lock beside
the store) and on PostgreSQL (a session advisory lock); a holder killed with
SIGKILL leaves no stale lock behind.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from garde.rights.intake import get_request
from garde.rights.run_lock import RequestRunning, request_run_lock
from garde.rights.running import run
from tests.conftest import held_in_another_process
from tests.test_rights_requests import Shop, ana_keys, shop, verified  # noqa: F401 (fixture)

T = TypeVar("T")


def run_held_elsewhere(url: str, request_id: str) -> AbstractContextManager[subprocess.Popen[str]]:
    """Another process holding the run lock of ``request_id`` until the block ends."""
    return held_in_another_process(
        "from garde.rights.run_lock import request_run_lock\nfrom garde.store import connect",
        f"request_run_lock(connect({url!r}), {request_id!r})")


def test_a_second_run_of_one_request_is_refused_and_changes_nothing(shop: Shop) -> None:  # noqa: F811
    keys = ana_keys(shop)
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    with run_held_elsewhere(str(shop.store.url.render_as_string(hide_password=False)), request_id):
        with pytest.raises(RequestRunning, match="is being run by another process"):
            run(shop.store, request_id[:8], shop.deployment)
        with shop.store.connect() as conn:
            assert get_request(conn, request_id).status == "verified"  # not moved, not executed
        assert ana_keys(shop) == keys
    assert run(shop.store, request_id, shop.deployment).status == "completed"  # released with its holder


def test_a_killed_run_leaves_no_stale_lock(shop: Shop) -> None:  # noqa: F811
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    with run_held_elsewhere(str(shop.store.url.render_as_string(hide_password=False)), request_id) as child:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert run(shop.store, request_id, shop.deployment).status == "completed"


def test_runs_of_one_request_in_one_process_are_one_at_a_time(shop: Shop) -> None:  # noqa: F811
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    other = verified(shop, "access", {"email": "ana@example.org"})
    with request_run_lock(shop.store, request_id):
        with pytest.raises(RequestRunning):
            run(shop.store, request_id, shop.deployment)
        assert run(shop.store, other, shop.deployment).status == "completed"  # another request runs
    assert run(shop.store, request_id, shop.deployment).status == "completed"


def _store_trace(shop: Shop, tmp_path: Path, action: Callable[[], T]) -> tuple[T, list[list[str]]]:  # noqa: F811
    """What ``action`` returns, and what the client sent on the store's connections meanwhile (libpq's
    protocol trace), cut at each wait: each part ends with a ``Sync`` (or is a simple ``Query``)."""
    trace = tmp_path / "store.trace"
    with trace.open("w") as out:
        def traced(raw: Any, _record: Any, _proxy: Any) -> None:
            raw.pgconn.trace(out.fileno())

        shop.store.pool.dispose()  # every connection of the run is a new one, checked out traced
        sa.event.listen(shop.store, "checkout", traced)
        try:
            result = action()
        finally:
            sa.event.remove(shop.store, "checkout", traced)
            shop.store.pool.dispose()
    parts: list[list[str]] = [[]]
    for line in trace.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) > 3 and fields[1] == "F":
            parts[-1].append("\t".join(fields[3:]))
            if fields[3].split(" ")[0] in ("Sync", "Query"):
                parts.append([])
    return result, parts


def test_the_run_lock_is_taken_and_left_with_the_runs_own_round_trips(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """On PostgreSQL the lock's take goes in the pipeline of the start's reads (the request is read
    after it, in the same wait; nothing is sent before it but the transaction's BEGIN) and its release
    behind the completion's COMMIT (the same wait): two waits fewer a run. Before, each was a round
    trip of its own. A run refused because another process holds the lock still changes nothing
    (above); here the lock is free again after the run."""
    if shop.store.dialect.name != "postgresql":
        pytest.skip("round trips are PostgreSQL's")
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    done, parts = _store_trace(shop, tmp_path, lambda: run(shop.store, request_id, shop.deployment))
    assert done.status == "completed"
    taking = [i for i, part in enumerate(parts) if any("pg_try_advisory_lock" in sent for sent in part)]
    assert len(taking) == 1 and any("SELECT requests.id" in sent for sent in parts[taking[0]]), parts
    # the run's first statement: before it, only the BEGIN of the transaction it is in
    assert all("BEGIN" in part[0] for part in parts[:taking[0]]) and taking[0] <= 1, parts[:taking[0] + 1]
    leaving = [part for part in parts if any("pg_advisory_unlock" in sent for sent in part)]
    assert len(leaving) == 1, leaving
    sent = leaving[0]
    commit = next(i for i, text in enumerate(sent) if '"COMMIT"' in text)
    assert commit < next(i for i, text in enumerate(sent) if "pg_advisory_unlock" in text)
    with run_held_elsewhere(str(shop.store.url.render_as_string(hide_password=False)), request_id):
        pass  # another process takes the lock at once: the run left it
