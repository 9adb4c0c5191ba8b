"""Intermediate archiving: rows an ``archive`` rule makes due move to the archive table the data map
names, exactly, and are purged there at the archive's end; legal holds keep them in place.

The register is the reference shop's: invoices are archived ``3 years after invoice_date`` and
deleted from the archive ``10 years after invoice_date`` (registers/reference-shop.yaml); the data
map (tests/data/archive/shop.yaml) declares ``invoices`` with ``archive: invoices_archive``.
Both oracles here are Python, row by row, with :meth:`Period.after`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.datasets import TableRef, load_datamap, parse_dataset
from garde.datasets.archive import archive_warnings
from garde.datasets.live import check_live, reflect_table
from garde.legal_holds import place_hold
from garde.periods import Period
from garde.problems import InputError
from garde.retention.archive import archive_limits_of, archived_until
from garde.retention.policy import build_policy, registers_for
from garde.settings import get_settings
from tests.test_retention_negomarkets import Deployment, business_url

DATASET = Path(__file__).parent / "data" / "archive" / "shop.yaml"
ROOT = Path(__file__).resolve().parents[1]
FIRST = date(2026, 2, 28)
LATER = date(2026, 9, 30)
P3Y, P10Y = Period(3, "year"), Period(10, "year")
DATAMAP = load_datamap(DATASET)
ARCHIVE_LIMITS = archive_limits_of(DATAMAP, registers_for(DATAMAP)["shop"],
                                   DATAMAP.table(("shop", "invoices_archive")))

metadata = sa.MetaData()
customers = sa.Table("customers", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("email", sa.String(100)), sa.Column("last_name", sa.String(100)),
                     sa.Column("created_at", sa.DateTime), sa.Column("relationship_ended_at", sa.DateTime))
orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
                  sa.Column("order_number", sa.String(20)), sa.Column("ordered_at", sa.DateTime))
invoices = sa.Table("invoices", metadata, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
                    sa.Column("invoice_number", sa.String(20)), sa.Column("billing_name", sa.String(100)),
                    sa.Column("amount_cents", sa.Integer), sa.Column("issued_at", sa.DateTime))
invoices_archive = sa.Table("invoices_archive", metadata, sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("order_id", sa.Integer, nullable=False),
                            sa.Column("invoice_number", sa.String(20)),
                            sa.Column("billing_name", sa.String(100)), sa.Column("amount_cents", sa.Integer),
                            sa.Column("issued_at", sa.DateTime),
                            sa.Column("archived_at", sa.DateTime, nullable=False))


def fill(engine: Engine, n: int = 120, seed: int = 7) -> None:
    """Customers still active (their orders stay), invoices over 12 years, many near both edges."""
    rng = random.Random(seed)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows: dict[str, list[dict[str, Any]]] = {"customers": [], "orders": [], "invoices": []}
    for i in range(1, n // 4 + 1):
        rows["customers"].append({"id": i, "email": f"c{i}@example.com", "last_name": f"Name {i}",
                                  "created_at": datetime(2010, 1, 1), "relationship_ended_at": None})
    days = [FIRST - timedelta(days=rng.randrange(0, 12 * 365)) for _ in range(n)]
    for edge in (P3Y.before(FIRST), P10Y.before(FIRST), P3Y.before(LATER), P10Y.before(LATER)):
        days += [edge + timedelta(days=k) for k in range(-2, 3)]
    for i, day in enumerate(days, 1):
        customer = 1 + (i % len(rows["customers"]))
        rows["orders"].append({"id": i, "customer_id": customer, "order_number": f"O{i:06d}",
                               "ordered_at": datetime(day.year, day.month, day.day, 9)})
        rows["invoices"].append({"id": i, "order_id": i, "invoice_number": f"F{i:06d}",
                                 "billing_name": f"Name {customer}", "amount_cents": 100 * i,
                                 "issued_at": datetime(day.year, day.month, day.day, rng.randrange(24))})
    with engine.begin() as conn:
        for name in ("customers", "orders", "invoices"):
            conn.execute(metadata.tables[name].insert(), rows[name])


def table_rows(engine: Engine, table: sa.Table) -> dict[int, tuple[Any, ...]]:
    with engine.connect() as conn:
        return {r[0]: tuple(_plain(v) for v in r) for r in conn.execute(sa.select(table))}


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else value


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def expected(live: dict[int, tuple[Any, ...]], today: date) -> tuple[set[int], set[int], set[int]]:
    """(kept live, archived, deleted outright) for the live invoices, by Period.after row by row."""
    stay, move, gone = set(), set(), set()
    for key, row in live.items():
        issued = _day(row[5])
        if P10Y.after(issued) <= today:
            gone.add(key)
        elif P3Y.after(issued) <= today:
            move.add(key)
        else:
            stay.add(key)
    return stay, move, gone


class World(Deployment):
    """A store, the archive test's data map, an engine on its business database."""

    def __init__(self, store_url: str, shop_url: str) -> None:
        super().__init__(store_url, shop_url, DATASET)


@pytest.fixture
def world(migrated_url: str, tmp_path: Path) -> Iterator[World]:
    found = World(migrated_url, business_url(migrated_url, tmp_path))
    fill(found.shop)
    yield found
    found.close()


def check_moved(before: dict[int, tuple[Any, ...]], world: World, today: date) -> set[int]:
    """The live table and the archive after a sweep on ``today``; returns the archived keys."""
    stay, move, _ = expected(before, today)
    live = table_rows(world.shop, invoices)
    archived = table_rows(world.shop, invoices_archive)
    assert set(live) == stay
    assert set(archived) == move
    for key in move:  # copied whole: every column as it was, plus when
        assert archived[key][:-1] == before[key]
        assert archived[key][-1] is not None
    return move


def test_archive_moves_due_rows_exactly_and_deletes_rows_past_the_archive_end(world: World) -> None:
    before = table_rows(world.shop, invoices)
    stay, move, gone = expected(before, FIRST)
    assert stay and move and gone  # the data exercises the three outcomes
    plan = world.plan(today=FIRST)
    counts = {(s.table, s.operation): s.today for s in plan.steps}
    assert counts[("shop.invoices", "archive")] == len(move)
    assert counts[("shop.invoices", "delete")] == len(gone)
    assert counts[("shop.invoices_archive", "delete")] == 0
    result = world.sweep(today=FIRST, batch_size=7)
    check_moved(before, world, FIRST)
    assert result.affected["shop.invoices:archive"] == len(move)
    assert result.affected["shop.invoices:delete"] == len(gone)
    # the orders of archived invoices stay: their invoice still exists, in the archive
    assert set(table_rows(world.shop, orders)) == set(before)
    # again: nothing is due any more
    again = world.sweep(today=FIRST, batch_size=7)
    assert again.total() == 0
    with world.store.connect() as conn:
        moved = [e["payload"] for e in audit.entries(conn, kind="retention.batch")
                 if e["payload"]["operation"] == "archive"]
        assert audit.verify(conn).ok
    assert moved and all(p["archive_table"] == "shop.invoices_archive" for p in moved)
    assert sum(p["count"] for p in moved) == len(move)


def test_the_archive_is_purged_at_its_end(world: World) -> None:
    world.sweep(today=FIRST)
    live = table_rows(world.shop, invoices)
    archived = table_rows(world.shop, invoices_archive)
    ends = {key: P10Y.after(_day(row[5])) for key, row in archived.items()}
    purged = {key for key, end in ends.items() if end <= LATER}
    assert purged and purged != set(archived)
    plan = world.plan(today=LATER)
    step = next(s for s in plan.steps if s.table == "shop.invoices_archive" and s.operation == "delete")
    assert step.today == len(purged) and step.what == "purge from archive"
    result = world.sweep(today=LATER)
    assert result.affected["shop.invoices_archive:delete"] == len(purged)
    newly = expected(live, LATER)[1]
    assert set(table_rows(world.shop, invoices_archive)) == (set(archived) - purged) | newly


def test_plan_forecasts_archiving_day_by_day(world: World) -> None:
    plan = world.plan(today=FIRST, days=10)
    step = next(s for s in plan.steps if s.table == "shop.invoices" and s.operation == "archive")
    assert step.archive == "shop.invoices_archive" and step.what == "archive to shop.invoices_archive"
    before = table_rows(world.shop, invoices)
    for day, count in step.by_day:
        assert count == len(expected(before, day)[1])
    data = plan.to_data()
    column = next(c for s in data["steps"] if s["table"] == "shop.invoices" for c in s["columns"]
                  if c["column"] == "billing_name")
    assert column["archived_when"] == ["3 years after invoice_date"]
    assert column["due_when"] == ["10 years after invoice_date"]


def test_legal_holds_keep_rows_out_of_the_archive_and_in_it(world: World) -> None:
    before = table_rows(world.shop, invoices)
    _, move, _ = expected(before, FIRST)
    held_customer = 1 + (next(iter(sorted(move))) % 30)
    held = {k for k in move if 1 + (k % 30) == held_customer}
    with world.store.begin() as conn:
        place_hold(conn, "subject", f"email:c{held_customer}@example.com", "Litigation")
    world.sweep(today=FIRST)
    live = table_rows(world.shop, invoices)
    assert held <= set(live) and not held & set(table_rows(world.shop, invoices_archive))
    assert set(table_rows(world.shop, invoices_archive)) == move - held


def test_a_hold_on_the_live_table_also_keeps_its_archive(world: World) -> None:
    world.sweep(today=FIRST)
    archived = table_rows(world.shop, invoices_archive)
    with world.store.begin() as conn:
        place_hold(conn, "table", "shop.invoices", "Tax audit")
    plan = world.plan(today=LATER)
    assert all(s.today == 0 for s in plan.steps if s.table.startswith("shop.invoices"))
    world.sweep(today=LATER)
    assert table_rows(world.shop, invoices_archive) == archived


def test_datasets_check_reports_a_missing_archive_table_or_column(world: World) -> None:
    assert check_live(world.datamap, world.engines) == []
    with world.shop.begin() as conn:
        conn.execute(sa.text("ALTER TABLE invoices_archive DROP COLUMN amount_cents"))
    reflect_table.cache_clear()  # reflected once per process: the schema changed under it
    (problem,) = [str(p) for p in check_live(world.datamap, world.engines)]
    assert "shop.yaml" in problem and "tables.invoices.archive" in problem and "'amount_cents'" in problem
    with world.shop.begin() as conn:
        conn.execute(sa.text("DROP TABLE invoices_archive"))
    reflect_table.cache_clear()
    (problem,) = [str(p) for p in check_live(world.datamap, world.engines)]
    assert "has no table 'invoices_archive'" in problem


def test_offline_check_warns_when_map_and_register_disagree_on_archiving(tmp_path: Path) -> None:
    assert archive_warnings(load_datamap(DATASET)) == []
    text = DATASET.read_text(encoding="utf-8").replace("../../../registers", str(ROOT / "registers"))
    without = text.split("    archive:\n")[0]
    (tmp_path / "shop.yaml").write_text(without, encoding="utf-8")
    (warning,) = archive_warnings(load_datamap(tmp_path / "shop.yaml"))
    assert warning.startswith("shop.invoices: invoicing ('3 years after invoice_date') archives its data")
    # and the plan says why the invoices stay in the live table
    datamap = load_datamap(tmp_path / "shop.yaml")
    policy = build_policy(datamap, registers_for(datamap))
    blocked = policy.table(TableRef("shop", "invoices")).columns["billing_name"].blocked
    assert any("names no archive for shop.invoices" in why for why in blocked)


def test_retention_plan_command_shows_archiving_and_purging(world: World, migrated_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("the CLI is driven on SQLite, as in tests/test_retention_cli.py")
    world.sweep(today=FIRST)
    monkeypatch.setenv("GARDE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("GARDE_ARCHIVE_TEST_URL", world.shop.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["retention", "plan", "--datasets", str(DATASET), "--today",
                                          LATER.isoformat(), "--format", "json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    steps = {(s["table"], s["operation"]): s for s in json.loads(result.output)["steps"]}
    assert steps[("shop.invoices", "archive")]["archive"] == "shop.invoices_archive"
    assert steps[("shop.invoices", "archive")]["today"] > 0
    assert steps[("shop.invoices_archive", "delete")]["archive_of"] == "shop.invoices"
    assert steps[("shop.invoices_archive", "delete")]["today"] > 0


def test_an_archive_end_counted_from_archiving_runs_from_archived_at(world: World, tmp_path: Path) -> None:
    """``until: 1 year after archiving``: the purge is due a year after the sweep moved the row."""
    register = (ROOT / "registers" / "reference-shop.yaml").read_text(encoding="utf-8").replace(
        "until: 10 years after invoice_date", "until: 1 year after archiving")
    (tmp_path / "register.yaml").write_text(register, encoding="utf-8")
    (tmp_path / "shop.yaml").write_text(DATASET.read_text(encoding="utf-8").replace(
        "../../../registers/reference-shop.yaml", str(tmp_path / "register.yaml")), encoding="utf-8")
    world.datamap = load_datamap(tmp_path / "shop.yaml")
    world.registers = registers_for(world.datamap)
    before = table_rows(world.shop, invoices)
    world.sweep(today=FIRST)
    # no final limit dated on the live table: nothing is deleted there, every due row is archived
    moved = {k for k, row in before.items() if P3Y.after(_day(row[5])) <= FIRST}
    assert set(table_rows(world.shop, invoices_archive)) == moved
    archived_on = datetime.now(UTC).date()  # archived_at is written in UTC

    def purge(day: date) -> int:
        plan = world.plan(today=day)
        return next(s.today for s in plan.steps
                    if s.table == "shop.invoices_archive" and s.operation == "delete")

    assert purge(archived_on) == 0
    forecast = world.plan(today=archived_on, days=5)  # the live table's end is not dated there
    (delete,) = [s for s in forecast.steps if s.table == "shop.invoices" and s.operation == "delete"]
    assert delete.today == 0 and all(n == 0 for _, n in delete.by_day)
    assert purge(Period(1, "year").after(archived_on) - timedelta(days=1)) == 0
    assert purge(Period(1, "year").after(archived_on)) == len(moved)


def test_the_data_map_round_trips_with_its_archive(tmp_path: Path) -> None:
    """``datasets show`` prints the live table's ``archive:`` only; loading that gives the same map."""
    datamap = load_datamap(ROOT / "datasets" / "shop.yaml")
    (data,) = datamap.to_data()
    assert "invoices_archive" not in data["tables"]
    assert data["tables"]["invoices"]["archive"]["table"] == "invoices_archive"
    data["register"] = str(ROOT / "registers" / "reference-shop.yaml")
    (tmp_path / "shop.yaml").write_text(json.dumps(data), encoding="utf-8")
    again = load_datamap(tmp_path / "shop.yaml")
    assert again.datasets["shop"].tables == datamap.datasets["shop"].tables
    archive = again.table(("shop", "invoices_archive"))
    assert archive.timestamps["archiving"] == "archived_at" and archive.archive_of == "invoices"
    assert archive.label_in("fr") == "Facture (archive)" and archive.label_in("it") == "Fattura (archivio)"


@pytest.mark.parametrize(("archive", "message"), [
    ("{table: orders}", "tables.invoices.archive: 'orders' is already a table of the map"),
    ("{table: invoices_archive, archived_at: issued_at}", "'issued_at' is a column of invoices"),
    ("{table: invoices_archive, acces: accounting}", "tables.invoices.archive.acces: unknown field"),
    ("{table: 'invoices archive'}", "tables.invoices.archive.table: 'invoices archive' is not a column name"),
])
def test_a_bad_archive_declaration_names_the_file_line_and_field(archive: str, message: str) -> None:
    text = DATASET.read_text(encoding="utf-8").split("    archive:\n")[0] + f"    archive: {archive}\n"
    with pytest.raises(InputError) as raised:
        parse_dataset(text, "shop.yaml", base=DATASET.parent)
    problems = [str(p) for p in raised.value.problems]
    assert any(p.startswith("shop.yaml:") and message in p for p in problems), problems


@settings(deadline=None)  # pure computation; a loaded machine must not make it flaky
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
       st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_an_archived_row_is_deleted_on_the_day_the_archive_ends(issued: date, archived: date) -> None:
    """What an access answer says (``deleted_on``) is the day the register's end falls, month ends as the
    sweep counts them (Reg. 1182/71): 10 years after the invoice date, whatever the archiving day."""
    table = DATAMAP.table(("shop", "invoices_archive"))
    row = {"issued_at": datetime(issued.year, issued.month, issued.day, 13),
           "archived_at": datetime(archived.year, archived.month, archived.day)}
    assert archived_until(table, ARCHIVE_LIMITS, row) == P10Y.after(issued)
    assert archived_until(table, ARCHIVE_LIMITS, {**row, "issued_at": None}) is None
