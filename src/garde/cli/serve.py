"""``garde serve``: the REST API (docs/api.md) under uvicorn."""

from __future__ import annotations

import warnings
from typing import Annotated, Any

import typer

from garde.problems import GardeError
from garde.settings import Settings

# Seconds uvicorn's supervisor waits for a worker process to answer its ping before killing it as hung
# and starting another. Its default, five, is less than a worker takes to start on a loaded machine
# (importing garde under a load of 18): every worker was killed before it served, forever.
WORKER_PATIENCE = 30


def serve(
    host: Annotated[str, typer.Option(help="address to listen on (loopback by default: put a TLS "
                                      "proxy in front to serve others)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="server processes", min=1, max=64)] = 1,
) -> None:
    """Serve the API on /api/v1 (OpenAPI at /api/v1/openapi.json) until stopped.

    Opens (and migrates) the store of `database_url` and loads the `registers`; every route
    but /healthz and /readyz needs an API key (`garde keys create`).

    Example: garde serve --port 8000 --workers 2
    """
    import uvicorn

    from garde.api.app import create_app
    from garde.audience_seen import sweep
    from garde.decide.model import DecisionModel
    from garde.settings import get_settings
    from garde.store import open_store

    settings = get_settings()
    sweep(settings.exports)  # what audience streams killed before left (their digests keyed by a lost key)
    if settings.consent_unchecked_identities is None:
        warnings.warn(UncheckedIdentitiesWarning(UNSET), stacklevel=1)
    if not settings.registers.exists():
        raise GardeError(f"no register at {settings.registers} (set GARDE_REGISTERS)")
    DecisionModel.load(settings.registers)  # a register that does not load is a clear error, here
    # Migrated once, here, before any worker starts: workers migrating at once would race.
    open_store(settings.database_url).dispose()
    server = {"host": host, "port": port, "log_level": "info", "access_log": False, **proxies(settings)}
    if workers == 1:
        uvicorn.run(create_app(settings), **server)
    else:  # each worker process builds its own app from the same settings
        uvicorn.run("garde.api:create_app", factory=True, workers=workers,
                    timeout_worker_healthcheck=WORKER_PATIENCE, **server)


class UncheckedIdentitiesWarning(UserWarning):
    """The consent API links identities the shop did not say it checked (the setting is unset)."""


UNSET = ("consent_unchecked_identities is not set: the consent API links every identity a call names to "
         "one person unless the call marks it `checked: false`, so a visitor typing someone else's address "
         "into a form can opt them in or out; set GARDE_CONSENT_UNCHECKED_IDENTITIES=confirm (a consent "
         "waits for its holder's confirmation unless the shop marks the identity checked) or =link to "
         "keep this behaviour knowingly (docs/consent.md)")


def proxies(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header options from ``trusted_proxies``, the one place garde is told whom
    to believe: ``X-Forwarded-For``/``-Proto`` are read only from those addresses (uvicorn's
    default believes any process on this machine, and ``FORWARDED_ALLOW_IPS`` is not read)."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


def install(app: typer.Typer) -> None:
    app.command("serve")(serve)
