"""Requests as jobs on PostgreSQL: an erasure split per database across workers answers exactly as the
same erasure run inline, and its parts are done once however often their jobs run."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.cli.schemas import RequestRun
from garde.jobs import submit
from garde.jobs.requests import run_job
from garde.rights import FileMailer, get_request
from garde.rights.parts import parts_of, run_part
from garde.rights.running import finish, run
from tests.conftest import garde_here
from tests.jobs_support import DEADLINE, garde_worker
from tests.requests_jobs_support import World, answer, emails, rows, shop_world
from tests.test_erasure_reference_shop import AS_OF, STAYING, Z

pytestmark = pytest.mark.postgres
ZOE = "zoe.erasure@example.org"


def _queued(world: World, kind: str, email: str) -> str:
    request_id = world.request(kind, email)
    submit(world.store, run_job, {"request_id": request_id, "today": AS_OF.isoformat(),
                                  "datasets": None, "results": None})
    return request_id


def test_a_split_erasure_and_a_queued_access_answer_as_the_inline_runs(postgres_admin_url: str,
                                                                        tmp_path: Path) -> None:
    """Access first (the erasure then removes garde's own copies of Zoé's data: its answer files)."""
    with shop_world(postgres_admin_url, tmp_path / "inline") as inline, \
            shop_world(postgres_admin_url, tmp_path / "queued") as queued:
        assert rows(inline) == rows(queued)  # the same shop, twice
        expected = {}
        for kind, name in (("access", "access.json"), ("erasure", "erasure.json")):
            request_id = inline.request(kind, ZOE)
            done = run(inline.store, request_id, inline.deployment, today=AS_OF,
                       mailer=FileMailer(inline.outbox))  # as the workers' settings say
            expected[kind] = (request_id, done, answer(inline, request_id, name))
        with garde_worker(queued.url, tmp_path / "a.log", env=queued.env), \
                garde_worker(queued.url, tmp_path / "b.log", env=queued.env):
            for kind, name in (("access", "access.json"), ("erasure", "erasure.json")):
                request_id = _queued(queued, kind, ZOE)
                assert queued.wait(request_id) == "completed", (tmp_path / "a.log").read_text()
                inline_id, done, answered = expected[kind]
                assert answer(queued, request_id, name) == answered  # the same answer, word for word
                assert _without_paths(queued.result(request_id)) == _without_paths(done.result or {})
                assert queued.audited(request_id) == inline.audited(inline_id)  # the same entries, once each
        with queued.store.connect() as conn:  # the erasure was shared out: one part per database, done
            assert [(p["part"], p["status"]) for p in parts_of(conn, request_id)] == [
                ("crm", "done"), ("shop", "done")]
        assert rows(queued) == rows(inline)  # the same rows erased, masked and kept
        zoe = {key for key in rows(queued) if key[2] in (Z, Z + 1)}
        assert zoe == set(STAYING)
        assert queued.chain_ok()


def _without_paths(result: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in result.items() if key not in ("file", "files")}


def test_a_part_run_twice_changes_audits_and_completes_once(postgres_admin_url: str, tmp_path: Path) -> None:
    with shop_world(postgres_admin_url, tmp_path / "w") as world:
        request_id = _queued(world, "erasure", ZOE)
        with garde_worker(world.url, tmp_path / "w.log", "--concurrency", "2", env=world.env):
            assert world.wait(request_id) == "completed", (tmp_path / "w.log").read_text()
        before = (rows(world), world.audited(request_id))
        for part in ("shop", "crm"):  # as a retried job would: the part is done, nothing happens
            again = run_part(world.store, request_id, part, world.deployment)
            assert (again.applied, again.last) == (False, True)
            assert finish(world.store, request_id, world.deployment).status == "completed"  # as it was
        assert (rows(world), world.audited(request_id)) == before
        assert world.audited(request_id)["request.erasure_applied"] == 2  # one per database
        assert world.audited(request_id)["request.completed"] == 1
        assert sum(request_id in path.read_text(errors="replace")
                   for path in world.outbox.glob("*")) <= 1  # told once (if at all: Zoé has a mail)
        assert world.chain_ok()


def test_the_cli_queues_a_run_on_postgresql_and_runs_it_here_with_inline(postgres_admin_url: str,
                                                                         tmp_path: Path) -> None:
    with shop_world(postgres_admin_url, tmp_path / "w") as world:
        def garde(*args: str) -> subprocess.CompletedProcess[str]:
            return garde_here(world.env, *args)  # the command line in this process: --inline runs here

        queued, inline = world.request("access", ZOE), world.request("access", ZOE)
        said = garde("request", "run", queued, "--format", "json")
        assert said.returncode == 0, said.stderr
        job = json.loads(said.stdout)
        assert job["queued"] is True and isinstance(job["job_id"], int) and job["id"] == queued
        RequestRun.model_validate(job)  # the documented output (docs/cli.md)
        assert world.status(queued) == "verified"  # nobody took it yet: the command did not wait
        ran = garde("request", "run", inline, "--inline", "--format", "json")
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout)["status"] == "completed"
        refused = garde("request", "run", inline)  # a finished request is refused now, not queued
        assert refused.returncode == 2 and "is completed; it cannot be run" in refused.stderr + refused.stdout


def test_a_refused_part_fails_the_request_and_running_it_again_redoes_only_that_part(
        postgres_admin_url: str, tmp_path: Path) -> None:
    with shop_world(postgres_admin_url, tmp_path / "w") as world:
        shop = world.deployment.engines["shop"]
        with shop.begin() as conn:  # outside the data map: a gift card still points at Zoé's address
            conn.execute(sa.text("CREATE TABLE gift_cards (id INTEGER PRIMARY KEY, "
                                 "address_id INTEGER NOT NULL REFERENCES addresses (id))"))
            conn.execute(sa.text("INSERT INTO gift_cards VALUES (1, :z)"), {"z": Z})
        request_id = _queued(world, "erasure", ZOE)
        log = tmp_path / "w.log"
        with garde_worker(world.url, log, "--concurrency", "2", env=world.env):
            assert world.wait(request_id) == "failed", log.read_text()
            # the shop part's failure fails the request at once; the crm part may still wait for the
            # worker's other slot (CI saw it pending on a loaded runner): it ends on its own
            end = time.monotonic() + DEADLINE
            while True:
                with world.store.connect() as conn:
                    parts = {p["part"]: p for p in parts_of(conn, request_id)}
                if parts["crm"]["status"] != "pending" or time.monotonic() > end:
                    break
                time.sleep(0.05)
            with world.store.connect() as conn:
                assert "foreign key" in get_request(conn, request_id).steps[-1]["note"].lower()
            assert (parts["crm"]["status"], parts["shop"]["status"]) == ("done", "failed")
            assert "foreign key" in parts["shop"]["result"]["error"].lower()
            crm_after_failure = {k: v for k, v in rows(world).items() if k[0] == "crm"}
            with shop.begin() as conn:
                conn.execute(sa.text("DELETE FROM gift_cards"))
            submit(world.store, run_job, {"request_id": request_id, "today": AS_OF.isoformat()})
            assert world.wait(request_id, frozenset({"completed"})) == "completed", log.read_text()
        assert {k: v for k, v in rows(world).items() if k[0] == "crm"} == crm_after_failure  # not redone
        with world.store.connect() as conn:
            statuses = {p["part"]: p["status"] for p in parts_of(conn, request_id)}
        assert statuses == {"crm": "done", "shop": "done"}
        audited = world.audited(request_id)
        once = ("request.erasure_applied", "subject.erased", "request.completed")
        assert [audited[kind] for kind in once] == [2, 1, 1]  # crm's applied once, shop's once
        assert world.chain_ok()


def test_an_erasure_planned_in_one_database_is_one_job_without_parts(postgres_admin_url: str,
                                                                   tmp_path: Path) -> None:
    """A subject the CRM does not know: the plan has steps in the shop only, so the run job erases
    there itself (as inline) instead of queueing one part whose job would add the queue's round trips."""
    with shop_world(postgres_admin_url, tmp_path) as world:
        with world.deployment.engines["crm"].connect() as conn:
            in_crm = set(conn.execute(sa.text("SELECT lower(email) FROM contacts")).scalars())
        email = next(e for e in emails(world, 30) if e.lower() not in in_crm)
        with garde_worker(world.url, tmp_path / "worker.log", env=world.env):
            request_id = _queued(world, "erasure", email)
            assert world.wait(request_id) == "completed", (tmp_path / "worker.log").read_text()
        with world.store.connect() as conn:
            assert parts_of(conn, request_id) == []
            jobs = conn.execute(sa.text("SELECT task_name, status FROM procrastinate_jobs "
                                        "WHERE args->>'request_id' = :id"), {"id": request_id}).all()
        assert [tuple(job) for job in jobs] == [("requests.run", "succeeded")]
        audited = world.audited(request_id)
        assert audited["request.erasure_planned"] == 1 and audited["request.erasure_applied"] == 1
        assert world.chain_ok()


def test_a_run_is_read_and_queued_in_one_transaction_on_one_connection(postgres_admin_url: str,
                                                                      tmp_path: Path) -> None:
    """What the API's ``POST /requests/{id}/run``, the CLI and the dashboard call: the request read (an
    unknown or finished one refused) and its job queued in one transaction, on one pooled connection
    (before: a connection to read it, another to queue it, two round trips more)."""
    from garde.jobs.requests import run_request
    from garde.rights.intake import RequestConflict

    with shop_world(postgres_admin_url, tmp_path / "w") as world:
        request_id = world.request("access", ZOE)
        checkouts: list[object] = []
        sa.event.listen(world.store.pool, "checkout", lambda *_: checkouts.append(1))
        queued = run_request(world.store, request_id, actor="dpo@shop")
        assert len(checkouts) == 1
        assert queued.job_id is not None and queued.result.id == request_id
        with world.store.connect() as conn:
            job = conn.execute(sa.text("SELECT task_name, args, status FROM procrastinate_jobs "
                                       "WHERE id = :id"), {"id": queued.job_id}).one()
        assert job.task_name == "requests.run" and job.status == "todo"
        assert job.args == {"request_id": request_id, "actor": "dpo@shop", "datasets": None, "results": None}
        with world.store.begin() as conn:
            conn.execute(sa.text("UPDATE requests SET status = 'completed' WHERE id = :id"),
                         {"id": request_id})
        with pytest.raises(RequestConflict, match="is completed; it cannot be run"):
            run_request(world.store, request_id, actor="dpo@shop")
        with world.store.connect() as conn:  # the refused run queued nothing
            assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 1
