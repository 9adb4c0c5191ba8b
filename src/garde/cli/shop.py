"""``garde shop``: the reference shop "Maison Exemple" and its synthetic data."""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from garde.cli.confirm import YesOption, confirm
from garde.cli.output import Format, FormatOption, QuietOption, Terminal, emit, parse_day, progress
from garde.problems import GardeError
from garde.shop import generate_shop
from garde.shop.sample import sample_customers
from garde.store import connect, safe_url

shop_app = typer.Typer(
    help="The reference shop: a retail schema over two databases (shop, crm).", no_args_is_help=True
)
DEFAULT_URLS = {"shop": "sqlite:///.garde/shop.db", "crm": "sqlite:///.garde/crm.db"}


def shop_url(database: str, given: str | None) -> str:
    """``--<database>-url``, else ``GARDE_<DATABASE>_URL``, else the SQLite file the dataset files name."""
    return given or os.environ.get(f"GARDE_{database.upper()}_URL") or DEFAULT_URLS[database]


@shop_app.command("generate")
def generate(
    customers: Annotated[int, typer.Option("--customers", min=1, help="How many customers")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed and date, same data")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date the data ends at, YYYY-MM-DD (default: today)")
    ] = None,
    shop: Annotated[
        str | None, typer.Option("--shop-url", help="SQLAlchemy URL of the shop database")
    ] = None,
    crm: Annotated[str | None, typer.Option("--crm-url", help="SQLAlchemy URL of the crm database")] = None,
    yes: YesOption = False,
    format: FormatOption = Format.text,
    quiet: QuietOption = False,
) -> None:
    """Recreate the shop's tables and fill them with synthetic customers (~11 rows each).

    Dates spread over the 15 years before --as-of, so retention has work to do.
    Existing shop tables in the two databases are dropped first.

    Example: garde shop generate --customers 100000 --seed 42
    """
    confirm(f"Drop the shop's tables in {safe_url(shop_url('shop', shop))} and "
            f"{safe_url(shop_url('crm', crm))} and fill them anew?", yes)
    day = date.today() if as_of is None else parse_day(as_of, "--as-of")
    engines = {"shop": connect(shop_url("shop", shop), create=True),
               "crm": connect(shop_url("crm", crm), create=True)}
    with progress("customers", customers, quiet) as tick:
        report = generate_shop(engines, customers, seed, as_of=day, progress=tick)
    if format is Format.json:
        emit({"customers": report.customers, "seed": report.seed, "as_of": report.as_of.isoformat(),
              "seconds": round(report.seconds, 3), "total_rows": report.total_rows,
              "rows": dict(sorted(report.rows.items()))})
        return
    table = Table(
        title=f"{report.total_rows:,} rows for {customers:,} customers in {report.seconds:.1f} s",
        title_justify="left",
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in sorted(report.rows.items()):
        table.add_row(name, f"{count:,}")
    Terminal().print(table)


@shop_app.command("sample")
def sample(
    count: Annotated[int, typer.Option("--count", min=1, max=100, help="How many customers")] = 5,
    format: FormatOption = Format.text,
    shop: Annotated[
        str | None, typer.Option("--shop-url", help="SQLAlchemy URL of the shop database")
    ] = None,
) -> None:
    """Print a few customers of the generated shop (synthetic), to try requests and decisions on.

    Example: garde shop sample --count 3
    """
    engine = connect(shop_url("shop", shop))
    try:
        found = sample_customers(engine, count)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        raise GardeError("no generated shop in the shop database: run `garde shop generate` first") from None
    finally:
        engine.dispose()
    if format is Format.json:
        emit([c.to_data() for c in found])
        return
    table = Table("customer_id", "email", "phone", title_justify="left")
    for customer in found:
        table.add_row(customer.customer_id, customer.email or "", customer.phone or "")
    Terminal(highlight=False).print(table)


def install(app: typer.Typer) -> None:
    app.add_typer(shop_app, name="shop")
