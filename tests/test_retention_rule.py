import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from garde.periods import Period
from garde.retention_rule import RetentionPeriod, RuleSyntaxError, split_condition

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
@pytest.mark.parametrize("text", ["13 months", "for ever more", "3 ans",
                                  "after collection", "indefinitely after collection"])
def test_rejects_other_text_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(RuleSyntaxError, match="after <event>"):
        RetentionPeriod.parse(text)


periods = st.builds(Period, st.integers(0, 120), st.sampled_from(["day", "week", "month", "year"]))
rules = st.builds(RetentionPeriod, event=st.sampled_from(EVENTS), period=st.none() | periods)


@st.composite
def ranges(draw: st.DrawFn) -> RetentionPeriod:
    lower, upper = draw(periods), draw(periods)
    assume(lower.approx_days() < upper.approx_days())
    return RetentionPeriod(draw(st.sampled_from(EVENTS)), upper, lower=lower)


@given(rules)
def test_format_then_parse_round_trips(rule: RetentionPeriod) -> None:
    assert RetentionPeriod.parse(str(rule)) == rule
    assert str(RetentionPeriod.parse(str(rule))) == str(rule)


@given(ranges())
def test_a_range_formats_then_parses_to_itself(rule: RetentionPeriod) -> None:
    assert RetentionPeriod.parse(str(rule)) == rule


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("between 3 and 5 years after contract_end", "between 3 and 5 years after contract_end"),
        ("3 to 5 years after end_of_contract", "between 3 and 5 years after contract_end"),
        ("3-5 years after the end of the contract", "between 3 and 5 years after contract_end"),
        ("between 6 months and 2 years after last_contact",
         "between 6 months and 2 years after last_contact"),
        ("entre 3 et 5 ans après la fin du contrat", "between 3 and 5 years after contract_end"),
        ("de 6 mois à 2 ans après le dernier contact", "between 6 months and 2 years after last_contact"),
        ("3 ans après last_contact", "3 years after last_contact"),
        ("3 ans à compter de la collecte", "3 years after collection"),
        ("1 an après la clôture de l'exercice", "1 year after financial_year_end"),
        ("jusqu'au retrait du consentement", "until consent_withdrawn"),
        ("10 anni dalla data della fattura", "10 years after invoice_date"),
        ("tra 3 e 5 anni dalla fine del contratto", "between 3 and 5 years after contract_end"),
        ("fino alla revoca del consenso", "until consent_withdrawn"),
        ("2 years after inactivity", "2 years after last_activity"),
        ("30 days after the end of the session", "30 days after session_end"),
        ("30 jours après la suppression par l'utilisateur", "30 days after user_deletion"),
        ("30 giorni dalla fine della sessione", "30 days after session_end"),
    ],
)
def test_ranges_and_french_and_italian_forms_read_as_the_normalised_rule(text: str, normalised: str) -> None:
    assert str(RetentionPeriod.parse(text)) == normalised


def test_a_range_is_due_at_its_upper_bound() -> None:
    rule = RetentionPeriod.parse("between 3 and 5 years after contract_end")
    assert rule.period == Period(5, "year") and rule.lower == Period(3, "year")


@pytest.mark.parametrize("text", ["between 5 and 3 years after contract_end", "3 to 3 years after collection",
                                  "between 2 years and 6 months after collection"])
def test_a_range_runs_from_the_shorter_period_to_the_longer(text: str) -> None:
    with pytest.raises(RuleSyntaxError, match="shorter period to the longer"):
        RetentionPeriod.parse(text)


@pytest.mark.parametrize(
    ("text", "rule", "condition"),
    [
        ("10 years after invoice_date where the customer is a business", "10 years after invoice_date",
         "the customer is a business"),
        ("10 ans après la date de la facture lorsque le client est un professionnel",
         "10 ans après la date de la facture", "le client est un professionnel"),
        ("10 anni dalla data della fattura se il cliente è un'impresa", "10 anni dalla data della fattura",
         "il cliente è un'impresa"),
        ("3 years after last_contact", "3 years after last_contact", None),
        ("30 giorni dalla fine della sessione", "30 giorni dalla fine della sessione", None),
        ("1 an après la clôture du compte lorsqu’il est inactif", "1 an après la clôture du compte",
         "il est inactif"),
        ("5 years after contract_end if\nthe customer asks", "5 years after contract_end",
         "the customer asks"),
    ],
)
def test_a_condition_in_words_is_split_from_the_rule(text: str, rule: str, condition: str | None) -> None:
    assert split_condition(text) == (rule, condition)
