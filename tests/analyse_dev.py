"""The development sets' harness (issue 16): each document of a folder analysed once per module, in
process, scored against the folder's labels.yaml as the blind sets are (tests/analyse_blind.py), and
the tests every development set runs made from it.

A set's test module keeps what is its own (its docstring saying what the documents exercise, its
floors, any test only it needs) and takes the rest from here:

    globals().update(dev_tests(FOLDER, Floors(pairs=(0.95, 0.90), elements=(0.95, 0.95))))

which sets the module's `xdist_group` (one worker analyses each document once), defines the
`analysed` fixture (PDF and DOCX built from their sources by tests/heldout6_documents.py: the third
set's markup, `^^` cells merged with the cell above; an HTML page's text also as a browser shows it)
and the tests `test_pairs_and_elements` (prints the set's tables), `test_kind`, `test_findings`
(every labelled finding reported, none of a document's `no_findings`; with
`only_labelled_findings`, none other either) and
`test_evidence_is_verbatim`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from garde.analyse.art13 import ELEMENTS
from garde.analyse.report import analyse_file
from tests.analyse_blind import read_back, read_yaml
from tests.heldout6_documents import build
from tests.test_analyse_heldout import evidence_strings
from tests.test_analyse_structures import matched_pairs, pair_figures

Analysed = dict[str, tuple[dict[str, Any], str]]  # document -> (the analyser's answer, its source text)


@dataclass(frozen=True)
class Floors:
    """A development set's floors (precision, recall), just under its figures: an upper bound of
    what unseen documents give, guarding against regressions."""

    pairs: tuple[float, float]
    elements: tuple[float, float]
    only_labelled_findings: bool = False  # a finding the labels do not name fails the set


def analyse_set(folder: Path, labels: dict[str, Any], into: Path) -> Analysed:
    """Every document of a development set (PDF and DOCX built into ``into``), analysed in its
    labelled language, with the text it was built from."""
    found: Analysed = {}
    for name in sorted(labels):
        path, text = build(folder, name, into)
        if path.suffix == ".html":  # the text a browser shows, its entities and inline tags read
            text += "\n" + read_back(path)
        found[name] = analyse_file(path, labels[name]["language"]).to_data(), text
    return found


@cache
def squashed(text: str) -> str:
    """The text with its table bars, cell breaks (tests/heldout3_documents.py) and runs of white
    space as single spaces."""
    return " ".join(text.replace("|", " ").replace("¶", " ").split())


def assert_verbatim(analysed: Analysed, name: str) -> None:
    result, source = analysed[name]
    for evidence in evidence_strings(result):
        assert " ".join(evidence.split()) in squashed(source), (name, evidence)


def element_figures(title: str, answers: dict[str, tuple[dict[str, Any], list[str]]],
                    capsys: pytest.CaptureFixture[str]) -> tuple[float, float]:
    """Print a development set's element table (per document: the analyser's answer against the
    elements labelled present, every other one absent) and return its precision and recall."""
    tp = fp = fn = 0
    rows: list[str] = []
    for name, (result, present) in answers.items():
        expected = set(present)
        assert expected <= set(ELEMENTS), expected - set(ELEMENTS)
        found = {e for e in ELEMENTS if result["art13"][e]["present"]}
        tp, fp, fn = tp + len(found & expected), fp + len(found - expected), fn + len(expected - found)
        rows.append(f"{name:36} false positives {sorted(found - expected)} missed {sorted(expected - found)}")
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    rows.append(f"{'ALL':36} P {precision:.3f} R {recall:.3f} (tp {tp}, fp {fp}, fn {fn})")
    with capsys.disabled():
        print(f"\n{title} elements (development set)\n" + "\n".join(rows))
    return precision, recall


def scored(title: str, labels: dict[str, Any], analysed: Analysed,
           capsys: pytest.CaptureFixture[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """A development set's (pairs precision, recall) and (elements precision, recall), printed."""
    counts = {name: matched_pairs(labels[name]["pairs"], analysed[name][0]) for name in sorted(labels)}
    answers = {name: (analysed[name][0], labels[name]["present"]) for name in sorted(labels)}
    return pair_figures(title, counts, capsys), element_figures(title, answers, capsys)


def dev_tests(folder: Path, floors: Floors) -> dict[str, Any]:
    """The fixture and tests of the development set in ``folder`` (see the module's docstring)."""
    labels: dict[str, Any] = read_yaml(folder / "labels.yaml")
    documents = sorted(labels)
    title = folder.name

    @pytest.fixture(scope="module")
    def analysed(tmp_path_factory: pytest.TempPathFactory) -> Analysed:
        return analyse_set(folder, labels, tmp_path_factory.mktemp(title))

    def test_pairs_and_elements(analysed: Analysed, capsys: pytest.CaptureFixture[str]) -> None:
        pairs, elements = scored(title, labels, analysed, capsys)
        assert pairs[0] >= floors.pairs[0] and pairs[1] >= floors.pairs[1], pairs
        assert elements[0] >= floors.elements[0] and elements[1] >= floors.elements[1], elements

    @pytest.mark.parametrize("name", [n for n in documents if "kind" in labels[n]])
    def test_kind(analysed: Analysed, name: str) -> None:
        assert analysed[name][0]["kind"] == labels[name]["kind"]

    def test_findings(analysed: Analysed) -> None:
        for name in documents:
            codes = {finding["code"] for finding in analysed[name][0]["findings"]}
            wanted = set(labels[name].get("findings") or [])
            assert wanted <= codes, (name, codes)
            assert not codes & set(labels[name].get("no_findings") or []), (name, codes)
            assert not floors.only_labelled_findings or codes <= wanted, (name, codes)

    @pytest.mark.parametrize("name", documents)
    def test_evidence_is_verbatim(analysed: Analysed, name: str) -> None:
        assert_verbatim(analysed, name)

    # under --dist loadgroup, one worker runs the module's tests: each document analysed once a run
    return {"pytestmark": pytest.mark.xdist_group(f"analyse_{title}"), "analysed": analysed,
            "test_pairs_and_elements": test_pairs_and_elements, "test_kind": test_kind,
            "test_findings": test_findings, "test_evidence_is_verbatim": test_evidence_is_verbatim}
