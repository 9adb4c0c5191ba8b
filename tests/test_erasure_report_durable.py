"""An erasure's report is on the disk before its plan is stored.

A resumed erasure reads the report its plan's run wrote (``erasure.json``: what is erased and kept,
field by field): it cannot be made again once rows are gone. So the report, and its folder's new
name, are flushed (``fsync``) before the plan commits; a machine that stops after that commit finds
them whole and the run resumes. Checked by noting, at each ``fsync`` the run makes, what it flushes
and whether the plan is stored at that moment (another connection), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.rights.erasure import has_plan
from garde.rights.running import run
from tests.test_answer_files_durable import note_flushes
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the descriptors' paths from /proc")
def test_the_erasure_report_is_on_the_disk_before_the_plan_commits(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})

    def stored() -> bool:
        with shop.store.connect() as conn:  # another connection: what a crash now would leave
            return has_plan(conn, request_id)

    flushed = note_flushes(monkeypatch, stored)
    done = run(shop.store, request_id, shop.deployment)
    monkeypatch.undo()
    assert done.status == "completed", done
    folder = (shop.deployment.results / request_id).resolve()
    before_plan = {path for path, stored in flushed if not stored}
    for needed in (folder / "erasure.json", folder):  # (the results folder: when this run made the folder)
        assert str(needed) in before_plan, f"{needed} not flushed before the plan: {flushed}"
