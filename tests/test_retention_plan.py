"""The plan's day-by-day counts (dated in Python) equal one ``COUNT`` per day with the sweep's predicate.

The forecast fetches only the rows whose status changes in the window and
dates them with ``Period.after``; the oracle is the slow way, the sweep's
own predicate evaluated on each day. Checked on NEGOMARKETS' tables (both
databases, a window over month ends, with legal holds) and on a generated
reference shop (deletes that wait for children, masks that end in a delete).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from garde import retention
from garde.datasets import DataMap, connect_datamap, load_datamap
from garde.legal_holds import place_hold
from garde.retention.plan import Plan, count
from garde.retention.predicate import Predicates
from garde.retention.sweep import Sweeper
from garde.shop import generate_shop
from garde.store import open_store
from tests.test_retention_negomarkets import Deployment, business_url, fill

ROOT = Path(__file__).resolve().parents[1]


def assert_plan_matches_daily_counts(plan: Plan, sweeper: Sweeper, offsets: list[int] | None = None) -> int:
    """Each step's ``by_day`` equals a ``COUNT`` with the sweep's predicate on that day (every day,
    or the given ``offsets``); returns how many steps' counts change in the window."""
    holds = sweeper.holds()
    policy = sweeper.policy(holds)
    changed = 0
    for step in plan.steps:
        days = [plan.today + timedelta(days=i) for i in range(1, plan.days + 1)]
        assert [d for d, _ in step.by_day] == days
        table = policy.table(sweeper.datamap.table(tuple(step.table.split("."))).ref)  # type: ignore[arg-type]
        engine = sweeper.engines[table.ref.database]
        with engine.connect() as conn:
            for offset in offsets or range(1, plan.days + 1):
                predicates = Predicates(policy, plan.today + timedelta(days=offset), engine.dialect.name,
                                        holds.keys)
                assert step.by_day[offset - 1][1] == count(conn, predicates, table, step.operation), \
                    (step.table, step.operation, offset)
        changed += step.by_day[-1][1] != step.today
    return changed


@pytest.fixture
def deployment(migrated_url: str, tmp_path: Path) -> Iterator[Deployment]:
    found = Deployment(migrated_url, business_url(migrated_url, tmp_path))
    fill(found.shop)
    yield found
    found.close()


@pytest.mark.parametrize("today", [date(2026, 2, 28), date(2026, 1, 20)])
def test_negomarkets_plan_equals_daily_counts(deployment: Deployment, today: date) -> None:
    with deployment.store.begin() as conn:
        place_hold(conn, "subject", "email:p3@example.com", "litigation")
        place_hold(conn, "activity", "recruitment", "employment tribunal")
    plan = deployment.plan(today=today, days=45)
    sweeper = Sweeper(deployment.store, deployment.datamap, deployment.engines, deployment.registers)
    assert assert_plan_matches_daily_counts(plan, sweeper) >= 4


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DataMap, dict[str, Engine], Engine]]:
    folder = tmp_path_factory.mktemp("shop")
    datamap = load_datamap(ROOT / "datasets")
    engines = connect_datamap(datamap, {db: f"sqlite:///{folder / db}.db" for db in ("shop", "crm")},
                              create=True)
    generate_shop(engines, 600, seed=5, as_of=date(2025, 6, 1), batch_size=300)
    store = open_store(f"sqlite:///{folder / 'store.db'}")
    yield datamap, engines, store
    for engine in (store, *engines.values()):
        engine.dispose()


@pytest.mark.parametrize("today", [date(2025, 6, 1), date(2026, 1, 31)])
def test_reference_shop_plan_equals_daily_counts(shop: tuple[DataMap, dict[str, Engine], Engine],
                                                 today: date) -> None:
    datamap, engines, store = shop
    plan = retention.plan(store, datamap, engines, today=today, days=31)
    sweeper = Sweeper(store, datamap, engines, retention.registers_for(datamap))
    assert assert_plan_matches_daily_counts(plan, sweeper, [1, 2, 3, 6, 13, 27, 28, 29, 31]) >= 5
