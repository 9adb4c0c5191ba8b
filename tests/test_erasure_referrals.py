"""A table that references itself ("referred by a friend") must not make erasure take other people.

``customers.referrer_id -> customers.id`` points at *another* person. Before,
discovery followed every reference both ways, so erasing Bob found the
friend who referred him and the friends he referred (and theirs), and
erasure deleted them all. A self-reference now defaults to ``on_erase:
nullify``: discovery never follows it, and erasing Bob sets ``referrer_id``
to NULL in the rows of the people he referred, which stay.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde.datasets import find_subject, parse_dataset
from garde.legal_holds import place_hold
from garde.problems import InputError
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import run
from tests.test_rights_requests import REGISTER, _database

CLUB = """
database: club
url: {url}
register: ../register.yaml
tables:
  customers:
    subject: customer
    primary_key: id
    identities: {{email: email}}
    references: {{referrer_id: customers.id}}   # referred by a friend: another person
    columns:
      email: {{category: contact.email, activities: [accounts], erase: delete}}
      name: {{category: identity.name, activities: [accounts], erase: delete}}
  orders:
    subject: customer
    primary_key: id
    references: {{customer_id: customers.id}}
    columns:
      total: {{category: transaction.order, activities: [orders], erase: delete}}
"""
# Ana referred Bob; Bob referred Cleo and Dan; Cleo referred Eve.
PEOPLE = [(1, "ana@example.org", "Ana", None), (2, "bob@example.org", "Bob", 1),
          (3, "cleo@example.org", "Cleo", 2), (4, "dan@example.org", "Dan", 2),
          (5, "eve@example.org", "Eve", 3)]


@dataclass
class Club:
    store: sa.Engine
    deployment: Deployment


@pytest.fixture
def club(engine: sa.Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Club]:
    kind = engine.dialect.name
    admin = request.getfixturevalue("postgres_admin_url") if kind == "postgresql" else None
    url = _database(kind, tmp_path, "club", admin)
    (tmp_path / "register.yaml").write_text(REGISTER)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "club.yaml").write_text(CLUB.format(url=url))
    deployment = Deployment.open(tmp_path / "datasets", results=tmp_path / "results", create=True)
    meta = sa.MetaData()
    customers = sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("email", sa.String(120)), sa.Column("name", sa.String(80)),
                         sa.Column("referrer_id", sa.ForeignKey("customers.id")))
    orders = sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
                      sa.Column("total", sa.Integer))
    meta.create_all(deployment.engines["club"])
    with deployment.engines["club"].begin() as conn:
        conn.execute(customers.insert(), [dict(zip(("id", "email", "name", "referrer_id"), p, strict=True))
                                          for p in PEOPLE])
        conn.execute(orders.insert(), [{"id": 10 * p[0], "customer_id": p[0], "total": 100} for p in PEOPLE])
    yield Club(engine, deployment)
    deployment.dispose()
    if admin is not None:
        drop = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with drop.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        drop.dispose()


def _rows(club: Club) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with club.deployment.engines["club"].connect() as conn:
        customers = conn.execute(sa.text("SELECT id, name, referrer_id FROM customers ORDER BY id"))
        orders = conn.execute(sa.text("SELECT id, customer_id FROM orders ORDER BY id"))
        return [tuple(r) for r in customers], [tuple(r) for r in orders]


def test_discovery_does_not_follow_a_referral_to_other_people(club: Club) -> None:
    footprint = find_subject(club.deployment.datamap, club.deployment.engines, {"email": "bob@example.org"})
    assert footprint.to_data()["tables"] == {"club.customers": [2], "club.orders": [20]}


def test_erasing_a_referrer_removes_only_their_rows_and_unlinks_the_people_they_referred(club: Club) -> None:
    with club.store.begin() as conn:
        request = submit(conn, "erasure", {"email": "bob@example.org"})
        verify_out_of_band(conn, request.id, "identity card checked in store", actor="agent:test",
                           identities=list(request.identities))
    done = run(club.store, request.id, club.deployment)
    assert done.status == "completed"
    customers, orders = _rows(club)
    assert customers == [(1, "Ana", None), (3, "Cleo", None), (4, "Dan", None), (5, "Eve", 3)]
    assert orders == [(10, 1), (30, 3), (40, 4), (50, 5)]
    report = json.loads((club.deployment.results / request.id / "erasure.json").read_text())
    # Cleo's and Dan's rows are theirs: Bob's report counts them, never naming their customer numbers
    assert report["unlinked"] == [{"table": "club.customers", "column": "referrer_id", "rows": 2, "reason":
                                   "another person's row pointing at the subject: only the link is removed"}]


def _load(text: str, tmp_path: Path) -> Any:
    (tmp_path / "register.yaml").write_text(REGISTER)
    return parse_dataset(textwrap.dedent(text).replace("../register.yaml", "register.yaml"), "club.yaml",
                         base=tmp_path)


def test_a_cycle_of_cascading_references_is_reported(tmp_path: Path) -> None:
    cascading = CLUB.replace("{{referrer_id: customers.id}}",
                             "{{referrer_id: {{to: customers.id, on_erase: cascade}}}}").format(url="sqlite://")
    with pytest.raises(InputError, match=r"customers -> customers form a cycle that cascades"):
        _load(cascading, tmp_path)
    two = """
        database: shop
        url: sqlite://
        register: register.yaml
        tables:
          customers:
            subject: customer
            primary_key: id
            identities: {email: email}
            references: {favourite_order_id: orders.id}
          orders:
            subject: customer
            primary_key: id
            references: {customer_id: customers.id}
    """
    with pytest.raises(InputError, match=r"tables.customers.references.favourite_order_id: the references "
                                         r"customers -> orders -> customers form a cycle"):
        _load(two, tmp_path)
    _load(two.replace("{favourite_order_id: orders.id}",
                      "{favourite_order_id: {to: orders.id, on_erase: nullify}}"), tmp_path)


GIFTS = """
  gifts:                      # a gift card one customer offers another
    subject: customer
    primary_key: id
    references:
      customer_id: customers.id
      giver_id: {{to: customers.id, on_erase: nullify}}
    columns:
      message: {{category: communication.message, activities: [crm-profiling], erase: delete}}
"""


def test_on_erase_round_trips_and_rejects_unknown_values(tmp_path: Path) -> None:
    text = (CLUB + GIFTS).format(url="sqlite://")
    tables = _load(text, tmp_path).to_data()["tables"]
    assert tables["customers"]["references"] == {"referrer_id": "customers.id"}  # the default: nullify
    assert tables["gifts"]["references"] == {"customer_id": "customers.id",
                                             "giver_id": {"to": "customers.id", "on_erase": "nullify"}}
    with pytest.raises(InputError, match=r"references.giver_id.on_erase: expected one of cascade, nullify"):
        _load(text.replace("on_erase: nullify", "on_erase: nulify"), tmp_path)


def test_a_referred_customer_whose_row_stays_loses_the_link_to_their_referrer(club: Club) -> None:
    with club.store.begin() as conn:  # Bob's orders are held: his customer row stays, masked
        place_hold(conn, "table", "club.orders", "chargeback dispute 2025-08")
        request = submit(conn, "erasure", {"email": "bob@example.org"})
        verify_out_of_band(conn, request.id, "identity card checked in store", actor="agent:test",
                           identities=list(request.identities))
    assert run(club.store, request.id, club.deployment).status == "completed"
    customers, orders = _rows(club)
    assert customers == [(1, "Ana", None), (2, None, None), (3, "Cleo", None), (4, "Dan", None),
                         (5, "Eve", 3)]
    assert orders == [(10, 1), (20, 2), (30, 3), (40, 4), (50, 5)]
    report = json.loads((club.deployment.results / request.id / "erasure.json").read_text())
    pointing = "another person's row pointing at the subject"
    assert [(u.get("key"), u.get("rows"), u["reason"].split(":")[0]) for u in report["unlinked"]] == [
        (2, None, "the subject's link to another person"), (None, 2, pointing)]
