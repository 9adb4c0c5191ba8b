"""The API under test: the app of `garde serve` on a real store, driven by starlette's client."""

from __future__ import annotations

import asyncio
import copy
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from garde import audit
from garde.api import create_app
from garde.api.keys import ROLES, create_key
from garde.rights import FileMailer
from garde.rights.deployment import Deployment
from garde.settings import Settings
from garde.shop.load import generate_shop
from garde.store import connect, migrate
from garde.subjects import ensure_subject
from tests.conftest import REGISTERS, ROOT, mailed_code, scratch_databases
from tests.jobs_support import NO_SCHEDULES, garde_worker

REGISTER = REGISTERS / "reference-shop.yaml"
T = TypeVar("T")


def new_key(url: str, role: str, name: str | None = None) -> str:
    return new_keys(url, {role: name or f"{role}-key"})[role]


def new_keys(url: str, names: dict[str, str] | None = None) -> dict[str, str]:
    """A key per role of ``names`` ({role: key name}; default: every role, named ``<role>-key``),
    made on one connection to the store (migrated first): {role: key}."""
    engine = connect(url, create=True)
    migrate(engine)
    try:
        with engine.begin() as conn:
            return {role: create_key(conn, name, role)[1]
                    for role, name in (names or {role: f"{role}-key" for role in ROLES}).items()}
    finally:
        engine.dispose()


class Client:
    """A synchronous httpx client of the app over ASGI, its lifespan run (the store opened, the
    audit writer flushed and closed at the end) as uvicorn runs it.

    The app runs on an event loop of its own thread: a test may call it while the main thread's
    loop is taken (Playwright's sync API keeps one running for as long as a browser is open)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="asgi-client", daemon=True)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://garde.test")
        self._others: list[httpx.AsyncClient] = []

    def from_address(self, address: str) -> Client:
        """This running client's app called from another client ``address``, which the rate limits
        count apart (a test sharing the app gets counters of its own): the same loop and lifespan,
        closed with this client."""
        other = copy.copy(self)
        other.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app, client=(address, 50000)),
                                       base_url="http://garde.test")
        self._others.append(other.http)
        return other

    def _run(self, awaitable: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(awaitable, self.loop).result()

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        return self._run(self.http.request(method, path, **options))

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    @contextmanager
    def running(self) -> Iterator[Client]:
        self.thread.start()
        lifespan = self.app.router.lifespan_context(self.app)
        self._run(lifespan.__aenter__())
        try:
            yield self
        finally:
            try:
                self._run(lifespan.__aexit__(None, None, None))
                for http in (self.http, *self._others):
                    self._run(http.aclose())
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(timeout=30)
                self.loop.close()
            self.loop.close()


@contextmanager
def api_client(url: str, **settings: Any) -> Iterator[tuple[Client, dict[str, str]]]:
    """A client of the app on the store at ``url`` (other ``settings`` too: ``registers``,
    ``datasets``...), and a key per role."""
    keys = new_keys(url)
    app = create_app(Settings(**{"database_url": url, "registers": REGISTER, **settings}))
    with Client(app).running() as client:
        yield client, keys


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def audit_actors(url: str, kind_prefix: str, request: str | None = None) -> list[str]:
    """The actors of the audit entries whose kind starts with ``kind_prefix``, oldest first; with
    ``request``, only the entries about that request (a store shared by a module's tests)."""
    engine = connect(url)
    with engine.connect() as conn:  # rows and the writer's decision batches alike (docs/audit.md)
        found = [entry for entry in audit.entries(conn) if entry["kind"].startswith(kind_prefix)]
    engine.dispose()
    return [entry["actor"] for entry in found
            if request is None or entry["payload"].get("request") == request]


def known_subject(url: str, email: str) -> str:
    """Make ``email`` an identity the store knows (an engine subject holds it); the subject's id."""
    engine = connect(url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        subject_id = ensure_subject(conn, {"email": email})
    engine.dispose()
    return subject_id


def subject_token(client: Client, email: str, outbox: Path) -> str:
    """A subject session token for ``email`` (a known identity), through the API: ask, read the
    code the file mailer wrote to ``outbox``, confirm."""
    started = client.post("/api/v1/me/session", json={"email": email})
    assert started.status_code == 202, started.text
    confirmed = client.post("/api/v1/me/session/confirm",
                            json={"session": started.json()["session"], "code": mailed_code(outbox)})
    assert confirmed.status_code == 200, confirmed.text
    token: str = confirmed.json()["token"]
    return token
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ready(base: str, process: subprocess.Popen[Any], seconds: float = 60) -> bool:
    """Whether the `garde serve` ``process`` at ``base`` answers ``/readyz`` within ``seconds``
    (False as soon as it has stopped)."""
    deadline = time.monotonic() + seconds
    # one client for every poll: each `httpx.get` makes a client of its own and loads the CA
    # certificates (≈ 27 ms of CPU, a second a start at 20 polls a second, taken from the server)
    with httpx.Client(timeout=2) as probe:
        while True:
            try:
                if probe.get(f"{base}/readyz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


@contextmanager
def garde_serve(env: dict[str, str], cwd: Path, log: Path | None = None) -> Iterator[str]:
    """A real `garde serve` process with ``env``, ready (``/readyz``); yields its base URL. Its output
    (written to ``log`` as it comes, if given) must hold no traceback when it stops."""
    port = free_port()
    output_file = None if log is None else log.open("w")
    process = subprocess.Popen([sys.executable, "-m", "garde", "serve", "--port", str(port)], env=env,
                               cwd=cwd, stdout=output_file or subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        if not ready(base, process):
            process.kill()
            pytest.fail(f"garde serve did not become ready:\n{process.communicate()[0]}")
        yield base
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
        if output_file is not None and log is not None:
            output_file.close()
            output = log.read_text()
        assert "Traceback" not in output, output


@dataclass
class Served:
    url: str
    store: str
    outbox: Path
    results: Path
    keys: dict[str, str]
    customer: str  # the e-mail address of a customer the shop knows (the first of ``customers``)
    env: dict[str, str] = field(default_factory=dict)  # what `garde serve` runs with (a worker needs it)
    # the e-mail addresses of the shop's customers, by id: a test on a shared shop takes one of its own
    customers: list[str] = field(default_factory=list)

    def client(self, role: str = "agent") -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", timeout=60,
                            headers={"Authorization": f"Bearer {self.keys[role]}"})

    def run(self, client: httpx.Client, request_id: str) -> httpx.Response:
        """``POST /requests/{id}/run`` as a client does it: on PostgreSQL (202, queued) the request at
        ``Location`` is polled until a worker has ended it (bounded); on SQLite the run's own answer."""
        ran = client.post(f"/requests/{request_id}/run")
        return self.ended(client, ran) if ran.status_code == 202 else ran

    def ended(self, client: httpx.Client, queued: httpx.Response) -> httpx.Response:
        """The queued request at ``queued``'s ``Location``, once a worker has ended it (bounded)."""
        end = time.monotonic() + 120
        while True:
            polled = client.get(queued.headers["location"].removeprefix("/api/v1"))
            if polled.json()["status"] not in ("verified", "in_progress") or time.monotonic() > end:
                return polled
            time.sleep(0.05)

    def mails(self, to: str | None = None) -> list[tuple[str, str]]:
        """(subject, body) of the mails written to the outbox, oldest first; with ``to``, only those
        to that address (a served shop shared by a module's tests)."""
        found = []
        for message in FileMailer(self.outbox).messages():
            if to is not None and message["To"] != to:
                continue
            body = message.get_body()
            assert body is not None
            found.append((" ".join(str(message["Subject"]).split()), body.get_content()))
        return found


@contextmanager
def served_shop(database_url: str, tmp_path: Path, admin: str | None,
                serve_log: Path | None = None) -> Iterator[Served]:
    """The reference shop (20 generated customers) on the store's kind of database (``admin``: the
    PostgreSQL server's, else SQLite), a key per role, and `garde serve` over them (its output in
    ``serve_log`` as it comes, if given; a worker's in ``tmp_path / "worker.log"``)."""
    with scratch_databases(["shop", "crm"], tmp_path, admin) as urls:
        shop = Deployment.open(ROOT / "datasets", results=tmp_path / "results", urls=urls, create=True)
        try:
            generate_shop(shop.engines, 20, seed=5, batch_size=20)
            with shop.engines["shop"].connect() as conn:
                customers = [str(email) for email in conn.execute(sa.text(
                    "SELECT email FROM customers WHERE email IS NOT NULL ORDER BY id")).scalars()]
        finally:
            shop.dispose()
        keys = new_keys(database_url, {"agent": "callcentre", "dpo": "dpo-office", "service": "shop",
                                       "auditor": "audit", "opendsr": "consent-platform"})
        env = {**os.environ, "GARDE_DATABASE_URL": database_url, "GARDE_REGISTERS": str(REGISTER),
               "GARDE_DATASETS": str(ROOT / "datasets"), "GARDE_SHOP_URL": urls["shop"],
               "GARDE_CRM_URL": urls["crm"], "GARDE_OUTBOX": str(tmp_path / "outbox"),
               "GARDE_RESULTS": str(tmp_path / "results"), "GARDE_MAILER": "file"}
        with garde_serve(env, tmp_path, serve_log) as base, workers(database_url, env, tmp_path):
            yield Served(base, database_url, tmp_path / "outbox", tmp_path / "results", keys, customers[0],
                         env, customers)


@contextmanager
def workers(database_url: str, env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    """A `garde worker` beside `garde serve` on PostgreSQL (where runs are queued); none on SQLite."""
    if database_url.startswith("sqlite"):
        yield
        return
    # the test's jobs only: no periodic job's tick (a sweep, a prune) in what the tests read
    quiet = {**env, **NO_SCHEDULES}
    with garde_worker(database_url, tmp_path / "worker.log", "--concurrency", "2", env=quiet):
        yield


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a refusal with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body
