"""Shared fixtures: real SQLite and real PostgreSQL, never mocks of our own code.

PostgreSQL tests use ``GARDE_TEST_POSTGRES_URL`` (``.ci/postgres.sh`` sets it).
Locally they skip with a clear message when no server answers; under
``CI=true`` a missing server is a failure.
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings

# Hypothesis profiles. Property tests check rules, not speed (benchmarks/ measures speed): on a loaded
# 2-core CI machine a per-example deadline only makes them flaky, so neither profile has one.
# - "ci", loaded under CI=true: the examples are derived from each test, not drawn, and no example
#   database is read or written, so whether a commit lands does not depend on the draw or on an earlier
#   run; a test's own ``@settings(max_examples=...)`` still applies (keep the examples where a rule has
#   edges; bound them where each example is slow, e.g. a request over HTTP or a store per example).
# - "dev", everywhere else: new examples each run, failures remembered in .hypothesis/.
# HYPOTHESIS_PROFILE=ci (or dev) chooses one explicitly, e.g. to replay CI's examples locally.
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                                 or ("ci" if os.environ.get("CI") == "true" else "dev"))

# The tests run with an identifier key of their own, as production does: the public demo key
# is refused on PostgreSQL and warned about elsewhere (tests/test_keys.py checks both).
os.environ.setdefault("GARDE_IDENTIFIER_KEY", "garde-tests-identifier-key-5f0c9a3e7d21b846")

ROOT = Path(__file__).resolve().parents[1]

# The folders garde writes to default to `.garde/` in the working directory: a test that does not
# name its own would write into the clone and share what it wrote with every other test (a mail one
# test sent to Ana was then "her" mail in another test's erasure, which failed CI once). Each test
# process gets folders of its own instead; tests that read them name their own, and
# :func:`pytest_sessionfinish` fails a run that left anything in the clone's `.garde/`.
_OWN_FOLDERS = Path(tempfile.mkdtemp(prefix="garde-tests-"))
atexit.register(shutil.rmtree, _OWN_FOLDERS, True)
for _name in ("outbox", "results", "exports"):
    os.environ.setdefault(f"GARDE_{_name.upper()}", str(_OWN_FOLDERS / _name))
_CLONE_FOLDER = ROOT / ".garde"


def _clone_files() -> set[Path]:
    return {path for path in _CLONE_FOLDER.rglob("*") if path.is_file()} if _CLONE_FOLDER.exists() else set()


_CLONE_FILES_BEFORE = _clone_files()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run that wrote into the clone's `.garde/` fails, naming what it left there."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        return  # the controller checks, once, after every worker ended
    left = sorted(_clone_files() - _CLONE_FILES_BEFORE)
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        sys.stderr.write(f"the tests wrote into the clone's .garde/ ({len(left)} files, e.g. "
                         f"{left[0].relative_to(ROOT)}): a test must name folders of its own\n")
REGISTERS = ROOT / "registers"
SEEDS = ROOT.parent / "shared" / "seeds"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:54329/garde_test"


@pytest.hookimpl(trylast=True)  # after pytest grouped the tests by their fixtures' parameters
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``slow`` (a minute or more on a loaded CI machine: worker kills, the fuzzing)
    run first, in their order: xdist hands tests out in this order (after the ``xdist_group``s, the
    largest first), so that no worker is left running one of them while the other has finished."""
    items[:] = sorted(items, key=lambda item: item.get_closest_marker("slow") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The test process's heap (its modules, thousands of collected tests) frozen once, as a server
    freezes its own: the collector's full passes stop walking it, and each app a test starts finds
    the heap frozen and leaves it alone (garde.api.app's lifespan: before, every start ran a full
    collection over it, ≈ 0.2 s of CPU each, and thawed it when the app stopped)."""
    gc.collect()
    gc.freeze()


_WORKER_SECONDS: dict[str, float] = {}
_GROUP_SECONDS: dict[tuple[str, str], float] = {}
_FILE_SECONDS: dict[str, float] = {}
COSTLIEST_FILES = 15


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each test file's time (set-up, call and teardown of its tests summed) and, under xdist, in the
    controller, each worker's and each ``xdist_group``'s, for :func:`pytest_terminal_summary`."""
    node = getattr(report, "node", None)  # the worker that ran the test, set by xdist's controller
    if node is None and "PYTEST_XDIST_WORKER" in os.environ:
        return  # a worker's own report: the controller counts it when it arrives there
    path = report.nodeid.split("::", 1)[0]
    _FILE_SECONDS[path] = _FILE_SECONDS.get(path, 0.0) + report.duration
    if node is None:
        return
    worker = node.gateway.id
    _WORKER_SECONDS[worker] = _WORKER_SECONDS.get(worker, 0.0) + report.duration
    if report.nodeid.rfind("@") > report.nodeid.rfind("]"):  # loadgroup's "test_id@group"
        group = (report.nodeid.rsplit("@", 1)[1], worker)
        _GROUP_SECONDS[group] = _GROUP_SECONDS.get(group, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A run lasts as long as its busiest worker: print each worker's test time and each group's (a
    group runs in one worker, so a long one makes the run's tail), and the costliest files (where to
    look first; wall time, so a loaded machine inflates them all)."""
    if _WORKER_SECONDS:
        terminalreporter.write_line("test time per worker: " + ", ".join(
            f"{worker} {seconds:.0f} s" for worker, seconds in sorted(_WORKER_SECONDS.items())))
    if _GROUP_SECONDS:
        terminalreporter.write_line("xdist groups: " + ", ".join(
            f"{group} {seconds:.0f} s ({worker})"
            for (group, worker), seconds in sorted(_GROUP_SECONDS.items(), key=lambda item: -item[1])))
    if len(_FILE_SECONDS) > 1:
        costliest = sorted(_FILE_SECONDS.items(), key=lambda item: -item[1])[:COSTLIEST_FILES]
        terminalreporter.write_line(f"costliest {len(costliest)} of {len(_FILE_SECONDS)} files (test time, "
                                    "set-up included): " + ", ".join(
            f"{Path(path).name} {seconds:.0f} s" for path, seconds in costliest))


def _postgres_admin_url() -> str | None:
    url = os.environ.get("GARDE_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return url
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {url}: {exc}")
        return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = _postgres_admin_url()
    if url is None:
        pytest.skip(
            "PostgreSQL not available: start one with `. .ci/postgres.sh && start_postgres` "
            "or set GARDE_TEST_POSTGRES_URL"
        )
    return url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"garde_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file for one test."""
    return f"sqlite:///{tmp_path / 'garde.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Run a test once on SQLite and once on PostgreSQL: an empty database of its own; a test that
    also takes :func:`engine` or :func:`migrated_url` gets it as a copy of a store migrated once per
    test worker (:func:`migrated_stores`), as if Alembic had run for it alone."""
    copied = {"engine", "migrated_url"} & set(request.fixturenames)
    migrated = request.getfixturevalue("migrated_stores") if copied else None
    if request.param == "sqlite":
        path = tmp_path / "garde.db"
        if migrated is not None:
            migrated.copy_sqlite(path)
        yield f"sqlite:///{path}"
    elif migrated is None:
        yield str(request.getfixturevalue("postgres_url"))
    else:
        with migrated.postgres_copy(request.getfixturevalue("postgres_admin_url")) as url:
            yield url


class MigratedStores:
    """Stores migrated to the latest schema once (Alembic takes about a second a store), copied for each
    test that takes :func:`engine`: a SQLite file copied page by page into the test's own private
    file, a PostgreSQL database made with ``CREATE DATABASE … TEMPLATE``. One per identifier key (a
    store's key is wrapped with it), made when first needed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite: dict[str, Path] = {}
        self.postgres: dict[str, str] = {}  # identifier key -> template database
        self.filled: dict[str, str] = {}  # name -> template database (postgres_filled)
        self.admin_url: str | None = None

    @staticmethod
    def _key() -> str:
        from garde.settings import Settings

        return Settings().identifier_key  # the environment's now, as the test's store will read it

    def copy_sqlite(self, path: Path) -> None:
        import sqlite3

        from garde.store import connect, migrate

        key = self._key()
        if key not in self.sqlite:
            template = self.folder / f"template-{len(self.sqlite)}.db"
            store = connect(f"sqlite:///{template}", create=True)
            migrate(store)
            store.dispose()
            self.sqlite[key] = template
        connect(f"sqlite:///{path}", create=True).dispose()  # the new file is owner-only, as garde makes it
        with sqlite3.connect(self.sqlite[key]) as source, sqlite3.connect(path) as target:
            source.backup(target)
        source.close()
        target.close()

    @contextmanager
    def postgres_copy(self, admin_url: str) -> Iterator[str]:
        from garde.store import connect, migrate

        key = self._key()
        self.admin_url = admin_url
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        base = sa.make_url(admin_url)
        try:
            if key not in self.postgres:
                template = f"garde_tpl_{uuid.uuid4().hex[:12]}"
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
                store = connect(base.set(database=template).render_as_string(hide_password=False))
                try:
                    migrate(store)
                finally:
                    store.dispose()  # a template must have no connection when it is copied
                self.postgres[key] = template
            name = f"garde_t_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.postgres[key]}"'))
            try:
                yield base.set(database=name).render_as_string(hide_password=False)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def postgres_filled(self, admin_url: str, name: str, fill: Callable[[str], None]) -> str:
        """A new database copied from the worker's template ``name``, which ``fill(url)`` filled once
        (a business database a fixture would otherwise create and fill for each test), its
        connections closed (a template must have none): its URL."""
        self.admin_url = admin_url
        base = sa.make_url(admin_url)
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            if name not in self.filled:
                template = f"garde_tpl_{uuid.uuid4().hex[:12]}"
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
                self.filled[name] = template
                fill(base.set(database=template).render_as_string(hide_password=False))
            copy = f"garde_t_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{copy}" TEMPLATE "{self.filled[name]}"'))
        finally:
            admin.dispose()
        return base.set(database=copy).render_as_string(hide_password=False)

    def drop(self) -> None:
        if not (self.postgres or self.filled) or self.admin_url is None:
            return
        admin = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for template in [*self.postgres.values(), *self.filled.values()]:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedStores]:
    """The migrated stores :func:`engine`'s databases are copied from, per test worker."""
    stores = MigratedStores(tmp_path_factory.mktemp("migrated"))
    yield stores
    stores.drop()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """:func:`database_url` as a copy of the migrated store, for a test that migrates its store before
    it starts (``connect`` + ``migrate``, ``open_store``, the CLI) and checks nothing of the migration
    itself: Alembic takes ≈ 0.5 s a PostgreSQL store (most of it the server's) and ≈ 0.1 s of CPU a
    SQLite one, a copy ≈ 0.07 s and ≈ 3 ms; the test's own ``migrate`` then finds nothing to do. A
    test of the migrations takes :func:`database_url`."""
    return database_url


@pytest.fixture
def migrated_postgres_url(postgres_admin_url: str, migrated_stores: MigratedStores) -> Iterator[str]:
    """:func:`postgres_url` as a copy of the migrated store (see :func:`migrated_url`)."""
    with migrated_stores.postgres_copy(postgres_admin_url) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The engine's store, migrated, once on SQLite and once on PostgreSQL (a copy of a migrated
    store: :func:`database_url`; ``migrate`` then finds nothing to do, and would do it otherwise)."""
    from garde.store import connect, migrate

    store = connect(database_url, create=True)
    migrate(store)
    yield store
    store.dispose()


def mailed_code(outbox: Path) -> str:
    """The one-time code of the last mail the file mailer wrote to ``outbox``."""
    import re

    from garde.rights import FileMailer

    body = FileMailer(outbox).messages()[-1].get_body()
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body.get_content())
    assert match
    return match.group(1)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common umask that leaves new files readable by every local account; restored after."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    """``path``'s permission bits, e.g. ``0o600``."""
    return path.stat().st_mode & 0o777


@contextmanager
def scratch_databases(names: Sequence[str], tmp_path: Path,
                      admin_url: str | None) -> Iterator[dict[str, str]]:
    """One empty database per name: SQLite files in ``tmp_path``, or (with ``admin_url``) PostgreSQL
    databases dropped afterwards."""
    if admin_url is None:
        yield {name: f"sqlite:///{tmp_path / name}.db" for name in names}
        return
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    created = {name: f"garde_t_{name}_{uuid.uuid4().hex[:8]}" for name in names}
    with admin.connect() as conn:
        for database in created.values():
            conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    base = sa.make_url(admin_url)
    try:
        yield {name: base.set(database=database).render_as_string(hide_password=False)
               for name, database in created.items()}
    finally:
        with admin.connect() as conn:
            for database in created.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings for a CLI test: a SQLite store, outbox and results in ``tmp_path`` (returned)."""
    from garde.settings import get_settings

    monkeypatch.setenv("GARDE_DATABASE_URL", f"sqlite:///{tmp_path / 'garde.db'}")
    monkeypatch.setenv("GARDE_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("GARDE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("GARDE_MAILER", "file")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def garde_here(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``garde ARGS`` run by Typer's runner in the test process with ``env`` as its environment (the
    settings read afresh before and after): its exit status, stdout and stderr, as a process's. For a
    test whose command's own process is not what it checks: a ``python -m garde`` costs a Python start
    and garde's imports (1 – 2 s of CPU on a loaded machine)."""
    from typer.testing import CliRunner

    from garde.cli import app
    from garde.settings import get_settings

    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()
    return subprocess.CompletedProcess(["garde", *args], done.exit_code, done.stdout, done.stderr)


@contextmanager
def cli_store(folder: Path) -> Iterator[sa.Engine]:
    """The store of :func:`cli_env` (``folder``'s SQLite file), migrated, to fill before a command
    runs; the settings are read afresh (a test may have changed them), the engine disposed after."""
    from garde.settings import get_settings
    from garde.store import connect, migrate

    get_settings.cache_clear()
    store = connect(f"sqlite:///{folder / 'garde.db'}", create=True)
    migrate(store)
    try:
        yield store
    finally:
        store.dispose()


@contextmanager
def held_in_another_process(imports: str, lock: str) -> Iterator[subprocess.Popen[str]]:
    """A second Python process holding ``lock`` (a context-manager expression, after ``imports``)
    until the block ends; the block may kill it (its locks must go with it)."""
    script = (f"import sys\n{imports}\nwith {lock}:\n"
              "    print('locked', flush=True)\n    sys.stdin.readline()\n")
    with subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as child:  # closes the pipes and waits for the child at the end
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "locked"
        try:
            yield child
        finally:
            if child.poll() is None:
                child.stdin.close()  # the holder reads the end of its input and releases the lock


@pytest.fixture
def served(migrated_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The reference shop and a real `garde serve` over it, on SQLite and on PostgreSQL
    (``tests.api_support.Served``)."""
    from tests.api_support import served_shop

    admin = None if migrated_url.startswith("sqlite") else request.getfixturevalue("postgres_admin_url")
    with served_shop(migrated_url, tmp_path, admin) as running:
        yield running


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def served_shared_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                         ) -> Iterator[Any]:
    """The server behind :func:`served_shared`, started once per test worker and database."""
    from tests.api_support import served_shop

    folder = tmp_path_factory.mktemp("served")
    admin = None if request.param == "sqlite" else request.getfixturevalue("postgres_admin_url")
    with scratch_databases(["store"], folder, admin) as urls, \
            served_shop(urls["store"], folder, admin) as running:
        yield running


@pytest.fixture
def served_shared(served_shared_server: Any) -> Any:
    """:func:`served`, started once per test worker for every module that uses it (on SQLite, then on
    PostgreSQL; starting one costs seconds): for tests that assert only about the requests, mails and
    audit entries they make themselves, each with subjects of its own (``Served.customers``).

    Each test starts with the server's rate-limit windows empty: the tests share a server and a client
    address (127.0.0.1), not one visitor's budget; ten sign-ins an hour from one address were spent by
    whichever tests a worker happened to run first, and the next one's sign-in was refused."""
    from garde.ratelimit import rate_limits

    engine = sa.create_engine(served_shared_server.store, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(rate_limits.delete())
    finally:
        engine.dispose()
    return served_shared_server


@pytest.fixture
def served_module(served_shared: Any) -> Any:
    """:func:`served_shared` (the name its first users knew)."""
    return served_shared


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test worker for every browser test module:
    Playwright's sync API keeps an event loop running in the main thread while it is started, so
    a second one cannot start beside it (skips, or fails under CI, as ``chromium_path`` says)."""
    from tests.browser import launched_chromium

    with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def subjects_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 migrated_stores: MigratedStores) -> Iterator[Any]:
    """The API app on a copy of the migrated store, started once per test module on SQLite, then on
    PostgreSQL (``tests.subjects_support.App``): for tests of a subject's own session, each with
    :func:`subjects` of its own. ``@pytest.mark.parametrize("subjects_app", ["sqlite"], indirect=True)``
    keeps a test to SQLite."""
    from tests.subjects_support import subjects_app as started

    admin = None if request.param == "sqlite" else request.getfixturevalue("postgres_admin_url")
    with started(tmp_path_factory.mktemp("subjects"), migrated_stores, admin) as app:
        yield app


@pytest.fixture
def subjects(subjects_app: Any) -> Any:
    """Ana and Bea, two data subjects of this test's own in :func:`subjects_app`, with answered and
    pending requests and consents, and the app called from a client address of this test's own
    (``tests.subjects_support.two_subjects``): no test reads another's requests, mails or rate-limit
    counters."""
    from tests.subjects_support import two_subjects

    return two_subjects(subjects_app)
