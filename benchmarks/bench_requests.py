"""Access and erasure for one subject in a large reference shop, against hand-written SQL.

Run: ``python -m benchmarks.bench_requests [--customers 1000000] [--samples 15] [--cache DIR]``.
The shop is generated once (seed 1, as of 2025-06-01) and cached under
``.garde/bench/shop-<customers>/`` (or ``DIR``), again when the shop's schema
changes; each run erases a few more subjects from it.

garde's figures are whole requests as a user runs them (``rights.run``):
lifecycle steps and audit entries in the engine store, set-based discovery
over both databases, the answer files (access.json + access.html), and for
erasure the plan written before the change, the guarded statements and the
report. The baseline is SQL a developer would write by hand for this schema:
the same reads (every row of the subject, table by table from the e-mail)
and, for erasure, the same writes (same rows deleted or masked the same
way), with no plan, audit or report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde.datasets import connect_datamap, load_datamap
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment, registers_of
from garde.rights.running import run as run_request
from garde.store import connect, migrate

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)

SHOP_BY_CUSTOMER = ("accounts", "addresses", "orders", "appointments", "wishlist_items", "basket_items",
                    "reviews", "loyalty_accounts", "browsers")
SHOP_BY_ORDER = ("payments", "invoices", "deliveries", "returns", "tax_free_refunds", "personalisations",
                 "fraud_checks")
CRM_BY_CONTACT = ("newsletter_subscriptions", "segments", "event_invitations", "survey_responses")


def schema_version() -> str:
    """A digest of the shop's schema: a cached shop built from another schema is generated again."""
    from garde.shop.schema import METADATA

    shape = sorted((name, table.name, column.name, str(column.type), column.nullable)
                   for name, metadata in METADATA.items() for table in metadata.tables.values()
                   for column in table.columns)
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:16]


def shop_folder(customers: int, cache: Path | None = None) -> Path:
    folder = (cache or ROOT / ".garde" / "bench") / f"shop-{customers}"
    marker = folder / "generated.json"
    if not marker.exists() or json.loads(marker.read_text()).get("schema") != schema_version():
        from garde.shop import generate_shop

        for stale in folder.glob("*.db"):
            stale.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        datamap = load_datamap(ROOT / "datasets")
        engines = connect_datamap(datamap, {n: f"sqlite:///{folder / n}.db" for n in datamap.datasets},
                                  create=True)
        print(f"generating a shop of {customers} customers in {folder} (once)...", flush=True)
        report = generate_shop(engines, customers, seed=1, as_of=AS_OF)
        marker.write_text(json.dumps({"customers": customers, "rows": report.total_rows,
                                      "seconds": round(report.seconds), "schema": schema_version()}))
        for engine in engines.values():
            engine.dispose()
    return folder


def _in(ids: list[Any]) -> str:
    return ",".join(str(int(i)) for i in ids) or "NULL"


class HandWritten:
    """The same reads and writes, as a developer would write them for this schema."""

    def __init__(self, shop: sa.Engine, crm: sa.Engine) -> None:
        self.shop, self.crm = shop, crm

    def read(self, email: str) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        with self.shop.connect() as c:
            q = lambda sql, **p: [tuple(r) for r in c.execute(sa.text(sql), p)]  # noqa: E731
            out["customers"] = q("SELECT * FROM customers WHERE email = :e", e=email)
            customer = out["customers"][0]
            cid, number, phone = customer[0], customer[1], customer[3]
            for table in SHOP_BY_CUSTOMER:
                out[table] = q(f"SELECT * FROM {table} WHERE customer_id = :c", c=cid)
            orders = [r[0] for r in out["orders"]]
            for table in SHOP_BY_ORDER:
                out[table] = q(f"SELECT * FROM {table} WHERE order_id IN ({_in(orders)})")
            returns = [r[0] for r in out["returns"]]
            out["refunds"] = q(f"SELECT * FROM refunds WHERE return_id IN ({_in(returns)})")
            browsers = [r[0] for r in out["browsers"]]
            out["web_sessions"] = q(f"SELECT * FROM web_sessions WHERE browser_id IN ({_in(browsers)})")
        with self.crm.connect() as c:
            q = lambda sql, **p: [tuple(r) for r in c.execute(sa.text(sql), p)]  # noqa: E731
            out["contacts"] = q("SELECT * FROM contacts WHERE email = :e OR phone = :p "
                                "OR customer_number = :n", e=email, p=phone, n=number)
            contacts = _in([r[0] for r in out["contacts"]])
            for table in CRM_BY_CONTACT:
                out[table] = q(f"SELECT * FROM {table} WHERE contact_id IN ({contacts})")
            out["newsletter_subscriptions"] += q("SELECT * FROM newsletter_subscriptions WHERE email = :e "
                                                 f"AND contact_id NOT IN ({contacts})", e=email)
            out["tickets"] = q("SELECT * FROM tickets WHERE email = :e OR customer_number = :n",
                               e=email, n=number)
            tickets = _in([r[0] for r in out["tickets"]])
            out["ticket_messages"] = q(f"SELECT * FROM ticket_messages WHERE ticket_id IN ({tickets})")
            out["call_recordings"] = q(f"SELECT * FROM call_recordings WHERE ticket_id IN ({tickets}) "
                                       "OR phone = :p", p=phone)
            for table in ("influencers", "fashion_professionals", "candidates"):
                out[table] = q(f"SELECT * FROM {table} WHERE email = :e", e=email)
        return out

    def access(self, email: str, folder: Path) -> None:
        rows = self.read(email)
        (folder / "access.json").write_text(json.dumps(rows, default=str))

    def erase(self, email: str) -> None:
        rows = self.read(email)
        ids = {table: [r[0] for r in found] for table, found in rows.items()}
        cutoff = date(AS_OF.year - 10, AS_OF.month, AS_OF.day).isoformat()  # invoices: 10 years
        tax_free_cutoff = date(AS_OF.year - 3, AS_OF.month, AS_OF.day).isoformat()
        with self.shop.begin() as c:
            x = lambda sql, **p: c.execute(sa.text(sql), p)  # noqa: E731
            x(f"DELETE FROM web_sessions WHERE id IN ({_in(ids['web_sessions'])})")
            x(f"DELETE FROM refunds WHERE id IN ({_in(ids['refunds'])})")
            for table in ("returns", "deliveries", "fraud_checks", "browsers", "accounts", "addresses",
                          "appointments", "wishlist_items", "basket_items", "reviews", "loyalty_accounts"):
                x(f"DELETE FROM {table} WHERE id IN ({_in(ids[table])})")
            x("UPDATE invoices SET invoice_number = NULL, billing_name = 'anonymised', "
              f"billing_address = 'anonymised', amount_cents = NULL WHERE id IN ({_in(ids['invoices'])}) "
              "AND substr(issued_at, 1, 10) <= :cutoff", cutoff=cutoff)
            x(f"UPDATE payments SET card_token = NULL, card_brand = NULL, amount_cents = NULL "
              f"WHERE id IN ({_in(ids['payments'])})")
            x(f"UPDATE orders SET order_number = NULL, channel = NULL, total_cents = NULL "
              f"WHERE id IN ({_in(ids['orders'])})")
            x(f"UPDATE personalisations SET engraving = '***' WHERE id IN ({_in(ids['personalisations'])})")
            for row in rows["tax_free_refunds"]:  # kept 3 years after the refund (customs)
                if row[6] is not None and str(row[6])[:10] <= tax_free_cutoff:
                    x("UPDATE tax_free_refunds SET passport_number = NULL, nationality = NULL, "
                      "amount_cents = NULL WHERE id = :i", i=row[0])
            if ids["orders"]:
                x("UPDATE customers SET customer_number = NULL, email = NULL, phone = NULL, title = NULL, "
                  "first_name = NULL, last_name = NULL, birth_date = NULL, language = NULL, country = NULL "
                  "WHERE id = :i", i=ids["customers"][0])
            else:
                x("DELETE FROM customers WHERE id = :i", i=ids["customers"][0])
        with self.crm.begin() as c:
            x = lambda sql, **p: c.execute(sa.text(sql), p)  # noqa: E731
            for table in (*CRM_BY_CONTACT, "ticket_messages", "call_recordings", "tickets", "contacts",
                          "influencers", "fashion_professionals", "candidates"):
                x(f"DELETE FROM {table} WHERE id IN ({_in(ids[table])})")


def measure(action: Callable[[], Any], memory: bool = False) -> tuple[float, int]:
    """Seconds taken; with ``memory``, the peak of Python allocations instead of time (tracemalloc
    slows Python code several times, so the two are never measured in the same run)."""
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if memory else 0
    if memory:
        tracemalloc.stop()
    return elapsed, peak


def sample_emails(shop: sa.Engine, customers: int, count: int, rng: random.Random) -> list[str]:
    """Customers with orders who still have their e-mail (earlier runs erased some)."""
    found: list[str] = []
    with shop.connect() as c:
        while len(found) < count:
            cid = rng.randint(1, customers)
            email = c.execute(sa.text("SELECT email FROM customers WHERE id = :i AND email LIKE '%@%' "
                                      "AND EXISTS (SELECT 1 FROM orders WHERE customer_id = :i)"),
                              {"i": cid}).scalar()
            if email and email not in found:
                found.append(email)
    return found


def bench(customers: int, samples: int, cache: Path | None = None) -> dict[str, Any]:
    folder = shop_folder(customers, cache)
    datamap = load_datamap(ROOT / "datasets")
    urls = {n: f"sqlite:///{folder / n}.db" for n in datamap.datasets}
    work = Path(tempfile.mkdtemp(prefix="garde-bench-"))
    deployment = Deployment(datamap, connect_datamap(datamap, urls), registers_of(datamap), work / "results")
    store = connect(f"sqlite:///{work / 'garde.db'}", create=True)
    migrate(store)
    baseline = HandWritten(deployment.engines["shop"], deployment.engines["crm"])
    rng = random.Random(time.time_ns())
    emails = sample_emails(deployment.engines["shop"], customers, samples * 4 + 4, rng)

    def request(kind: str, email: str) -> str:
        with store.begin() as conn:
            request_id = submit(conn, kind, {"email": email}).id
            verify_out_of_band(conn, request_id, "benchmark", actor="bench", identities=["email"])
        return request_id

    def garde_run(kind: str, email: str) -> Callable[[], Any]:
        request_id = request(kind, email)
        return lambda: run_request(store, request_id, deployment, today=AS_OF)

    # Warm both paths once (imports, templates, reflection caches), on a subject not measured.
    warm = emails[4 * samples + 3]
    measure(garde_run("access", warm))
    measure(lambda: baseline.access(warm, work))
    figures: dict[str, list[tuple[float, int]]] = {k: [] for k in ("access", "access_sql", "erasure",
                                                                  "erasure_sql")}
    # Every measure is on a subject nobody read before in this run: a subject read once is in
    # SQLite's page cache (garde and the baseline share the engines), and timing the second
    # reader of the same subject would compare a warm read against a cold one.
    for i in range(samples):
        figures["access"].append(measure(garde_run("access", emails[i])))
        figures["access_sql"].append(measure(lambda e=emails[samples + i]: baseline.access(e, work)))  # type: ignore[misc]
    for i in range(samples):
        figures["erasure"].append(measure(garde_run("erasure", emails[2 * samples + i])))
        figures["erasure_sql"].append(measure(lambda e=emails[3 * samples + i]: baseline.erase(e)))  # type: ignore[misc]
    spare = emails[4 * samples:]
    peaks = {"access": measure(garde_run("access", spare[0]), memory=True)[1],
             "access_sql": measure(lambda: baseline.access(spare[0], work), memory=True)[1],
             "erasure": measure(garde_run("erasure", spare[1]), memory=True)[1],
             "erasure_sql": measure(lambda: baseline.erase(spare[2]), memory=True)[1]}
    deployment.dispose()
    store.dispose()
    result: dict[str, Any] = {"customers": customers, "samples": samples}
    for key, values in figures.items():
        result[key] = {"median_ms": round(statistics.median(v[0] for v in values) * 1000, 1),
                       "peak_kib": round(peaks[key] / 1024)}
    for kind in ("access", "erasure"):
        result[f"{kind}_ratio"] = round(result[kind]["median_ms"] / result[f"{kind}_sql"]["median_ms"], 2)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder of the generated shops (default: .garde/bench)")
    args = parser.parse_args(argv)
    print(json.dumps(bench(args.customers, args.samples, args.cache), indent=2))


if __name__ == "__main__":
    main()
