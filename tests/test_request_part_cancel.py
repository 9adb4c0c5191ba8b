"""A split erasure whose part is cancelled (``garde jobs cancel``) before any worker ran it: the request
says so (failed, with the reason in its steps and the audit log) instead of staying ``in_progress``
with nobody told, and running it again resumes it (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.jobs import requests as request_jobs
from garde.jobs.listing import cancel_job, list_jobs
from garde.jobs.requests import run_job, run_request
from garde.rights import get_request
from garde.rights.erasure import store_plan
from garde.rights.intake import list_requests, transition
from garde.rights.parts import parts_of
from garde.rights.running import locate
from garde.settings import get_settings
from tests.jobs_support import garde_worker
from tests.requests_jobs_support import shop_world
from tests.test_erasure_reference_shop import AS_OF

pytestmark = pytest.mark.postgres
ZOE = "zoe.erasure@example.org"


def test_a_cancelled_erasure_part_fails_its_request_with_the_reason_and_a_run_resumes_it(
        postgres_admin_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with shop_world(postgres_admin_url, tmp_path / "w") as world:
        for name in ("GARDE_DATABASE_URL", "GARDE_REGISTERS", "GARDE_DATASETS", "GARDE_SHOP_URL",
                     "GARDE_CRM_URL", "GARDE_OUTBOX", "GARDE_RESULTS", "GARDE_MAILER"):
            monkeypatch.setenv(name, world.env[name])
        get_settings.cache_clear()
        monkeypatch.setattr(request_jobs, "_deployments", {})  # this world's data map, not another test's
        request_id = world.request("erasure", ZOE)
        try:  # the queued run, as a worker runs it: the plan stored, one part job queued per database
            planned = run_job(world.store, request_id=request_id, today=AS_OF.isoformat())
        finally:
            for deployment, _, _ in request_jobs._deployments.values():
                deployment.dispose()
            get_settings.cache_clear()
        assert planned["parts"] == ["crm", "shop"] and world.status(request_id) == "in_progress"
        parts = {job.arguments["part"]: job.id for job in list_jobs(world.store, kind="requests.part")}

        assert cancel_job(world.store, parts["crm"], actor="dpo@shop").status == "cancelled"
        with world.store.connect() as conn:
            request = get_request(conn, request_id)
            assert request.status == "failed"  # it stayed in_progress, and no part would ever complete it
            assert "job " + str(parts["crm"]) + " was cancelled by dpo@shop" in request.steps[-1]["note"]
            assert request.steps[-1]["actor"] == "dpo@shop"
            assert [r.id for r in list_requests(conn, status="failed")] == [request_id]  # the DPO's lists
            assert [(p["part"], p["status"]) for p in parts_of(conn, request_id)] == [("crm", "failed"),
                                                                                        ("shop", "pending")]
        assert world.audited(request_id)["request.failed"] == 1

        log = tmp_path / "worker.log"
        with garde_worker(world.url, log, env=world.env):  # the shop part runs; the request is run again
            assert run_request(world.store, request_id, actor="dpo@shop").queued
            assert world.wait(request_id, until=frozenset({"completed"})) == "completed", log.read_text()
        with world.store.connect() as conn:
            assert [(p["part"], p["status"]) for p in parts_of(conn, request_id)] == [("crm", "done"),
                                                                                        ("shop", "done")]
        assert world.audited(request_id)["request.erasure_applied"] == 2  # each database once
        assert world.chain_ok()


def test_a_cancelled_run_of_a_request_in_progress_fails_it_with_the_reason_and_a_run_resumes_it(
        postgres_admin_url: str, tmp_path: Path) -> None:
    """A run queued again after its worker was killed (the request already in progress, its erasure
    planned) and then cancelled left the request in progress for ever, with nobody told. It now fails
    with the reason (the DPO's lists show it), and running it again resumes it from its stored plan."""
    with shop_world(postgres_admin_url, tmp_path / "w") as world:
        request_id = world.request("erasure", ZOE)
        queued = run_request(world.store, request_id, actor="dpo@shop")
        assert queued.queued
        with world.store.begin() as conn:  # what the killed worker had committed: in progress, planned
            request = transition(conn, get_request(conn, request_id), "in_progress", actor="garde")
        store_plan(world.store, request, world.deployment, locate(world.deployment, request), today=AS_OF)

        assert cancel_job(world.store, queued.job_id, actor="dpo@shop").status == "cancelled"
        with world.store.connect() as conn:
            request = get_request(conn, request_id)
            assert request.status == "failed"  # it stayed in_progress, and no job would ever resume it
            assert f"its job {queued.job_id} was cancelled by dpo@shop" in request.steps[-1]["note"]
            assert request.steps[-1]["actor"] == "dpo@shop"
            assert [r.id for r in list_requests(conn, status="failed")] == [request_id]  # the DPO's lists
        assert world.audited(request_id)["request.failed"] == 1

        log = tmp_path / "worker.log"
        with garde_worker(world.url, log, env=world.env):
            assert run_request(world.store, request_id, actor="dpo@shop").queued
            assert world.wait(request_id, until=frozenset({"completed"})) == "completed", log.read_text()
        audited = world.audited(request_id)
        assert audited["request.erasure_planned"] == 1  # resumed from the stored plan, not planned again
        assert audited["request.erasure_applied"] == 2  # each database once
        assert world.chain_ok()


def test_a_cancelled_run_of_an_unknown_request_changes_nothing(postgres_admin_url: str,
                                                               tmp_path: Path) -> None:
    """A forged run job naming no request is cancelled like any other; nothing else is touched."""
    from garde.jobs import queue_app

    with shop_world(postgres_admin_url, tmp_path / "w", customers=1) as world:
        app = queue_app(world.url)
        with app.open():
            forged = app.configure_task("requests.run", queue="requests").defer(request_id="no-such-request")
        assert cancel_job(world.store, forged, actor="dpo@shop").status == "cancelled"
        assert world.chain_ok()
