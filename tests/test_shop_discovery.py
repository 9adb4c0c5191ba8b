"""The reference shop on real SQLite and PostgreSQL: generation, and discovery checked by hand-written SQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.datasets import (
    ColumnMap,
    Masking,
    TableRef,
    connect_datamap,
    erase_statement,
    find_subject,
    load_datamap,
)
from garde.datasets.model import DataMap
from garde.shop import METADATA, generate_shop, row_counts, shop_checksum

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 400
AS_OF = date(2025, 6, 1)


def _postgres_pair(admin_url: str) -> Iterator[dict[str, str]]:
    names = {db: f"garde_t_{db}_{uuid.uuid4().hex[:8]}" for db in ("shop", "crm")}
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = sa.make_url(admin_url)
    try:
        yield {
            db: base.set(database=name).render_as_string(hide_password=False) for db, name in names.items()
        }
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop_urls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The shop and crm databases (two files, or two PostgreSQL databases), filled once per module."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("shop")
        yield {db: f"sqlite:///{folder / db}.db" for db in ("shop", "crm")}
    else:
        yield from _postgres_pair(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture(scope="module")
def datamap() -> DataMap:
    return load_datamap(ROOT / "datasets")


@pytest.fixture(scope="module")
def engines(shop_urls: dict[str, str], datamap: DataMap) -> Iterator[dict[str, Engine]]:
    engines = connect_datamap(datamap, shop_urls, create=True)
    generate_shop(engines, CUSTOMERS, seed=11, as_of=AS_OF, batch_size=150)
    yield engines
    for engine in engines.values():
        engine.dispose()


def datamap_tables() -> dict[str, sa.Table]:
    return {t.name: t for t in METADATA["shop"].sorted_tables}


def test_generation_has_about_ten_rows_per_customer(engines: dict[str, Engine]) -> None:
    counts = row_counts(engines)
    assert counts["shop.customers"] == CUSTOMERS
    assert 9 <= sum(counts.values()) / CUSTOMERS <= 13
    # every table has rows, but the archive of invoices: the retention sweep fills it
    assert counts["shop.invoices_archive"] == 0
    filled = {name: n for name, n in counts.items() if name != "shop.invoices_archive"}
    assert all(n > 0 for n in filled.values()), [name for name, n in filled.items() if n == 0]
    with engines["shop"].connect() as conn:
        distinct = conn.execute(sa.text("SELECT COUNT(DISTINCT email) FROM customers")).scalar_one()
        created = datamap_tables()["customers"].c.created_at
        span = conn.execute(sa.select(sa.func.min(created), sa.func.max(created))).one()
    assert distinct == CUSTOMERS
    assert (span[1] - span[0]).days > 12 * 365  # dates over ~15 years: retention has work


def test_same_seed_same_data_on_every_backend(engines: dict[str, Engine], tmp_path: Path) -> None:
    def sqlite_shop(folder: Path, seed: int) -> str:
        folder.mkdir()
        other = {db: sa.create_engine(f"sqlite:///{folder / db}.db") for db in ("shop", "crm")}
        generate_shop(other, CUSTOMERS, seed=seed, as_of=AS_OF, batch_size=150)
        checksum = shop_checksum(other)
        for engine in other.values():
            engine.dispose()
        return checksum

    assert shop_checksum(engines) == sqlite_shop(tmp_path / "again", 11)
    assert sqlite_shop(tmp_path / "other", 12) != shop_checksum(engines)


# -- discovery against hand-written SQL ---------------------------------------------------------------

SHOP_BY_CUSTOMER = (
    "accounts",
    "addresses",
    "orders",
    "appointments",
    "wishlist_items",
    "basket_items",
    "reviews",
    "loyalty_accounts",
    "browsers",
)
SHOP_BY_ORDER = (
    "payments",
    "invoices",
    "deliveries",
    "returns",
    "tax_free_refunds",
    "personalisations",
    "fraud_checks",
)


def _ids(conn: sa.Connection, sql: str, **params: Any) -> set[Any]:
    expanded = {k: v for k, v in params.items()}
    statement = sa.text(sql)
    for name, value in params.items():
        if isinstance(value, list):
            statement = statement.bindparams(sa.bindparam(name, expanding=True))
            expanded[name] = value or [-1]
    return {r[0] for r in conn.execute(statement, expanded)}


def expected_rows(engines: dict[str, Engine], customer_number: str) -> dict[TableRef, set[Any]]:
    """A customer's rows, written out table by table."""
    out: dict[TableRef, set[Any]] = {}
    with engines["shop"].connect() as conn:
        cid, email, phone = conn.execute(
            sa.text("SELECT id, email, phone FROM customers WHERE customer_number = :n"),
            {"n": customer_number},
        ).one()
        out[TableRef("shop", "customers")] = {cid}
        for table in SHOP_BY_CUSTOMER:
            out[TableRef("shop", table)] = _ids(conn, f"SELECT id FROM {table} WHERE customer_id = :c", c=cid)
        orders = sorted(out[TableRef("shop", "orders")])
        for table in SHOP_BY_ORDER:
            out[TableRef("shop", table)] = _ids(
                conn, f"SELECT id FROM {table} WHERE order_id IN :o", o=orders
            )
        out[TableRef("shop", "refunds")] = _ids(
            conn, "SELECT id FROM refunds WHERE return_id IN :r", r=sorted(out[TableRef("shop", "returns")])
        )
        out[TableRef("shop", "web_sessions")] = _ids(
            conn,
            "SELECT id FROM web_sessions WHERE browser_id IN :b",
            b=sorted(out[TableRef("shop", "browsers")]),
        )
    with engines["crm"].connect() as conn:
        who = {"e": email, "p": phone, "n": customer_number}
        contacts = _ids(
            conn, "SELECT id FROM contacts WHERE email = :e OR phone = :p OR customer_number = :n", **who
        )
        out[TableRef("crm", "contacts")] = contacts
        out[TableRef("crm", "newsletter_subscriptions")] = _ids(
            conn,
            "SELECT id FROM newsletter_subscriptions WHERE contact_id IN :c OR email = :e",
            c=sorted(contacts),
            e=email,
        )
        for table in ("segments", "survey_responses", "event_invitations"):
            out[TableRef("crm", table)] = _ids(
                conn, f"SELECT id FROM {table} WHERE contact_id IN :c", c=sorted(contacts)
            )
        tickets = _ids(
            conn,
            "SELECT id FROM tickets WHERE email = :e OR customer_number = :n",
            e=email,
            n=customer_number,
        )
        out[TableRef("crm", "tickets")] = tickets
        out[TableRef("crm", "ticket_messages")] = _ids(
            conn, "SELECT id FROM ticket_messages WHERE ticket_id IN :t", t=sorted(tickets)
        )
        out[TableRef("crm", "call_recordings")] = _ids(
            conn,
            "SELECT id FROM call_recordings WHERE ticket_id IN :t OR phone = :p",
            t=sorted(tickets),
            p=phone,
        )
    return {ref: keys for ref, keys in out.items() if keys}


def _busy_customers(engines: dict[str, Engine]) -> list[str]:
    """Customers known to the crm and with a ticket (so the search must cross databases), plus two others."""
    with engines["crm"].connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    "SELECT c.customer_number FROM contacts c "
                    "JOIN tickets t ON t.customer_number = c.customer_number ORDER BY c.customer_number"
                )
            )
            .scalars()
            .all()
        )
    assert len(rows) >= 2
    return [*rows[:3], "C00000001", f"C{CUSTOMERS:08d}"]


def test_discovery_finds_exactly_the_rows_of_the_subject(
    engines: dict[str, Engine], datamap: DataMap
) -> None:
    for number in _busy_customers(engines):
        expected = expected_rows(engines, number)
        footprint = find_subject(datamap, engines, {"customer_id": number})
        assert {ref: set(keys) for ref, keys in footprint.keys.items() if keys} == expected, number


def test_the_same_subject_is_found_from_any_identity(engines: dict[str, Engine], datamap: DataMap) -> None:
    number = _busy_customers(engines)[0]
    with engines["shop"].connect() as conn:
        email, phone = conn.execute(
            sa.text("SELECT email, phone FROM customers WHERE customer_number = :n"), {"n": number}
        ).one()
    by_number = find_subject(datamap, engines, {"customer_id": number}).to_data()["tables"]
    assert find_subject(datamap, engines, {"email": email.upper()}).to_data()["tables"] == by_number
    assert find_subject(datamap, engines, {"phone": phone}).to_data()["tables"] == by_number
    assert "crm.tickets" in by_number and "shop.customers" in by_number


def test_a_prospect_is_found_in_the_crm_only(engines: dict[str, Engine], datamap: DataMap) -> None:
    with engines["crm"].connect() as conn:
        email = (
            conn.execute(sa.text("SELECT email FROM contacts WHERE customer_number IS NULL ORDER BY id"))
            .scalars()
            .first()
        )
    footprint = find_subject(datamap, engines, {"email": email})
    assert footprint.tables()[0] == ("crm", "contacts")
    assert all(ref.database == "crm" for ref in footprint.tables())
    assert footprint.primary_keys("crm", "contacts") and len(footprint.primary_keys("crm", "contacts")) == 1


def test_shared_events_do_not_leak_other_guests(engines: dict[str, Engine], datamap: DataMap) -> None:
    with engines["crm"].connect() as conn:
        email, event = conn.execute(
            sa.text(
                "SELECT c.email, e.event_id FROM contacts c JOIN event_invitations e ON e.contact_id = c.id "
                "ORDER BY (SELECT COUNT(*) FROM event_invitations o WHERE o.event_id = e.event_id) DESC, c.id"
            )
        ).first()
        guests = conn.execute(
            sa.text("SELECT COUNT(*) FROM event_invitations WHERE event_id = :e"), {"e": event}
        ).scalar_one()
        mine = _ids(
            conn,
            "SELECT e.id FROM event_invitations e JOIN contacts c ON c.id = e.contact_id WHERE c.email = :m",
            m=email,
        )
    assert guests > len(mine)  # the event has other guests: none of them may be found
    footprint = find_subject(datamap, engines, {"email": email})
    assert set(footprint.primary_keys("crm", "event_invitations")) == mine
    assert ("crm", "events") not in footprint.tables()


def test_footprint_rows_and_erasure_statements(engines: dict[str, Engine], datamap: DataMap) -> None:
    number = _busy_customers(engines)[1]
    footprint = find_subject(datamap, engines, {"customer_id": number})
    invoices = TableRef("shop", "invoices")
    rows = footprint.rows(engines, invoices)
    assert [r["id"] for r in rows] == footprint.primary_keys(*invoices)
    assert {"billing_name", "billing_address", "issued_at"} <= set(rows[0])
    table = datamap.table(invoices)
    customers = datamap.table(("shop", "customers"))
    hashed = [ColumnMap("email", "contact.email", erase=Masking("hash"))]
    with engines["shop"].begin() as conn:
        statement = erase_statement(table, footprint.primary_keys(*invoices), conn.dialect.name)
        assert statement is not None
        conn.execute(statement)
        conn.execute(
            erase_statement(customers, footprint.primary_keys("shop", "customers"), conn.dialect.name, hashed)
        )
        names = (
            conn.execute(
                sa.text("SELECT DISTINCT billing_name FROM invoices WHERE id IN :k").bindparams(
                    sa.bindparam("k", expanding=True)
                ),
                {"k": footprint.primary_keys(*invoices)},
            )
            .scalars()
            .all()
        )
        email = conn.execute(
            sa.text("SELECT email FROM customers WHERE customer_number = :n"), {"n": number}
        ).scalar_one()
    assert names == ["anonymised"]
    assert len(email) == 64 and "@" not in email


def test_the_benchmarks_tuned_baseline_reads_what_the_plain_one_reads(
    engines: dict[str, Engine], shop_urls: dict[str, str]
) -> None:
    """``bench_requests`` reports garde against two hand-written baselines: the tuned one (raw driver,
    arrays, prepared, pipelined) must read the very rows the plain one reads, or the floor is false."""
    from benchmarks.request_shop import HandWritten, TunedHandWritten

    with engines["shop"].connect() as conn:
        emails = list(conn.execute(sa.text(
            "SELECT email FROM customers WHERE id % 7 = 1 AND email IS NOT NULL ORDER BY id")).scalars())
    plain = HandWritten(engines["shop"], engines["crm"])
    tuned = TunedHandWritten(shop_urls["shop"], shop_urls["crm"])
    try:
        read = 0
        for email in emails:
            before, after = plain.read(email), tuned.read(email)
            assert before.keys() == after.keys()
            for table, rows in before.items():
                assert sorted(map(tuple, rows), key=repr) == sorted(map(tuple, after[table]), key=repr), table
                read += len(rows)
        assert len(emails) > 40 and read > 10 * len(emails)
    finally:
        tuned.close()
