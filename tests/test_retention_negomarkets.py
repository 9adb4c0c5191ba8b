"""NEGOMARKETS' retention periods (seed 002) on shop tables with dates spread over 15 years.

The tables are those of ``tests/data/negomarkets/shop.yaml``: the reference
shop's tables that NEGOMARKETS covers, annotated with its own activities.
The rows are deterministic, with dates spread uniformly over 15 years plus
dates on each side of every threshold (month ends included). Two oracles
check a sweep: :func:`expected_by_sql` (hand-written SQL with the thresholds)
and :func:`expected_by_python` (``Period.after`` forward, row by row, on a
snapshot) — neither uses the predicates the sweep runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde import retention
from garde.datasets import DataMap, connect_datamap, load_datamap
from garde.legal_holds import legal_holds, place_hold
from garde.periods import Period
from garde.problems import GardeError
from garde.retention.policy import registers_for
from garde.store import open_store

DATASET = Path(__file__).parent / "data" / "negomarkets" / "shop.yaml"
TODAY = date(2026, 2, 28)  # 13 months before lands on 28-31 January: Reg. 1182/71 month ends
P13M, P2Y, P3Y, P5Y, P10Y = (Period(13, "month"), Period(2, "year"), Period(3, "year"), Period(5, "year"),
                             Period(10, "year"))

metadata = sa.MetaData()
customers = sa.Table("customers", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("customer_number", sa.String(20)), sa.Column("email", sa.String(100)),
                     sa.Column("name", sa.String(100)), sa.Column("created_at", sa.DateTime),
                     sa.Column("relationship_ended_at", sa.Date))
orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False,
                            index=True),
                  sa.Column("ordered_at", sa.DateTime), sa.Column("total_cents", sa.Integer))
invoices = sa.Table("invoices", metadata, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False,
                              index=True),
                    sa.Column("issued_at", sa.Date), sa.Column("invoice_number", sa.String(20)),
                    sa.Column("amount_cents", sa.Integer), sa.Column("billing_name", sa.String(100)))
web_sessions = sa.Table("web_sessions", metadata, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("cookie_id", sa.String(40)), sa.Column("started_at", sa.DateTime),
                        sa.Column("pages", sa.Text))
prospects = sa.Table("prospects", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("email", sa.String(100)), sa.Column("name", sa.String(100)),
                     sa.Column("company", sa.String(100)), sa.Column("created_at", sa.DateTime),
                     sa.Column("last_contact_at", sa.DateTime))
newsletter = sa.Table("newsletter_subscriptions", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("email", sa.String(100)), sa.Column("subscribed_at", sa.DateTime),
                      sa.Column("unsubscribed_at", sa.DateTime))
suppression = sa.Table("suppression_entries", metadata, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("email", sa.String(100)), sa.Column("added_at", sa.DateTime))
candidates = sa.Table("candidates", metadata, sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("email", sa.String(100)), sa.Column("name", sa.String(100)),
                      sa.Column("cv", sa.Text), sa.Column("applied_at", sa.DateTime),
                      sa.Column("last_contact_at", sa.DateTime))
TABLES = [t.name for t in metadata.sorted_tables]


def _dates(rng: random.Random, period: Period | None, n: int, today: date = TODAY) -> list[date]:
    """``n`` days over 15 years, plus the days around where ``period`` becomes due on ``today``."""
    days = [today - timedelta(days=rng.randrange(0, 15 * 365)) for _ in range(n)]
    if period is not None:
        edge = period.before(today)
        days += [edge + timedelta(days=k) for k in range(-4, 5)]
        days += [date(edge.year, edge.month, 1) + timedelta(days=k) for k in (-3, -2, -1, 27, 28, 29, 30)]
    return days


def _at(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))


def fill(engine: Engine, scale: int = 1, seed: int = 2) -> None:
    """Create NEGOMARKETS' tables and fill them deterministically."""
    rng = random.Random(seed)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for i, day in enumerate(_dates(rng, P5Y, 150 * scale), 1):
        ended = None if rng.random() < 0.2 else day
        rows["customers"].append({"id": i, "customer_number": f"C{i:06d}", "email": f"c{i}@example.com",
                                  "name": f"Customer {i}", "created_at": _at(day - timedelta(days=900), rng),
                                  "relationship_ended_at": ended})
    invoice_days = _dates(rng, P10Y, 0)
    for i in range(1, 2 * len(rows["customers"]) + 1):
        customer = rows["customers"][rng.randrange(len(rows["customers"]))]
        rows["orders"].append({"id": i, "customer_id": customer["id"],
                               "total_cents": rng.randrange(100, 90000),
                               "ordered_at": _at(TODAY - timedelta(days=rng.randrange(5500)), rng)})
        if rng.random() < 0.7:
            issued = invoice_days.pop() if invoice_days and rng.random() < 0.3 else \
                TODAY - timedelta(days=rng.randrange(15 * 365))
            rows["invoices"].append({"id": i, "order_id": i, "issued_at": issued,
                                     "invoice_number": f"F{i:06d}",
                                     "amount_cents": rng.randrange(100, 90000),
                                     "billing_name": customer["name"]})
    for i, day in enumerate(_dates(rng, P13M, 400 * scale), 1):
        rows["web_sessions"].append({"id": i, "cookie_id": f"ck{i}", "started_at": _at(day, rng),
                                     "pages": "/,/shop"})
    for i, day in enumerate(_dates(rng, P3Y, 150 * scale), 1):
        contact = None if rng.random() < 0.05 else _at(day, rng)
        rows["prospects"].append({"id": i, "email": f"p{i}@example.com", "name": f"Prospect {i}",
                                  "company": "ACME", "created_at": _at(day - timedelta(days=30), rng),
                                  "last_contact_at": contact})
    for i, day in enumerate(_dates(rng, Period(0, "day"), 150 * scale), 1):
        left = None if rng.random() < 0.4 else _at(day, rng)
        rows["newsletter_subscriptions"].append({"id": i, "email": f"n{i}@example.com",
                                                 "unsubscribed_at": left,
                                                 "subscribed_at": _at(day - timedelta(days=400), rng)})
        if left is not None and rng.random() < 0.5:
            rows["suppression_entries"].append({"id": i, "email": f"n{i}@example.com", "added_at": left})
    for i, day in enumerate(_dates(rng, P2Y, 120 * scale), 1):
        rows["candidates"].append({"id": i, "email": f"k{i}@example.com", "name": f"Candidate {i}",
                                   "cv": f"CV of candidate {i}", "last_contact_at": _at(day, rng),
                                   "applied_at": _at(day - timedelta(days=60), rng)})
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])


def snapshot(engine: Engine) -> dict[str, dict[int, tuple[Any, ...]]]:
    """Every row of every table, by id, with dates normalised (SQLite returns what it stored)."""
    out: dict[str, dict[int, tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            out[table.name] = {r[0]: tuple(_plain(v) for v in r) for r in conn.execute(sa.select(table))}
    return out


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else \
        value.isoformat() if isinstance(value, date) else value


# -- oracle 1: Period.after, forward, row by row ---------------------------------------------------------

def _due(period: Period | None, start: Any, today: date) -> bool:
    if start is None:
        return False
    day = date.fromisoformat(str(start)[:10])
    return (day if period is None else period.after(day)) <= today


def expected_by_python(before: Mapping[str, dict[int, tuple[Any, ...]]],
                       today: date = TODAY) -> dict[str, dict[int, tuple[Any, ...]]]:
    """What must remain after a sweep on ``today``, from the rows before it."""
    after: dict[str, dict[int, tuple[Any, ...]]] = {}
    keep = lambda name, period, col: {k: r for k, r in before[name].items()  # noqa: E731
                                      if not _due(period, r[col], today)}
    after["web_sessions"] = keep("web_sessions", P13M, 2)
    after["prospects"] = keep("prospects", P3Y, 5)
    after["newsletter_subscriptions"] = keep("newsletter_subscriptions", None, 3)
    after["candidates"] = keep("candidates", P2Y, 5)
    after["suppression_entries"] = dict(before["suppression_entries"])
    customer_due = {k: _due(P5Y, r[5], today) for k, r in before["customers"].items()}
    order_due = {k: customer_due[r[1]] for k, r in before["orders"].items()}
    after["invoices"] = {}
    for k, r in before["invoices"].items():
        invoice_due = _due(P10Y, r[2], today)
        if order_due[r[1]] and invoice_due:
            continue
        # the row stays for the other rule: only the expired columns are masked
        number_amount = (None, None) if invoice_due else r[3:5]
        billing_name = "anonymised" if order_due[r[1]] else r[5]
        after["invoices"][k] = (*r[:3], *number_amount, billing_name)
    invoiced = {r[1] for r in after["invoices"].values()}
    after["orders"] = {k: ((*r[:3], None) if order_due[k] else r) for k, r in before["orders"].items()
                       if not (order_due[k] and k not in invoiced)}
    ordered = {r[1] for r in after["orders"].values()}
    after["customers"] = {k: ((k, None, None, "(expired)", *r[4:]) if customer_due[k] else r)
                          for k, r in before["customers"].items()
                          if not (customer_due[k] and k not in ordered)}
    return after


# -- oracle 2: plain SQL with the thresholds ---------------------------------------------------------------

def expected_by_sql(engine: Engine, today: date = TODAY) -> dict[str, set[int]]:
    """Ids each table keeps after a sweep on ``today``, by hand-written SQL over the rows before it."""
    day = timedelta(days=1)
    bounds = {"b13m": P13M.before(today) + day, "b2y": P2Y.before(today) + day,
              "b3y": P3Y.before(today) + day, "b5y": P5Y.before(today) + day,
              "b10y": P10Y.before(today) + day, "b0": today + day}
    customer_due = "(c.relationship_ended_at IS NOT NULL AND c.relationship_ended_at < :b5y)"
    queries = {
        "web_sessions": "SELECT id FROM web_sessions "
                        "WHERE NOT (started_at IS NOT NULL AND started_at < :b13m)",
        "prospects": "SELECT id FROM prospects WHERE last_contact_at IS NULL OR last_contact_at >= :b3y",
        "newsletter_subscriptions": "SELECT id FROM newsletter_subscriptions "
                                    "WHERE unsubscribed_at IS NULL OR unsubscribed_at >= :b0",
        "candidates": "SELECT id FROM candidates WHERE last_contact_at IS NULL OR last_contact_at >= :b2y",
        "suppression_entries": "SELECT id FROM suppression_entries",
        "invoices": "SELECT i.id FROM invoices i JOIN orders o ON o.id = i.order_id "
                    f"JOIN customers c ON c.id = o.customer_id WHERE NOT ({customer_due} "
                    "AND i.issued_at IS NOT NULL AND i.issued_at < :b10y)",
    }
    out: dict[str, set[int]] = {}
    with engine.connect() as conn:
        for name, query in queries.items():
            out[name] = set(conn.execute(sa.text(query), bounds).scalars())
        invoice_ids = ",".join(map(str, out["invoices"])) or "NULL"
        out["orders"] = set(conn.execute(sa.text(
            f"SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE NOT {customer_due} "
            f"OR EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id AND i.id IN ({invoice_ids}))"),
            bounds).scalars())
        order_ids = ",".join(map(str, out["orders"])) or "NULL"
        out["customers"] = set(conn.execute(sa.text(
            f"SELECT c.id FROM customers c WHERE NOT {customer_due} "
            f"OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.id IN ({order_ids}))"),
            bounds).scalars())
    return out


# -- the tests ---------------------------------------------------------------------------------------------

class Deployment:
    """A store, NEGOMARKETS' data map, and an engine on its business database."""

    def __init__(self, store_url: str, shop_url: str, dataset: Path = DATASET) -> None:
        self.store = open_store(store_url)
        self.datamap: DataMap = load_datamap(dataset)
        self.engines = connect_datamap(self.datamap, {"shop": shop_url}, create=True)
        self.shop = self.engines["shop"]
        self.registers = registers_for(self.datamap)

    def sweep(self, **options: Any) -> retention.SweepResult:
        return retention.sweep(self.store, self.datamap, self.engines, registers=self.registers, **options)

    def plan(self, **options: Any) -> retention.Plan:
        return retention.plan(self.store, self.datamap, self.engines, registers=self.registers, **options)

    def close(self) -> None:
        for engine in (self.store, *self.engines.values()):
            engine.dispose()


def business_url(migrated_url: str, tmp_path: Path) -> str:
    """SQLite: a second file; PostgreSQL: the same database (the store's tables have other names)."""
    return f"sqlite:///{tmp_path / 'shop.db'}" if migrated_url.startswith("sqlite") else migrated_url


@pytest.fixture
def deployment(migrated_url: str, tmp_path: Path) -> Iterator[Deployment]:
    found = Deployment(migrated_url, business_url(migrated_url, tmp_path))
    fill(found.shop)
    yield found
    found.close()


def test_each_negomarkets_period_governs_its_columns() -> None:
    datamap = load_datamap(DATASET)
    policy = retention.build_policy(datamap, registers_for(datamap))
    rules = {(str(t.ref), c.column.name): {str(g.rule.rule) for g in c.governing}
             for t in policy for c in t.columns.values()}
    assert rules[("shop.web_sessions", "pages")] == {"13 months after collection"}
    assert rules[("shop.prospects", "email")] == {"3 years after last_contact"}
    assert rules[("shop.customers", "email")] == {"5 years after relationship_end"}
    assert rules[("shop.invoices", "amount_cents")] == {"10 years after invoice_date"}
    assert rules[("shop.invoices", "billing_name")] == {"5 years after relationship_end"}
    assert rules[("shop.newsletter_subscriptions", "email")] == {"until consent_withdrawn"}
    assert rules[("shop.candidates", "cv")] == {"2 years after last_contact"}
    suppression = policy.table(datamap.table(("shop", "suppression_entries")).ref).columns["email"]
    assert not suppression.sweepable
    assert suppression.blocked == ("newsletter-suppression-list: no rule for contact.email",)


def test_sweep_deletes_exactly_what_each_period_makes_due(deployment: Deployment) -> None:
    before = snapshot(deployment.shop)
    by_sql = expected_by_sql(deployment.shop)
    plan = deployment.plan(today=TODAY)
    result = deployment.sweep(today=TODAY, batch_size=37)
    after = snapshot(deployment.shop)
    expected = expected_by_python(before)
    for name in TABLES:
        assert after[name] == expected[name], name
        assert set(after[name]) == by_sql[name], name
    # every period did delete something, and kept something
    for name in ("web_sessions", "prospects", "newsletter_subscriptions", "candidates", "invoices",
                 "customers"):
        assert 0 < len(after[name]) < len(before[name]), name
    assert any(r[5] == "anonymised" for r in after["invoices"].values())
    assert any(r[3] is None for r in after["orders"].values())
    planned = {f"{s.table}:{s.operation}": s.today for s in plan.steps}
    assert {k: v for k, v in result.affected.items() if v} == {k: v for k, v in planned.items() if v}
    again = deployment.sweep(today=TODAY, batch_size=37)
    assert again.total() == 0 and snapshot(deployment.shop) == after


def test_plan_counts_each_coming_day_exactly(deployment: Deployment) -> None:
    before = snapshot(deployment.shop)
    plan = deployment.plan(today=TODAY, days=40)
    deletes = {s.table.split(".")[1]: s for s in plan.steps if s.operation == "delete"}
    for offset in (0, 1, 3, 31, 40):
        day = TODAY + timedelta(days=offset)
        expected = expected_by_python(before, day)
        for name in ("web_sessions", "prospects", "candidates", "invoices", "customers"):
            step = deletes[name]
            count = step.today if offset == 0 else dict(step.by_day)[day]
            assert count == len(before[name]) - len(expected[name]), (name, day)
    assert {k["table"] for k in plan.kept} == {"shop.suppression_entries"}
    assert {"customer-relationship-contract", "recruitment"} <= set(plan.activities())


def test_legal_holds_keep_what_they_cover(deployment: Deployment) -> None:
    with deployment.store.begin() as conn:
        place_hold(conn, "table", "shop.web_sessions", "CNIL inspection")
        place_hold(conn, "activity", "recruitment", "employment tribunal")
        place_hold(conn, "subject", "email:p1@example.com", "litigation with this prospect")
    before = snapshot(deployment.shop)
    plan = deployment.plan(today=TODAY)
    held = {s.table: s.held for s in plan.steps if s.operation == "delete"}
    assert held["shop.web_sessions"] > 0 and held["shop.candidates"] > 0
    deployment.sweep(today=TODAY)
    after = snapshot(deployment.shop)
    assert after["web_sessions"] == before["web_sessions"]
    assert after["candidates"] == before["candidates"]
    assert after["prospects"][1] == before["prospects"][1]
    expected = expected_by_python(before)
    assert set(after["prospects"]) == set(expected["prospects"]) | {1}


def test_unlocatable_subject_hold_stops_the_sweep(deployment: Deployment) -> None:
    with deployment.store.begin() as conn:  # placed before place_hold() checked scopes
        conn.execute(legal_holds.insert().values(scope_kind="subject", reason="fraud report",
                                                 scope="2f1c0d4e-0000-0000-0000-000000000000",
                                                 starts_at=datetime.now(UTC)))
    before = snapshot(deployment.shop)
    with pytest.raises(GardeError, match="cannot be honoured"):
        deployment.sweep(today=TODAY)
    assert snapshot(deployment.shop) == before
