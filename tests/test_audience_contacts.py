"""Audiences with addresses: read from the generated shop, judged like decide(), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit, consent, subjects
from garde.audience import contact_sources, contacts, write_contacts_csv
from garde.cli import app
from garde.consent.objections import object_to
from garde.datasets import DataMap, connect_datamap, load_datamap
from garde.decide import DecisionModel, DecisionPoint
from garde.settings import get_settings
from garde.shop import generate_shop
from garde.store import connect, migrate
from garde.suppression import suppress

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 80


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop_urls(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A small generated shop (shop and crm databases), once per module and backend."""
    datamap = load_datamap(ROOT / "datasets")
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("shop")
        urls = {db: f"sqlite:///{folder / db}.db" for db in ("shop", "crm")}
        drop: list[str] = []
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        drop = [f"garde_t_{db}_{uuid.uuid4().hex[:8]}" for db in ("shop", "crm")]
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in drop:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        base = sa.make_url(admin_url)
        urls = {db: base.set(database=name).render_as_string(hide_password=False)
                for db, name in zip(("shop", "crm"), drop, strict=True)}
    engines = connect_datamap(datamap, urls, create=True)
    generate_shop(engines, CUSTOMERS, seed=5, as_of=date.today(), batch_size=50)
    for engine in engines.values():
        engine.dispose()
    urls["store_backend"] = request.param
    yield urls
    if drop:
        with admin.connect() as conn:
            for name in drop:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store_url(shop_urls: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on the shop's backend, one per test."""
    if shop_urls["store_backend"] == "sqlite":
        return f"sqlite:///{tmp_path / 'garde.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def world(shop_urls: dict[str, str], store_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    datamap = load_datamap(ROOT / "datasets")
    engines = connect_datamap(datamap, {db: shop_urls[db] for db in ("shop", "crm")}, create=True)
    store = connect(store_url, create=True)
    migrate(store)
    model = DecisionModel.load(ROOT / "registers" / "reference-shop.yaml")
    yield {"datamap": datamap, "engines": engines, "store": store, "model": model,
           "exports": tmp_path / "exports"}
    store.dispose()
    for engine in engines.values():
        engine.dispose()


def column(engine: sa.Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text(sql))]


def emails(world: dict[str, Any], activity: str) -> list[str]:
    found = [c.address["email"] for c in contacts(world["store"], world["model"], world["datamap"],
                                                  world["engines"], activity, "email",
                                                  exports=world["exports"])]
    assert len(found) == len(set(found)), "an address is written once"
    return found


def test_sources_follow_the_data_map() -> None:
    datamap: DataMap = load_datamap(ROOT / "datasets")
    newsletter = contact_sources(datamap, "newsletter", "email")
    assert {str(s) for s in newsletter} == {"crm.newsletter_subscriptions", "crm.contacts"}
    (basket,) = contact_sources(datamap, "abandoned-basket", "email")
    assert (str(basket), [str(t.ref) for t, _ in basket.scope]) == ("shop.customers", ["shop.basket_items"])
    (post,) = contact_sources(datamap, "customer-relationship", "post")
    assert str(post) == "shop.addresses"
    assert post.address_columns == ("recipient", "street", "postal_code", "city")


def test_consent_audience_holds_exactly_the_consented_addresses(world: dict[str, Any]) -> None:
    crm = world["engines"]["crm"]
    people = column(crm, "SELECT c.email FROM contacts c "
                         "JOIN newsletter_subscriptions n ON n.contact_id = c.id ORDER BY c.id")[:6]
    (by_phone,) = column(crm, f"SELECT phone FROM contacts WHERE email = '{people[5]}'")
    consented, renewed, withdrew, objected, suppressed, phone_only = people
    with world["store"].begin() as conn:
        ids = {e: subjects.ensure_subject(conn, {"email": e}) for e in people[:5]}
        ids[phone_only] = subjects.ensure_subject(conn, {"phone": by_phone})  # the store knows a phone only
        for address in people:
            consent.give(conn, ids[address], "newsletter", channel="email", method="double_opt_in")
        consent.withdraw(conn, ids[withdrew], "newsletter", channel="email")
        consent.give(conn, ids[renewed], "newsletter")  # every channel, later
        object_to(conn, ids[objected], "direct_marketing")
        suppress(conn, {"email": suppressed.upper()}, "complaint")
    found = emails(world, "newsletter")
    assert sorted(found) == sorted([consented, renewed, phone_only])
    with DecisionPoint(world["model"], world["store"], audit=False) as point:
        for address in people:
            decision = point.decide("newsletter", {"email": address}, ["contact.email"], "email")
            if address != phone_only:  # decide() by e-mail cannot know the phone-only subject
                assert decision.allowed == (address in found), address


def test_soft_opt_in_reaches_customers_the_store_never_met(world: dict[str, Any]) -> None:
    shop = world["engines"]["shop"]
    # every customer with a basket (soft opt-in, like decide(): a relationship that has started)
    eligible = column(shop, "SELECT c.email FROM customers c WHERE EXISTS "
                            "(SELECT 1 FROM basket_items b WHERE b.customer_id = c.id) ORDER BY c.id")
    assert 4 <= len(eligible) < CUSTOMERS
    objected, refused, suppressed = eligible[:3]
    with world["store"].begin() as conn:
        object_to(conn, subjects.ensure_subject(conn, {"email": objected}), "direct_marketing")
        consent.refuse(conn, subjects.ensure_subject(conn, {"email": refused}), "abandoned-basket",
                       channel="email")
        suppress(conn, {"email": suppressed}, "unsubscribed")  # a hash only: no subject in the store
    members = list(contacts(world["store"], world["model"], world["datamap"], world["engines"],
                            "abandoned-basket", "email", exports=world["exports"]))
    assert sorted(m.address["email"] for m in members) == sorted(eligible[3:])
    assert {(m.basis, m.subject_id, m.source) for m in members} == {("soft_opt_in", None, "shop.customers")}


def test_postal_audience_reads_the_address_columns(world: dict[str, Any]) -> None:
    shop = world["engines"]["shop"]
    running = column(shop, "SELECT a.street FROM addresses a JOIN customers c ON c.id = a.customer_id "
                           "WHERE c.relationship_ended_at IS NULL")
    members = list(contacts(world["store"], world["model"], world["datamap"], world["engines"],
                            "customer-relationship", "post", exports=world["exports"]))
    assert members and {m.basis for m in members} == {"contract"}
    assert set(m.address["street"] for m in members) == set(running)
    assert set(members[0].address) == {"recipient", "street", "postal_code", "city"}


def test_audience_cli_writes_addresses_and_audits(world: dict[str, Any], shop_urls: dict[str, str],
                                                  store_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    crm = world["engines"]["crm"]
    first, second = column(crm, "SELECT email FROM newsletter_subscriptions ORDER BY id")[:2]
    with world["store"].begin() as conn:
        consent.give(conn, subjects.ensure_subject(conn, {"email": first}), "newsletter", channel="email")
        consent.refuse(conn, subjects.ensure_subject(conn, {"email": second}), "newsletter", channel="email")
    for name, value in (("GARDE_DATABASE_URL", store_url), ("GARDE_SHOP_URL", shop_urls["shop"]),
                        ("GARDE_CRM_URL", shop_urls["crm"]), ("GARDE_DATASETS", str(ROOT / "datasets")),
                        ("GARDE_REGISTERS", str(ROOT / "registers" / "reference-shop.yaml"))):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    target = tmp_path / "newsletter.csv"
    try:
        result = CliRunner().invoke(app, ["audience", "newsletter", "--channel", "email", "-o", str(target)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["email"], r["basis"]) for r in rows] == [(first.lower(), "consent")]
    assert rows[0]["subject_id"] and rows[0]["source"].startswith("crm.")
    with world["store"].connect() as conn:
        (entry,) = audit.entries(conn, kind="audience")
        assert audit.verify(conn).ok
    assert entry["payload"]["count"] == 1 and first not in str(entry["payload"])


def test_an_audiences_audit_digest_cannot_be_recomputed_from_a_guessed_address(world: dict[str, Any]) -> None:
    """Red team of 2026-12-08 (red31, low). The ``audience`` entry's ``addresses_sha256`` was a plain
    SHA-256 of the members' addresses: in a log no erasure reaches and an ``auditor`` key reads, an
    audience of one (or a few) was confirmed offline from a list of guessed addresses, after their
    holder's erasure too. It is now keyed (HMAC-SHA256 under the store's identifier data key), so
    only the store's key holder can check it against an export."""
    import hashlib

    from garde.audience import audited_contacts

    crm = world["engines"]["crm"]
    (only,) = column(crm, "SELECT email FROM newsletter_subscriptions ORDER BY id")[:1]
    with world["store"].begin() as conn:
        for subject in conn.execute(sa.text("SELECT DISTINCT subject_id FROM consent_events")).scalars():
            consent.withdraw(conn, subject, "newsletter", channel="email")
        consent.give(conn, subjects.ensure_subject(conn, {"email": only}), "newsletter", channel="email")
    members = list(audited_contacts(world["store"], world["model"], world["datamap"], world["engines"],
                                    "newsletter", "email", exports=world["exports"]))
    assert [m.address for m in members] == [{"email": only.lower()}]
    with world["store"].connect() as conn:
        entry = list(audit.entries(conn, kind="audience"))[-1]
    guessed = hashlib.sha256(hashlib.sha256(f"email\x1f{only.lower()}".encode()).hexdigest().encode() + b"\n")
    assert entry["payload"]["count"] == 1
    assert guessed.hexdigest() not in str(entry["payload"])


def test_audience_csv_cannot_run_as_a_formula(world: dict[str, Any]) -> None:
    """A customer typed a formula as their street: the postal audience shows it as text."""
    shop = world["engines"]["shop"]
    (address_id, street) = next(iter(zip(*[column(shop, sql) for sql in (
        "SELECT a.id FROM addresses a JOIN customers c ON c.id = a.customer_id "
        "WHERE c.relationship_ended_at IS NULL ORDER BY a.id",
        "SELECT a.street FROM addresses a JOIN customers c ON c.id = a.customer_id "
        "WHERE c.relationship_ended_at IS NULL ORDER BY a.id")], strict=True)))
    payload = "=cmd|' /C calc'!A0"
    update = sa.text("UPDATE addresses SET street = :s WHERE id = :id")
    with shop.begin() as conn:
        conn.execute(update, {"s": payload, "id": address_id})
    try:
        buffer = io.StringIO()
        write_contacts_csv(buffer, world["store"], world["model"], world["datamap"], world["engines"],
                           "customer-relationship", "post", exports=world["exports"])
    finally:
        with shop.begin() as conn:
            conn.execute(update, {"s": street, "id": address_id})
    streets = [row["street"] for row in csv.DictReader(io.StringIO(buffer.getvalue()))]
    assert "'" + payload in streets and payload not in streets


def test_a_contact_with_an_unreadable_identity_is_left_out(world: dict[str, Any]) -> None:
    """A phone the shop holds in a form garde no longer reads ("tel. 06 …") names nobody: a
    suppression or objection recorded under it could not be matched, so the row is not contacted."""
    shop = world["engines"]["shop"]
    members = {m.address["email"] for m in contacts(world["store"], world["model"], world["datamap"],
                                                    world["engines"], "customer-relationship", "email",
                                                    exports=world["exports"])}
    rows = zip(*[column(shop, f"SELECT c.{name} FROM customers c WHERE c.phone IS NOT NULL ORDER BY c.id")
                 for name in ("id", "email", "phone")], strict=True)
    (customer_id, email, phone) = next(row for row in rows if row[1] in members)
    update = sa.text("UPDATE customers SET phone = :p WHERE id = :id")
    with shop.begin() as conn:
        conn.execute(update, {"p": "tel. 06 12 34 56 78", "id": customer_id})
    try:
        after = {m.address["email"] for m in contacts(world["store"], world["model"], world["datamap"],
                                                      world["engines"], "customer-relationship", "email",
                                                    exports=world["exports"])}
    finally:
        with shop.begin() as conn:
            conn.execute(update, {"p": phone, "id": customer_id})
    assert after == members - {email}


def test_an_objector_stays_out_of_audiences_after_rotation(world: dict[str, Any], store_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Moving to a new identifier key (README: set your own in production) keeps every objection,
    refusal and suppression: none of these people comes back into the soft opt-in audience."""
    shop = world["engines"]["shop"]
    eligible = column(shop, "SELECT c.email FROM customers c WHERE EXISTS "
                            "(SELECT 1 FROM basket_items b WHERE b.customer_id = c.id) ORDER BY c.id")
    objected, refused, suppressed = eligible[:3]
    with world["store"].begin() as conn:
        object_to(conn, subjects.ensure_subject(conn, {"email": objected}), "direct_marketing")
        consent.refuse(conn, subjects.ensure_subject(conn, {"email": refused}), "abandoned-basket",
                       channel="email")
        suppress(conn, {"email": suppressed}, "unsubscribed")
    new_key = "rotated-identifier-key-Gh4kP9sW1nB6xZ2q"
    monkeypatch.setenv("GARDE_DATABASE_URL", store_url)
    monkeypatch.setenv("NEW_IDENTIFIER_KEY", new_key)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["keys", "rotate-identifier", "--new-key-env", "NEW_IDENTIFIER_KEY"])
        assert result.exit_code == 0, result.output
        monkeypatch.setenv("GARDE_IDENTIFIER_KEY", new_key)
        get_settings.cache_clear()
        store = connect(store_url)
        members = list(contacts(store, world["model"], world["datamap"], world["engines"],
                                "abandoned-basket", "email", exports=world["exports"]))
        assert sorted(m.address["email"] for m in members) == sorted(eligible[3:])
        with DecisionPoint(world["model"], store, audit=False) as point:
            decision = point.decide("abandoned-basket", {"email": objected}, None, "email")
        assert not decision.allowed and "objection" in {r.code for r in decision.reasons}
        store.dispose()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
