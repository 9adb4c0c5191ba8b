"""Data-subject requests as jobs: ``requests.run`` (one request) and ``requests.part`` (one database of
an erasure split across workers, :mod:`garde.rights.parts`).

:func:`run_request` is what the CLI, the API and the DPO dashboard call: on PostgreSQL it queues the
run and returns the job's id at once; on SQLite (or ``inline``) it runs the request here, as garde
always did. A job's worker opens the data map from its own settings (or the ``datasets`` and
``results`` folders the CLI was given), once per process.

A worker killed mid-job (SIGKILL) leaves its job ``doing``; :func:`retry_stalled` hands such jobs
back to the queue through procrastinate's own stalled-job query and retry (run it periodically, or
after a machine is lost). A retried run resumes the request (an erasure from its stored plan); a
retried part finds its part done or does it once (the part's row is locked while it runs).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from procrastinate import RetryStrategy
from sqlalchemy.engine import Engine

from garde.datasets.freshness import Stamp, kept
from garde.jobs.kinds import job
from garde.jobs.pool import ping_when_quiet
from garde.jobs.queue import is_queued, requeue_stalled, require_queue
from garde.jobs.submit import Submission, submit, submit_many
from garde.problems import GardeError, InputError
from garde.rights.deployment import Deployment
from garde.rights.erasure import has_plan, store_plan
from garde.rights.held_as_processor import split
from garde.rights.intake import Request, RequestConflict, get_request
from garde.rights.mailer import Mailer, configured_mailer
from garde.rights.parts import cancel_part, cancel_run, divisible, run_part, store_parts
from garde.rights.run_lock import RequestRunning
from garde.rights.running import fail, finish, locate, run, runnable
from garde.settings import Settings, get_settings
from garde.store.transactions import retried

QUEUE = "requests"
# A run refused because another process holds the request's lock (a killed worker's connection the
# database has not closed yet) is tried again a little later; any other error is not.
RETRIES = RetryStrategy(max_attempts=5, wait=2, retry_exceptions={RequestRunning})
logger = logging.getLogger(__name__)


def run_request(store: Engine, request_id: str, *, actor: str = "garde", inline: bool = False,
                datasets: Path | None = None, results: Path | None = None, settings: Settings | None = None,
                mailer: Mailer | None = None, once: bool = False) -> Submission:
    """Run a verified request: queued on PostgreSQL (the submission's ``job_id``), here on SQLite or with
    ``inline``. The submission's ``result`` is the request: as it ends, or as it was queued.
    ``once``: no second job while one for the request waits (the waiting one runs it; ``job_id`` None)."""
    if inline or not is_queued(store.url):
        with Deployment.open(datasets, results, settings=settings) as deployment:
            done = run(store, request_id, deployment, actor=actor, mailer=mailer)
        return Submission(run_job.name, None, done)
    where = _where(datasets, results)
    if once:  # its queueing lock may be refused: in a transaction of its own
        with store.connect() as conn:
            request = get_request(conn, request_id)
        runnable(request)
        queued = submit(store, run_job, {"request_id": request.id, "actor": actor, **where},
                        queueing_lock=f"requests.run:{request.id}", already_queued_ok=True)
        return replace(queued, result=request)
    # an unknown or finished request is refused now, not by a worker; read and queued in one transaction
    def queue(conn: sa.Connection) -> tuple[Request, Submission]:
        request = get_request(conn, request_id)
        runnable(request)
        return request, submit(store, run_job, {"request_id": request.id, "actor": actor, **where},
                               within=conn)

    request, queued = retried(store, queue, what=f"request {request_id}: its run queued")
    return replace(queued, result=request)  # the request as it was queued


def resume_proven(store: Engine, request: Request, *, actor: str, settings: Settings,
                  mailer: Mailer | None) -> Submission | None:
    """Run a rectification whose new e-mail or phone was just proven by the subject's code
    (:mod:`garde.rights.new_identity`) as staff would: here on SQLite, a job on PostgreSQL (one at a
    time). None when it still waits for another new value, or is not waiting at all (already run).

    A run that cannot start or fails is not the subject's error: the request says why (failed, or its
    new value is someone else's, which the subject must not learn), staff see it; it is logged here."""
    if request.status != "verified" or not request.details.get("confirming") or request.awaiting:
        return None
    try:
        return run_request(store, request.id, actor=actor, settings=settings, mailer=mailer, once=True)
    except (GardeError, InputError) as error:  # InputError: a data map or register that does not load
        logger.warning("request %s: its run after the new identity's proof did not complete: %s",
                       request.id, error)
        return None


def _where(datasets: Path | None, results: Path | None) -> dict[str, str | None]:
    return {"datasets": str(datasets.resolve()) if datasets else None,
            "results": str(results.resolve()) if results else None}


_deployments: dict[tuple[str | None, str | None], tuple[Deployment, list[Path], Stamp]] = {}
_deployments_lock = threading.Lock()


def job_folders(datasets: str | None, results: str | None) -> tuple[Path | None, Path | None]:
    """The data map and answer folder a job names, if they are the worker's own (its ``datasets`` and
    ``results`` settings); any other is refused. A job's arguments are a row of the queue, which whoever
    can write the store can forge: the worker reads no data map and writes no answer where a row says."""
    settings = get_settings()
    chosen = []
    for argument, own, name in ((datasets, settings.datasets, "datasets"),
                                (results, settings.results, "results")):
        if argument is not None and Path(argument).resolve() != own.resolve():
            raise GardeError(f"the job names {name} {argument!r}, not this worker's ({own}): a worker uses "
                             f"its own setting (GARDE_{name.upper()})")
        chosen.append(None if argument is None else own.resolve())
    return chosen[0], chosen[1]


def worker_deployment(datasets: str | None, results: str | None) -> Deployment:
    """The data map and its databases a worker's jobs use: opened once per process and folders, and
    again when a data map or register file changed since (:mod:`garde.datasets.freshness`)."""
    job_folders(datasets, results)
    source = Path(datasets) if datasets else get_settings().datasets
    with _deployments_lock:
        return kept(_deployments, (datasets, results), source, lambda: _opened(datasets, results))


def _opened(datasets: str | None, results: str | None) -> Deployment:
    """The deployment, its databases' connections pinged only when not just used (:mod:`garde.jobs.pool`)."""
    deployment = Deployment.open(Path(datasets) if datasets else None, Path(results) if results else None)
    for engine in deployment.engines.values():
        ping_when_quiet(engine)
    return deployment


def _outcome(request: Request) -> dict[str, Any]:
    return {"request_id": request.id, "status": request.status}


def _run_cancelled(conn: sa.Connection, job_id: int, arguments: dict[str, Any], actor: str) -> None:
    """A run's job cancelled (``garde jobs cancel``): a request it left in progress is marked failed."""
    request_id = arguments.get("request_id")
    if isinstance(request_id, str):
        cancel_run(conn, request_id, job=job_id, actor=actor)


@job("requests.run", queue=QUEUE, retry=RETRIES, on_cancel=_run_cancelled)
def run_job(store: Engine, *, request_id: str, actor: str = "garde", datasets: str | None = None,
            results: str | None = None, today: str | None = None) -> dict[str, Any]:
    """Run the request; an erasure over several databases is planned here and its parts queued."""
    deployment = worker_deployment(datasets, results)
    day = date.fromisoformat(today) if today else None
    arguments = {"request_id": request_id, "actor": actor, "datasets": datasets, "results": results,
                 "today": today}
    parts: list[str] = []

    def divide(store: Engine, request: Request, deployment: Deployment) -> bool:
        if not divisible(request, deployment):
            return False
        with store.connect() as conn:
            planned = has_plan(conn, request.id)
        if not planned:  # with what it keeps for each client controller (data held as a processor)
            located = locate(deployment, request)
            store_plan(store, request, deployment, located, today=day, actor=actor,
                       processed_for=split(deployment, located)[1])
        parts.extend(store_parts(store, request))
        return bool(parts)

    try:
        ran = run(store, request_id, deployment, actor=actor, today=day, mailer=configured_mailer(),
                  divide=divide if is_queued(store.url) else None)
    except RequestRunning:
        raise  # tried again by the queue
    except RequestConflict as error:  # not runnable: a retried job whose first run completed it?
        with store.connect() as conn:
            request = get_request(conn, request_id)
        if request.status == "completed":
            return _outcome(request)
        return {"request_id": request_id, "error": str(error)}
    except GardeError as error:  # the request says why (failed, or not runnable): no retry helps
        return {"request_id": request_id, "error": str(error)}
    # after the run's lock is released (the last part completes the request), together: one transaction
    submit_many(store, part_job, [{**arguments, "part": part} for part in parts])
    return {**_outcome(ran), "parts": parts}


def _part_cancelled(conn: sa.Connection, job_id: int, arguments: dict[str, Any], actor: str) -> None:
    """A part's job cancelled (``garde jobs cancel``): its request is marked failed, with the reason."""
    request_id, part = arguments.get("request_id"), arguments.get("part")
    if isinstance(request_id, str) and isinstance(part, str):
        cancel_part(conn, request_id, part, job=job_id, actor=actor)


@job("requests.part", queue=QUEUE, retry=RETRIES, on_cancel=_part_cancelled)
def part_job(store: Engine, *, request_id: str, part: str, actor: str = "garde", datasets: str | None = None,
             results: str | None = None, today: str | None = None) -> dict[str, Any]:
    """One database of a split erasure; the last part to end completes the request."""
    deployment = worker_deployment(datasets, results)
    outcome = run_part(store, request_id, part, deployment, actor)
    if outcome.failed is not None:
        with store.connect() as conn:
            request = get_request(conn, request_id)
        if request.status == "in_progress":
            fail(store, request, GardeError(outcome.failed), actor)
        return {"request_id": request_id, "part": part, "error": outcome.failed}
    done: dict[str, Any] = {"request_id": request_id, "part": part, "applied": outcome.applied}
    if outcome.last:
        finished = finish(store, request_id, deployment, actor=actor,
                          today=date.fromisoformat(today) if today else None, mailer=configured_mailer())
        done["status"] = finished.status
    return done


def retry_stalled(url: str, *, seconds_since_heartbeat: float = 30.0) -> list[int]:
    """Give back to the queue the request jobs of workers whose heartbeat stopped (killed, lost):
    :func:`garde.jobs.queue.requeue_stalled` on the requests' queue. Returns the ids of the jobs retried."""
    require_queue(url, "retrying stalled request jobs")
    return requeue_stalled(url, seconds_since_heartbeat, QUEUE)
