"""One telephone number, one normal form: the per-identity code limit and look-ups hold
whatever way the number is written (issue 9).

Each normal form is its own identity: its own hash, its own count of codes
sent. If ``++33…``, ``+33 (0)6…`` or the same number in Arabic-Indic digits
normalised to other texts than ``+336…``, an attacker would get five more
codes a day to the victim's phone per spelling, and a requester writing the
international ``(0)`` would find none of their rows.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.problems import GardeError
from garde.subjects import normalise_identifier

NUMBER = "+33601234567"


@pytest.mark.parametrize("spelling", [
    "+33601234567", "+33 6 01 23 45 67", "+33.6.01.23.45.67", "+33-6-01-23-45-67", "0033 6 01 23 45 67",
    "+33 (0)6 01 23 45 67", "+33(0)601234567", "0033 (0) 6 01 23 45 67", "+33 (6) 01 23 45 67",
    "+٣٣٦٠١٢٣٤٥٦٧", "+３３６０１２３４５６７", " +33 6 01 23 45 67\t", "+33\u202f6\u00a001 23 45 67",
])
def test_every_spelling_of_one_number_normalises_to_one_identity(spelling: str) -> None:
    assert normalise_identifier("phone", spelling) == NUMBER


@pytest.mark.parametrize("text", [
    "++33601234567", "3+3601234567", "+33601234567+", "+33 6 01 23 45 67 ext 9", "tel:+33601234567",
    "+33 6 01 23 45 67\n+44 20 7946 0958", "n/a", "12345", "+1234567890123456",
])
def test_what_is_not_one_telephone_number_is_refused(text: str) -> None:
    with pytest.raises(GardeError, match="is not a telephone number"):
        normalise_identifier("phone", text)


@given(st.text(max_size=40))
def test_an_accepted_number_is_a_plus_and_ascii_digits_and_normalises_to_itself(text: str) -> None:
    try:
        number = normalise_identifier("phone", text)
    except GardeError:
        return
    assert number.lstrip("+").isascii() and number.lstrip("+").isdigit()
    assert number.count("+") <= 1 and 6 <= len(number.lstrip("+")) <= 15
    assert normalise_identifier("phone", number) == number


@given(st.from_regex(r"\A\+[1-9][0-9]{5,14}\Z"))
def test_a_number_is_read_as_phonenumbers_reads_it_even_when_written_in_e164(number: str) -> None:
    # +98 00000 is written +980000 by libphonenumber (the 0 is Iran's trunk prefix): a text that looks
    # like E.164 is not taken as written, or '+330601234567' and '+33 06 01 23 45 67' would be two
    # identities of one number.
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return
    if phonenumbers.is_possible_number(parsed):
        assert normalise_identifier("phone", number) == phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.E164)


def test_a_trunk_zero_after_the_country_code_is_one_identity_however_spaced() -> None:
    assert normalise_identifier("phone", "+330601234567") == normalise_identifier(
        "phone", "+33 06 01 23 45 67") == "+33601234567"


def test_an_italian_number_keeps_its_leading_zero_after_the_country_code() -> None:
    """Italy dials its fixed lines' 0 from abroad too (+39 06 …): ``(0)`` there is the number's own
    digit, not a trunk prefix to drop (red29 noticed ``+39 (0)6 …`` read as +39 6 …, no number)."""
    assert normalise_identifier("phone", "+39 (0)6 1234 5678") == normalise_identifier(
        "phone", "0039 06 1234 5678") == "+390612345678"
    assert normalise_identifier("phone", "+44 (0)20 7946 0000") == "+442079460000"


def _plans_with_a_zero() -> list[tuple[str, bool]]:
    """Each region whose fixed lines' example number is written with a ``(0)`` somewhere: those whose
    plan keeps the leading 0 in the international form, and those whose trunk prefix is 0."""
    import phonenumbers

    regions = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
        if example is None:
            continue
        if example.italian_leading_zero:
            regions.append((region, True))
        elif getattr(phonenumbers.PhoneMetadata.metadata_for_region(region), "national_prefix", None) == "0":
            regions.append((region, False))
    return regions


@given(st.sampled_from(_plans_with_a_zero()))
def test_a_bracketed_zero_is_the_numbers_own_digit_where_the_plan_keeps_it(plan: tuple[str, bool]) -> None:
    """Over every country with a ``(0)`` convention: ``+CC (0)…`` is the number with its 0 where the
    numbering plan keeps it (Italy, San Marino, Gabon, Benin, …), without it where 0 is the trunk
    prefix dialled only at home (United Kingdom, France, Germany, …); either way the number as the
    country writes it internationally."""
    import phonenumbers

    region, kept = plan
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    assert example is not None  # the regions sampled have one
    national = phonenumbers.national_significant_number(example)
    after = national[1:] if kept else national  # kept: the 0 the plan keeps is the one in brackets
    written = f"+{example.country_code} (0){after}"
    assert normalise_identifier("phone", written) == phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.E164), written
