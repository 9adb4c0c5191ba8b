"""E-mail addresses are checked as addresses (RFC 5321/5322 syntax and lengths), not by a `@`.

An identifier that is not an address would be hashed and stored as a
subject's identity, and a one-time code "sent" to it: refuse it at the door
with the reason, in the library, so the CLI, the API and the imports agree.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.problems import GardeError
from garde.subjects import email_problem, normalise_identifier

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
atoms = st.text(alphabet=ATEXT, min_size=1, max_size=10)
local_parts = st.lists(atoms, min_size=1, max_size=4).map(".".join).filter(lambda s: len(s) <= 64)
labels = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\Z")
domains = st.tuples(st.lists(labels, min_size=1, max_size=3), st.from_regex(r"\A[a-z]{2,6}\Z")).map(
    lambda parts: ".".join([*parts[0], parts[1]]))


@pytest.mark.parametrize("address", [
    "a@", "@@", "x", "@example.com", "a@b", "a b@example.com", "a..b@example.com", ".a@example.com",
    "a.@example.com", "a@-example.com", "a@example-.com", "a@exa_mple.com", "a@example..com",
    "a@example.com.", "a@1.2.3.4", "a@[192.0.2.1]", "a\x00@example.com", "a@exam ple.com",
    "a@b@example.com", "<a@example.com>", "a\n@example.com", "a@example.com\n", "a@example.com\r",
    "a@example.com\nBcc: b@example.com",
])
def test_not_an_address_is_refused_with_the_reason(address: str) -> None:
    assert email_problem(address) is not None
    if address.strip() != address:
        return  # normalise_identifier trims it first
    with pytest.raises(GardeError, match="is not an e-mail address: "):
        normalise_identifier("email", address)


@pytest.mark.parametrize("address", [
    "ada@example.com", "Ada.Lovelace+news@Example.COM", "o'brien@example.ie", "x@a.io",
    "josé@exemple.fr", "ada@bücher.de", "info@société.fr", "user@mail.例え.jp",
])
def test_real_addresses_including_international_ones_are_accepted(address: str) -> None:
    assert email_problem(address) is None
    assert normalise_identifier("email", f"  {address} ") == address.lower()


def test_rfc_5321_length_limits_64_255_254() -> None:
    assert email_problem("a" * 64 + "@example.com") is None
    assert "64" in str(email_problem("a" * 65 + "@example.com"))
    assert email_problem("a@" + "b" * 63 + ".com") is None
    assert email_problem("a@" + "b" * 64 + ".com") is not None  # a label holds 63 octets at most
    longest = "a" * 64 + "@" + ".".join(["b" * 62, "b" * 62, "b" * 60]) + ".cd"  # 64 + 1 + 189 = 254
    assert len(longest) == 254 and email_problem(longest) is None
    assert "254" in str(email_problem(longest[:-3] + "x.cd"))  # 255
    assert email_problem("é" * 33 + "@example.com") is not None  # 66 octets in UTF-8


@given(local_parts, domains)
def test_every_well_formed_address_is_accepted_and_normalises_to_itself(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    if len(address) > 254:
        assert email_problem(address) is not None
        return
    assert email_problem(address) is None
    normalised = normalise_identifier("email", address)
    assert normalised == address.lower()
    assert normalise_identifier("email", normalised) == normalised


@given(st.emails())
def test_hypothesis_addresses_within_the_lengths_are_accepted(address: str) -> None:
    domain = address.rpartition("@")[2]
    if len(address) <= 254 and not domain.split(".")[-1].isdigit():
        assert email_problem(address) is None, address


@given(st.text(max_size=300))
def test_whatever_is_accepted_keeps_the_limits_and_holds_no_space_or_control(text: str) -> None:
    if email_problem(text) is not None:
        return
    local, at, domain = text.rpartition("@")
    assert at and local and domain
    assert len(text.encode()) <= 254 and len(local.encode()) <= 64
    assert not any(c.isspace() or not c.isprintable() for c in text)
    assert "@" not in local and ".." not in text and not local.startswith(".") and "." in domain


@pytest.mark.parametrize(("one", "other"), [
    ("ada@xn--bcher-kva.de", "ada@bücher.de"),  # an IDN domain in ASCII (A-label) and in Unicode
    ("jose\u0301@exemple.fr", "jos\u00e9@exemple.fr"),  # é decomposed and precomposed (NFC)
    ("Ada@BÜCHER.de", "ada@bücher.de"),
])
def test_two_spellings_of_one_mailbox_are_one_identity(one: str, other: str) -> None:
    # Each normal form is its own identity (its own hash, its own count of codes sent): two
    # spellings of one mailbox must not be two people (issue 11, e-mail-validator).
    assert normalise_identifier("email", one) == normalise_identifier("email", other)


@pytest.mark.parametrize("address", [
    "ada@\u2603.net",  # a symbol IDNA 2003 let through and IDNA 2008 refuses
    "ada@exa\u200bmple.com", "\u0301ada@example.com",  # invisible, leading combining character
    "ada@example.invalid", "ada@shop.local", "ada@abc.onion",  # special-use names (RFC 6761, 7686)
])
def test_addresses_no_mail_can_reach_are_refused(address: str) -> None:
    assert email_problem(address) is not None


plain_looking = st.from_regex(r"\A[a-z0-9.!#'+_-]{1,12}@([a-z0-9-]{1,8}\.){1,3}[a-z]{2,6}\Z")


@given(st.one_of(st.emails(), plain_looking))
def test_the_quick_reading_of_a_plain_address_agrees_with_email_validator(address: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from garde.subjects import _plain_address

    if not _plain_address(address):
        return
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise AssertionError(f"{address!r} read as plain, but {error}") from None
    assert checked.normalized.lower() == normalise_identifier("email", address)
