"""An access answer's HTML report is rendered when its files are first listed or read, not by the run.

The run writes ``access.json`` and what it worded (:data:`garde.rights.access.WORDS`: the introduction,
garde's records of the subject in words); the first reader renders ``access.html`` from them and keeps
it, owner-only (:func:`garde.rights.access.report_ready`). The report must be the very bytes the run
would have rendered from the answer in memory, on SQLite and PostgreSQL: compared here over the
reference shop (Zoé's archived invoice, claimed rows holding another customer's identities, which the
answer withholds; ordinary customers; someone the shop does not know) and over data held as a
processor. An erasure planned before anyone read the answer lists the report it will remove.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from garde.rights import answer_files, submit, verify_out_of_band
from garde.rights.access import WORDS, build_access, render_access_html, report_ready, write_access
from garde.rights.deployment import Deployment
from garde.rights.held import garde_held
from garde.rights.held_as_processor import split
from garde.rights.intake import get_request
from garde.rights.queue import answer_files as queued_files
from garde.rights.running import locate, run
from garde.rights.self_service import request_files
from garde.rights.shared import shared_and_listed
from tests.test_access_read_ahead import ZOE, zoe_claimed_and_customers
from tests.test_erasure_reference_shop import AS_OF, deployment  # noqa: F401  (the fixture)
from tests.test_processor_forwarding import Hub, hub  # noqa: F401  (the fixture)
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _eager_and_read(store: Engine, deployment: Deployment,  # noqa: F811
                    identities: dict[str, str]) -> tuple[str, Path]:
    """The report rendered from the answer in memory, as runs did before; and the folder the run's
    own files were written to, the report rendered by the readers' function."""
    with store.begin() as conn:
        request = submit(conn, "access", identities, language="fr")
        verify_out_of_band(conn, request.id, "passport checked", actor="agent:test",
                           identities=list(identities))
        request = get_request(conn, request.id)
    footprint, forwardings = split(deployment, locate(deployment, request))
    with store.connect() as conn:
        held = garde_held(conn, request, footprint.identities, deployment.phone_region)
        shared, _ = shared_and_listed(conn, deployment, footprint, request.subject_id)
    eager = render_access_html(build_access(request, deployment, footprint, held, forwardings, shared),
                               request, deployment)
    result = write_access(request, deployment, footprint, held, processed_for=forwardings, shared=shared)
    folder = deployment.results / request.id
    assert [Path(f).name for f in result["files"]] == ["access.json", "access.html"]
    assert sorted(p.name for p in folder.iterdir()) == [WORDS, "access.json"]  # nothing rendered yet
    assert _mode(folder / WORDS) == 0o600
    report_ready(folder, deployment.results)
    return eager, folder


def test_the_report_rendered_on_reading_is_the_one_rendered_in_memory(
        engine: Engine, deployment: Deployment) -> None:  # noqa: F811
    other, other_phone, emails = zoe_claimed_and_customers(engine, deployment, 3)
    for identities in ({"email": ZOE}, {"email": ZOE, "phone": "+41790000001"},
                       *({"email": e} for e in emails), {"email": "nobody@example.org"}):
        eager, folder = _eager_and_read(engine, deployment, identities)
        report = folder / "access.html"
        assert report.read_text(encoding="utf-8") == eager, identities
        assert sorted(p.name for p in folder.iterdir()) == ["access.html", "access.json"]  # the words gone
        assert _mode(report) == 0o600
        if identities.get("email") == ZOE:
            assert "<bdi>" in eager and other not in eager and other_phone not in eager
        kept = report.stat()
        report_ready(folder, deployment.results)  # read again: kept, not rendered again
        assert report.stat().st_ino == kept.st_ino and report.stat().st_mtime_ns == kept.st_mtime_ns


def test_the_report_over_data_held_as_a_processor_is_the_one_rendered_in_memory(hub: Hub) -> None:  # noqa: F811
    eager, folder = _eager_and_read(hub.store, hub.deployment, {"email": "alice@example.org"})
    assert "Brand SpA" in eager
    assert (folder / "access.html").read_text(encoding="utf-8") == eager


def test_every_reader_lists_the_report_and_never_the_runs_words(shop: Shop) -> None:  # noqa: F811
    results = shop.deployment.results
    for reader in ("staff's API", "staff's pages", "the subject's pages"):
        request_id = verified(shop, "access", {"email": "ana@example.org"})
        done = run(shop.store, request_id, shop.deployment)
        folder = results / request_id
        assert not (folder / "access.html").exists() and (folder / WORDS).is_file()
        with shop.store.connect() as conn:
            if reader == "staff's API":
                names = [f.name for f in answer_files(conn, request_id, results)]
            elif reader == "staff's pages":
                names = list(queued_files(done, results))
            else:
                names = [f.name for f in request_files(done, results)]
        assert names == ["access.html", "access.json"], reader
        assert "ana@example.org" in (folder / "access.html").read_text(encoding="utf-8")
        assert not (folder / WORDS).exists() and _mode(folder / "access.html") == 0o600


def test_an_erasure_planned_before_anyone_read_the_answer_removes_its_report(shop: Shop) -> None:  # noqa: F811
    opened = shop.deployment
    access = verified(shop, "access", {"email": "ana@example.org"})
    run(shop.store, access, opened)
    folder = opened.results / access
    assert sorted(p.name for p in folder.iterdir()) == [WORDS, "access.json"]
    erasure = verified(shop, "erasure", {"email": "ana@example.org"})
    done = run(shop.store, erasure, opened, today=date(2025, 3, 1))
    assert done.status == "completed", done.result
    report = json.loads((opened.results / erasure / "erasure.json").read_text())
    listed = {Path(c["file"]).name for c in report["own_copies"] if c["kind"] == "answer"}
    assert listed == {"access.json", "access.html"}  # the report as it would be read, no words left
    assert list(folder.iterdir()) == []
    report_ready(folder, opened.results)  # a reader afterwards finds nothing to render
    assert list(folder.iterdir()) == []


def _waiting_for_the_lock_of(folder: Path) -> bool:
    """Whether a process or thread waits for the ``flock`` of ``folder`` (the kernel's list of locks:
    a waiter's line reads ``->``, then the lock held, the device and the folder's inode)."""
    inode = f":{folder.stat().st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def test_a_report_rendered_while_an_erasure_removes_it_is_not_left_behind(shop: Shop) -> None:  # noqa: F811
    """red28's race, interleaved at its dangerous point (SQLite, PostgreSQL): a reader has rendered
    Ana's report and not renamed it yet when her erasure plans and removes her answer's files. The
    erasure waits for the reader, lists the report and removes it. Before: the erasure removed the
    answer and its words, then the reader renamed the report into the empty folder, where it stayed."""
    opened = shop.deployment
    access = verified(shop, "access", {"email": "ana@example.org"})
    run(shop.store, access, opened)
    folder = opened.results / access
    erasure = verified(shop, "erasure", {"email": "ana@example.org"})
    rendering, release = threading.Event(), threading.Event()

    def paused() -> None:
        rendering.set()
        assert release.wait(60)

    reader = threading.Thread(target=report_ready, args=(folder, opened.results), kwargs={"rendered": paused})
    reader.start()
    assert rendering.wait(60)
    erased: list[Any] = []
    eraser = threading.Thread(target=lambda: erased.append(run(shop.store, erasure, opened,
                                                               today=date(2025, 3, 1))))
    eraser.start()
    deadline = time.monotonic() + 60
    while eraser.is_alive() and not _waiting_for_the_lock_of(folder):
        assert time.monotonic() < deadline, "the erasure neither ended nor waited for the reader"
        time.sleep(0.01)
    release.set()  # the reader renames its report now: before the erasure's plan, or after its removal
    reader.join(60)
    eraser.join(60)
    assert not reader.is_alive() and not eraser.is_alive()
    assert erased and erased[0].status == "completed", erased
    report = json.loads((opened.results / erasure / "erasure.json").read_text())
    assert {Path(c["file"]).name for c in report["own_copies"] if c["kind"] == "answer"} == {
        "access.json", "access.html"}
    assert list(folder.iterdir()) == []


def test_a_link_planted_as_the_report_is_replaced_not_written_through(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    run(shop.store, request_id, shop.deployment)
    folder = shop.deployment.results / request_id
    elsewhere = tmp_path / "elsewhere.html"
    elsewhere.write_text("theirs")
    (folder / "access.html").symlink_to(elsewhere)
    report_ready(folder, shop.deployment.results)
    assert elsewhere.read_text() == "theirs"  # the subject's data went to no file of the linker's choosing
    assert not (folder / "access.html").is_symlink() and _mode(folder / "access.html") == 0o600
    assert "ana@example.org" in (folder / "access.html").read_text(encoding="utf-8")


def test_the_report_is_dated_as_the_run_worded_it(engine: Engine, deployment: Deployment) -> None:  # noqa: F811
    """What the run worded is kept, not worded again at reading: the request's date of receipt in
    the introduction is the run's."""
    with engine.begin() as conn:
        request = submit(conn, "access", {"email": ZOE}, language="en")
        verify_out_of_band(conn, request.id, "passport checked", actor="agent:test", identities=["email"])
    assert run(engine, request.id, deployment, today=AS_OF).status == "completed"
    words = json.loads((deployment.results / request.id / WORDS).read_text(encoding="utf-8"))
    assert request.id in words["intro"] and words["language"] == "en"
    report_ready(deployment.results / request.id, deployment.results)
    assert words["intro"] in (deployment.results / request.id / "access.html").read_text(encoding="utf-8")
