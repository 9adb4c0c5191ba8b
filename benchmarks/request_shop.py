"""The reference shop the request benchmarks run over, on SQLite or PostgreSQL, and its baseline.

Shared by ``bench_requests`` (one request at a time) and ``bench_throughput``
(several processes): where the shop lives and how it is generated once, how
its files are warmed before timing, how a garde deployment and store are
opened over it, and the SQL a developer would write by hand for this schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde.datasets import connect_datamap, load_datamap
from garde.keys import DemoKeyWarning
from garde.rights import submit, verify_out_of_band
from garde.rights.deployment import Deployment, registers_of
from garde.store import connect, migrate

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)
POSTGRES_ENV = "GARDE_BENCH_POSTGRES_URL"

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


@dataclass(frozen=True)
class Shop:
    """Where a generated shop of ``customers`` lives: its databases' URLs and the engine store's."""

    customers: int
    backend: str  # "sqlite" or "postgresql"
    urls: dict[str, str]
    store_url: str
    work: Path  # answer files (garde's and the baseline's)

    def label(self) -> str:
        return f"{self.backend}, {self.customers:,} customers"


def _generate(urls: dict[str, str], customers: int, marker: Callable[[dict[str, Any]], None]) -> None:
    from garde.shop import generate_shop

    datamap = load_datamap(ROOT / "datasets")
    engines = connect_datamap(datamap, urls, create=True)
    print(f"generating a shop of {customers:,} customers (once)...", flush=True)
    report = generate_shop(engines, customers, seed=1, as_of=AS_OF)
    marker({"customers": customers, "rows": report.total_rows, "seconds": round(report.seconds),
            "schema": schema_version()})
    for engine in engines.values():
        engine.dispose()


def sqlite_shop(customers: int, work: Path, cache: Path | None = None) -> Shop:
    """The shop in two SQLite files under ``cache`` (default ``.garde/bench``), generated once."""
    folder = (cache or ROOT / ".garde" / "bench") / f"shop-{customers}"
    marker = folder / "generated.json"
    urls = {n: f"sqlite:///{folder / n}.db" for n in ("shop", "crm")}
    if not marker.exists() or json.loads(marker.read_text()).get("schema") != schema_version():
        for stale in folder.glob("*.db*"):
            stale.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        _generate(urls, customers, lambda facts: marker.write_text(json.dumps(facts)))
    return Shop(customers, "sqlite", urls, f"sqlite:///{work / 'garde.db'}", work)


def _admin(server: sa.URL) -> sa.Engine:
    return sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")


def postgres_shop(customers: int, server_url: str, work: Path) -> Shop:
    """The shop in two PostgreSQL databases ``<db>_<customers>_shop`` and ``…_crm`` on the server of
    ``server_url`` (its database name is the prefix), generated once (a marker table in the shop's
    database holds the schema's digest); the engine store is ``<db>_store_<pid>``, made anew each run."""
    server = sa.make_url(server_url)
    prefix = server.database or "garde_bench"
    names = {n: f"{prefix}_{customers}_{n}" for n in ("shop", "crm")}
    urls = {n: server.set(database=name).render_as_string(hide_password=False) for n, name in names.items()}
    store = f"{prefix}_store_{os.getpid()}"  # two runs at once (two engineers) each drop only their own
    admin = _admin(server)
    with admin.connect() as c:
        present = set(c.execute(sa.text("SELECT datname FROM pg_database")).scalars())
        for name in names.values():
            if name not in present:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{store}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{store}"'))
    admin.dispose()
    shop = sa.create_engine(urls["shop"])
    with shop.begin() as c:
        c.execute(sa.text("CREATE TABLE IF NOT EXISTS garde_bench_marker (facts TEXT NOT NULL)"))
        facts = c.execute(sa.text("SELECT facts FROM garde_bench_marker")).scalar()
    if facts is None or json.loads(facts).get("schema") != schema_version():
        def mark(facts: dict[str, Any]) -> None:
            with shop.begin() as c:
                c.execute(sa.text("DELETE FROM garde_bench_marker"))
                c.execute(sa.text("INSERT INTO garde_bench_marker VALUES (:f)"), {"f": json.dumps(facts)})
        _generate(urls, customers, mark)
    shop.dispose()
    # The run's store is a throw-away database: garde may use its demo identifier key there.
    os.environ.setdefault("GARDE_ALLOW_DEMO_KEY", "true")
    warnings.filterwarnings("ignore", category=DemoKeyWarning)
    store_url = server.set(database=store).render_as_string(hide_password=False)
    return Shop(customers, "postgresql", urls, store_url, work)


def drop_postgres(shop: Shop, *, keep_shop: bool = True) -> None:
    """Drop the run's store (and the shop's databases unless ``keep_shop``)."""
    urls = [shop.store_url, *([] if keep_shop else shop.urls.values())]
    admin = _admin(sa.make_url(shop.store_url))
    with admin.connect() as c:
        for url in urls:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def warm(shop: Shop) -> str:
    """Bring the shop's database files into the operating system's file cache before timing (both
    sides then read from memory), and say what was done: a cold first request reads the disk, and
    whichever side ran first would pay for the other."""
    if shop.backend == "sqlite":
        read = 0
        for url in shop.urls.values():
            for path in Path(sa.make_url(url).database or "").parent.glob(
                    Path(sa.make_url(url).database or "").name + "*"):
                with path.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        read += len(chunk)
        return (f"warm: the SQLite files ({read / 1e6:,.0f} MB) were read in full before timing, so they "
                "are in the OS file cache; each SQLite connection's own page cache is cold for a subject "
                "nobody read before")
    total = 0
    for url in shop.urls.values():
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            total += int(c.execute(sa.text(
                "SELECT coalesce(sum(pg_prewarm(oid, 'read')), 0) FROM pg_class "
                "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')")).scalar() or 0)
            buffers = c.execute(sa.text("SHOW shared_buffers")).scalar()
        engine.dispose()
    return (f"warm: every table and index of the shop ({total * 8192 / 1e6:,.0f} MB) was read into the OS "
            f"file cache (pg_prewarm 'read') before timing; shared_buffers is {buffers}")


def open_deployment(shop: Shop, results: Path,
                    read_ahead: bool | None = None) -> tuple[Deployment, sa.Engine]:
    """A garde deployment over the shop (answers under ``results``) and its migrated engine store;
    ``read_ahead``: discovery's choice (None: garde's default)."""
    datamap = load_datamap(ROOT / "datasets")
    deployment = Deployment(datamap, connect_datamap(datamap, shop.urls), registers_of(datamap), results)
    if read_ahead is not None:
        deployment.read_ahead = read_ahead
    store = connect(shop.store_url, create=True)
    migrate(store)
    return deployment, store


def submit_verified(store: sa.Engine, kind: str, email: str) -> str:
    """A request of ``kind`` for ``email``, verified out of band: ready to run (not timed)."""
    with store.begin() as conn:
        request_id = submit(conn, kind, {"email": email}).id
        verify_out_of_band(conn, request_id, "benchmark", actor="bench", identities=["email"])
    return request_id


def sample_emails(shop: sa.Engine, customers: int, count: int, rng: random.Random) -> list[str]:
    """``count`` distinct customers with orders who still have their e-mail (earlier runs erased some)."""
    found: dict[str, None] = {}
    with shop.connect() as c:
        while len(found) < count:
            ids = sorted({rng.randint(1, customers) for _ in range(min(2 * count, 5000))})
            rows = c.execute(sa.text(
                "SELECT email FROM customers c WHERE id IN :ids AND email LIKE '%@%' "
                "AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)").bindparams(
                    sa.bindparam("ids", expanding=True)), {"ids": ids}).scalars()
            for email in rows:
                if len(found) < count:
                    found[email] = None
    emails = list(found)
    rng.shuffle(emails)
    return emails


def _in(ids: list[Any]) -> str:
    return ",".join(str(int(i)) for i in ids) or "NULL"


class HandWritten:
    """The same reads and writes, as a developer would write them for this schema (SQL that runs
    unchanged on SQLite and PostgreSQL)."""

    def __init__(self, shop: sa.Engine, crm: sa.Engine) -> None:
        self.shop, self.crm = shop, crm
        self.answers = 0

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
        """Read the subject's rows and write them to a new file, as garde writes each answer to its
        own folder (rewriting one file would be cheaper than what garde does)."""
        rows = self.read(email)
        self.answers += 1
        answer = folder / f"answer-{os.getpid()}-{self.answers}-{time.time_ns()}"
        answer.mkdir(parents=True)
        (answer / "access.json").write_text(json.dumps(rows, default=str))

    def erase(self, email: str) -> None:
        rows = self.read(email)
        ids = {table: [r[0] for r in found] for table, found in rows.items()}
        # Invoices are kept 10 years, tax-free refunds 3 (customs): compared by date, as garde does,
        # with a timestamp bound that both SQLite and PostgreSQL compare natively.
        invoices_before = datetime.combine(date(AS_OF.year - 10, AS_OF.month, AS_OF.day) + timedelta(days=1),
                                           datetime.min.time())
        tax_free_cutoff = date(AS_OF.year - 3, AS_OF.month, AS_OF.day).isoformat()
        with self.shop.begin() as c:
            x = lambda sql, **p: c.execute(sa.text(sql), p)  # noqa: E731
            x(f"DELETE FROM web_sessions WHERE id IN ({_in(ids['web_sessions'])})")
            x(f"DELETE FROM refunds WHERE id IN ({_in(ids['refunds'])})")
            for table in ("returns", "deliveries", "fraud_checks", "browsers", "accounts", "addresses",
                          "appointments", "wishlist_items", "basket_items", "reviews", "loyalty_accounts"):
                x(f"DELETE FROM {table} WHERE id IN ({_in(ids[table])})")
            c.execute(sa.text(
                "UPDATE invoices SET invoice_number = NULL, billing_name = 'anonymised', "
                f"billing_address = 'anonymised', amount_cents = NULL WHERE id IN ({_in(ids['invoices'])}) "
                "AND issued_at < :before").bindparams(sa.bindparam("before", type_=sa.DateTime)),
                {"before": invoices_before})
            x(f"UPDATE payments SET card_token = NULL, card_brand = NULL, amount_cents = NULL "
              f"WHERE id IN ({_in(ids['payments'])})")
            x(f"UPDATE orders SET order_number = NULL, channel = NULL, total_cents = NULL "
              f"WHERE id IN ({_in(ids['orders'])})")
            x(f"UPDATE personalisations SET engraving = '***' WHERE id IN ({_in(ids['personalisations'])})")
            for row in rows["tax_free_refunds"]:
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


class TunedHandWritten:
    """The floor: the reads of :class:`HandWritten` as an engineer tuning them would write them, on
    the raw driver with one connection per database kept open (PostgreSQL in autocommit: no
    ``BEGIN``, ``ROLLBACK`` or pool ping), each statement prepared once with one array parameter
    (``= ANY(%s)``: the same text for any number of ids, so the same prepared plan), and the
    independent reads of each level (the tables under the customer, those under its orders...) of
    both databases sent together in one pipeline per connection: four round trips a subject. On
    SQLite the same reads through ``sqlite3`` (its statement cache, no round trips to save). The
    answer written as :class:`HandWritten` writes it."""

    def __init__(self, shop_url: str, crm_url: str, *, prepare: bool = True, pipeline: bool = True) -> None:
        self.postgres = sa.make_url(shop_url).get_backend_name() == "postgresql"
        self.connections = [self._open(url) for url in (shop_url, crm_url)]
        self.answers = 0
        # PostgreSQL, to measure each technique's part (profile_baseline): without ``prepare`` every
        # statement is parsed and planned at each run; without ``pipeline`` each waits for its answer
        self.prepare, self.pipeline = prepare, pipeline

    def _open(self, url: str) -> Any:
        parsed = sa.make_url(url)
        if self.postgres:
            import psycopg

            return psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                                   autocommit=True)
        import sqlite3

        return sqlite3.connect(parsed.database or "", isolation_level=None, check_same_thread=False)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def read(self, email: str) -> dict[str, list[Any]]:
        return self._read_postgres(email) if self.postgres else self._read_sqlite(email)

    def _read_postgres(self, email: str) -> dict[str, list[Any]]:
        shop, crm = self.connections

        def level(reads: dict[str, tuple[Any, str, tuple[Any, ...]]]) -> dict[str, list[Any]]:
            if not self.pipeline:
                return {name: connection.execute(sql, params, prepare=self.prepare).fetchall()
                        for name, (connection, sql, params) in reads.items()}
            # queued on each connection the level reads (psycopg sends them as they come, the server
            # runs them), then one Sync each when the pipelines close: one wait per level for both
            with ExitStack() as pipelines:
                for connection in {id(c): c for c, _, _ in reads.values()}.values():
                    pipelines.enter_context(connection.pipeline())
                cursors = {name: connection.execute(sql, params, prepare=self.prepare)
                           for name, (connection, sql, params) in reads.items()}
            return {name: cursor.fetchall() for name, cursor in cursors.items()}

        ids = "= ANY(%s::int4[])"
        first = level({"customers": (shop, "SELECT * FROM customers WHERE email = %s", (email,)),
                       **{t: (crm, f"SELECT * FROM {t} WHERE email = %s", (email,))
                          for t in ("influencers", "fashion_professionals", "candidates")}})
        customer = first["customers"][0]
        cid, number, phone = customer[0], customer[1], customer[3]
        second = level({
            **{t: (shop, f"SELECT * FROM {t} WHERE customer_id = %s", (cid,)) for t in SHOP_BY_CUSTOMER},
            "contacts": (crm, "SELECT * FROM contacts WHERE email = %s OR phone = %s OR customer_number = %s",
                         (email, phone, number)),
            "tickets": (crm, "SELECT * FROM tickets WHERE email = %s OR customer_number = %s",
                        (email, number))})
        orders = [r[0] for r in second["orders"]]
        contacts = [r[0] for r in second["contacts"]]
        tickets = [r[0] for r in second["tickets"]]
        third = level({
            **{t: (shop, f"SELECT * FROM {t} WHERE order_id {ids}", (orders,)) for t in SHOP_BY_ORDER},
            "web_sessions": (shop, f"SELECT * FROM web_sessions WHERE browser_id {ids}",
                             ([r[0] for r in second["browsers"]],)),
            **{t: (crm, f"SELECT * FROM {t} WHERE contact_id {ids}", (contacts,)) for t in CRM_BY_CONTACT},
            # NOT IN (the contacts): no row at all when there is no contact, as HandWritten's NOT IN (NULL)
            "newsletter_by_email": (crm, "SELECT * FROM newsletter_subscriptions WHERE email = %s AND "
                                         f"cardinality(%s::int4[]) > 0 AND NOT contact_id {ids}",
                                    (email, contacts, contacts)),
            "ticket_messages": (crm, f"SELECT * FROM ticket_messages WHERE ticket_id {ids}", (tickets,)),
            "call_recordings": (crm, f"SELECT * FROM call_recordings WHERE ticket_id {ids} OR phone = %s",
                                (tickets, phone))})
        refunds = level({"refunds": (shop, f"SELECT * FROM refunds WHERE return_id {ids}",
                                     ([r[0] for r in third["returns"]],))})
        out = {**first, **second, **third, **refunds}
        out["newsletter_subscriptions"] += out.pop("newsletter_by_email")
        return out

    def _read_sqlite(self, email: str) -> dict[str, list[Any]]:
        shop, crm = self.connections
        out: dict[str, list[Any]] = {}

        def q(connection: Any, sql: str, *params: Any) -> list[Any]:
            return connection.execute(sql, params).fetchall()  # type: ignore[no-any-return]

        def marks(values: list[Any]) -> str:
            return ",".join("?" * len(values)) or "NULL"

        out["customers"] = q(shop, "SELECT * FROM customers WHERE email = ?", email)
        customer = out["customers"][0]
        cid, number, phone = customer[0], customer[1], customer[3]
        for table in SHOP_BY_CUSTOMER:
            out[table] = q(shop, f"SELECT * FROM {table} WHERE customer_id = ?", cid)
        orders = [r[0] for r in out["orders"]]
        for table in SHOP_BY_ORDER:
            out[table] = q(shop, f"SELECT * FROM {table} WHERE order_id IN ({marks(orders)})", *orders)
        returns = [r[0] for r in out["returns"]]
        out["refunds"] = q(shop, f"SELECT * FROM refunds WHERE return_id IN ({marks(returns)})", *returns)
        browsers = [r[0] for r in out["browsers"]]
        out["web_sessions"] = q(shop, f"SELECT * FROM web_sessions WHERE browser_id IN ({marks(browsers)})",
                                *browsers)
        out["contacts"] = q(crm, "SELECT * FROM contacts WHERE email = ? OR phone = ? OR customer_number = ?",
                            email, phone, number)
        contacts = [r[0] for r in out["contacts"]]
        for table in CRM_BY_CONTACT:
            out[table] = q(crm, f"SELECT * FROM {table} WHERE contact_id IN ({marks(contacts)})", *contacts)
        out["newsletter_subscriptions"] += q(
            crm, "SELECT * FROM newsletter_subscriptions WHERE email = ? "
                 f"AND contact_id NOT IN ({marks(contacts)})", email, *contacts)
        out["tickets"] = q(crm, "SELECT * FROM tickets WHERE email = ? OR customer_number = ?", email, number)
        tickets = [r[0] for r in out["tickets"]]
        out["ticket_messages"] = q(
            crm, f"SELECT * FROM ticket_messages WHERE ticket_id IN ({marks(tickets)})", *tickets)
        out["call_recordings"] = q(
            crm, f"SELECT * FROM call_recordings WHERE ticket_id IN ({marks(tickets)}) OR phone = ?",
            *tickets, phone)
        for table in ("influencers", "fashion_professionals", "candidates"):
            out[table] = q(crm, f"SELECT * FROM {table} WHERE email = ?", email)
        return out

    def access(self, email: str, folder: Path) -> None:
        """As :meth:`HandWritten.access`: the rows read, then written to a new file of a new folder."""
        rows = self.read(email)
        self.answers += 1
        answer = folder / f"tuned-{os.getpid()}-{self.answers}-{time.time_ns()}"
        answer.mkdir(parents=True)
        (answer / "access.json").write_text(json.dumps(rows, default=str))


def load() -> str:
    """The machine's load average (1, 5, 15 minutes), to print beside every figure."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def on_postgres(args: Any, measure: Callable[[Shop], dict[str, Any]]) -> None:
    """Print ``measure(shop)`` as JSON for the PostgreSQL shop the options name (``--postgres``,
    ``--customers``, ``--drop``), or say that the benchmark is skipped without a PostgreSQL URL."""
    if not args.postgres or args.sqlite:
        print(json.dumps({"skipped": "no PostgreSQL: pass --postgres URL or set GARDE_BENCH_POSTGRES_URL"}))
        return
    import tempfile

    shop = postgres_shop(args.customers, args.postgres, Path(tempfile.mkdtemp(prefix="garde-bench-")))
    try:
        print(json.dumps(measure(shop), indent=2))
    finally:
        drop_postgres(shop, keep_shop=not args.drop)
