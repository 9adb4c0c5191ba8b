"""Issue 16, round 9: development documents for the kinds of misses the seventh blind set's summary
named (tests/data/analyse/dev9/, labels in its labels.yaml; no blind set's text was read):

- bullets grouped under one basis sentence ("We process the following on the basis of our legitimate
  interests:", "Sur la base de votre consentement, nous : – …", "Sulla base del tuo consenso, possiamo:");
- lettered lists under one public-task sentence and one legal-obligation sentence (a comune's DOCX, a
  district council's plain text);
- an HTML definition list, <details><summary> and cards of <h4> + <p> (a charity, a town hall);
- bases in sentences that name no basis ("we need this to deliver your order", "the law requires us to
  keep invoices", "only if you tick the box");
- a heading as the purpose with its basis in the prose below (a physiotherapy clinic's PDF);
- automated decisions stated in the negative, the source of the data in running prose, rights named
  in running sentences.

Scored as the held-out sets are (pairs one to one, elements against `present`), every evidence
string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_analyse_dev5 import Analysed, analyse_set
from tests.test_analyse_dev6 import assert_verbatim, scored

DEV9 = Path(__file__).parent / "data" / "analyse" / "dev9"
LABELS: dict[str, Any] = yaml.safe_load((DEV9 / "labels.yaml").read_text(encoding="utf-8"))
DOCUMENTS = sorted(LABELS)
# Floors just under this set's figures after round 9 (a development set: an upper bound: pairs P 1.000
# R 1.000, elements P 1.000 R 0.994). Before the round, on its first five documents: pairs P 0.833
# R 0.500 F1 0.625, elements P 1.000 R 0.942; the three written after them, on their first run: pairs
# P 1.000 R 0.682 (15 of 22), elements P 0.982 R 0.988.
PAIRS_PRECISION_FLOOR = 0.95
PAIRS_RECALL_FLOOR = 0.90
ELEMENTS_PRECISION_FLOOR = 0.95
ELEMENTS_RECALL_FLOOR = 0.97


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Analysed:
    return analyse_set(DEV9, LABELS, tmp_path_factory.mktemp("dev9"))


def test_dev9_pairs_and_elements(analysed: Analysed, capsys: pytest.CaptureFixture[str]) -> None:
    (precision, recall), (elements_precision, elements_recall) = scored("dev9", LABELS, analysed, capsys)
    assert precision >= PAIRS_PRECISION_FLOOR
    assert recall >= PAIRS_RECALL_FLOOR
    assert elements_precision >= ELEMENTS_PRECISION_FLOOR
    assert elements_recall >= ELEMENTS_RECALL_FLOOR


@pytest.mark.parametrize("name", DOCUMENTS)
def test_dev9_kind(analysed: Analysed, name: str) -> None:
    assert analysed[name][0]["kind"] == LABELS[name]["kind"]


def test_dev9_findings(analysed: Analysed) -> None:
    """dev9 labels no finding: none is reported either, so a rule that fires on a clean notice shows
    here (a UK clinic's servers "in the United Kingdom", a rights section's "consent or a contract" did)."""
    for name in DOCUMENTS:
        codes = {finding["code"] for finding in analysed[name][0]["findings"]}
        assert set(LABELS[name].get("findings") or []) <= codes, (name, codes)
        assert LABELS[name].get("findings") or not codes, (name, codes)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_dev9_evidence_is_verbatim(analysed: Analysed, name: str) -> None:
    assert_verbatim(analysed, name)
