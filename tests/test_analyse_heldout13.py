"""`garde analyse` on a thirteenth held-out set, black box: ten notices and two registers it has never seen.

The documents (tests/data/analyse/heldout13/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: an Irish farm-produce marketplace's notice in ARIA tabs (role="tablist"/"tabpanel", hidden panels)
holding <details> per use, with the delivery co-operative as joint controller (Art. 26, the essence of the
arrangement) and producers as separate controllers (HTML), an Italian comune's informativa for home care
(public task "ai sensi dell'art. 6, par. 1, lett. e)" and legal obligations by the act that imposes them,
data from the ASL and INPS; a PDF), a French communauté de communes' register (a DOCX table, the basis as an
article number only, "Art. 6.1.e ; Art. 6.1.c", a transfers cell merged over all rows), an Italian shoe
retailer's notice to candidates and employees (Art. 9 and 10 data, Art. 88, shop CCTV under the Statuto dei
lavoratori; a DOCX in lettered bullets), a bakery's CCTV sign text and its full notice in one file (text,
a placeholder on the sign), a garden centre's loyalty card (a Markdown table of use, basis and retention; a
placeholder DPO and a password sent back by e-mail), a ski school's bilingual notice (French, then its
English translation; HTML), an online doctor and pharmacy (questionnaires, automatic declines with a
prescriber's review, identity checks; "never outside the United Kingdom" then a US video platform; a PDF),
an EV charging app whose bases are only "Art. 6(1)(b) GDPR" under each use (Markdown), a coworking
operator's register (TSV, bases as "6(1)(f) legitimate interests - ..."), a wedding photographer's page from
a site builder (divs only, consent by browsing, Privacy Shield; HTML) and an Italian swimming club's
informativa to members and parents (text, lettered purposes, results from the federation).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07 13:46 UTC, the analyser at commit 4495af9, its last change, in a clone at 97396eb,
run once on the finished labels, committed before it in 97396eb): elements P 0.995 R 0.943, pairs P 0.905
R 0.798 F1 0.848, findings 4 of 6. The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout13")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout13"
COMMUNAUTE = "registre-traitements-communaute-communes-fr.docx"
COWORKING = "record-of-processing-coworking-uk.tsv"

# Floors just under the first blind run (2026-12-07, the analyser of commit 4495af9; labels unchanged after
# the run): elements P 0.995 R 0.943 (tp 215, fp 1, fn 13); pairs P 0.905 R 0.798 F1 0.848 (67 of 84
# labelled, 74 predicted); findings 4 of 6. Every document's language, kind and quoted evidence right (the
# bilingual notice read as French).
# Misses by kind (described, not quoted, so that they can be passed on without the documents).
# Elements (13 missed): sources three times, each a third party that sends the controller something, told in
# a plain active sentence with no "source" or "obtain" word (a delivery partner's riders reporting outcomes,
# in English; a roaming partner returning what a session used, in English; an Italian comune that receives an
# assessment from the local health authority and takes an income certificate from a national database); the
# controller twice, named without a controller word in its sentence (a French company "represented by" its
# manager under a question heading; a Markdown bold run-in label on a line of its own before the name);
# recipients twice (French CCTV images that "may be handed" to the police and an insurer; an Italian verbless
# list of bodies under a "to whom we communicate" heading); transfers twice (a UK controller's statement that
# nothing is sent abroad; an Italian sentence keeping data in the United States, the provider named only by
# an adjective of nationality, beside Privacy Shield); automated decisions twice (a loyalty tier set
# automatically from spending; an Italian denial of automated assessment in recruitment); portability said not
# to apply to public-task processing (Italian); data categories given only as what CCTV cameras film.
# False elements (1): mandatory inspections in a French register's purpose cell read as a statutory
# requirement to provide data (the kind the twelfth set showed twice).
# Pairs: read in full, both registers (a DOCX table whose basis cells are only article numbers, two in one
# cell, 11 of 11; a TSV whose basis cells are an article, a name and a dash-led interest, 10 of 10), an app
# notice whose only bases are article lines under h3 uses (8 of 8), a PDF's h3 uses (7 of 7), <details> inside
# ARIA tab panels (7 of 7), Italian lettered bullets (7 of 7) and a CCTV notice (1 of 1). Missed: a Markdown
# table of use | basis | retention whose basis cells are a basis name followed by a bracket or a colon and an
# explanation, 0 of 8 (no pair at all); an Italian comune's PDF with one paragraph per finalità, the basis by
# article and letter inside the paragraph or in a closing bracket, 1 of 7 (only the consent one); a French
# bullet whose legal-obligation basis follows a colon with the codes in brackets; an Italian lettered purpose
# whose contract basis is worded as the association's membership relationship under its statute; a bold
# run-in paragraph in a site builder's divs that publishes photos only with written consent. Of the 7 pairs
# not in the labels: a bilingual notice's translation read as more uses (three restating the first language's,
# and its rights section as legitimate interests), an Italian rights section read as public task, an accounts
# use given legitimate interests beside its legal obligation, and an Italian paragraph on which data are
# mandatory read as a consent pair.
# Findings: both placeholders, consent by browsing and Privacy Shield found; missed a password e-mailed back
# on request (recoverable), and a contradiction between a UK notice's "never outside the UK" and a later
# video platform run by a US company (no safeguard named).
FLOORS = {
    "element_precision": 0.99,   # 0.995
    "element_recall": 0.94,      # 0.943
    "pair_precision": 0.90,      # 0.905
    "pair_recall": 0.79,         # 0.798
    "pair_f1": 0.84,             # 0.848
    "finding_recall": 0.66,      # 4 of 6
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right): none at the first run.
NOT_YET_RIGHT: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Twelve documents in three languages: 2 PDF and 2 DOCX, built; HTML, Markdown, text and TSV; two
    registers, none a processor's."""
    assert shape(FOLDER) == {
        "documents": 12, "pdf": 2, "docx": 2, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": [COWORKING, COMMUNAUTE],
        "processors": [],
        "committed_as_labelled": True,
    }
    tabs = (FOLDER / "farm-marketplace-privacy-ie-en.html").read_text(encoding="utf-8")
    assert tabs.count('<button role="tab"') == tabs.count('<div class="panel" role="tabpanel"') == 5
    assert tabs.count("<details>") == 9
    bilingual = (FOLDER / "ecole-ski-donnees-bilingue-fr-en.html").read_text(encoding="utf-8")
    assert [bilingual.count(f'<section id="{lang}" lang="{lang}">') for lang in ("fr", "en")] == [1, 1]
    register = (FOLDER / COWORKING).read_text(encoding="utf-8")
    assert register.count("\t") == 10 * 9


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
