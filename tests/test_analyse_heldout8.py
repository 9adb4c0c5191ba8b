"""`garde analyse` on an eighth held-out set, black box: fourteen notices and registers it has never seen.

The documents (tests/data/analyse/heldout8/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: a German-owned discount supermarket's UK notice (HTML, a heading per use with its basis in the
prose, group IT in Germany under UK adequacy regulations, support in India under the IDTA), an Italian
insurance agency's informativa (IVASS, explicit consent for a claim's health data; a 3-page PDF with a
table of purposes, bases and periods), a French public hospital's patient leaflet (public task, bases
worded as duties, an HDS host; a 3-page PDF), a UK hub-dispensing company's notice to the patients of the
pharmacies it serves (`role: processor`, the pharmacy unnamed; Markdown), an Irish gym chain's CCTV,
access-card and face-entry statement (text in capitals-headed sections, an automatic card block), a
French online bank's register (a DOCX table of eight columns, several bases in one cell, cells merged
over rows), an Italian hotel's guest notice (Alloggiati Web and the tourist tax as legal obligations,
bold-led paragraphs; Markdown), a UK university's alumni and supporters notice (wealth screening with a
documented legitimate interests assessment, a US foundation; a 3-page PDF), a French ride-hailing
platform's notice to drivers (geolocation, automatic suspension, human review of deactivation; HTML), an
Italian istituto comprensivo's notice to families (lettered purposes under one public-task sentence;
text), a French second-hand marketplace (moderation under the DSA and legitimate interests, fraud score,
DAC7; Markdown), a Belgian web agency's DPA annex with its sub-processors and their countries (a DOCX,
`role: processor`, the client named as controller), a Maltese online casino's player policy (AML, age
checks, profiling for responsible gaming with automatic limits; a 2-page PDF with purposes in bullets,
each with its ground) and a short Italian newsletter form notice with findings (consent "proseguendo
nella navigazione", "[inserire link]", Privacy Shield).

Built with tests/heldout6_documents.py (the third set's markup: `^` cells merged down in a DOCX table) and
scored by the blind sets' harness (tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07, the analyser at commit c1fb0da, its last change a0a35bd, run once on the
finished labels): elements P 0.986 R 0.802, pairs P 0.727 R 0.386 F1 0.504, findings 0 of 3.
The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout8")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout8"

# Floors just under the first blind run (2026-12-07, the analyser of commit c1fb0da, while a round of
# analyser work on the seventh set's kinds of misses was going on elsewhere; labels unchanged after the
# run): elements P 0.986 R 0.802 (tp 206, fp 3, fn 51); pairs P 0.727 R 0.386 F1 0.504 (32 of 83
# labelled, 44 predicted); findings 0 of 3. Misses by kind: the short newsletter notice, inside an HTML
# <form>, read as English with nothing found (12 elements, its pair and its three findings: consent by
# browsing, placeholder, Privacy Shield); a processor's notice to patients taken for a controller's (the
# processor credited as controller and its contact, its Art. 28 contract as a contract basis, its activity
# not marked on behalf); withdrawal 5 of 10 missed (switching an option off, stopping Face Entry, an
# unsubscribe link in Italian and French); automated decisions 5 of 9 missed (an automatic block or
# suspension, "aucun traitement automatisé ne décide seul", a register's automated score, a filter that
# "écarte automatiquement"); source_of_data 5 of 10 missed (a car park operator, a referring doctor and
# the SAMU, IVASS's ATRC database, the school of origin, the Banque de France's files); whether providing
# data is required 4 of 8 missed ("we cannot open an account without", "Non possiamo darLe la camera se",
# "Your card will always work instead"); portability 4 of 8 missed (worded without "portable" or
# "portabilità": "sent ... in a format a machine can read", "récupérer, dans un format ouvert"); no
# transfers stated in the negative missed twice ("ne quittent pas l'Union européenne", "non trasferisce
# dati verso Paesi che non fanno parte dello SEE") and a support team "depuis Tunis" missed; a DPA annex's
# rights listed in brackets as requests the processor helps answer (4) and the client named as controller
# missed; rights in one running sentence missed (restriction as "limit what we do with it", access as
# "obtenir la communication", objection in Italian after "inoltre") and three in the alumni PDF's bullet
# list (correction, objection, portability); a rights section read as a pair. Pairs: a bank's DOCX register of
# eight columns with several bases in one cell ("Mesures précontrattuelles ; obligation légale (...)")
# gave no pair at all (0 of 16); an Irish text in capitals-headed sections (0 of 3); a Markdown notice
# whose uses are bold-led paragraphs under one heading, the heading taken as the purpose (0 of 6);
# purposes given by an h3 heading with the basis in the prose (the supermarket, 1 of 8: three of its
# predicted pairs have the right basis under a heading the label's purpose does not word, "Keeping people
# and stores safe", "Talking to Customer Services", "Product recalls and our legal duties"); prose
# paragraphs holding several purposes each, a basis sentence taken as the purpose (the alumni notice,
# 2 of 8); bases worded as duties without a basis's name ("Le Code des transports nous impose", "le Code
# de la sécurité sociale nous y oblige", "comme l'exige", "en application de l'article 1649 ter A") and
# consent worded "only with your consent" or "si vous les avez acceptées" missed; a claim's explicit
# consent for health data (an Art. 9 condition) read as a second, consent pair. Read in full or nearly: the
# insurance agency's PDF table (9 of 9), the school's lettered list under one public-task sentence (6 of
# 7, the photos' consent missed), the casino's bullets each with its ground (7 of 8).
FLOORS = {
    "element_precision": 0.97,   # 0.986
    "element_recall": 0.79,      # 0.802
    "pair_precision": 0.71,      # 0.727
    "pair_recall": 0.37,         # 0.386
    "pair_f1": 0.49,             # 0.504
    "finding_recall": 0.0,       # 0 of 3
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right).
# (round 10 reads the newsletter form's notice, in Italian: its mark went.)
NOT_YET_RIGHT: dict[str, str] = {}
# Processors' documents whose activities are not all marked as done on the controller's behalf.
NOT_YET_PROCESSOR = {
    "hub-dispensing-processor-en.md": "the processor taken for the controller, its activity not on behalf",
}


def test_the_set_is_what_it_claims() -> None:
    """Fourteen documents in three languages: 4 PDF and 2 DOCX (a bank's register with several bases per
    row and a web agency's DPA annex), built; HTML, Markdown and text; two registers, two processors."""
    assert shape(FOLDER) == {
        "documents": 14, "pdf": 4, "docx": 2, "suffixes": {".html", ".md", ".txt", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": ["annexe-sous-traitance-agence-web-be.docx", "registre-banque-en-ligne-fr.docx"],
        "processors": ["annexe-sous-traitance-agence-web-be.docx", "hub-dispensing-processor-en.md"],
        "committed_as_labelled": True,
    }
    register = (FOLDER / "registre-banque-en-ligne-fr.docx.source").read_text(encoding="utf-8")
    assert "| ^ |" in register and " ; " in register


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT, NOT_YET_PROCESSOR))
