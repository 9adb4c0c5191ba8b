"""`garde analyse` on a sixth held-out set, black box: thirteen notices and registers it has never seen.

The documents (tests/data/analyse/heldout6/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: an NHS GP practice's notice (public task with Art. 9(2)(h), safeguarding duties, the national data
opt-out; a 3-page PDF), an Italian bank's informativa whose purposes are lettered a)-h) and whose bases
are given per letter in a later section (DOCX, credit scoring by automated decision), a French university
hospital's register as a PDF table whose activity, basis and retention cells are merged over rows, a UK
council's Council Tax notice (statutory function, HTML), a German marketplace's English policy tying
purposes to bases "respectively" (Markdown), a hotel chain's notice with police registration duties in
France and Italy (HTML definition list), a car rental's notice with telematics and an automated refusal
(text, numbered clauses), an Italian dating app (special categories on explicit consent, a Markdown
table of purposes and bases), an Italian condominium's register (Markdown, one two-column table per
activity), a French temp agency's notice to candidates (DOCX), a UK charity's supporter notice with
wealth screening on a described legitimate interest (3-page PDF), a payroll bureau's notice to its
clients' employees (a processor naming its controllers only as "your employer") and a short SMS club
notice with findings (pre-ticked box, "by continuing", Privacy Shield, placeholders, a contradiction).

Built with tests/heldout6_documents.py (the fifth set's builders, plus merged cells in a PDF's table) and
scored by the blind sets' harness (tests/analyse_blind.py), which prints the table.

First blind run (2026-12-06, the analyser at commit abd09b9, run once on the finished labels): elements
P 0.974 R 0.933, pairs P 0.591 R 0.351 F1 0.441, findings 3 of 4. The floors sit just under it (FLOORS,
with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.analyse_blind import blind_tests, shape, squash
from tests.heldout5_documents import MERGED_ABOVE
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout6")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout6"

# Floors just under the first blind run (2026-12-06, the analyser of commit abd09b9, while a round of
# analyser work on the fifth set's kinds of misses was going on elsewhere; labels unchanged after the run):
# elements P 0.974 R 0.933 (tp 222, fp 6, fn 16); pairs P 0.591 R 0.351 F1 0.441 (26 of 74 labelled,
# 44 predicted); findings 3 of 4 (the contradiction missed). Misses by kind: source_of_data 3 of 8
# missed; rights said not to apply credited (erasure twice, portability once); the car rental's
# all-capitals numbered clauses lost 7 of 22 elements (rights, retention, transfers, source) and gave no
# pair; the payroll bureau's notice credited the employer's identity, the bureau's address as the
# controller's contact and a basis it only refers to; statutory requirement 2 of 8 missed; "text STOP"
# not read as withdrawal. Pairs: none from the bank's lettered purposes tied by letter in a later section
# (0 of 8), none from the dating app's Markdown table of purposes and bases (0 of 6), none from the car
# rental's "purpose : basis" clauses (0 of 7); the GP's, the charity's and the council's pairs read from
# the sentence stating the basis or from headings, not from the purposes it ties (1 of 8, 2 of 7, 1 of 4);
# "respectively" half read (5 of 9); the hospital register's two rows under a merged basis cell missed (7
# of 9); the condominium's one-table-per-activity register read in full (5 of 5).
FLOORS = {
    "element_precision": 0.96,   # 0.974
    "element_recall": 0.92,      # 0.933
    "pair_precision": 0.58,      # 0.591
    "pair_recall": 0.34,         # 0.351
    "pair_f1": 0.43,             # 0.441
    "finding_recall": 0.74,      # 3 of 4
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right).
NOT_YET_RIGHT: dict[str, str] = {}
# Processor documents whose activities the analyser does not all mark as done on the controller's behalf.
NOT_YET_PROCESSOR: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Thirteen documents in three languages: 3 PDF (one a register with merged cells) and 2 DOCX, built;
    HTML, Markdown and text; two registers and a processor's notice, the rest controllers' notices."""
    assert shape(FOLDER) == {
        "documents": 13, "pdf": 3, "docx": 2, "suffixes": {".html", ".md", ".txt", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": ["registre-chu-fr.pdf", "registro-condominio-it.md"],
        "processors": ["payroll-processor-notice-en.md"], "committed_as_labelled": True,
    }
    assert MERGED_ABOVE in (FOLDER / "registre-chu-fr.pdf.source").read_text(encoding="utf-8")


def test_a_pdf_tables_merged_cells_are_built(tmp_path: Path) -> None:
    """The register's merged cells are real: a text spanned over two rows is drawn once, the activity's
    name (not merged) twice, and no `^^` mark reaches the page."""
    register, source = build(FOLDER, "registre-chu-fr.pdf", tmp_path)
    page = squash(PdfReader(register).pages[0].extract_text())
    assert page.count(squash("Mission d'intérêt public (art. 6.1.e) ; art. 9.2.h")) == 1
    assert page.count(squash("Dossier patient informatisé")) == 2
    assert MERGED_ABOVE not in page and MERGED_ABOVE not in source


# The blind sets' four tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT, NOT_YET_PROCESSOR))
