"""Erasure and a retention sweep over the generated reference shop, on SQLite and on PostgreSQL.

SQLite does not enforce a column's length; PostgreSQL does. A mask whose
output does not fit its column (a 64-character hash in a ``VARCHAR(16)``)
passed every SQLite test and stalled every erasure of a customer with an old
tax-free refund on PostgreSQL. So this test builds the reference shop from
its own data map (``datasets/``), adds one customer whose rows make every
``erase:`` strategy of the map fire (an invoice and a tax-free refund past
their legal periods, an engraving, orders and payments that stay), erases
them, then sweeps retention over the whole shop, and checks the exact result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import audit, retention
from garde.problems import GardeError
from garde.rights import get_request, submit, verify_out_of_band
from garde.rights.deployment import Deployment
from garde.rights.running import run
from garde.shop import METADATA, generate_shop
from tests.test_shop_discovery import _postgres_pair

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)
Z = 9_000_001  # the ids of Zoé's rows: far above the generated ones

ZOE_SHOP: dict[str, list[dict[str, Any]]] = {
    "customers": [{"id": Z, "customer_number": "C90000001", "email": "zoe.erasure@example.org",
                   "phone": "+41790000001", "title": "Mme", "first_name": "Zoé", "last_name": "Erasure",
                   "birth_date": date(1980, 2, 29), "language": "fr", "country": "FR",
                   "created_at": datetime(2009, 1, 5), "last_contact_at": datetime(2024, 6, 1),
                   "relationship_ended_at": None}],
    "accounts": [{"id": Z, "customer_id": Z, "login": "zoe.erasure@example.org", "password_hash": "ab" * 32,
                  "created_at": datetime(2009, 1, 5), "last_login_at": datetime(2024, 6, 1),
                  "closed_at": None}],
    "addresses": [{"id": Z, "customer_id": Z, "kind": "billing", "recipient": "Zoé Erasure",
                   "street": "1 rue de l'Oubli", "postal_code": "75011", "city": "Paris", "country": "FR",
                   "created_at": datetime(2009, 1, 5)}],
    "orders": [  # one from 2010 (every legal period over), one from 2024
        {"id": Z, "customer_id": Z, "order_number": "O90000001", "channel": "store", "total_cents": 120000,
         "currency": "EUR", "ordered_at": datetime(2010, 3, 1), "completed_at": datetime(2010, 3, 5)},
        {"id": Z + 1, "customer_id": Z, "order_number": "O90000002", "channel": "web", "total_cents": 9000,
         "currency": "EUR", "ordered_at": datetime(2024, 5, 1), "completed_at": datetime(2024, 5, 3)}],
    "payments": [
        {"id": Z, "order_id": Z, "card_token": "tok_zoe_2010", "card_brand": "visa", "amount_cents": 120000,
         "paid_at": datetime(2010, 3, 1), "settled_at": datetime(2010, 3, 2)},
        {"id": Z + 1, "order_id": Z + 1, "card_token": "tok_zoe_2024", "card_brand": "visa",
         "amount_cents": 9000, "paid_at": datetime(2024, 5, 1), "settled_at": datetime(2024, 5, 2)}],
    "invoices": [
        {"id": Z, "order_id": Z, "invoice_number": "F90000001", "billing_name": "Zoé Erasure",
         "billing_address": "1 rue de l'Oubli, 75011 Paris", "amount_cents": 120000,
         "issued_at": datetime(2010, 3, 1)},
        {"id": Z + 1, "order_id": Z + 1, "invoice_number": "F90000002", "billing_name": "Zoé Erasure",
         "billing_address": "1 rue de l'Oubli, 75011 Paris", "amount_cents": 9000,
         "issued_at": datetime(2024, 5, 1)}],
    "deliveries": [{"id": Z, "order_id": Z + 1, "recipient": "Zoé Erasure", "address": "1 rue de l'Oubli",
                    "carrier": "dhl", "tracking_number": "TRK90000001", "shipped_at": datetime(2024, 5, 1),
                    "delivered_at": datetime(2024, 5, 3)}],
    "returns": [{"id": Z, "order_id": Z, "reason": "size", "requested_at": datetime(2010, 3, 10),
                 "closed_at": datetime(2010, 3, 17)}],
    "refunds": [{"id": Z, "return_id": Z, "amount_cents": 120000, "refunded_at": datetime(2010, 3, 17)}],
    "tax_free_refunds": [  # the customs period (3 years) is over for the first, not for the second
        {"id": Z, "order_id": Z, "passport_number": "US1234567", "nationality": "US", "amount_cents": 20000,
         "requested_at": datetime(2010, 3, 1), "refunded_at": datetime(2010, 3, 5)},
        {"id": Z + 1, "order_id": Z + 1, "passport_number": "US1234567", "nationality": "US",
         "amount_cents": 1500, "requested_at": datetime(2024, 5, 1), "refunded_at": datetime(2024, 5, 3)}],
    "personalisations": [{"id": Z, "order_id": Z, "engraving": "Z.E.", "created_at": datetime(2010, 3, 1)}],
    "fraud_checks": [{"id": Z, "order_id": Z + 1, "score": 12, "decision": "accept",
                      "checked_at": datetime(2024, 5, 1)}],
    "appointments": [{"id": Z, "customer_id": Z, "store": "Paris Saint-Honoré", "notes": "prefers silk",
                      "created_at": datetime(2024, 4, 1), "appointment_at": datetime(2024, 4, 10)}],
    "wishlist_items": [{"id": Z, "customer_id": Z, "product_sku": "SKU900001",
                        "added_at": datetime(2024, 4, 1)}],
    "basket_items": [{"id": Z, "customer_id": Z, "product_sku": "SKU900002", "quantity": 1,
                      "added_at": datetime(2025, 5, 1), "reminded_at": None}],
    "reviews": [{"id": Z, "customer_id": Z, "product_sku": "SKU900001", "rating": 5, "body": "Parfait",
                 "created_at": datetime(2024, 5, 10)}],
    "loyalty_accounts": [{"id": Z, "customer_id": Z, "card_number": "L900000001", "tier": "gold",
                          "points": 1200, "enrolled_at": datetime(2009, 1, 5),
                          "last_activity_at": datetime(2024, 5, 1)}],
    "browsers": [{"id": Z, "customer_id": Z, "cookie_id": "c" * 32, "consent": "necessary",
                  "user_agent": "Firefox", "first_seen_at": datetime(2025, 5, 1),
                  "last_seen_at": datetime(2025, 5, 2)}],
    "web_sessions": [{"id": Z, "browser_id": Z, "ip_address": "192.0.2.7", "landing_page": "/bags",
                      "pages": 3, "started_at": datetime(2025, 5, 1)}],
}
ZOE_CRM: dict[str, list[dict[str, Any]]] = {
    "contacts": [{"id": Z, "email": "zoe.erasure@example.org", "phone": "+41790000001",
                  "customer_number": "C90000001", "first_name": "Zoé", "last_name": "Erasure",
                  "language": "fr", "source": "store", "interests": "bags",
                  "created_at": datetime(2009, 1, 5), "last_contact_at": datetime(2024, 6, 1)}],
    "newsletter_subscriptions": [{"id": Z, "contact_id": Z, "email": "zoe.erasure@example.org",
                                  "language": "fr", "topics": "bags", "subscribed_at": datetime(2020, 1, 1),
                                  "unsubscribed_at": None}],
    "segments": [{"id": Z, "contact_id": Z, "segment": "vip", "spend_band": 4,
                  "computed_at": datetime(2025, 1, 1)}],
    "tickets": [{"id": Z, "email": "zoe.erasure@example.org", "customer_number": "C90000001",
                 "topic": "delivery", "status": "closed", "opened_at": datetime(2024, 5, 2),
                 "closed_at": datetime(2024, 5, 4)}],
    "ticket_messages": [{"id": Z, "ticket_id": Z, "author": "customer", "body": "Where is my bag?",
                         "sent_at": datetime(2024, 5, 2)}],
    "call_recordings": [{"id": Z, "ticket_id": Z, "phone": "+41790000001", "recording_path": "/calls/z.wav",
                         "duration_s": 95, "recorded_at": datetime(2024, 5, 2)}],
    "survey_responses": [{"id": Z, "contact_id": Z, "score": 9, "comment": "Très bien",
                          "answered_at": datetime(2024, 5, 20)}],
}

# What stays of Zoé's rows after the erasure on AS_OF, column by column; every other row of hers goes.
STAYING = {
    ("shop", "customers", Z): {"customer_number": None, "email": None, "phone": None, "title": None,
                               "first_name": None, "last_name": None, "birth_date": None, "language": None,
                               "country": None},
    ("shop", "orders", Z): {"order_number": None, "channel": None, "total_cents": None},
    ("shop", "orders", Z + 1): {"order_number": None, "channel": None, "total_cents": None},
    ("shop", "payments", Z): {"card_token": None, "card_brand": None, "amount_cents": None},
    ("shop", "payments", Z + 1): {"card_token": None, "card_brand": None, "amount_cents": None},
    # Past 10 years: `anonymise` and `null`; the 2024 invoice is kept whole (legal obligation).
    ("shop", "invoices", Z): {"invoice_number": None, "billing_name": "anonymised",
                              "billing_address": "anonymised", "amount_cents": None},
    ("shop", "invoices", Z + 1): {"invoice_number": "F90000002", "billing_name": "Zoé Erasure",
                                  "billing_address": "1 rue de l'Oubli, 75011 Paris", "amount_cents": 9000},
    # Past the customs period: the passport number goes (no hash: it would be reversible).
    ("shop", "tax_free_refunds", Z): {"passport_number": None, "nationality": None, "amount_cents": None},
    ("shop", "tax_free_refunds", Z + 1): {"passport_number": "US1234567", "nationality": "US",
                                          "amount_cents": 1500},
    ("shop", "personalisations", Z): {"engraving": "***"},
}


def add_zoe(opened: Deployment) -> None:
    """Zoé's rows (every ``erase:`` strategy of the map fires for her) in the generated shop and CRM."""
    for database, rows in (("shop", ZOE_SHOP), ("crm", ZOE_CRM)):
        tables = METADATA[database].tables
        with opened.engines[database].begin() as conn:
            for table in METADATA[database].sorted_tables:
                if table.name in rows:
                    conn.execute(tables[table.name].insert(), rows[table.name])
            if database == "crm":  # an invitation to a generated event
                event = conn.execute(sa.text("SELECT min(id) FROM events")).scalar_one()
                conn.execute(tables["event_invitations"].insert(), [{
                    "id": Z, "event_id": event, "contact_id": Z, "professional_id": None,
                    "influencer_id": None, "status": "accepted", "invited_at": datetime(2024, 1, 1),
                    "event_date": datetime(2024, 2, 1)}])


@pytest.fixture
def deployment(engine: Engine, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """The reference shop (150 generated customers and Zoé) on the store's kind of database."""
    if engine.dialect.name == "sqlite":
        files = {db: f"sqlite:///{tmp_path / db}.db" for db in ("shop", "crm")}
        pairs: Iterator[dict[str, str]] = iter([files])
    else:
        pairs = _postgres_pair(request.getfixturevalue("postgres_admin_url"))
    urls = next(pairs)
    opened = Deployment.open(ROOT / "datasets", results=tmp_path / "results", urls=urls, create=True)
    generate_shop(opened.engines, 150, seed=3, as_of=AS_OF, batch_size=150)
    add_zoe(opened)
    yield opened
    opened.dispose()
    for _ in pairs:  # drops the PostgreSQL databases
        pass


def _zoe(key: Any) -> bool:
    return isinstance(key, int) and Z <= key < Z + 10


def everything(deployment: Deployment) -> dict[tuple[str, str, Any], dict[str, Any]]:
    """Every row of both databases, by (database, table, key)."""
    out: dict[tuple[str, str, Any], dict[str, Any]] = {}
    for database, engine in deployment.engines.items():
        with engine.connect() as conn:
            for table in METADATA[database].sorted_tables:
                for row in conn.execute(sa.select(table)):
                    out[database, table.name, row.id] = dict(row._mapping)
    return out


def test_erasure_and_sweep_over_the_reference_shop_fit_every_column(engine: Engine,
                                                                    deployment: Deployment) -> None:
    before = everything(deployment)
    others = {k: v for k, v in before.items() if not _zoe(k[2])}
    with engine.begin() as conn:
        request = submit(conn, "erasure", {"email": "zoe.erasure@example.org"})
        verify_out_of_band(conn, request.id, "passport checked in store", actor="agent:test",
                           identities=list(request.identities))
    done = run(engine, request.id, deployment, today=AS_OF)
    assert done.status == "completed"
    after = everything(deployment)
    assert {k: v for k, v in after.items() if not _zoe(k[2])} == others  # nobody else touched
    zoe_left = {k: v for k, v in after.items() if _zoe(k[2])}
    assert set(zoe_left) == set(STAYING)
    for key, columns in STAYING.items():
        assert {c: zoe_left[key][c] for c in columns} == columns, key
        untouched = {c: v for c, v in before[key].items() if c not in columns}
        assert {c: zoe_left[key][c] for c in untouched} == untouched, key  # keys, dates: unchanged

    plan = retention.plan(engine, deployment.datamap, deployment.engines, today=AS_OF)
    due = {(s.table, s.operation): s.today for s in plan.steps if s.today}
    assert {op for _, op in due} == {"archive", "delete", "mask"}  # every retention action fires
    assert ("shop.invoices", "archive") in due  # invoices past 3 years go to the intermediate archive
    assert ("shop.tax_free_refunds", "delete") in due  # past the customs period
    swept = retention.sweep(engine, deployment.datamap, deployment.engines, today=AS_OF)
    assert swept.total() == sum(due.values())
    again = retention.plan(engine, deployment.datamap, deployment.engines, today=AS_OF)
    assert [s.to_data() for s in again.steps if s.today] == []
    with deployment.engines["shop"].connect() as conn:
        old = conn.execute(sa.text("SELECT count(*) FROM tax_free_refunds WHERE refunded_at < :limit"),
                           {"limit": datetime(2022, 6, 1)}).scalar_one()
        zoe = conn.execute(sa.text("SELECT passport_number FROM tax_free_refunds WHERE id = :z"),
                           {"z": Z + 1}).scalar_one()
    assert old == 0 and zoe == "US1234567"


def test_a_mask_that_does_not_fit_stops_the_erasure_before_anything_changes(engine: Engine,
                                                                            deployment: Deployment,
                                                                            tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    for name in ("shop.yaml", "crm.yaml"):
        text = (ROOT / "datasets" / name).read_text(encoding="utf-8").replace("../registers",
                                                                              str(ROOT / "registers"))
        passport = "passport_number: {category: identity.id_document, activities: [tax-free], erase: "
        (maps / name).write_text(text.replace(passport + "null}", passport + "hash}"), encoding="utf-8")
    urls = {name: e.url.render_as_string(hide_password=False) for name, e in deployment.engines.items()}
    hashing = Deployment.open(maps, results=tmp_path / "results", urls=urls, create=True)
    before = everything(deployment)
    with engine.begin() as conn:
        request = submit(conn, "erasure", {"email": "zoe.erasure@example.org"})
        verify_out_of_band(conn, request.id, "passport checked in store", actor="agent:test",
                           identities=list(request.identities))
    expected = (r"nothing was changed: .*shop.yaml:\d+: .*passport_number: `hash` writes 64 characters but "
                r"the column is VARCHAR\(16\)")
    with pytest.raises(GardeError, match=expected) as refused:
        run(engine, request.id, hashing, today=AS_OF)
    assert str(refused.value).count("shop.yaml") == 1  # that column only
    assert everything(deployment) == before
    with engine.begin() as conn:
        failed = get_request(conn, request.id)
        assert conn.execute(sa.text("SELECT count(*) FROM erasure_steps")).scalar() == 0
        assert [e["kind"] for e in audit.entries(conn)][-1] == "request.failed"
    assert failed.status == "failed" and "nothing was changed" in (failed.result or {})["error"]
    if engine.dialect.name == "postgresql":  # the other fix: widen the column; the same process sees it
        with deployment.engines["shop"].begin() as conn:
            conn.execute(sa.text("ALTER TABLE tax_free_refunds "
                                 "ALTER COLUMN passport_number TYPE VARCHAR(64)"))
        done = run(engine, request.id, hashing, today=AS_OF)
    else:  # fix the map: the same request runs
        done = run(engine, request.id, deployment, today=AS_OF)
    hashing.dispose()
    assert done.status == "completed"
