"""The draft register: garde's own format, read by the register loader and by `garde lint`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.draft import CONTROLLER_PLACEHOLDER, draft_register
from garde.lint.runner import lint_paths
from garde.register.loading import parse_register
from tests.analyse_pairs import Case, fixture_cases, seed_cases


@pytest.mark.parametrize("case", seed_cases() + fixture_cases(), ids=lambda c: c.name)
def test_the_draft_of_every_seed_and_fixture_loads(case: Case, tmp_path: Path) -> None:
    activities = extract_activities(case.document, case.language)
    draft = draft_register(case.document, activities, case.language)
    loaded = parse_register(draft, case.name)
    register = loaded.register
    assert register.controller.name == CONTROLLER_PLACEHOLDER  # never read, never made up
    # processing on behalf of other controllers (Art. 30(2)): `role: processor` activities, no basis
    assert [a.role == "processor" for a in activities] == [register.role_of(a) == "processor"
                                                          for a in register.activities]
    assert all(not a.legal_bases for a in register.as_processor())
    for drafted, activity in zip(register.activities, activities, strict=True):
        assert drafted.bases() == set(activity.legal_bases)
        assert [str(c) for c in drafted.data_categories] == list(activity.categories)
    path = tmp_path / "draft.yaml"
    path.write_text(draft, encoding="utf-8")
    assert "GL000" not in {f.code for f in lint_paths([path])}  # `garde lint` reads it as a register


def test_lint_accepts_the_draft_and_reports_its_gaps(tmp_path: Path) -> None:
    document = from_text("| Purpose | Legal basis | Retention |\n|---|---|---|\n"
                         "| Newsletter | Consent | until consent withdrawn |\n"
                         "| Site security | |  |\n")
    path = tmp_path / "draft.yaml"
    path.write_text(draft_register(document, extract_activities(document, "en"), "en"), encoding="utf-8")
    findings = lint_paths([path])
    codes = {f.code for f in findings}
    assert "GL000" not in codes  # it reads as a register
    assert "GL018" in codes  # the controller to fill in: no contact
    assert any(f.code == "GL001" and f.activity == "site-security" for f in findings)  # no basis: a gap


def test_every_value_is_followed_by_its_excerpt() -> None:
    text = ("Finalité\tBase juridique\tDonnées\tDurée de conservation\n"
            "Gestion des commandes\tExécution du contrat\tIdentité, coordonnées\t"
            "10 ans après la date de la facture\n")
    document = from_text(text)
    draft = draft_register(document, extract_activities(document, "fr"), "fr")
    assert '- basis: contract\n        wording: "Exécution du contrat"  # at character' in draft
    assert "- identity  # «Identité»" in draft
    assert "- contact  # «coordonnées»" in draft
    assert '- rule: "10 years after invoice_date"' in draft
    assert 'wording: "10 ans après la date de la facture"  # at character' in draft


def test_a_basis_stated_for_all_is_named_in_the_notes_not_copied() -> None:
    document = from_text("# Purposes\n\n- Delivering orders\n- Answering questions\n\n# Legal basis\n\n"
                         "We rely on our legitimate interests for all of this processing.\n")
    register = parse_register(draft_register(document, extract_activities(document, "en"), "en")).register
    assert [a.bases() for a in register.activities] == [set(), set()]
    assert register.notes is not None and "legitimate_interests" in str(register.notes)


@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
@example(["<br>"])  # hypothesis found it: a search from inside the break read "br>" as a purpose
def test_the_draft_loads_whatever_the_cells_hold(cells: list[str]) -> None:
    """Control characters, line separators, quotes, YAML syntax, "# comments" in a purpose or a
    basis cell: the draft still loads, with the purposes as they were read."""
    rows = "".join(f"{cell}\tConsent {cell}\n" for cell in cells)
    document = from_text("Purpose\tLegal basis\n" + rows)
    activities = extract_activities(document, "en")
    register = parse_register(draft_register(document, activities, "en")).register
    expected = [[" ".join(p.split()) for p in re.split(r"<br\s*/?>", a.purpose) if p.strip()]
                or [" ".join(a.purpose.split())] for a in activities]
    assert [[str(p) for p in a.purposes] for a in register.activities] == expected
