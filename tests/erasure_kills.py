"""An erasure's jobs run in a forked process that SIGKILLs itself at a chosen point, then resumed as the
queue would resume them: the support of ``tests/test_erasure_kill_points.py``.

A point is the n-th boundary the process meets, in its main thread: a statement about to be sent to a
database (the store or a business one), a ``COMMIT`` about to be sent (SQLAlchemy's, or psycopg's own
when garde's driver path sends it behind a statement), a file about to be written in the world's answer
or outbox folder. Killed at point n, the process has done everything before it and nothing from it on;
killed at the point after a ``COMMIT`` or a file written, it has made that lasting and done nothing
more. The first run, with no kill, says how many points there are and what each is.

The jobs are those a worker runs (``requests.run``, then each ``requests.part`` it queued), called in
turn; before each, the process notes which job it starts and which are queued after it. Killed, the job
it was running is run again by a new process, then the queued ones: what the queue does for a killed
worker (its job handed back by :func:`garde.jobs.requests.retry_stalled`; its parts already queued).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde.jobs.kinds import load_kinds
from garde.rights.run_lock import RequestRunning
from tests.requests_jobs_support import World, opened_world

try:
    import psycopg
except ImportError:  # pragma: no cover - a test dependency
    psycopg = None  # type: ignore[assignment]
DEADLINE = 120.0  # seconds: a bound for a loaded machine, never a measure
Job = tuple[str, dict[str, Any]]


@dataclass
class Points:
    """Counts the boundaries of this process's main thread and SIGKILLs it at ``kill_at``."""

    kill_at: int | None
    folder: Path
    labels: list[str] = field(default_factory=list)

    def point(self, label: str) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # the discovery's reads ahead, on threads of their own: only reads
        self.labels.append(label)
        if len(self.labels) == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.point("sql " + (statement.split(None, 1) or [""])[0].upper())

    def commit(self, conn: sa.Connection) -> None:
        if conn.dialect.name != "postgresql":  # psycopg's commit is seen where it is called (counted)
            self.point(f"commit {Path(str(conn.engine.url.database)).stem}")

    def counted(self, commit: Any) -> Any:
        """psycopg's ``Connection.commit``, a point met as it is called, whoever calls it (SQLAlchemy,
        or garde's driver path behind a statement)."""
        def counted_commit(connection: Any) -> None:
            self.point(f"commit {connection.info.dbname}")
            commit(connection)

        return counted_commit

    def audited(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "open":
            path, mode, flags = args
            writes = (mode is not None and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR))
        elif name in ("os.rename", "os.replace"):
            path, writes = args[1], True
            if isinstance(path, str) and isinstance(args[3], int) and args[3] >= 0:  # by its folder's fd
                path = Path(os.readlink(f"/proc/self/fd/{args[3]}")) / path
        else:
            return
        if writes and isinstance(path, str | Path) and Path(path).is_relative_to(self.folder) \
                and not str(path).endswith(".run-locks"):
            self.point(f"write {Path(path).parent.name}/{Path(path).name}")

    def watch(self) -> None:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self.statement)
        sa.event.listen(sa.engine.Engine, "commit", self.commit)
        sys.addaudithook(self.audited)
        if psycopg is not None:
            # in the forked child only; a profiler on every call (what found the commits before) made
            # each run ≈ 2.7 times the CPU, on SQLite too, where it never matched (suite25)
            psycopg.Connection.commit = self.counted(psycopg.Connection.commit)  # type: ignore[method-assign]


@dataclass(frozen=True)
class Ran:
    """A forked run: killed (at its kill point) or not; the boundaries it met (all of them, unkilled)."""

    killed: bool
    labels: list[str]


def run_forked(world: World, jobs: list[Job], kill_at: int | None) -> Ran:
    """Run ``jobs`` (and the parts they queue) in a forked process with ``world``'s settings, killed at
    point ``kill_at`` (None: never)."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns when a process with threads forks: the child only opens engines of its own,
        # runs the jobs in its one thread and leaves by os._exit, using no lock another thread held
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        status = 1
        try:
            os.close(read)
            status = _child(world, jobs, kill_at, write)
        except BaseException as error:
            os.write(write, f"error {type(error).__name__}: {error}".encode())
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as output:
        said = output.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL and kill_at is not None, said
        return Ran(True, [])
    assert os.WEXITSTATUS(status) == 0 and not said.startswith("error"), said
    return Ran(False, json.loads(said))


def _child(world: World, jobs: list[Job], kill_at: int | None, write: int) -> int:
    os.environ.clear()
    os.environ.update(world.env)
    from garde.settings import get_settings

    get_settings.cache_clear()
    from garde.store import connect

    store = connect(world.url)  # a copy of a migrated store (a worker would also check its key)
    kinds = load_kinds()
    points = Points(kill_at, world.folder)
    points.watch()
    queue = list(jobs)
    while queue:
        name, arguments = queue.pop(0)
        _note(world, (name, arguments), queue)
        done = _attempt(kinds[name], store, arguments)
        assert "error" not in done, done
        queue += [("requests.part", {**arguments, "part": part}) for part in done.get("parts", [])]
    _note(world, None, [])
    os.write(write, json.dumps(points.labels).encode())
    return 0


def _attempt(kind: Any, store: sa.Engine, arguments: dict[str, Any]) -> dict[str, Any]:
    """The job, tried again while the killed process's connection still holds the request's lock
    (the queue's retry strategy does the same, 2 s apart)."""
    end = time.monotonic() + DEADLINE
    while True:
        try:
            done: dict[str, Any] = kind(store, **arguments)
            return done
        except RequestRunning:
            assert time.monotonic() < end, "the killed run's lock was never released"
            time.sleep(0.02)


def _note(world: World, doing: Job | None, queued: list[Job]) -> None:
    with _journal(world).open("a", encoding="utf-8") as journal:
        journal.write(json.dumps({"doing": doing, "queued": queued}) + "\n")


def _journal(world: World) -> Path:
    return world.folder.with_name(world.folder.name + ".jobs")  # beside the folder whose writes count


def left_over(world: World) -> list[Job]:
    """The jobs a killed run leaves to the queue: the one it was running, then those queued after it."""
    last = json.loads(_journal(world).read_text(encoding="utf-8").splitlines()[-1])
    return [tuple(job) for job in ([last["doing"]] if last["doing"] else []) + last["queued"]]  # type: ignore[misc]


class Clones:
    """Copies of one world (store, shop, CRM and folders), each to be killed in once."""

    def __init__(self, base: Path, urls: dict[str, str], admin_url: str | None) -> None:
        self.base, self.urls, self.admin_url = base, urls, admin_url

    @contextmanager
    def clone(self, folder: Path) -> Iterator[World]:
        if self.admin_url is None:
            shutil.copytree(self.base, folder)
            urls = {name: f"sqlite:///{folder / Path(url.removeprefix('sqlite:///')).name}"
                    for name, url in self.urls.items()}
        else:
            shutil.copytree(self.base, folder, ignore=shutil.ignore_patterns("*.db*"))
            urls = _postgres_copies(self.admin_url, self.urls, folder.name)
        try:
            with opened_world(urls, folder) as world:
                yield world
        finally:
            if self.admin_url is not None:
                _drop(self.admin_url, urls)


def _postgres_copies(admin_url: str, urls: dict[str, str], suffix: str) -> dict[str, str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copies = {}
    try:
        with admin.connect() as conn:
            for name, url in urls.items():
                template = sa.make_url(url).database
                copy = f"{template}_{suffix}"[:63]
                conn.execute(sa.text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"'))
                copies[name] = sa.make_url(url).set(database=copy).render_as_string(hide_password=False)
    finally:
        admin.dispose()
    return copies


def _drop(admin_url: str, urls: dict[str, str]) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for url in urls.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def lasting(labels: list[str]) -> list[int]:
    """The points (1-based) just after each ``COMMIT`` and each file written: every state a kill can
    leave behind (a kill anywhere between two of them leaves what the first made lasting), the first
    (nothing done) apart."""
    return [index + 1 for index, label in enumerate(labels, start=1)
            if label.startswith(("commit", "write")) and index < len(labels)]
