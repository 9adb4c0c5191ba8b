"""The demo's server: what ``make demo`` serves after its batch part, until Ctrl-C.

The store, registers and data map are the ones the batch part used (the settings); the service is
the one ``garde serve`` runs (:func:`garde.api.app.create_app`) plus the demo shop page. A demo DPO
key is created for the dashboard's login, and the earlier demo keys are revoked, so the key printed
last is the only demo key that opens anything.
"""

from __future__ import annotations

import errno
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from garde.api.keys import create_key, list_keys, revoke_key
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.store import open_store

KEY_PREFIX = "demo-dpo-"
ACTOR = "garde-demo"


HOST = "127.0.0.1"  # the demo's store has the public demo identifier key and a printed DPO key: loopback only


@dataclass
class DemoServer:
    """A bound listening socket and what to tell the person who started the demo."""

    listening: socket.socket
    port: int
    dpo_key: str
    dpo_key_name: str
    settings: Settings

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def urls(self) -> dict[str, str]:
        """The surfaces, by what they are."""
        return {"privacy center": f"{self.base}/privacy/", "DPO dashboard": f"{self.base}/dpo/",
                "demo shop (cookie banner)": f"{self.base}/demo-shop/", "API": f"{self.base}/api/v1/docs"}


def _listen(port: int) -> socket.socket:
    """A socket listening on the loopback's ``port`` (0: a free port), or a clear error when it is taken."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((HOST, port))
        listening.listen(128)
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            raise GardeError(f"port {port} on {HOST} is taken (another server, or an earlier demo still "
                             f"running): stop it, or choose another port: make demo PORT={port + 1}, "
                             f"garde demo --serve --port {port + 1}") from None
        raise GardeError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    return listening


def _demo_dpo_key(settings: Settings) -> tuple[str, str]:
    """A new DPO key for this run, the demo's earlier ones revoked: (name, key)."""
    engine = open_store(settings.database_url)
    try:
        with engine.begin() as conn:
            for earlier in list_keys(conn):
                if earlier.name.startswith(KEY_PREFIX) and earlier.revoked_at is None:
                    revoke_key(conn, earlier.name, actor=ACTOR)
            record, key = create_key(conn, f"{KEY_PREFIX}{secrets.token_hex(4)}", "dpo", actor=ACTOR)
    finally:
        engine.dispose()
    return record.name, key


def open_demo_server(port: int = 8000, settings: Settings | None = None) -> DemoServer:
    """Listen on the loopback's ``port`` first (a port taken is said before anything is written),
    then create the demo's DPO key."""
    settings = settings or get_settings()
    listening = _listen(port)
    try:
        name, key = _demo_dpo_key(settings)
    except BaseException:
        listening.close()
        raise
    return DemoServer(listening, listening.getsockname()[1], key, name, settings)


def serve_demo(server: DemoServer, ready: Callable[[], None] = lambda: None) -> None:
    """Serve the pages, the API and the demo shop page until Ctrl-C (or SIGTERM), then return.

    ``ready`` is called once the server answers (its signal handlers installed, the store open):
    a Ctrl-C from then on, or before, stops it without a traceback.
    """
    import uvicorn

    from garde.api.app import create_app
    from garde.web.demo_shop import mount

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                ready()

    try:
        app = create_app(server.settings)
        mount(app)
        config = uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False)
        Announcing(config).run(sockets=[server.listening])
    except KeyboardInterrupt:  # uvicorn stops cleanly, then raises the signal it caught again
        pass
    finally:
        server.listening.close()
