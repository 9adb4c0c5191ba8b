from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from garde.periods import Period, add_months


def test_month_end_is_clamped_per_regulation_1182_71() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert Period(1, "year").after(date(2024, 2, 29)) == date(2025, 2, 28)
    assert Period(13, "month").after(date(2025, 1, 15)) == date(2026, 2, 15)


def test_parse_and_print() -> None:
    assert Period.parse("13 months") == Period(13, "month")
    assert str(Period(1, "year")) == "1 year"


units = st.sampled_from(["day", "week", "month", "year"])
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(st.integers(0, 40), units, days, days)
def test_before_is_the_exact_inverse_of_after(count: int, unit: str, start: date, end: date) -> None:
    period = Period(count, unit)  # type: ignore[arg-type]
    assert (period.after(start) <= end) == (start <= period.before(end))


@given(st.integers(0, 40), units, days)
def test_period_never_ends_before_it_starts(count: int, unit: str, start: date) -> None:
    assert Period(count, unit).after(start) >= start  # type: ignore[arg-type]
