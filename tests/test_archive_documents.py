"""Documents say of an archive only what the register says: its end (``archive.until``) and who reads it
(``archive.access``), in fr/en/it; without them, a visible "not said" rather than an invented statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.documents.wording import Wording
from garde.problems import InputError
from garde.register import load_register, parse_register
from garde.register.model import RetentionRule

ROOT = Path(__file__).resolve().parents[1]


def line(rule: RetentionRule, lang: str) -> str:
    return "".join(piece.text for piece in Wording(lang, "en").retention(rule))


def rule(**fields: object) -> RetentionRule:
    return RetentionRule.model_validate({"rule": "3 years after invoice_date", "action": "archive", **fields})


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "3 years after the invoice date, then archived (intermediate archive) until 10 years after the "
           "invoice date, then deleted; access to the archive restricted to: Accounting staff only"),
    ("fr", "3 ans après la date de la facture, puis archivage intermédiaire jusqu'à 10 ans après la date de "
           "la facture, puis suppression ; accès à l'archive restreint : Service comptable uniquement"),
    ("it", "3 anni dalla data della fattura, poi archiviazione intermedia fino a 10 anni dalla data della "
           "fattura, poi cancellazione; accesso all'archivio limitato a: Solo il personale contabile"),
])
def test_the_reference_shop_notice_states_the_archive_period_and_access(lang: str, expected: str) -> None:
    invoicing = load_register(ROOT / "registers" / "reference-shop.yaml").activity("invoicing")
    assert invoicing is not None
    (archived,) = [r for r in invoicing.retention if r.action == "archive"]
    assert line(archived.model_copy(update={"reference": None}), lang) == expected


def test_an_archive_without_access_says_nothing_of_restricted_access() -> None:
    text = line(rule(archive="10 years after invoice_date"), "en")
    assert text.endswith("until 10 years after the invoice date, then deleted")
    assert "restricted" not in text


def test_an_archive_without_end_is_said_to_have_none_stated() -> None:
    """The missing end is a visible gap (counted by the draft banner, marked as such in every format),
    not a sentence that reads as a statement of the notice."""
    assert line(rule(), "en") == ("3 years after the invoice date, then archived (intermediate archive) — "
                                  "⚠ Not stated in the register: end of the intermediate archive")
    pieces = Wording("fr", "en").retention(rule(archive={"access": "DPO"}))
    (gap,) = [piece for piece in pieces if piece.gap]
    assert "fin de l'archivage intermédiaire" in gap.text


def test_the_archive_round_trips_through_the_normalised_register() -> None:
    register = load_register(ROOT / "registers" / "reference-shop.yaml")
    again = parse_register(register.model_dump_json(exclude_defaults=True), "again.json").register
    assert again == register
    invoicing = again.activity("invoicing")
    assert invoicing is not None
    (archived,) = [r for r in invoicing.retention if r.action == "archive"]
    assert archived.archive is not None and str(archived.final) == "10 years after invoice_date"
    dumped = archived.archive.model_dump(mode="json", exclude_defaults=True)
    assert dumped["until"] == "10 years after invoice_date"


@pytest.mark.parametrize(("until", "message"), [
    ("10 years after invoice_datte", "unknown trigger event 'invoice_datte'"),
    ("10 yeers after invoice_date", "is not a retention rule"),
])
def test_a_bad_archive_end_names_the_file_line_and_field(until: str, message: str) -> None:
    text = (ROOT / "registers" / "reference-shop.yaml").read_text(encoding="utf-8").replace(
        "until: 10 years after invoice_date", f"until: {until}")
    with pytest.raises(InputError) as raised:
        parse_register(text, "shop.yaml")
    (problem,) = [str(p) for p in raised.value.problems]
    assert problem.startswith("shop.yaml:") and "retention[0].archive.until" in problem and message in problem
