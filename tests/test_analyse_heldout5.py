"""`garde analyse` on a fifth held-out set, black box: fourteen notices and registers it has never seen.

The documents (tests/data/analyse/heldout5/, labels.yaml there) were written and labelled without
reading the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for what an
adopter brings and the earlier sets may lack: a UK academy trust's notice to parents and pupils (public
task, DfE returns; a 3-page PDF), a UK insurance broker's notice in numbered clauses with a definitions
section (3-page PDF), a French loyalty programme's charter laid out in two columns (PDF, profiling and an
automated decision), an Italian clinic's informativa (DOCX, art. 9 par. 2 lett. h), an Italian dental
practice's register (DOCX table with vertically merged cells), a French town hall's register (HTML table
with rowspan cells), an Irish energy supplier's notice written as questions and answers (HTML), a cookie
policy alone (HTML, most Art. 13 elements absent), a SaaS processor's notice to its customers' end users
(Markdown), an Italian job-candidate informativa (Markdown, bases in a table), a UK notice with a
California section (Markdown), a French sailing club's notice whose bases are tied "respectivement"
(Markdown), French sale terms whose privacy article is one among eleven (text) and a short notice with
findings (text).

Built with tests/heldout5_documents.py (the third set's builders, plus two-column PDFs and merged DOCX
cells) and scored with the second set's scoring (tests/test_analyse_heldout2.py), which prints the table.

First blind run (2026-12-06, the analyser at commit 3d02144, run once on the finished labels): elements
P 0.970 R 0.880, pairs P 0.763 R 0.506 F1 0.608, findings 3 of 5; the processor's notice gave no
activity. The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from tests.heldout5_documents import MERGED_ABOVE, TWO_COLUMNS, build
from tests.test_analyse_heldout2 import analyse_file, below, check_label, check_result, table

pytestmark = pytest.mark.xdist_group("analyse_heldout5")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout5"
LABELS: dict[str, dict[str, Any]] = yaml.safe_load((FOLDER / "labels.yaml").read_text(encoding="utf-8"))[
    "documents"
]

# Floors just under the first blind run (2026-12-06, the analyser of commit 3d02144, before the round of
# analyser work that was going on while this set was written; labels unchanged after the run):
# elements P 0.970 R 0.880 (tp 227, fp 7, fn 31); pairs P 0.763 R 0.506 F1 0.608 (45 of 89 labelled,
# 59 predicted); findings 3 of 5 (consent by browsing and the contradiction missed). Misses by kind:
# source_of_data 5 of 7 missed, recipients 5 of 14, automated_decisions 4 of 8 (three of them statements
# that none is made); the FAQ notice lost 8 elements, the cookie policy 4 (and 2 credited it does not
# state), the processor's notice 4 credited that belong to the unnamed controller; pairs: none read from
# the academy trust's lettered purposes tied by letter ("purposes i) and j)"), none from the sailing
# club's "respectivement", few from rows under a rowspan or merged basis cell.
FLOORS = {
    "element_precision": 0.96,   # 0.970
    "element_recall": 0.87,      # 0.880
    "pair_precision": 0.75,      # 0.763
    "pair_recall": 0.50,         # 0.506
    "pair_f1": 0.60,             # 0.608
    "finding_recall": 0.59,      # 3 of 5
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right).
NOT_YET_RIGHT: dict[str, str] = {}
# Processor documents whose activities the analyser does not all mark as done on the controller's behalf.
# First blind run: no activity at all read from the processor's notice.
NOT_YET_PROCESSOR: dict[str, str] = {
    "saas-end-users-processor-en.md": "no activity read from its numbered list of tasks",
}


@functools.cache
def analysed(name: str, into: str) -> tuple[dict[str, Any], str]:
    """The analyser's JSON for one document, and every text its excerpts may come from."""
    return analyse_file(*build(FOLDER, name, Path(into)))


@pytest.fixture(scope="module")
def into(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("heldout5"))


def _marked(names: list[str], reasons: dict[str, str]) -> list[Any]:
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reasons[name]))
            if name in reasons else name for name in names]


def test_the_set_is_what_it_claims() -> None:
    """Fourteen documents in three languages: 3 PDF (one in two columns) and 2 DOCX (one with merged
    cells), built; HTML (one with rowspan cells), Markdown and text; two registers and a processor's
    notice, the rest controllers' notices."""
    suffixes = [Path(name).suffix for name in LABELS]
    assert len(LABELS) == 14
    assert suffixes.count(".pdf") == 3 and suffixes.count(".docx") == 2
    assert {".html", ".md", ".txt"} <= set(suffixes)
    committed = {path.name for path in FOLDER.iterdir()} - {"labels.yaml"}
    expected = {name + ".source" if name.endswith((".pdf", ".docx")) else name for name in LABELS}
    assert committed == expected
    assert {LABELS[name]["language"] for name in LABELS} == {"en", "fr", "it"}
    assert sorted(name for name in LABELS if LABELS[name]["kind"] == "register") == [
        "registre-mairie-fr.html", "registro-studio-dentistico-it.docx",
    ]
    assert [name for name in LABELS if LABELS[name].get("role") == "processor"] == [
        "saas-end-users-processor-en.md"
    ]
    assert (FOLDER / "programme-fidelite-fr.pdf.source").read_text(encoding="utf-8").startswith(TWO_COLUMNS)
    assert MERGED_ABOVE in (FOLDER / "registro-studio-dentistico-it.docx.source").read_text(encoding="utf-8")
    assert "rowspan" in (FOLDER / "registre-mairie-fr.html").read_text(encoding="utf-8")


def test_merged_cells_and_columns_are_built(into: str) -> None:
    """The builder's two layouts are real: Word merges the marked cells, and the PDF has two text columns."""
    register, _ = build(FOLDER, "registro-studio-dentistico-it.docx", Path(into))
    grid = docx.Document(str(register)).tables[0]
    assert grid.cell(1, 0)._tc is grid.cell(3, 0)._tc  # one cell spans the three clinical rows
    assert MERGED_ABOVE not in "".join(cell.text for row in grid.rows for cell in row.cells)
    leaflet, _ = build(FOLDER, "programme-fidelite-fr.pdf", Path(into))
    lefts: set[int] = set()  # where each line starts, in points from the page's left edge (reportlab
    # places each paragraph by the current matrix and starts its lines at x = 0 in it)

    def line_start(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            lefts.add(round(cm[4] + tm[4]))

    PdfReader(leaflet).pages[0].extract_text(visitor_text=line_start)
    assert len(lefts) == 2 and max(lefts) > A4[0] / 2 > min(lefts), lefts


@pytest.mark.parametrize("name", sorted(LABELS))
def test_labels_are_complete_and_verbatim(name: str, into: str) -> None:
    """The set itself: every element labelled, each label excerpt in the document, bases of the taxonomy."""
    check_label(name, LABELS[name], analysed(name, into)[1])


@pytest.mark.parametrize("name", _marked(sorted(LABELS), NOT_YET_RIGHT))
def test_language_kind_and_verbatim_evidence(name: str, into: str) -> None:
    """Language and kind are right, and nothing the analyser quotes is missing from what it read."""
    check_result(name, LABELS[name], *analysed(name, into))


@pytest.mark.parametrize("name", _marked(
    sorted(name for name in LABELS if LABELS[name].get("role") == "processor"), NOT_YET_PROCESSOR
))
def test_a_processors_activities_are_marked_as_on_behalf(name: str, into: str) -> None:
    """A processor's notice: some activities, each with `role: processor` (Art. 28(3)) and no basis."""
    activities = analysed(name, into)[0]["activities"]
    assert activities
    assert {activity.get("role") for activity in activities} == {"processor"}
    assert [activity["legal_bases"] for activity in activities if activity.get("legal_bases")] == []


def test_figures_at_or_above_the_floors(into: str) -> None:
    """Per document and overall: element precision/recall, pair precision/recall/F1, finding recall."""
    lines, overall = table({name: analysed(name, into)[0] for name in LABELS}, LABELS)
    print("\n".join(lines))
    assert below(overall, FLOORS) == {}
