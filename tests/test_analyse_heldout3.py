"""`garde analyse` on a third held-out set, black box: twelve notices and registers it has never seen.

The documents (tests/data/analyse/heldout3/, labels.yaml there) were written and labelled without
reading the analyser, its tests or the earlier sets, to cover what the earlier sets lacked: a Scottish
university, an Italian health authority and e-commerce shop, a French town hall, a French SaaS acting
as processor (its sub-processors' annex), a UK charity, a UK SME's Art. 30 register as tab-separated
lines, an Irish credit union, a French private clinic, a loyalty app whose purposes are headings, an
Italian shop's register as an HTML table and a long (10+ pages) B2B marketplace notice. Three are PDFs
and two DOCX, built at test time from their sources (tests/heldout3_documents.py); the others are read
as committed. Each is analysed by `python -m garde analyse FILE --format json` in a subprocess.

Scoring, evidence checks and the printed table are the blind sets' harness (tests/analyse_blind.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.analyse_blind import blind_tests, load_labels
from tests.heldout3_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout3")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout3"
LABELS: dict[str, dict[str, Any]] = load_labels(FOLDER)

# Floors just under the scores of the analyser as merged with this set (2026-12-06; first blind run before
# that session's analyser work: elements P 0.971 R 0.940, pairs P 0.853 R 0.674 F1 0.753, findings 6/7).
# Round 5 (2026-12-06, written without reading this set) in the comments' first figure.
FLOORS = {
    "element_precision": 0.97,   # 0.976 (0.971 after round 4)
    "element_recall": 0.93,      # 0.940 (0.935)
    "pair_precision": 0.91,      # 0.918 (0.914; 0.868 before round 4's rules)
    "pair_recall": 0.77,         # 0.779 (0.744; 0.686)
    "pair_f1": 0.83,             # 0.843 (0.821; 0.766)
    "finding_recall": 0.85,      # 6 of 7
}

# Documents whose analysis quotes text that is not in the input (strict: a mark must go when the analyser
# quotes verbatim). First seen: the credit union's rights excerpt ran over a PDF bullet list without its
# bullets (a bullet column read as a table's); verbatim since PDF rows are told apart by their spacing.
NOT_YET_VERBATIM: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Twelve documents; at least 3 PDF (built), 2 DOCX (built), HTML, Markdown, plain text and a register
    as tab-separated lines (kept as a .txt; `garde analyse` also reads .tsv)."""
    suffixes = [Path(name).suffix for name in LABELS]
    assert len(LABELS) == 12
    assert suffixes.count(".pdf") >= 3 and suffixes.count(".docx") >= 2
    assert {".html", ".md", ".txt"} <= set(suffixes)
    assert "\t" in (FOLDER / "art30-register-sme-uk.txt").read_text(encoding="utf-8")
    committed = {path.name for path in FOLDER.iterdir()} - {"labels.yaml"}
    expected = {name + ".source" if name.endswith((".pdf", ".docx")) else name for name in LABELS}
    assert committed == expected
    assert {LABELS[name]["language"] for name in LABELS} == {"en", "fr", "it"}


# The blind sets' four tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_VERBATIM))
