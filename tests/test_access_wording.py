"""An access answer reads as its language writes: field labels for people, dates and amounts (issue 11).

Before, the report showed column names (``birth date``) and machine values
(``1981-02-28``, ``2024-06-01T00:00:00``) whatever the language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from garde.datasets import load_datamap
from garde.rights.access import report_ready
from garde.rights.display import day, field_value, moment
from garde.rights.running import run
from garde.rights.wording import strings
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def _plain(text: str) -> str:
    """Babel's narrow and no-break spaces as spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize(("lang", "country", "amount", "birth", "at"), [
    ("fr", "FR", "1 234,56 €", "28 février 1981", "1 juin 2024, 14:05:00"),
    ("it", "IT", "1.234,56 €", "28 febbraio 1981", "1 giu 2024, 14:05:00"),
    ("en", "GB", "€1,234.56", "28 February 1981", "1 Jun 2024, 14:05:00"),
])
def test_dates_and_amounts_are_written_as_the_language_writes_them(lang: str, country: str, amount: str,
                                                                   birth: str, at: str) -> None:
    words = strings(lang)["report"]
    assert _plain(field_value(123456, "total_cents", {"currency": "EUR"}, lang, country, words)) == amount
    assert field_value(date(1981, 2, 28), "birth_date", {}, lang, country, words) == birth
    assert _plain(field_value(datetime(2024, 6, 1, 14, 5), "ordered_at", {}, lang, country, words)) == at
    assert _plain(moment("2024-06-01T14:05:00+00:00", lang, country)) == at
    assert day("1981-02-28", lang, country) == birth
    assert field_value(True, "newsletter", {}, lang, country, words) == words["answer_yes"]


def test_an_amount_without_a_currency_column_is_in_the_controllers_currency() -> None:
    words = strings("en")["report"]
    assert _plain(field_value(990, "amount_cents", {}, "en", "GB", words)) == "£9.90"
    assert _plain(field_value(Decimal("1234.5"), "total", {}, "fr", "FR", words)) == "1 234,5"


def test_the_report_names_fields_for_people_and_writes_dates_in_the_answers_language(
        shop: Shop) -> None:  # noqa: F811
    for lang, birth, label in (("fr", "28 février 1981", "Date de naissance"),
                               ("it", "28 febbraio 1981", "Data di nascita")):
        request_id = verified(shop, "access", {"email": "ana@example.org"}, language=lang)
        run(shop.store, request_id, shop.deployment)
        report_ready(shop.deployment.results / request_id, shop.deployment.results)  # as readers do
        html = (shop.deployment.results / request_id / "access.html").read_text()
        assert birth in html and "1981-02-28" not in html
        assert f"({label})" in html and "(birth date)" not in html
        answer = (shop.deployment.results / request_id / "access.json").read_text()
        assert '"value": "1981-02-28"' in answer.replace('":"', '": "')  # the JSON keeps the machine form


def test_the_reference_shop_labels_its_fields_in_three_languages() -> None:
    customers = load_datamap(ROOT / "datasets").table(next(
        t.ref for t in load_datamap(ROOT / "datasets") if t.name == "customers"))
    assert [customers.columns["first_name"].label_in(lang) for lang in ("fr", "en", "it")] == [
        "Prénom", "First name", "Nome"]


def test_a_timestamp_without_a_zone_is_read_as_utc() -> None:
    assert moment(datetime(2024, 6, 1, 14, 5), "en", "GB") == moment(datetime(2024, 6, 1, 14, 5, tzinfo=UTC),
                                                                     "en", "GB")
