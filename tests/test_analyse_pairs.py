"""Precision and recall of the analyser's (purpose, legal basis) pairs.

Expected answers: the registers encoded by hand from the five seeds (each register's ``source``
names its seed), and the four fixture registers rendered by garde's own writers as a notice
(Markdown) and as the Art. 30 register (its CSV as tab-separated lines, and its Markdown tables).
Purpose matching is defined in :mod:`tests.analyse_pairs` (normalised word overlap with the
expected activity's name or purposes, at least 0.6). The figures are printed per document
(``pytest -s``). The Art. 30 register is read as its CSV, its Markdown and its HTML tables
(tab-separated, as an HTML reader gives them). The floors are what the analyser reaches today;
the goal is F1 >= 0.9 on documents it has never seen, so they are not a licence to tune to these
documents' wording.
"""

from __future__ import annotations

import pytest

from garde.analyse.activities import extract_activities
from tests.analyse_pairs import Case, Score, fixture_cases, score, seed_cases


def scores(cases: list[Case]) -> Score:
    total = Score(0, 0, 0, 0)
    for case in cases:
        result = score(extract_activities(case.document, case.language), case.register)
        print(f"{case.name:58} pairs {result.predicted:3} right {result.right:3} expected "
              f"{result.expected:3} found {result.found:3}  P {result.precision:.2f} R {result.recall:.2f} "
              f"F1 {result.f1:.2f}")
        total = total + result
    print(f"{'all':58} P {total.precision:.3f} R {total.recall:.3f} F1 {total.f1:.3f}")
    return total


def test_pairs_on_the_seeds() -> None:
    total = scores(seed_cases())
    assert total.precision >= 0.97
    assert total.recall >= 0.95
    assert total.f1 >= 0.96


def test_pairs_on_the_fixtures_rendered_as_notices_and_tables() -> None:
    total = scores(fixture_cases())
    assert total.precision >= 0.97
    assert total.recall >= 0.97
    assert total.f1 >= 0.97


@pytest.mark.parametrize("case", seed_cases() + fixture_cases(), ids=lambda c: c.name)
def test_no_document_falls_below_a_fair_floor(case: Case) -> None:
    result = score(extract_activities(case.document, case.language), case.register)
    assert result.precision >= 0.85 and result.recall >= 0.85, result
