"""`garde analyse` on a fifteenth held-out set, black box: eleven notices and a register it has never seen.

The documents (tests/data/analyse/heldout15/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: a French haulier's notice to its staff (payroll and DSN, tachograph downloads, the occupational health
service, works-council elections and driver designation as legal obligations, truck geolocation and dock
CCTV on legitimate interests, Art. 88 consultation, a Canadian processor under adequacy; a PDF table whose
basis cells are merged down over the rows they cover), an Italian CAF's informativa for tax returns (730,
visto di conformità, ISEE under the INPS convention as public task, the 8/5/2 per mille choice by explicit
consent, a US graphometric-signature service "aderente al Privacy Shield"; a PDF in prose, bases by article
letter only), a French physiotherapy practice's notice to patients (the care record as a legal duty beside
9.2.h, electronic claims, SMS reminders on a legitimate interest, no DPO; a DOCX in prose), an Italian
municipal library's informativa (public task under national and regional law for loans, interlibrary loans
and Wi-Fi, pagoPA refunds, loans suspended automatically; a DOCX table with basis cells merged down), a
French micro-crèche's notice written as a FAQ (question headings, answers in prose; the CAF's CDAP read for
the tariff, compulsory vaccinations, a placeholder DPO; HTML), a UK private car park operator (ANPR, DVLA
keeper data, Schedule 4 to the Protection of Freedoms Act; an HTML table with a two-row header and a basis
cell spanning four rows; "never transferred outside the UK" then an appeals team in India under the IDTA),
a UK MP's constituency casework notice (public task with DPA 2018 s. 8, the bodies written to as a source,
no DPO; Markdown in prose), a UK dental practice's register (NHS and private care, FP17 claims, IR(ME)R
records, recalls; TSV with a two-row header splitting Article 6 from the Art. 9/10 condition), a French
nutrition-coaching app (health data by explicit consent, meal photos analysed in the US under the DPF,
weekly targets adjusted automatically; consent by continued use and a password sent back; Markdown), an
Italian professional order's informativa to its members (one basis sentence introducing each list of
purposes: the Albo, INI-PEC, continuing education, discipline; text), a UK online research panel (bases
introducing lists, special-category questions by consent, accounts closed automatically after failed
quality checks with a human review, a Canadian transcriber under UK adequacy; HTML) and an Irish charity's
donor statement (the Charitable Donation Scheme, postal appeals and prospect research on described
legitimate interests, the DPF; text in numbered sections).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout15")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout15"
DENTAL = "record-of-processing-dental-practice-uk-en.tsv"

FLOORS = {
    "element_precision": 0.0,
    "element_recall": 0.0,
    "pair_precision": 0.0,
    "pair_recall": 0.0,
    "pair_f1": 0.0,
    "finding_recall": 0.0,
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right).
NOT_YET_RIGHT: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Twelve documents in three languages: 2 PDF and 2 DOCX, built; HTML, Markdown, text and TSV; one
    register, no processor's document."""
    assert shape(FOLDER) == {
        "documents": 12, "pdf": 2, "docx": 2, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": [DENTAL],
        "processors": [],
        "committed_as_labelled": True,
    }
    car_park = (FOLDER / "car-park-operator-privacy-notice-uk-en.html").read_text(encoding="utf-8")
    assert (car_park.count('colspan="2"'), car_park.count('rowspan="4"')) == (1, 1)  # two-row header, spanned basis
    creche = (FOLDER / "micro-creche-faq-donnees-parents-fr.html").read_text(encoding="utf-8")
    assert creche.count("?</h2>") == creche.count("<h2>") == 13  # every heading a question
    panel = (FOLDER / "online-research-panel-members-uk-en.html").read_text(encoding="utf-8")
    assert panel.count(":</p>\n<ul>") == 4  # four bases, each introducing its list of uses
    register = (FOLDER / DENTAL).read_text(encoding="utf-8")
    assert register.count("\t") == 11 * 9  # two header rows and nine activities, ten columns


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
