"""`garde analyse` on a seventh held-out set, black box: thirteen notices and registers it has never seen.

The documents (tests/data/analyse/heldout7/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: a French online pharmacy (health questionnaire, the pharmacist's duties to analyse and trace each
order; a 4-page PDF), an Irish airline's passenger statement (API and PNR sent under law, special
assistance on contract and explicit consent, US PNR agreement; a 3-page PDF), a UK independent school's
notice to parents (purposes in bullet lists grouped under one basis sentence each, no DPO appointed; a
3-page PDF), an Italian university's students' informativa (a DOCX table of purposes and bases with basis
cells merged over rows), a French energy supplier's register exported from Excel as tab-separated values
(CRLF lines, title rows above the table, a quoted cell, one row without a basis), an Italian
municipality's video-surveillance notice (lettered purposes under one public-task sentence, plate
readers; text in capitals-headed sections), a UK supermarket loyalty scheme with profiling (an HTML
table of uses and bases, rights in `<details>`), a Spanish group's Italian fashion notice (joint
controllers, bold-numbered purposes, a Markdown retention table), a UK estate agent (anti-money
laundering checks as a legal obligation, Right to Rent, tenant referencing with an automated result;
Markdown), a French local newspaper's subscriber charter (an HTML definition list, journalism exemption,
legal notices, cookies), an Italian e-bike rental app (bike GPS on contract, phone location on
permission, automated suspension; numbered text), a French association's register of volunteers and
people helped (a DOCX table with activity and basis cells merged over rows) and a short sign-up form
notice with findings ("by continuing", a recoverable password, a "[insert DPO email]" placeholder).

Built with tests/heldout6_documents.py (the third set's markup: `^` cells merged down in a DOCX table) and
scored by the blind sets' harness (tests/analyse_blind.py), which prints the table.

First blind run (2026-12-06, the analyser at commit bb4ab49, run once on the finished labels): elements
P 0.986 R 0.900, pairs P 0.845 R 0.659 F1 0.741, findings 3 of 3.
The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout7")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout7"

# Floors just under the first blind run (2026-12-06, the analyser of commit bb4ab49, while a round of
# analyser work on the sixth set's kinds of misses was going on elsewhere; labels unchanged after the run):
# elements P 0.986 R 0.900 (tp 216, fp 3, fn 24); pairs P 0.845 R 0.659 F1 0.741 (60 of 91 labelled,
# 71 predicted); findings 3 of 3. Misses by kind: automated decisions 5 of 9 missed (stated as a negation
# without the usual words, "not by a computer", "jamais à un refus automatique", or as an automatic step
# "sospende automaticamente", "an automated pass or refer result"); source_of_data 6 of 8 missed (partners,
# agencies, national files and authorities named as sources); rights in one running sentence ("erased or
# amended", "transferred elsewhere", "stop processing") or in a short form's "To see, correct or delete"
# missed, a right said not exercisable credited (rectification); the sign-up form's controller and contact
# missed and its placeholder DPO credited; withdrawal by switching a permission off or by unsubscribing
# missed twice; a register's postal address as the controller's contact missed; "hosted in the UK" taken
# for a transfer statement. Pairs: purposes in bullet lists grouped under one basis sentence (the school,
# 3 of 11), a lettered list under one public-task sentence (video surveillance, 1 of 5), an HTML definition
# list of uses (the newspaper, 3 of 8), numbered sections whose basis is a sentence without a basis's
# name ("fa parte del contratto", "come richiesto dal Codice della Strada", "solo se hai attivato"; e-bike,
# 2 of 6), purposes given by a heading with the basis in its prose (the pharmacy's legal duties, 4 of 7);
# a numbered sub-list under one basis split into one pair per item (anti-money laundering); pairs taken
# from a basis sentence, a heading, a retention line or the portability right ("These messages are sent
# to", "Valuations and marketing", "A chi comunichiamo i dati", "come previsto dalla legge", "dans le
# cadre du contrat ou sur la base de votre consentement"); a DOCX register's basis merged over two rows
# and worded "exécution de l'engagement bénévole" missed (7 of 9); a loyalty programme's "regolamento"
# not read as contract. Read in full: the university's DOCX table with merged basis cells (7 of 7), the
# energy register's tab-separated export (9 of 9), the supermarket's HTML table (8 of 8).
FLOORS = {
    "element_precision": 0.97,   # 0.986
    "element_recall": 0.89,      # 0.900
    "pair_precision": 0.83,      # 0.845
    "pair_recall": 0.64,         # 0.659
    "pair_f1": 0.73,             # 0.741
    "finding_recall": 0.99,      # 3 of 3
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right).
NOT_YET_RIGHT: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Thirteen documents in three languages: 3 PDF and 2 DOCX (one a register with merged cells), built;
    HTML, Markdown, text and a spreadsheet's tab-separated export; two registers, no processor."""
    assert shape(FOLDER) == {
        "documents": 13, "pdf": 3, "docx": 2, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": ["registre-benevoles-association-fr.docx", "registre-fournisseur-energie-fr.tsv"],
        "processors": [], "committed_as_labelled": True,
    }
    exported = (FOLDER / "registre-fournisseur-energie-fr.tsv").read_bytes().decode("utf-8")
    rows = exported.split("\r\n")
    assert "\n" not in exported.replace("\r\n", "") and {row.count("\t") for row in rows if row} == {8}
    assert '""Heures Futées""' in exported
    docx_source = (FOLDER / "registre-benevoles-association-fr.docx.source").read_text(encoding="utf-8")
    assert "| ^ |" in docx_source


# The blind sets' four tests (tests/analyse_blind.py), after this set's own (no processor's document here).
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
