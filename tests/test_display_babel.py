"""Dates and amounts in a person's language (issue 14): worded in parts and once per day or amount,
the same text as Babel's own ``format_datetime``, ``format_date`` and ``format_currency`` give; and the
report's escaping of field values, the same as markupsafe's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, get_territory_currencies
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from garde.rights.access import _escaped
from garde.rights.display import day, field_value, locale_for, moment

LANGS = st.sampled_from(["en", "fr", "it"])
COUNTRIES = st.sampled_from([None, "FR", "GB", "IT", "US", "CH", "BE", "IE"])
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)),
                         timezone(timedelta(hours=13, minutes=45))])
MOMENTS = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30))


@settings(max_examples=300, derandomize=True)
@given(value=MOMENTS, zone=ZONES, lang=LANGS, country=COUNTRIES)
def test_a_moment_reads_as_babel_writes_it(value: datetime, zone: timezone | None, lang: str,
                                           country: str | None) -> None:
    value = value.replace(tzinfo=zone)
    expected = format_datetime(value if zone else value.replace(tzinfo=UTC), "medium", tzinfo=UTC,
                               locale=locale_for(lang, country))
    assert moment(value, lang, country) == expected
    assert moment(value.isoformat(), lang, country) == expected  # as a driver's ISO text
    assert moment(value, lang, country) == expected  # and again, from the day's cache


@settings(max_examples=200, derandomize=True)
@given(value=st.dates(min_value=date(1900, 1, 1)), lang=LANGS, country=COUNTRIES)
def test_a_day_reads_as_babel_writes_it(value: date, lang: str, country: str | None) -> None:
    expected = format_date(value, "long", locale=locale_for(lang, country))
    assert day(value, lang, country) == day(value.isoformat(), lang, country) == expected


@settings(max_examples=200, derandomize=True)
@given(cents=st.integers(min_value=-10**12, max_value=10**12), lang=LANGS, country=COUNTRIES,
       currency=st.sampled_from([None, "eur", "GBP", "chf", "JPY"]))
def test_an_amount_reads_as_babel_writes_it(cents: int, lang: str, country: str | None,
                                            currency: str | None) -> None:
    row = {"total_cents": cents, "currency": currency}
    locale = locale_for(lang, country)
    shown = field_value(cents, "total_cents", row, lang, country, {})
    if currency or country:  # the row's currency, else the controller's country's
        code = currency.upper() if currency else get_territory_currencies(country)[0]
        assert shown == format_currency(Decimal(cents) / 100, code, locale=locale)
    else:
        assert shown == format_decimal(Decimal(cents) / 100, locale=locale)


@settings(max_examples=300, derandomize=True)
@given(value=st.one_of(st.text(), st.integers(), st.none()))
def test_a_field_value_is_escaped_as_markupsafe_escapes_it(value: object) -> None:
    assert _escaped(value) == str(escape(value))
