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
from contextlib import AbstractContextManager

import pytest

from garde.rights.intake import get_request
from garde.rights.run_lock import RequestRunning, request_run_lock
from garde.rights.running import run
from tests.conftest import held_in_another_process
from tests.test_rights_requests import Shop, ana_keys, shop, verified  # noqa: F401 (fixture)


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
