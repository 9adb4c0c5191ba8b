"""Seeds 000 (Dior Couture) and 001 (online shop), row by row, against their registers.

The seed texts are read from ``../shared/seeds`` (always beside the repository)
and split into rows; every row must be an activity of the register with the
seed's ``ref``, the seed's purpose text, its data wording, and exactly the
legal bases its wording names, each with the seed's phrase as ``wording``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from garde.register import Activity, Register, Text, load_register, text_in
from garde.taxonomy import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_000 = SEEDS / "000_79c928cfe218a20f.txt"
SEED_001 = SEEDS / "001_29ab950f70c9c5f1.txt"
DIOR = ROOT / "registers" / "dior-couture.yaml"
SHOP = ROOT / "registers" / "online-shop.yaml"

# Phrases of the seeds that no vocabulary synonym should claim: the reading is ours.
EXPLICIT_BASES = {
    # "necessary to comply with a legal or contractual obligation and to share data
    # under law enforcement": a contractual obligation to a third party is not 6(1)(b).
    "Nécessaire pour satisfaire à une obligation légale ou contractuelle et partager des "
    "données personnelles conformément à l'application de la loi.": "legal_obligation",
    # Establishing or defending legal claims: a legitimate interest (Art. 17(3)(e) context).
    "Nécessaire pour présenter ou contester une réclamation": "legitimate_interests",
}

# Seed 001's data types ("Type de données"); the vocabulary's synonyms map each to a category.
DATA_TYPES_001 = (
    "Identité", "Contact", "Financières", "Transaction", "Technique", "Profil", "Utilisation",
    "Marketing et communication", "Suivi",
)


def rows_000() -> dict[int, tuple[str, str, str, str]]:
    """Row number -> (Traitement, Objectifs, Détails des données, Base juridique)."""
    rows: dict[int, tuple[str, str, str, str]] = {}
    for line in SEED_000.read_text(encoding="utf-8").splitlines():
        if re.match(r"\d+\t", line):
            number, name, purpose, data, basis = line.split("\t")
            rows[int(number)] = (name, purpose, data, basis)
    return rows


def rows_001() -> dict[int, tuple[str, str, str]]:
    """Row number (1-based) -> (But / Activité, Type de données, Fondement légal)."""
    rows: list[list[str]] = []
    lines = SEED_001.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("But / Activité\t"))
    for line in lines[header + 1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        if line.startswith("\t"):
            # A wrapped line (row 6): the rest of the previous row's last cell.
            rows[-1][-1] += " " + " ".join(cell for cell in cells if cell)
            continue
        assert len(cells) == 3, f"unexpected row in seed 001: {line!r}"
        rows.append(cells)
    return {n: (r[0], r[1], r[2]) for n, r in enumerate(rows, start=1)}


SEED_ROWS_000 = rows_000()
SEED_ROWS_001 = rows_001()


def basis_phrases(cell: str) -> list[str]:
    """A legal-basis cell split into the phrases that each name one basis."""
    return re.split(r" (?=Contrat|Nécessaire )", cell)


def parenthesised(phrase: str) -> str | None:
    found = re.search(r"\((.*)\)", phrase)
    return found.group(1) if found else None


def basis_named_by(phrase: str) -> str:
    if phrase in EXPLICIT_BASES:
        return EXPLICIT_BASES[phrase]
    vocabulary = load_vocabulary()
    for words in (phrase, re.sub(r"\s*\(.*\)", "", phrase).rstrip(". ")):
        term = vocabulary.resolve("legal_bases", words)
        if term is not None:
            return term.id
    raise AssertionError(f"no legal basis is named by the seed phrase {phrase!r}")


def data_types(cell: str) -> list[str]:
    """Seed 001's data-type cell ("Identité Contact Marketing et communication") as types;
    a cell that is no list of types ("Toute catégorie de données pertinente, ...") is kept whole."""
    if not cell.startswith(DATA_TYPES_001):
        return [cell]
    names = sorted(DATA_TYPES_001, key=len, reverse=True)
    found, rest = [], cell
    while rest:
        name = next((n for n in names if rest.startswith(n)), None)
        assert name is not None, f"unknown data type at {rest!r}"
        found.append(name)
        rest = rest[len(name):].lstrip()
    return found


@pytest.fixture(scope="module")
def dior() -> Register:
    return load_register(DIOR)


@pytest.fixture(scope="module")
def shop() -> Register:
    return load_register(SHOP)


def by_ref(register: Register, ref: str) -> Activity:
    matches = [a for a in register.activities if a.ref == ref]
    assert len(matches) == 1, f"{len(matches)} activities with ref {ref!r}"
    return matches[0]


def fr(value: Text | None) -> str | None:
    return text_in(value, "fr")


def check_bases(activity: Activity, cell: str) -> None:
    phrases = basis_phrases(cell)
    assert [b.basis for b in activity.legal_bases] == [basis_named_by(p) for p in phrases]
    assert [fr(b.wording) for b in activity.legal_bases] == phrases
    assert " ".join(phrases) == cell


def test_the_seeds_split_into_20_and_11_rows() -> None:
    assert sorted(SEED_ROWS_000) == list(range(1, 21))
    assert sorted(SEED_ROWS_001) == list(range(1, 12))
    # Row 6 of seed 001 wraps onto a second line: its legal-basis cell is whole.
    assert SEED_ROWS_001[6][2].endswith(
        "restructuration du groupe). Nécessaire pour répondre à une obligation légale."
    )


def test_both_registers_load_with_every_row_and_nothing_else(dior: Register, shop: Register) -> None:
    assert len(dior.activities) == 20
    assert len(shop.activities) == 11
    assert {a.ref for a in dior.activities} == {f"000#{n}" for n in SEED_ROWS_000}
    assert {a.ref for a in shop.activities} == {f"001#{n}" for n in SEED_ROWS_001}
    assert dior.language == shop.language == "fr"
    assert dior.source == "seeds/000_79c928cfe218a20f.txt"
    assert shop.source == "seeds/001_29ab950f70c9c5f1.txt"
    assert dior.controller.name == "Christian Dior Couture"
    assert dior.controller.country == "FR"
    assert dior.controller.supervisory_authority == "CNIL"
    assert dior.controller.group_entities == []  # the seed names none
    assert shop.controller.name == "Boutique en ligne (non nommée)"
    assert shop.controller.contact is None and shop.controller.dpo is None


@pytest.mark.parametrize("row", sorted(SEED_ROWS_000))
def test_dior_row(dior: Register, row: int) -> None:
    name, purpose, data, basis = SEED_ROWS_000[row]
    activity = by_ref(dior, f"000#{row}")
    assert fr(activity.name) == name
    assert [fr(p) for p in activity.purposes] == [purpose]
    assert fr(activity.data_description) == data
    check_bases(activity, basis)
    # The seed names no interest, no obligation, no retention and no transfer.
    assert all(b.legitimate_interest is None and b.obligation is None for b in activity.legal_bases)
    assert activity.retention == [] and activity.transfers == []
    assert activity.data_categories and activity.data_subjects
    assert activity.profiling == ("profilage" in purpose)
    # Every piece of the data wording that the vocabulary knows is a declared category.
    vocabulary = load_vocabulary()
    for words in data.split(", "):
        term = vocabulary.resolve("categories", words)
        if term is not None:
            assert term.id in activity.data_categories, f"{words!r} ({term.id}) not declared"


@pytest.mark.parametrize("row", sorted(SEED_ROWS_001))
def test_online_shop_row(shop: Register, row: int) -> None:
    purpose, data, basis = SEED_ROWS_001[row]
    activity = by_ref(shop, f"001#{row}")
    assert fr(activity.name) == purpose
    assert [fr(p) for p in activity.purposes] == [purpose]
    assert fr(activity.data_description) == data
    check_bases(activity, basis)
    for phrase, declared in zip(basis_phrases(basis), activity.legal_bases, strict=True):
        if declared.basis == "legitimate_interests" and parenthesised(phrase):
            assert fr(declared.legitimate_interest) == parenthesised(phrase)
    assert all(b.legitimate_interest for b in activity.legal_bases
               if b.basis == "legitimate_interests")
    vocabulary = load_vocabulary()
    for words in data_types(data):
        term = vocabulary.resolve("categories", words)
        assert term is not None, f"row {row}: the vocabulary does not know the data type {words!r}"
        assert term.id in activity.data_categories, f"row {row}: {words!r} ({term.id}) not declared"
    assert activity.retention == [] and activity.transfers == [] and activity.recipients == []
