"""A row holding an identity value that is no identity never stops a request (issue 9).

Anyone can type into a contact form: a crm contact with a person's e-mail and
``n/a`` (or any text) as its phone. Discovery reads that row (it holds the
person's e-mail) and must carry on: the unreadable phone matches nobody and is
withheld, and the person's access and erasure requests still complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.datasets import find_subject
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import run
from garde.shop import generate_shop
from garde.store import connect, migrate
from tests.conftest import scratch_databases

ROOT = Path(__file__).resolve().parents[1]
Shop = tuple[sa.Engine, Deployment, str, int]  # store, deployment, the person's e-mail, the forged contact


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    with scratch_databases(("shop", "crm", "garde"), tmp_path, admin) as urls:
        deployment = Deployment.open(ROOT / "datasets", results=tmp_path / "results",
                                     urls={db: urls[db] for db in ("shop", "crm")}, create=True)
        generate_shop(deployment.engines, 20, seed=5, as_of=date(2025, 6, 1), batch_size=20)
        with deployment.engines["shop"].connect() as conn:
            email = conn.execute(sa.text("SELECT email FROM customers WHERE id = 1")).scalar_one()
        with deployment.engines["crm"].begin() as conn:
            forged = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) + 1 FROM contacts")).scalar_one()
            conn.execute(sa.text("INSERT INTO contacts (id, email, phone, first_name, last_name, language, "
                                 "source, created_at, last_contact_at) VALUES (:i, :e, 'n/a', 'X', 'Y', "
                                 "'fr', 'website', :t, :t)"),
                         {"i": forged, "e": email, "t": date(2025, 5, 1)})
        store = connect(urls["garde"], create=True)
        migrate(store)
        yield store, deployment, email, forged
        deployment.dispose()
        store.dispose()


def _run(store: sa.Engine, deployment: Deployment, kind: str, email: str) -> str:
    with store.begin() as conn:
        request = submit(conn, kind, {"email": email})
        verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                           identities=["email"])
    done = run(store, request.id, deployment)
    assert done.status == "completed", done
    return request.id


def test_a_forged_contact_with_an_unreadable_phone_does_not_stop_discovery(shop: Shop) -> None:
    _store, deployment, email, forged = shop
    footprint = find_subject(deployment.datamap, deployment.engines, {"email": email})
    assert forged in footprint.primary_keys("crm", "contacts")
    assert "n/a" not in footprint.identities.get("phone", set())


def test_an_access_request_completes_and_withholds_the_unreadable_phone(shop: Shop) -> None:
    store, deployment, email, forged = shop
    request_id = _run(store, deployment, "access", email)
    answer = json.loads((deployment.results / request_id / "access.json").read_text(encoding="utf-8"))
    row = next(r for r in answer["tables"]["crm.contacts"] if r["id"] == forged)
    assert row["email"] == email and row["phone"] is None


def test_an_erasure_request_completes_despite_an_unreadable_phone(shop: Shop) -> None:
    store, deployment, email, forged = shop
    _run(store, deployment, "erasure", email)
    with deployment.engines["crm"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM contacts WHERE id = :i"), {"i": forged}
                            ).scalar_one_or_none() != email
