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
cells) and scored by the blind sets' harness (tests/analyse_blind.py), which prints the table.

First blind run (2026-12-06, the analyser at commit 3d02144, run once on the finished labels): elements
P 0.970 R 0.880, pairs P 0.763 R 0.506 F1 0.608, findings 3 of 5; the processor's notice gave no
activity. The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from tests.analyse_blind import blind_tests, shape
from tests.heldout5_documents import MERGED_ABOVE, TWO_COLUMNS, build

pytestmark = pytest.mark.xdist_group("analyse_heldout5")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout5"

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
# First blind run: no activity at all read from the processor's notice; read as a processor's since round 13
# (ana26, blind to this set: tasks listed under no purposes heading in a notice that speaks as a processor).
NOT_YET_PROCESSOR: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Fourteen documents in three languages: 3 PDF (one in two columns) and 2 DOCX (one with merged
    cells), built; HTML (one with rowspan cells), Markdown and text; two registers and a processor's
    notice, the rest controllers' notices."""
    assert shape(FOLDER) == {
        "documents": 14, "pdf": 3, "docx": 2, "suffixes": {".html", ".md", ".txt", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": ["registre-mairie-fr.html", "registro-studio-dentistico-it.docx"],
        "processors": ["saas-end-users-processor-en.md"], "committed_as_labelled": True,
    }
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


# The blind sets' four tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT, NOT_YET_PROCESSOR))
