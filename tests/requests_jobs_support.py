"""A PostgreSQL world for request jobs: a store, the reference shop and CRM (with Zoé, whose erasure
touches both), and the settings a `garde worker` over them runs with."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.rights import get_request, submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.shop import generate_shop
from garde.store import connect, open_store
from tests.conftest import REGISTERS, ROOT, scratch_databases
from tests.jobs_support import NO_SCHEDULES
from tests.test_erasure_reference_shop import AS_OF, add_zoe, everything

DEADLINE = 120.0  # seconds: a bound for a loaded machine, never a measure


@dataclass
class World:
    store: sa.Engine
    url: str
    deployment: Deployment
    folder: Path
    env: dict[str, str]

    @property
    def results(self) -> Path:
        return self.folder / "results"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"

    def request(self, kind: str, email: str) -> str:
        """A verified request of ``kind`` for ``email``; its id."""
        with self.store.begin() as conn:
            received = submit(conn, kind, {"email": email})
            verify_out_of_band(conn, received.id, "passport checked in store", actor="agent:test",
                               identities=["email"])
        return received.id

    def status(self, request_id: str) -> str:
        with self.store.connect() as conn:
            return get_request(conn, request_id).status

    def wait(self, request_id: str, until: frozenset[str] = frozenset({"completed", "failed"}),
             poll: float = 0.05) -> str:
        """Poll the request's status every ``poll`` seconds until it is one of ``until`` (bounded by
        :data:`DEADLINE`)."""
        end = time.monotonic() + DEADLINE
        while (status := self.status(request_id)) not in until and time.monotonic() < end:
            time.sleep(poll)
        return status

    @staticmethod
    def wait_for(seconds: float) -> None:
        """Let ``seconds`` pass (a kill point: where in a job a worker is killed, not a measure)."""
        time.sleep(seconds)

    def result(self, request_id: str) -> dict[str, Any]:
        with self.store.connect() as conn:
            return get_request(conn, request_id).result or {}

    def audited(self, request_id: str) -> Counter[str]:
        """How many audit entries of each kind are about the request (their ``request``)."""
        with self.store.connect() as conn:
            rows = conn.execute(sa.text("SELECT kind, payload FROM audit_log ORDER BY seq")).all()
        return Counter(kind for kind, payload in rows if json.loads(payload).get("request") == request_id)

    def chain_ok(self) -> bool:
        with self.store.connect() as conn:
            return audit.verify(conn).ok


def emails(world: World, count: int) -> list[str]:
    """The e-mail addresses of ``count`` generated customers, in id order."""
    with world.deployment.engines["shop"].connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT email FROM customers WHERE email IS NOT NULL AND id < 9000000 ORDER BY id LIMIT :n"),
            {"n": count}).scalars())


@contextmanager
def shop_world(admin_url: str | None, folder: Path, customers: int = 30) -> Iterator[World]:
    """A migrated store, the reference shop and CRM (``customers`` generated, and Zoé): PostgreSQL
    databases, or with no ``admin_url`` SQLite files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with scratch_databases(["store", "shop", "crm"], folder, admin_url) as urls, \
            opened_world(urls, folder, create=True) as world:
        generate_shop(world.deployment.engines, customers, seed=3, as_of=AS_OF, batch_size=customers)
        add_zoe(world.deployment)
        yield world


@contextmanager
def opened_world(urls: dict[str, str], folder: Path, *, create: bool = False) -> Iterator[World]:
    """The world whose store, shop and CRM are at ``urls`` (``store``, ``shop``, ``crm``), its answers and
    outbox in ``folder``; ``create``: the store migrated and the shop's tables created first (else the
    store is a copy of a migrated one: connected to, not checked again)."""
    store = open_store(urls["store"]) if create else connect(urls["store"])
    deployment = Deployment.open(ROOT / "datasets", results=folder / "results",
                                 urls={"shop": urls["shop"], "crm": urls["crm"]},
                                 outbox=folder / "outbox", create=create)
    env = {**os.environ, "GARDE_DATABASE_URL": urls["store"],
           "GARDE_REGISTERS": str(REGISTERS / "reference-shop.yaml"),
           "GARDE_DATASETS": str(ROOT / "datasets"), "GARDE_SHOP_URL": urls["shop"],
           "GARDE_CRM_URL": urls["crm"], "GARDE_OUTBOX": str(folder / "outbox"),
           "GARDE_RESULTS": str(folder / "results"), "GARDE_MAILER": "file",
           # its workers do the test's jobs only: a retention sweep's tick (02:30 UTC) swept the
           # shop of one twin, not the other's, and the next erasures' plans differed
           **NO_SCHEDULES}
    try:
        yield World(store, urls["store"], deployment, folder, env)
    finally:
        deployment.dispose()
        store.dispose()


def answer(world: World, request_id: str, name: str) -> dict[str, Any]:
    """An answer file, without what names the request or when it was written."""
    data: dict[str, Any] = json.loads((world.results / request_id / name).read_text(encoding="utf-8"))
    for key in ("request", "subject", "subjects", "generated_at", "held"):
        data.pop(key, None)
    if "own_copies" in data:  # garde's files of the subject: named by request ids and times
        data["own_copies"] = sorted((copy["kind"], copy["removed"]) for copy in data["own_copies"])
    return data


def rows(world: World) -> dict[tuple[str, str, Any], dict[str, Any]]:
    return everything(world.deployment)
