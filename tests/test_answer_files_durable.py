"""An access answer's files are on the disk before the request completes.

Each file, its folder and a folder created for it are flushed to the disk (``fsync``) before the
completion's commit: a machine that stops after the commit finds the answer whole
(docs/requests.md, "An answer's files survive a crash"). Checked here by noting, at each ``fsync`` the
run makes, what it flushes and the request's status in the store at that moment, on SQLite and
PostgreSQL; and a run killed between the files' write and the commit leaves the request
``in_progress``, which a run again completes with its answer whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from garde.rights.access import WORDS, report_ready
from garde.rights.intake import get_request
from garde.rights.running import run
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)

T = TypeVar("T")


def note_flushes(monkeypatch: pytest.MonkeyPatch, state: Callable[[], T]) -> list[tuple[str, T]]:
    """From now until ``monkeypatch.undo()``, each ``fsync`` done, noted as the path it flushed and
    ``state()`` just after it (what a machine stopping then would leave)."""
    flushed: list[tuple[str, T]] = []
    fsync = os.fsync

    def noted(descriptor: int) -> None:
        fsync(descriptor)
        flushed.append((os.readlink(f"/proc/self/fd/{descriptor}"), state()))

    monkeypatch.setattr(os, "fsync", noted)
    return flushed


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the descriptors' paths from /proc")
def test_the_answer_and_its_words_are_on_the_disk_before_the_request_completes(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    request_id = verified(shop, "access", {"email": "ana@example.org"})

    def status() -> str:
        with shop.store.connect() as conn:  # another connection: what a crash now would leave
            return get_request(conn, request_id).status

    flushed = note_flushes(monkeypatch, status)
    done = run(shop.store, request_id, shop.deployment)
    monkeypatch.undo()
    assert done.status == "completed"
    folder = (shop.deployment.results / request_id).resolve()
    paths = [path for path, _ in flushed]
    for needed in (folder / "access.json", folder / WORDS, folder, folder.parent):
        assert str(needed) in paths, f"{needed} not flushed: {paths}"
    # each once the files are written (flushed together: their order is not kept), before the completion
    assert {status for _, status in flushed} == {"in_progress"}


def test_the_answers_files_and_folders_are_flushed_together(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # Four flushes (both files, their folder, the results folder that holds the new one): none may
    # finish before all four have begun, so that the disk is waited for once, not four times.
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    together = threading.Barrier(4, timeout=20)
    fsync = os.fsync

    def at_once(descriptor: int) -> None:
        together.wait()  # broken (and the run failed) if the flushes come one after the other
        fsync(descriptor)

    monkeypatch.setattr(os, "fsync", at_once)
    done = run(shop.store, request_id, shop.deployment)
    monkeypatch.undo()
    assert done.status == "completed", done
    assert json.loads((shop.deployment.results / request_id / "access.json").read_text())["tables"]


def test_a_run_killed_between_its_files_and_its_commit_is_run_again_whole(
        shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    # A process that runs the request and is killed as its completion begins (its files written)
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal
        import garde.rights.running as running
        from pathlib import Path
        from garde.rights.deployment import Deployment
        from garde.store import connect

        moved = running.transition

        def transition(conn, request, status, **kwargs):
            if status == "completed":  # the completion's move, its files written: killed here
                os.kill(os.getpid(), signal.SIGKILL)
            return moved(conn, request, status, **kwargs)

        running.transition = transition
        store = connect({shop.store.url.render_as_string(hide_password=False)!r})
        datasets, results = Path({str(tmp_path / "datasets")!r}), Path({str(shop.deployment.results)!r})
        with Deployment.open(datasets, results) as d:
            running.run(store, {request_id!r}, d)
    """))
    killed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert killed.returncode == -9, killed.stderr
    folder = shop.deployment.results / request_id
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "in_progress"  # staff see it running, not done
    assert json.loads((folder / "access.json").read_text())["tables"]  # written, not yet the answer
    done = run(shop.store, request_id, shop.deployment)  # the run again, as a stalled run is resumed
    assert done.status == "completed"
    answer = json.loads((folder / "access.json").read_text())
    assert answer["tables"]["shop.customers"][0]["name"] == "Ana Lima"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the descriptors' paths from /proc")
def test_the_report_rendered_on_reading_is_on_the_disk_before_the_words_go(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    done = run(shop.store, verified(shop, "access", {"email": "ana@example.org"}), shop.deployment)
    folder = (shop.deployment.results / done.id).resolve()
    flushed = note_flushes(monkeypatch, (folder / WORDS).exists)
    report_ready(folder, shop.deployment.results.resolve())
    monkeypatch.undo()
    assert (folder / "access.html").exists() and not (folder / WORDS).exists()
    # the report's file (under its hidden name), then the folder with its name: both while the words,
    # from which a reader after a crash would render it again, are still there
    assert [Path(path).name.startswith(".access.html.") for path, _ in flushed] == [True, False]
    assert flushed[1][0] == str(folder) and all(words for _, words in flushed)
