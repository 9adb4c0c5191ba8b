"""Job arguments are untrusted when a worker runs them: a row of ``procrastinate_jobs`` is data that
anyone who can write the store can forge, and the worker acts with its own user's rights on its own
machine. Each test calls the job kind with forged arguments, as a worker calls it with a row's
``args`` (:func:`garde.jobs.queue._runs`), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import procrastinate
import pytest
import sqlalchemy as sa

from garde.jobs.imports import consent_import
from garde.jobs.staging import job_staging, stage
from garde.private_files import private_folder
from garde.problems import GardeError
from garde.rights.erasure import has_plan
from garde.rights.running import run
from garde.settings import get_settings
from garde.store import open_store
from tests.test_rights_requests import Shop, others_checksum, shop, verified  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
CSV = "email,activity,action,at\nforged-ana@example.com,newsletter,given,2025-01-02\n"


@pytest.fixture
def store(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    monkeypatch.setenv("GARDE_REGISTERS", str(ROOT / "registers" / "reference-shop.yaml"))
    get_settings.cache_clear()
    engine = open_store(migrated_url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


_WRITES: list[str] | None = None  # while a list: the files opened for writing, as the audit hook sees them


def _watch_writes(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _WRITES is not None:
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                 (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writes:
            _WRITES.append(str(path))


sys.addaudithook(_watch_writes)  # a hook cannot be removed: it records only while _WRITES is a list


def test_a_consent_import_job_writes_the_decrypted_file_nowhere(store: sa.Engine, tmp_path: Path) -> None:
    """The staged file is decrypted in memory: a worker killed during the import leaves no file with the
    subjects' identities in clear (it used to write one to a temporary folder for the import)."""
    global _WRITES
    export = tmp_path / "export.csv"
    export.write_text(CSV, encoding="utf-8")
    staged = stage(store, export)
    _WRITES = []
    try:
        report = consent_import(store, staged=staged, name="export.csv", source="crm", columns={})
        written = list(_WRITES)
    finally:
        _WRITES = None
    assert report["added"] == 1
    assert [path for path in written if not path.startswith(("/dev/", str(tmp_path)))
            and "sqlite" not in path and not path.endswith(("-journal", "-wal", "-shm"))] == []


@pytest.mark.parametrize("name", ["../escaped.csv", "../../escaped.csv", "ABSOLUTE", "sub/inner.csv", "..",
                                  "bad\x00name.csv"])
def test_a_forged_consent_import_file_name_writes_nothing_outside_its_private_folder(
        store: sa.Engine, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The staged CSV is decrypted to ``<private temporary folder>/<name>``: a name carrying a path would
    write the subjects' identities in clear where the row says (overwriting a file of the worker's user),
    and leave it there after the job."""
    export = tmp_path / "export.csv"
    export.write_text(CSV, encoding="utf-8")
    staged = stage(store, export)
    monkeypatch.setattr(tempfile, "tempdir", str(private_folder(tmp_path / "tmp")))  # the worker's temp
    target = tmp_path / "outside" / "escaped.csv"
    target.parent.mkdir()
    forged = str(target) if name == "ABSOLUTE" else name
    with pytest.raises(GardeError, match="file name"):
        consent_import(store, staged=staged, name=forged, source="forged", columns={})
    assert not any(path.name == "escaped.csv" for path in tmp_path.rglob("*"))
    assert list((tmp_path / "tmp").iterdir()) == []
    with store.connect() as conn:  # nothing imported, the staged file still there for a real retry
        assert conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(job_staging)).scalar_one() == 1


def test_a_consent_import_keeps_working_with_the_names_the_command_gives(store: sa.Engine,
                                                                         tmp_path: Path) -> None:
    export = tmp_path / "consents export 2025-01 (v2).csv"  # `garde consent import` passes file.name
    export.write_text(CSV, encoding="utf-8")
    report = consent_import(store, staged=stage(store, export), name=export.name, source="shop", columns={})
    assert report["added"] == 1


def test_a_forged_erasure_day_after_today_is_refused(shop: Shop) -> None:  # noqa: F811
    """``requests.run`` takes ``today`` from its arguments: an erasure planned as of a day in the future
    would erase what a legal obligation still keeps (invoices for ten years), as a sweep as of a future
    day would. The sweep refuses such a day; so does the erasure, before anything is planned or written."""
    before = others_checksum(shop, {})
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    with pytest.raises(GardeError, match="after today"):
        run(shop.store, request_id, shop.deployment, today=date.today() + timedelta(days=3650))
    assert others_checksum(shop, {}) == before
    with shop.store.connect() as conn:
        assert not has_plan(conn, request_id)
    done = run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))  # a real day still runs
    assert done.status == "completed"


@pytest.mark.parametrize("argument", ["datasets", "results"])
def test_a_request_job_naming_other_folders_than_the_worker_s_is_refused(
        store: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argument: str) -> None:
    """``requests.run`` and ``requests.part`` took the data map and the answer folder from their
    arguments: a forged row made the worker load a data map of the forger's choosing (which databases
    an erasure writes) or write a subject's answer files (their data) into a folder of their choosing."""
    from garde.jobs.requests import run_job

    monkeypatch.setenv("GARDE_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setenv("GARDE_RESULTS", str(tmp_path / "results"))
    get_settings.cache_clear()
    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(GardeError, match="not this worker's"):
        run_job(store, request_id="0" * 32, **{argument: str(elsewhere)})
    assert not elsewhere.exists()
    # the worker's own folders, however spelled, are what a command on the worker's machine passes
    from garde.jobs.requests import job_folders

    same = {"datasets": str(tmp_path / "x" / ".." / "datasets"), "results": str(tmp_path / "results")}
    assert job_folders(same["datasets"], same["results"]) == (tmp_path / "datasets", tmp_path / "results")
    assert job_folders(None, None) == (None, None)


@pytest.mark.parametrize("batch_size", [0, -1, "1000"])
def test_a_forged_sweep_batch_size_is_refused_before_any_run(store: sa.Engine, batch_size: object) -> None:
    """A sweep part with batches of 0 rows took none, ended every step at once and closed the run as done,
    with everything due still there (a negative size: all rows at once on SQLite, an error on PostgreSQL)."""
    from garde.jobs.retention import sweep, sweep_part

    with pytest.raises(GardeError, match="batch size"):
        sweep_part(store, run="0" * 32, tables=["shop.customers"], batch_size=batch_size)  # type: ignore[arg-type]
    with pytest.raises(GardeError, match="batch size"):
        sweep(store, batch_size=batch_size)  # type: ignore[arg-type]
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM retention_runs")).scalar_one() == 0


@pytest.mark.parametrize("tampering", ["last chunk dropped", "chunks swapped", "none"])
def test_a_staged_file_s_chunks_cannot_be_dropped_or_reordered(store: sa.Engine, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                tampering: str) -> None:
    """Each chunk was sealed with the file's id only: whoever can write the store could drop the end of
    a staged consent export (its last withdrawals) or reorder its chunks, and the import read the rest
    as the whole file."""
    from garde.jobs import staging

    monkeypatch.setattr(staging, "CHUNK", 20)
    export = tmp_path / "export.csv"
    content = CSV + "forged-bob@example.com,newsletter,withdrawn,2025-01-03\n"
    export.write_text(content, encoding="utf-8")
    staged = stage(store, export)
    with store.begin() as conn:
        chunks = conn.execute(sa.select(job_staging.c.id, job_staging.c.seq)
                              .where(job_staging.c.staged == staged).order_by(job_staging.c.seq)).all()
        assert len(chunks) > 3
        if tampering == "last chunk dropped":
            conn.execute(job_staging.delete().where(job_staging.c.id == chunks[-1].id))
        elif tampering == "chunks swapped":
            conn.execute(job_staging.update().where(job_staging.c.id == chunks[0].id).values(seq=-1))
            conn.execute(job_staging.update().where(job_staging.c.id == chunks[1].id).values(seq=0))
            conn.execute(job_staging.update().where(job_staging.c.id == chunks[0].id).values(seq=1))
    if tampering == "none":
        assert staging.unstaged(store, staged, "export.csv").decode("utf-8") == content
        return
    with pytest.raises(GardeError, match="does not open"):
        staging.unstaged(store, staged, "export.csv")


@pytest.fixture
def forging(migrated_postgres_url: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], sa.Engine, str]]:
    """A worker's settings, its PostgreSQL store and a consent file staged there (for forged imports)."""
    env = {"GARDE_REGISTERS": str(ROOT / "registers" / "reference-shop.yaml"),
           "GARDE_RETENTION_SWEEP_SCHEDULE": "", "GARDE_JOBS_STALLED_SCHEDULE": "",
           "TMPDIR": str(private_folder(tmp_path / "tmp"))}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    store = open_store(migrated_postgres_url)
    export = tmp_path / "export.csv"
    export.write_text(CSV, encoding="utf-8")
    yield env, store, stage(store, export)
    store.dispose()
    get_settings.cache_clear()


def _forged_through_a_worker(url: str, tmp_path: Path, env: dict[str, str],
                             forge: Callable[[procrastinate.App], list[int]]) -> str:
    """Rows ``forge`` writes straight into the queue (as a forger would, past ``submit``), then an
    honest one, taken by a real ``garde worker``: each forged job fails, the honest one succeeds.
    Returns the worker's log."""
    from garde.jobs import queue_app
    from tests.jobs_support import garde_worker, wait_for_job

    app = queue_app(url)
    with app.open():
        forged = forge(app)
        honest = app.configure_task("garde.ping").defer(message="still here")
    log = tmp_path / "worker.log"
    with garde_worker(url, log, env=env):
        assert wait_for_job(url, honest) == "succeeded", log.read_text()
        for job_id in forged:
            assert wait_for_job(url, job_id) == "failed", log.read_text()
    return log.read_text()


@pytest.mark.postgres
def test_forged_rows_through_a_real_worker_fail_and_the_worker_goes_on(
        migrated_postgres_url: str, tmp_path: Path, forging: tuple[dict[str, str], sa.Engine, str]) -> None:
    """The whole path: rows put in procrastinate_jobs (as by a forger), taken by ``garde worker``. A kind
    the worker does not know fails; a staged file name with a path fails; no file is written; the worker
    runs the next, honest job."""
    env, store, staged = forging
    log = _forged_through_a_worker(migrated_postgres_url, tmp_path, env, lambda app: [
        app.configure_task("garde.no_such_kind").defer(path="/etc/passwd"),
        app.configure_task("consent.import", queue="imports").defer(
            staged=staged, name="../../escaped.csv", source="forged", columns={})])
    assert not any(path.name == "escaped.csv" for path in tmp_path.rglob("*"))
    assert "is not a file name" in log
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar_one() == 0


def test_a_job_with_arguments_over_the_bound_is_refused_when_submitted(store: sa.Engine) -> None:
    """What a worker would refuse is refused before it is queued (or run inline, on SQLite)."""
    from garde.jobs import submit
    from garde.jobs.builtin import ping
    from garde.jobs.kinds import MAX_ARGUMENT_BYTES

    with pytest.raises(GardeError, match="over the bound"):
        submit(store, ping, {"message": "x" * MAX_ARGUMENT_BYTES})
    submit(store, ping, {"message": "x" * 1000})  # under the bound: queued (or run here, on SQLite)


def test_garde_s_own_job_arguments_stay_far_below_the_bound() -> None:
    """The largest honest arguments: a request part's, with both folders at the longest path Linux
    allows, and a sweep part naming every table of the reference data map."""
    import json

    from garde.datasets import load_datamap
    from garde.jobs.kinds import MAX_ARGUMENT_BYTES

    longest_path = "/" + "d" * 4094
    part = {"request_id": "0" * 36, "part": "p" * 64, "actor": "dpo@shop.example", "datasets": longest_path,
            "results": longest_path, "today": "2026-03-02"}
    datamap = load_datamap(ROOT / "datasets")
    tables = [f"{database}.{table}" for database, dataset in datamap.datasets.items()
              for table in dataset.tables]
    sweep_part = {"run": "0" * 32, "tables": tables, "batch_size": 50_000}
    for honest in (part, sweep_part):
        assert len(json.dumps(honest).encode()) < MAX_ARGUMENT_BYTES / 6


@pytest.mark.postgres
def test_a_forged_job_with_huge_arguments_is_refused_by_a_real_worker_before_it_runs(
        migrated_postgres_url: str, tmp_path: Path, forging: tuple[dict[str, str], sa.Engine, str]) -> None:
    """A row forged with arguments over the worker's bound (and under the table's, below) ran: a ping
    answered, an import stored its huge source on every consent event. The worker now fails such a job
    at once, with the reason, without retrying it, and goes on."""
    env, store, staged = forging
    forged: list[int] = []

    def forge(app: procrastinate.App) -> list[int]:
        forged.append(app.configure_task("garde.ping").defer(message="x" * 100_000))
        forged.append(app.configure_task("consent.import", queue="imports").defer(
            staged=staged, name="export.csv", source="s" * 100_000, columns={}))
        return forged

    log = _forged_through_a_worker(migrated_postgres_url, tmp_path, env, forge)
    huge_import = forged[1]
    assert "over the bound of 65536" in log
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT attempts FROM procrastinate_jobs WHERE id = :id"),
                            {"id": huge_import}).scalar_one() == 1  # not retried (its kind retries 3)
        assert conn.execute(sa.select(sa.func.count()).select_from(job_staging)).scalar_one() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("size", [200_000, 50_000_000])
def test_a_forged_job_with_huge_arguments_cannot_even_be_queued(
        migrated_postgres_url: str, forging: tuple[dict[str, str], sa.Engine, str], size: int) -> None:
    """procrastinate's fetch reads a job's whole row before garde sees it: a row of hundreds of MiB was
    read by every worker that took it. The queue's table refuses it when written (migration 0025's check
    constraint, twice the worker's bound), whoever writes it: nothing is queued, no worker reads it."""
    from garde.jobs import queue_app

    _, store, _ = forging
    with store.begin() as conn, pytest.raises(sa.exc.IntegrityError, match="garde_args_bounded"):
        conn.execute(sa.text("INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
                             "VALUES ('default', 'garde.ping', "
                             "json_build_object('message', repeat('x', :n)))"),
                     {"n": size})
    app = queue_app(migrated_postgres_url)
    with app.open(), pytest.raises(procrastinate.exceptions.ConnectorException) as refused:
        app.configure_task("garde.ping").defer(message="x" * size)
    assert "garde_args_bounded" in str(refused.value.__cause__)
    with app.open():  # an honest job, and the largest the worker accepts, are queued as before
        app.configure_task("garde.ping").defer(message="x" * 60_000)
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs")).scalar_one() == 1
