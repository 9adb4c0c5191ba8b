"""Issue 16, round 13: processors' documents (tests/data/analyse/dev13/, labels in its labels.yaml; no
blind set's text or label was read, only the lead's summary of what its processors' documents showed):

- a processor's Art. 30(2) record whose rows are per controller (its client): the controller served,
  the categories of processing carried out on its behalf, the sub-processors, the transfers and the
  security measures; as TSV, a PDF table (a controller's cell merged over two rows), a DOCX table and
  an HTML table (rowspan), in fr/it/en;
- notices of a writer that is controller for its own accounts and processor for its customers' data,
  and a notice speaking only as its customers' processor, its tasks listed after "on their behalf:".

A processor's activity is `role: processor`, names its controller where the document does, and has no
legal basis (Art. 28(3)(a): the purposes and bases are the controller's); the draft register holds it as
a `role: processor` activity that `garde lint` reads. Scored as the held-out sets are (pairs one to one,
elements against `present`), every evidence string verbatim in the input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.report import draft_file
from garde.lint.runner import lint_paths
from garde.register.loading import parse_register
from tests.analyse_blind import read_yaml
from tests.analyse_dev import Analysed, Floors, dev_tests
from tests.heldout6_documents import build

DEV13 = Path(__file__).parent / "data" / "analyse" / "dev13"
FLOORS = Floors(pairs=(0.95, 0.95), elements=(0.95, 0.95), only_labelled_findings=True)
LABELS: dict[str, Any] = read_yaml(DEV13 / "labels.yaml")
PROCESSORS = sorted(name for name in LABELS if LABELS[name].get("processor"))
RECORDS = sorted(name for name in LABELS if "controllers" in LABELS[name])
globals().update(dev_tests(DEV13, FLOORS))


@pytest.mark.parametrize("name", PROCESSORS)
def test_the_processing_on_behalf_is_the_processor_s_with_no_basis(analysed: Analysed, name: str) -> None:
    activities = analysed[name][0]["activities"]
    on_behalf = [a for a in activities if a["role"] == "processor"]
    assert len(on_behalf) == LABELS[name]["processor"], [(a["role"], a["purpose"]) for a in activities]
    assert [a["legal_bases"] for a in on_behalf if a["legal_bases"]] == []


@pytest.mark.parametrize("name", RECORDS)
def test_a_processor_s_record_names_the_controller_of_each_row(analysed: Analysed, name: str) -> None:
    """Art. 30(2)(a)-(b): every row is processing carried out for the controller it names (a
    controller's cell merged over its rows, or left blank under it, names it for each)."""
    activities = analysed[name][0]["activities"]
    assert {a["role"] for a in activities} == {"processor"}
    assert [a["on_behalf_of"] for a in activities] == LABELS[name]["controllers"]
    for activity in activities:  # the controller's name is quoted from its cell
        served = activity["on_behalf_of"]
        assert {"field": "on_behalf_of", "value": served, "excerpt": served} in activity["evidence"]


@pytest.mark.parametrize("name", PROCESSORS)
def test_the_draft_holds_role_processor_activities_that_lint_reads(name: str, tmp_path: Path) -> None:
    path, _ = build(DEV13, name, tmp_path)
    draft = draft_file(path, LABELS[name]["language"])
    register = parse_register(draft, name).register
    processors = register.as_processor()
    assert len(processors) == LABELS[name]["processor"]
    assert all(not a.legal_bases for a in processors)  # nothing invented: the controller's
    served = [[c.name for c in a.on_behalf_of] for a in processors]
    assert served == [[c] for c in LABELS[name].get("controllers", [None] * len(processors)) if c] \
        or served == [[]] * len(processors)
    written = tmp_path / "draft.yaml"
    written.write_text(draft, encoding="utf-8")
    codes = {f.code for f in lint_paths([written])}
    assert "GL000" not in codes  # `garde lint` reads it as a register and reports its gaps
    if "controllers" in LABELS[name]:
        assert "GL054" not in codes  # the categories of processing are there (Art. 30(2)(b))
        assert "GL020" not in codes  # and the controller of each
        assert "GL055" not in codes  # and its transfers, or that there are none (Art. 30(2)(c))
    if name.endswith(".tsv"):  # its "Coordonnées du client" column: each controller's e-mail address
        assert "GL053" not in codes
        assert all(a.on_behalf_of[0].contact and a.on_behalf_of[0].contact.email for a in processors)
        # "États-Unis (clauses contractuelles types)": the third country and its safeguard
        assert [(t.country, t.safeguard) for a in processors for t in a.transfers] == [("CH", "adequacy"),
                                                                                     ("US", "scc")]


NOTICE = ("# Homework app\n\nSchoolbag Ltd provides the Homework app to schools. Your school is the "
          "controller of your child's data; we process this data on behalf of the school and only as it "
          "instructs us.\n\n"
          "## What we do\n\nWe do the following for the school.\n\n"
          "1. store the homework teachers set and the work pupils hand in;\n"
          "2. send parents reminders of work due;\n\n"
          "## Your rights\n\nAsk your school to see or correct your child's data.\n")


def test_a_processor_only_notice_s_listed_tasks_are_processing_on_behalf() -> None:
    """A notice speaking only as its customers' processor lists its tasks under no heading of purposes
    and after no "on their behalf:": each is processing for the controller (Art. 30(2)(b))."""
    activities = extract_activities(from_text(NOTICE, "n.md"), "en")
    assert [(a.role, a.legal_bases) for a in activities] == [("processor", ())] * 2
    # the same list in a controller's own notice stays what it was: entries named nowhere else
    own = NOTICE.replace("Your school is the controller of your child's data; we process this data on behalf "
                         "of the school and only as it instructs us.", "We are the controller.")
    assert extract_activities(from_text(own, "n.md"), "en") == []


RECORD_HEADERS = [
    ("fr", "Responsable du traitement (client)\tCatégories de traitements effectués pour le compte du "
           "client\tSous-traitants ultérieurs"),
    ("it", "Cliente\tCategorie dei trattamenti effettuati per conto del titolare\tSub-responsabili"),
    ("en", "Controller\tCategories of processing carried out on behalf of the controller\tSub-processors")]
CLIENTS = ["Pharmacie des Lices", "Comune di Pinerolo", "Tynedale Trust"]


@given(st.lists(st.tuples(st.sampled_from(CLIENTS), st.integers(1, 3)), min_size=1, max_size=5),
       st.sampled_from(RECORD_HEADERS))
def test_every_row_of_a_record_is_its_controller_s(clients: list[tuple[str, int]],
                                                   header: tuple[str, str]) -> None:
    """A processor's record of any controllers, each over one to three rows whose controller cell is
    written once (the rows below it blank, as a merged cell reads): every row is a processor's
    activity, carried out for the controller above it, with no basis."""
    language, columns = header
    rows: list[str] = []
    wanted: list[str] = []
    for client, count in clients:
        for n in range(count):
            rows.append(f"{client if n == 0 else ''}\tHosting of file set {len(rows) + 1}\tNone")
            wanted.append(client)
    activities = extract_activities(from_text(columns + "\n" + "\n".join(rows) + "\n", "r.tsv"), language)
    read = [(a.role, a.on_behalf_of, a.legal_bases) for a in activities]
    assert read == [("processor", client, ()) for client in wanted]
