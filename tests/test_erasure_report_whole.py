"""An erasure's report is replaced whole, or not at all, when its run completes.

``erasure.json`` is written when the plan is stored, and written again when the steps are applied (its
status, the own copies removed, the statements counted). A resumed run reads it: it cannot be made
again once rows are gone. Written over in place, a disk that fills up (or a machine that stops) in the
middle of that second write left a truncated file: the proof of what was erased was lost and the
request could never be run again. Now the new report is written under a hidden name and renamed over
the old one once whole, on the disk (``fsync``) before the request's completion commits.

The disk filling up is the operating system's answer to a write (``ENOSPC``), given here to the one
write that carries the completed report, half of it written first; SQLite and PostgreSQL.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

import garde.private_files
from garde.problems import GardeError
from garde.rights.intake import get_request
from garde.rights.running import run
from tests.test_answer_files_durable import note_flushes
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)


class _DiskFillsUp:
    """A file opened by garde.private_files whose writes fail with ``ENOSPC`` (half the bytes
    written first) when they carry an erasure report that says it is completed (once)."""

    def __init__(self, handle: Any, state: dict[str, bool]) -> None:
        self.handle, self.state = handle, state

    def write(self, data: bytes) -> int:
        if not self.state["failed"] and b'"status"' in data and _completed(data):
            self.state["failed"] = True
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self.handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> _DiskFillsUp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _completed(data: bytes) -> bool:
    try:
        report = json.loads(data)
    except ValueError:
        return False
    return isinstance(report, dict) and "erased" in report and report.get("status") == "completed"


def test_a_disk_full_at_the_completed_report_loses_nothing(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    state = {"failed": False}

    def opening(*args: Any, **kwargs: Any) -> Any:
        return _DiskFillsUp(open(*args, **kwargs), state)

    monkeypatch.setattr(garde.private_files, "open", opening, raising=False)
    with pytest.raises(GardeError, match="No space left"):
        run(shop.store, request_id, shop.deployment)
    monkeypatch.undo()
    assert state["failed"]
    folder = shop.deployment.results / request_id
    kept = json.loads((folder / "erasure.json").read_text(encoding="utf-8"))  # the plan's report, whole
    assert kept["erased"] and kept.get("status") != "completed"
    assert [path.name for path in folder.iterdir() if path.name.startswith(".")] == []  # nothing half-made
    done = run(shop.store, request_id, shop.deployment)  # the run again, as staff would
    assert done.status == "completed", done
    report = json.loads((folder / "erasure.json").read_text(encoding="utf-8"))
    assert report["status"] == "completed" and report["erased"] == kept["erased"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the descriptors' paths from /proc")
def test_the_completed_report_is_on_the_disk_before_the_request_completes(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    folder = (shop.deployment.results / request_id).resolve()

    def now() -> tuple[bool, str]:  # what a machine stopping now would find: the file, the request
        try:
            completed = json.loads((folder / "erasure.json").read_bytes()).get("status") == "completed"
        except (OSError, ValueError):
            completed = False
        with shop.store.connect() as conn:  # another connection
            return completed, get_request(conn, request_id).status

    flushed = note_flushes(monkeypatch, now)
    done = run(shop.store, request_id, shop.deployment)
    monkeypatch.undo()
    assert done.status == "completed", done
    # the folder flushed once the completed report bears the name (the rename on the disk), while the
    # request is still running
    assert (str(folder), (True, "in_progress")) in flushed, flushed
