"""Regenerating a seed's table from its register gives back its rows.

Each seed table is split into rows; every row's purpose (whitespace-, case-
and accent-normalised) must appear in one row of the register exported as
CSV in the seed's language, together with the labels of the legal bases the
seed's basis text names (found through the vocabulary's labels and synonyms).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from garde.documents import export_register
from garde.register import load_register
from garde.taxonomy import load_vocabulary, normalise

ROOT = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
REGISTERS = ROOT / "registers"


@dataclass(frozen=True)
class SeedRow:
    purpose: str
    basis_text: str
    name: str = ""


def rows_000(text: str) -> list[SeedRow]:
    """Dior: ``#  name  objectives  data  indicative basis``, one row per line."""
    rows = []
    for line in text.splitlines():
        cells = line.split("\t")
        if len(cells) == 5 and cells[0].strip().isdigit():
            rows.append(SeedRow(purpose=cells[2], basis_text=cells[4], name=cells[1]))
    return rows


def rows_001(text: str) -> list[SeedRow]:
    """Online shop: ``purpose  data types  basis``; a line starting with tabs continues the row above."""
    cells_of: list[list[str]] = []
    for line in text.split("But / Activité", 1)[1].splitlines()[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        if cells[0].strip():
            cells_of.append(cells)
        else:
            cells_of[-1][-1] += " " + " ".join(c for c in cells if c.strip())
    return [SeedRow(purpose=c[0], basis_text=c[2]) for c in cells_of]


def rows_003(text: str) -> list[SeedRow]:
    """NET-A-PORTER: blocks under a ``Scopo  Dati Personali elaborati`` header; the basis is in the text."""
    rows = []
    for block in re.split(r"^Scopo\t.*$", text, flags=re.MULTILINE)[1:]:
        purpose = " ".join(line.split("\t")[0] for line in block.splitlines() if line.strip())
        rows.append(SeedRow(purpose=purpose, basis_text=purpose))
    return rows


SEED_TABLES = [
    ("dior-couture.yaml", "000_79c928cfe218a20f.txt", rows_000, 20),
    ("online-shop.yaml", "001_29ab950f70c9c5f1.txt", rows_001, 11),
    ("net-a-porter.yaml", "003_03460e3539a4cedd.txt", rows_003, 9),
]


def bases_named_in(text: str) -> set[str]:
    """The legal bases whose label or synonym (any language) the seed's text contains."""
    found = set()
    haystack = f" {normalise(text)} "
    for term in load_vocabulary().terms("legal_bases"):
        phrases = {*term.labels.values(), *(w for ws in term.synonyms.values() for w in ws)}
        if any(re.search(rf"(?<!\w){re.escape(normalise(p))}(?!\w)", haystack) for p in phrases):
            found.add(term.id)
    return found


@pytest.mark.parametrize(("register_file", "seed_file", "split", "count"), SEED_TABLES,
                         ids=[t[0] for t in SEED_TABLES])
def test_seed_rows_come_back_from_the_register(
    register_file: str, seed_file: str, split: Callable[[str], list[SeedRow]], count: int
) -> None:
    register_path = REGISTERS / register_file
    if not register_path.exists():
        pytest.skip(f"{register_path.name} is not written yet")
    seed_rows = split((SEEDS / seed_file).read_text("utf-8"))
    assert len(seed_rows) == count
    register = load_register(register_path)
    lang = register.language
    exported = list(csv.reader(io.StringIO(export_register(register, "csv", lang).decode("utf-8-sig"))))
    header, rows = exported[0], exported[1:]
    basis_column = next(i for i, h in enumerate(header) if h.startswith(("Base juridique", "Base giuridica",
                                                                         "Legal basis")))
    vocabulary = load_vocabulary()
    problems = []
    for seed_row in seed_rows:
        purpose, name = normalise(seed_row.purpose), normalise(seed_row.name)
        labels = {vocabulary.label("legal_bases", b, lang) for b in bases_named_in(seed_row.basis_text)}
        candidates = [row for row in rows if purpose in normalise(" ".join(row))
                      and name in normalise(" ".join(row))]
        if not candidates:
            problems.append(f"purpose not found: {seed_row.purpose[:70]!r}")
        elif not any(all(label in row[basis_column] for label in labels) for row in candidates):
            problems.append(f"bases {sorted(labels)} missing for {seed_row.purpose[:50]!r}: "
                            f"{[row[basis_column] for row in candidates]}")
    assert not problems, "\n".join(problems)
