import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.periods import Period
from garde.retention_rule import RetentionPeriod, RuleSyntaxError

EVENTS = ["collection", "last_contact", "relationship_end", "invoice_date", "transaction_end",
          "consent_withdrawn"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13 months after collection", RetentionPeriod("collection", Period(13, "month"))),
        ("3 years after last_contact", RetentionPeriod("last_contact", Period(3, "year"))),
        ("1 year after relationship_end", RetentionPeriod("relationship_end", Period(1, "year"))),
        ("until consent_withdrawn", RetentionPeriod("consent_withdrawn")),
        ("  10 Years  after invoice_date ", RetentionPeriod("invoice_date", Period(10, "year"))),
    ],
)
def test_parses_the_dpo_forms(text: str, expected: RetentionPeriod) -> None:
    assert RetentionPeriod.parse(text) == expected


# "forever" is no syntax error any more: it loads as a rule kept without limit (GL027),
# see tests/test_retention_indefinite.py.
@pytest.mark.parametrize("text", ["13 months", "for ever more", "3 ans après last_contact",
                                  "after collection", "indefinitely after collection"])
def test_rejects_other_text_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(RuleSyntaxError, match="after <event>"):
        RetentionPeriod.parse(text)


rules = st.builds(
    RetentionPeriod,
    event=st.sampled_from(EVENTS),
    period=st.none()
    | st.builds(Period, st.integers(0, 120), st.sampled_from(["day", "week", "month", "year"])),
)


@given(rules)
def test_format_then_parse_round_trips(rule: RetentionPeriod) -> None:
    assert RetentionPeriod.parse(str(rule)) == rule
    assert str(RetentionPeriod.parse(str(rule))) == str(rule)
