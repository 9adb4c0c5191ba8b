"""Discovery never hops through an identity nobody checked (issue 9), on SQLite and PostgreSQL.

The attack: any public form (newsletter, contact form) can create a crm
contact holding one person's e-mail and another person's phone. An access
request proven by the first e-mail must not return the second person's
shop data, nor show their phone number.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde.datasets import TableRef, find_subject
from garde.rights import submit, verify_out_of_band
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment
from garde.rights.running import run
from garde.shop import generate_shop
from garde.store import connect, migrate
from tests.conftest import scratch_databases

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 40


@dataclass
class Person:
    id: int
    email: str
    phone: str
    number: str
    last_name: str


@dataclass
class World:
    urls: dict[str, str]
    store: sa.Engine
    deployment: Deployment
    victim_a: Person
    victim_b: Person
    forged_contact: int


def _person(conn: sa.Connection, customer_id: int) -> Person:
    row = conn.execute(sa.text("SELECT id, email, phone, customer_number, last_name FROM customers "
                               "WHERE id = :i"), {"i": customer_id}).one()
    return Person(*row)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    with scratch_databases(("shop", "crm", "garde"), tmp_path, admin) as urls:
        deployment = Deployment.open(ROOT / "datasets", results=tmp_path / "results",
                                     urls={db: urls[db] for db in ("shop", "crm")}, create=True)
        generate_shop(deployment.engines, CUSTOMERS, seed=3, as_of=date(2025, 6, 1), batch_size=40)
        with deployment.engines["shop"].connect() as conn:
            a, b = _person(conn, 1), _person(conn, 2)
        with deployment.engines["crm"].begin() as conn:
            # What a newsletter or contact form lets anyone write: A's e-mail with B's phone.
            forged = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) + 1 FROM contacts")).scalar_one()
            conn.execute(sa.text("INSERT INTO contacts (id, email, phone, first_name, last_name, language, "
                                 "source, created_at, last_contact_at) VALUES (:i, :e, :p, 'X', 'Y', 'fr', "
                                 "'website', :t, :t)"),
                         {"i": forged, "e": a.email, "p": b.phone, "t": date(2025, 5, 1)})
            # And a customer-service ticket with A's e-mail and B's customer number (typed on a form).
            ticket = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")).scalar_one()
            conn.execute(sa.text("INSERT INTO tickets (id, email, customer_number, topic, status, opened_at) "
                                 "VALUES (:i, :e, :n, 'order status', 'open', :t)"),
                         {"i": ticket, "e": a.email, "n": b.number, "t": date(2025, 5, 2)})
        store = connect(urls["garde"], create=True)
        migrate(store)
        yield World(urls, store, deployment, a, b, forged)
        deployment.dispose()
        store.dispose()


def _b_shop_rows(world: World) -> dict[str, set[Any]]:
    """Victim B's customer row and orders: what must never reach A."""
    with world.deployment.engines["shop"].connect() as conn:
        orders = set(conn.execute(sa.text("SELECT id FROM orders WHERE customer_id = :c"),
                                  {"c": world.victim_b.id}).scalars())
    return {"shop.customers": {world.victim_b.id}, "shop.orders": orders}


def test_a_forged_crm_contact_does_not_hand_b_shop_data_to_a(world: World) -> None:
    deployment = world.deployment
    footprint = find_subject(deployment.datamap, deployment.engines, {"email": world.victim_a.email})
    found = {str(ref): set(footprint.primary_keys(*ref)) for ref in footprint.tables()}
    for table, keys in _b_shop_rows(world).items():
        assert not keys & found.get(table, set()), table
    assert world.victim_a.id in found["shop.customers"]
    assert world.forged_contact in found["crm.contacts"]  # the contact holds A's e-mail: it is A's to see
    assert world.victim_b.phone not in footprint.identities.get("phone", set())
    unfollowed = {(m.kind, m.table, m.column) for m in footprint.not_followed() if m.kind != "cookie_id"}
    assert unfollowed == {("phone", TableRef("crm", "contacts"), "phone"),
                          ("customer_id", TableRef("crm", "tickets"), "customer_number")}


def test_an_access_request_by_a_email_answers_nothing_of_b(world: World) -> None:
    with world.store.begin() as conn:
        request = submit(conn, "access", {"email": world.victim_a.email}, language="fr")
        verify_out_of_band(conn, request.id, "identity card checked in store", actor="agent:test",
                           identities=["email"])
    done = run(world.store, request.id, world.deployment)
    assert done.status == "completed"
    folder = world.deployment.results / request.id
    answer = json.loads((folder / "access.json").read_text(encoding="utf-8"))
    report_ready(folder, world.deployment.results)  # as every reader of the answer does
    html = (folder / "access.html").read_text(encoding="utf-8")
    b_orders = _b_shop_rows(world)["shop.orders"]
    assert {row["id"] for row in answer["tables"]["shop.customers"]} == {world.victim_a.id}
    assert not b_orders & {row["id"] for row in answer["tables"].get("shop.orders", [])}
    for text in (json.dumps(answer), html):
        assert world.victim_b.email not in text and world.victim_b.number not in text
        assert world.victim_b.phone not in text  # B's phone is on the forged contact: withheld
    assert world.victim_a.email in html
    forged = next(r for r in answer["tables"]["crm.contacts"] if r["id"] == world.forged_contact)
    assert forged["email"] == world.victim_a.email and forged["phone"] is None
    # How each identity was matched, in the request's language; the unfollowed phone: kind only.
    how = {(i["kind"], i["value"]): i for i in answer["identities"]}
    assert how["email", world.victim_a.email]["how"] == "given"
    linked = how["phone", world.victim_a.phone]
    assert (linked["how"], linked["table"], linked["column"]) == ("linked", "shop.customers", "phone")
    assert linked["via"] == {"kind": "email", "value": world.victim_a.email}
    assert "trouvé dans Compte client (champ phone)" in linked["text"]
    unfollowed = [i for i in answer["not_followed"] if i["kind"] == "phone"]
    assert unfollowed == [{"kind": "phone", "how": "not_followed", "withheld": True, "table": "crm.contacts",
                           "column": "phone", "label": "Téléphone", "text": unfollowed[0]["text"]}]
    cookie = next(i for i in answer["not_followed"] if i["kind"] == "cookie_id")  # on A's own browser row
    assert not cookie["withheld"] and "l'un de vos fichiers" in cookie["text"] and "value" not in cookie
    assert "Fiche contact" in unfollowed[0]["text"]
    assert "Comment nous avons trouvé vos données" in html and "rien ne prouve qu&#39;il est le vôtre" in html


def test_a_portability_export_by_a_email_carries_nothing_of_b(world: World) -> None:
    # (The reference shop has no portable identity column on a crm row, so the withholding of
    # Footprint.withheld is pinned by the access test; this one guards the export as a whole.)
    with world.store.begin() as conn:
        request = submit(conn, "portability", {"email": world.victim_a.email})
        verify_out_of_band(conn, request.id, "identity card checked in store", actor="agent:test",
                           identities=["email"])
    assert run(world.store, request.id, world.deployment).status == "completed"
    with zipfile.ZipFile(world.deployment.results / request.id / "portability.zip") as archive:
        data = json.loads(archive.read("data.json"))
    exported = json.dumps(data)
    assert world.victim_a.email in exported
    assert world.victim_b.phone not in exported and world.victim_b.email not in exported
    assert world.victim_b.number not in exported
    assert not set(data) - {str(ref) for ref in find_subject(
        world.deployment.datamap, world.deployment.engines, {"email": world.victim_a.email}).tables()}
