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
from babel.dates import format_date, format_datetime
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
    return format_datetime(value, "medium", tzinfo=UTC, locale=locale_for(lang, country))


def day(value: date | str | None, lang: str, country: str | None = None) -> str:
    """A date written out, e.g. ``5 décembre 2026``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "long", locale=locale_for(lang, country))


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


def line_text(line: Iterable[Piece]) -> str:
    """A worded line (:class:`~garde.documents.wording.Piece` by piece) as plain text."""
    return "".join(piece.text for piece in line)


def field_value(value: Any, column: str, row: Mapping[str, Any], lang: str, country: str | None,
                words: Mapping[str, str]) -> str:
    """A database value for a person: dates and amounts in ``lang``, booleans as words."""
    locale = locale_for(lang, country)
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
        if isinstance(currency, str) and currency:
            return format_currency(Decimal(value) / 100, currency.upper(), locale=locale)
        return format_decimal(Decimal(value) / 100, locale=locale)
    if isinstance(value, Decimal | float):
        return format_decimal(value, locale=locale)
    return str(value)
