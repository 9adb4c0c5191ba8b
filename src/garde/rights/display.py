"""Values as a person reads them in their language: dates, times, numbers and amounts (Babel).

An access answer's JSON keeps the machine form (ISO 8601 dates, decimals as
text); its HTML report shows each value as the subject's language writes it:
``5 décembre 2026``, ``1 234,50 €``, ``5 December 2026``, ``€1,234.50``,
``1.234,50 €``. The locale is the answer's language in the controller's
country when Babel knows that pair (``fr_FR``, ``en_GB``, ``it_IT``), else the
language alone. Amounts are the reference shop's ``*_cents`` integers, in the
row's ``currency`` column, else the controller's country's currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_currency, format_decimal, get_territory_currencies

from garde.documents.wording import Piece

CENTS_SUFFIX = "_cents"


@lru_cache(maxsize=32)
def locale_for(lang: str, country: str | None = None) -> Locale:
    """``lang`` as written in ``country`` (``fr`` in ``FR``), or ``lang`` alone."""
    if country:
        try:
            return Locale.parse(f"{lang}_{country}")
        except (UnknownLocaleError, ValueError):
            pass
    return Locale.parse(lang)


@lru_cache(maxsize=32)
def _currency(country: str | None) -> str | None:
    currencies = get_territory_currencies(country) if country else []
    return currencies[0] if currencies else None


def moment(value: datetime | str | None, lang: str, country: str | None = None) -> str:
    """A date and time (UTC when it carries no zone), e.g. ``5 déc. 2026, 14:03:00``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # Babel's format_datetime(value, "medium", tzinfo=UTC), in its own steps: the locale's pattern,
    # the time, then the date, which is worded once per day (a subject's records share a few days).
    instant = value.astimezone(UTC)
    locale = locale_for(lang, country)
    time = format_time(instant, "medium", tzinfo=None, locale=locale)
    return _datetime_pattern(locale).replace("{0}", time).replace("{1}", _date_text(instant.date(), "medium",
                                                                                    lang, country))


@lru_cache(maxsize=32)
def _datetime_pattern(locale: Locale) -> str:
    return str(get_datetime_format("medium", locale=locale)).replace("'", "")


@lru_cache(maxsize=4096)
def _date_text(value: date, width: str, lang: str, country: str | None) -> str:
    """A day in ``lang`` (Babel's ``format_date``), once per day, width and language: dates repeat,
    within one answer (a request's steps, an order and its payment) and across answers."""
    return format_date(value, width, locale=locale_for(lang, country))


def day(value: date | str | None, lang: str, country: str | None = None) -> str:
    """A date written out, e.g. ``5 décembre 2026``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return _date_text(value, "long", lang, country)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2}|Z)?")


def _iso_text(value: str) -> Any:
    """A date or timestamp a driver gave back as ISO text (SQLite keeps them so), else the text."""
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
        if _ISO_MOMENT.fullmatch(value):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    return value


@lru_cache(maxsize=4096)
def _amount(cents: int, currency: str | None, lang: str, country: str | None) -> str:
    """An amount of ``cents`` in ``currency`` (or a plain number without one), once per amount and
    language: prices repeat across a shop's orders."""
    locale = locale_for(lang, country)
    if currency is not None:
        return format_currency(Decimal(cents) / 100, currency, locale=locale)
    return format_decimal(Decimal(cents) / 100, locale=locale)


def line_text(line: Iterable[Piece]) -> str:
    """A worded line (:class:`~garde.documents.wording.Piece` by piece) as plain text."""
    return "".join(piece.text for piece in line)


def field_value(value: Any, column: str, row: Mapping[str, Any], lang: str, country: str | None,
                words: Mapping[str, str]) -> str:
    """A database value for a person: dates and amounts in ``lang``, booleans as words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return words["answer_yes"] if value else words["answer_no"]
    if isinstance(value, str):
        value = _iso_text(value)
    if isinstance(value, datetime):
        return moment(value, lang, country)
    if isinstance(value, date):
        return day(value, lang, country)
    if isinstance(value, int) and column.endswith(CENTS_SUFFIX):
        currency = row.get("currency") or _currency(country)
        return _amount(value, currency.upper() if isinstance(currency, str) and currency else None,
                       lang, country)
    if isinstance(value, Decimal | float):
        return format_decimal(value, locale=locale_for(lang, country))
    return str(value)
