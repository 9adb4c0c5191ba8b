"""The Art. 30 register's sheet of each activity shows when its record was created and last
updated, as the register states them (the CNIL model's "Date de création de la fiche" and "Mise à
jour"); never the build date, and nothing where the register gives no date."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from garde.documents import export_register
from garde.problems import InputError
from garde.register import parse_register

REGISTER = """
controller: {name: Shop, country: FR}
activities:
  - id: orders
    name: Orders
    created: 2024-03-12
    updated: 2026-11-30
  - id: newsletter
    name: Newsletter
"""
BUILT = date(2027, 1, 5)  # the build date: never printed as a creation or update date


def _sheet(lang: str, title: str) -> dict[str, str]:
    data = export_register(parse_register(REGISTER, "shop.yaml").register, "xlsx", lang, today=BUILT)
    ws = openpyxl.load_workbook(io.BytesIO(data))[title]
    return {str(row[0]): str(row[1]) for row in ws.iter_rows(values_only=True) if row[0]}


@pytest.mark.parametrize(("lang", "created", "updated"), [
    ("fr", "Date de création de la fiche", "Mise à jour de la fiche"),
    ("en", "Record created", "Record last updated"),
])
def test_the_xlsx_sheet_of_an_activity_shows_its_dates(lang: str, created: str, updated: str) -> None:
    fields = _sheet(lang, "orders")
    assert "2024" in fields[created] and "12" in fields[created]
    assert "2026" in fields[updated] and "30" in fields[updated]
    assert created not in _sheet(lang, "newsletter")  # no date stated: no row, no invented date


def test_the_html_sheet_of_an_activity_shows_its_dates_never_the_build_date() -> None:
    page = export_register(parse_register(REGISTER, "shop.yaml").register, "html", "en",
                           today=BUILT).decode()
    orders = page[page.index('id="controller-orders"'):page.index('id="controller-newsletter"')]
    assert "Record created" in orders and "March 12, 2024" in orders
    assert "Record last updated" in orders and "November 30, 2026" in orders
    newsletter = page[page.index('id="controller-newsletter"'):]
    assert "Record created" not in newsletter and "January 2027" not in newsletter.split("</section>")[0]


def test_an_activity_date_that_is_not_a_date_names_the_field() -> None:
    with pytest.raises(InputError, match=r"shop.yaml:6: activities\[0\]\.created"):
        parse_register(REGISTER.replace("2024-03-12", "last spring"), "shop.yaml")


def test_activity_dates_round_trip_through_the_normalised_register() -> None:
    register = parse_register(REGISTER, "shop.yaml").register
    again = parse_register(register.model_dump_json(exclude_defaults=True), "again.json").register
    orders = again.activity("orders")
    assert orders is not None and orders.created == date(2024, 3, 12) and orders.updated == date(2026, 11, 30)
