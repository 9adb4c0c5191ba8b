"""Evaluation of Art. 13 element detection on labelled documents: the five seeds, the four fixture
registers rendered as notices by garde's own writer and three short notices written for the tests
(tests/data/analyse/art13_labels.yaml).

It prints precision and recall (``pytest -s``) and asserts a floor the analyser reaches today; the
analyser's words come from the law and common notice wording, not from these documents, so this is
a check that it stays honest, not a target it was fitted to.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from garde.analyse.art13 import ELEMENTS
from garde.analyse.document import from_text
from garde.analyse.readers import read
from garde.analyse.report import analyse
from garde.documents import build_notice, write_notice
from garde.register import load_register
from tests.conftest import ROOT, SEEDS

DATA = Path(__file__).parent / "data" / "analyse"
LABELS = yaml.safe_load((DATA / "art13_labels.yaml").read_text("utf-8"))
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.93


def _documents() -> list[tuple[str, Any, set[str]]]:
    found: list[tuple[str, Any, set[str]]] = []
    for entry in LABELS:
        expected = {name for name, why in entry["present"].items() if why is not None}
        assert expected <= set(ELEMENTS), expected - set(ELEMENTS)
        if "seed" in entry:
            path = SEEDS / entry["seed"]
            if path.exists():
                found.append((entry["seed"], read(path), expected))
        elif "file" in entry:
            found.append((entry["file"], read(DATA / entry["file"]), expected))
        else:
            register = load_register(ROOT / "registers" / f"{entry['register']}.yaml")
            text = write_notice(build_notice(register, entry["lang"], today=date(2026, 1, 1)), "md")
            found.append((f"{entry['register']} ({entry['lang']})", from_text(text, entry["register"]),
                          expected))
    return found


def test_art13_element_detection_precision_and_recall() -> None:
    documents = _documents()
    if len(documents) < len(LABELS):
        pytest.skip("shared/seeds is not beside the repository")
    tp = fp = fn = 0
    misses: list[str] = []
    for name, document, expected in documents:
        report = analyse(document)
        found = {element for element, value in report.art13.items() if value.present}
        for value in report.art13.values():
            assert not value.present or value.evidence in document.text  # never invented
        tp += len(found & expected)
        fp += len(found - expected)
        fn += len(expected - found)
        misses += [f"{name}: false positive {e}" for e in sorted(found - expected)]
        misses += [f"{name}: missed {e}" for e in sorted(expected - found)]
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    print(f"\nArt. 13 elements on {len(documents)} documents: precision {precision:.3f}, recall {recall:.3f} "
          f"({tp} found, {fp} false positives, {fn} missed)")
    print("\n".join(misses))
    assert precision >= PRECISION_FLOOR and recall >= RECALL_FLOOR, misses
