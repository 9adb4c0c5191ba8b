"""The API under test: the app of `garde serve` on a real store, driven by starlette's client."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from garde.api import create_app
from garde.api.keys import ROLES, create_key
from garde.settings import Settings
from garde.store import connect, migrate
from tests.conftest import REGISTERS

REGISTER = REGISTERS / "reference-shop.yaml"


def new_key(url: str, role: str, name: str | None = None) -> str:
    engine = connect(url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        _, key = create_key(conn, name or f"{role}-key", role)
    engine.dispose()
    return key


class Client:
    """A synchronous httpx client of the app over ASGI, its lifespan run (the store opened, the
    audit writer flushed and closed at the end) as uvicorn runs it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://garde.test")

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.request(method, path, **options))

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)

    @contextmanager
    def running(self) -> Iterator[Client]:
        lifespan = self.app.router.lifespan_context(self.app)
        self.loop.run_until_complete(lifespan.__aenter__())
        try:
            yield self
        finally:
            self.loop.run_until_complete(lifespan.__aexit__(None, None, None))
            self.loop.run_until_complete(self.http.aclose())
            self.loop.close()


@contextmanager
def api_client(url: str) -> Iterator[tuple[Client, dict[str, str]]]:
    """A client of the app on the store at ``url``, and a key per role."""
    keys = {role: new_key(url, role) for role in ROLES}
    app = create_app(Settings(database_url=url, registers=REGISTER))
    with Client(app).running() as client:
        yield client, keys


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def audit_actors(url: str, kind_prefix: str) -> list[str]:
    engine = connect(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor FROM audit_log WHERE kind LIKE :k ORDER BY seq"),
                            {"k": kind_prefix + "%"}).scalars().all()
    engine.dispose()
    return list(rows)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def garde_serve(env: dict[str, str], cwd: Path) -> Iterator[str]:
    """A real `garde serve` process with ``env``, until the block ends: its base URL. Its output
    must hold no traceback."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "garde", "serve", "--port", str(port)], env=env,
                               cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"garde serve did not become ready:\n{process.communicate()[0]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
        assert "Traceback" not in output, output
