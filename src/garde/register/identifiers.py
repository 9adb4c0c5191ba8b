"""Check digits of the registration numbers a controller publishes (GDPR Art. 13(1)(a): its identity).

Only numbers whose check is a simple public algorithm are checked; every other kind
(ICO registration, UK company number, RCS, other countries' VAT numbers...) is kept as
written. Spaces, dots and dashes are ignored when checking; the number is kept and
published as the register writes it.

- SIREN (9 digits) and SIRET (14 digits): the Luhn check (INSEE); La Poste's
  establishments (SIREN 356 000 000) may instead have a digit sum that is a multiple of 5.
- French VAT number: ``FR`` + a two-digit key + the SIREN, the key being
  ``(12 + 3 × (SIREN mod 97)) mod 97`` (Code général des impôts, ann. IV art. 242 nonies;
  an alphanumeric key, given to entities without a SIREN, is kept as written).
- Partita IVA (11 digits; ``IT`` + partita IVA as a VAT number) and the codice fiscale of a
  company (the same 11 digits): the Luhn check digit (D.M. 23 dicembre 1976). Registers and
  invoices often write the partita IVA as the VAT number, ``IT`` first: the prefix is optional.
- Codice fiscale of a person (16 characters): the check letter of D.M. 23 dicembre 1976.
"""

from __future__ import annotations

import re
from collections.abc import Callable

LA_POSTE = "356000000"


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _siren(number: str) -> str | None:
    if not re.fullmatch(r"\d{9}", number):
        return "a SIREN has 9 digits"
    return None if _luhn(number) else "its check digit is wrong (Luhn)"


def _siret(number: str) -> str | None:
    if not re.fullmatch(r"\d{14}", number):
        return "a SIRET has 14 digits"
    if _luhn(number):
        return None
    if number.startswith(LA_POSTE) and sum(map(int, number)) % 5 == 0:  # La Poste: INSEE's own rule
        return None
    return "its check digit is wrong (Luhn)"


def _partita_iva(number: str) -> str | None:
    number = number.removeprefix("IT")  # the partita IVA written as the VAT number (VIES)
    if not re.fullmatch(r"\d{11}", number):
        return "a partita IVA has 11 digits"
    return None if _luhn(number) else "its check digit is wrong"


# D.M. 23 dicembre 1976: the value of a character in an odd position (1st, 3rd, ...); a digit
# counts as the letter of the same rank (0 as A, 1 as B, ...).
_ODD_LETTERS = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
_ODD = {**dict(zip("0123456789", _ODD_LETTERS, strict=False)),
        **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", _ODD_LETTERS, strict=True))}


def _even(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A")


def _codice_fiscale(number: str) -> str | None:
    if re.fullmatch(r"\d{11}", number):  # a company's: its partita IVA
        return _partita_iva(number)
    if not re.fullmatch(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}[A-Z]"
                        r"[0-9LMNPQRSTUV]{3}[A-Z]", number):
        return "a codice fiscale has 16 characters (a person's) or 11 digits (a company's)"
    total = sum(_ODD[c] if i % 2 == 0 else _even(c) for i, c in enumerate(number[:15]))
    return None if chr(ord("A") + total % 26) == number[15] else "its check letter is wrong"


def _vat(number: str) -> str | None:
    if number.startswith("FR") and re.fullmatch(r"FR\d{11}", number):
        key, siren = int(number[2:4]), number[4:]
        if _siren(siren) is not None:
            return "a French VAT number ends with the SIREN, whose check digit is wrong"
        return None if key == (12 + 3 * (int(siren) % 97)) % 97 else "its key does not match the SIREN"
    if number.startswith("IT"):
        return _partita_iva(number)
    return None  # other countries' numbers: kept as written


CHECKS: dict[str, Callable[[str], str | None]] = {
    "siren": _siren, "siret": _siret, "vat": _vat, "partita_iva": _partita_iva,
    "codice_fiscale": _codice_fiscale,
}


def registration_problem(kind: str, value: str) -> str | None:
    """Why ``value`` cannot be a ``kind`` number (its check digit), or None when it can or is not checked."""
    check = CHECKS.get(kind.strip().lower())
    if check is None:
        return None
    return check(re.sub(r"[\s.\-]", "", value).upper())
