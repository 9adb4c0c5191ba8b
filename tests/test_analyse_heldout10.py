"""`garde analyse` on a tenth held-out set, black box: eleven notices and a register it has never seen.

The documents (tests/data/analyse/heldout10/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: a UK football club's season-ticket and membership notice (loyalty points that allocate away tickets
automatically, banning orders from the police, CCTV in the stands, the UK Extension to the DPF; a 3-page
PDF with an h3 per use), an Italian comune's register (TSV, ten rows of public task and legal obligations,
a "Titolare" preamble and a closing line of rights), a French pharmacie d'officine (ordonnancier, tiers
payant, the Dossier Pharmaceutique by consent; HTML), a UK housing association's tenant notice (rent
arrears on two bases, vulnerabilities by consent, anti-social behaviour as public task, a retention table;
Markdown), an Italian agriturismo's short informativa (Alloggiati Web, consent by ticking; text), a French
syndicat professionnel (trade-union membership, an annuaire on legitimate interests; a DOCX in prose), an
English notice of a German table-booking SaaS (processor for restaurants, controller for diners' accounts;
no-shows counted automatically; HTML), a UK driving school (DVLA checks, in-car dashcams; text), an Italian
private clinic's telemedicine informativa (lettered purposes, a US video platform under the DPF; a 3-page
PDF), a short ticketing form notice with findings ("[insert DPO email]", a pre-ticked box, Privacy Shield;
Markdown) and a French online language school for children (parents' accounts, recordings only with every
parent's consent; Markdown with a table).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07 06:05 UTC, the analyser at commit b5f2dd8, its last change 00f5f81, run once
on the finished labels, committed before it in cb27b2f): elements P 1.000 R 0.850, pairs P 0.789 R 0.492
F1 0.606, findings 2 of 2. The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout10")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout10"

# Floors just under the first blind run (2026-12-07, the analyser of commit b5f2dd8; labels unchanged after
# the run): elements P 1.000 R 0.850 (tp 181, fp 0, fn 32); pairs P 0.789 R 0.492 F1 0.606 (30 of 61
# labelled, 38 predicted); findings 2 of 2. Every document's language, kind and quoted evidence right.
# Misses by kind. Elements: withdrawal 5 of 9 missed (an "opt out" link, writing to stop receiving them,
# closing an optional record, taking a photo down on request, and even "Le consentement peut être retiré"
# in a paragraph about recordings); whether providing data is required 4 of 8 ("we cannot ... until we have
# seen", "we need", "est facultative", "needed under your tenancy: if you do not tell us ... we may not");
# sources 3 of 6 (a licence checked with a public service, booking portals that pass on guests' details,
# a shared pharmaceutical record filled by other pharmacies); negative transfer statements 2 of 11 ("Nothing
# is sent abroad", "Aucune donnée ne quitte l'Union européenne"); automated decisions 2 of 4 ("This happens
# automatically", a no-profiling sentence); the controller's identity 2 of 11 (a partnership of two named
# people, "is organised by ... Ltd."); rights in an Italian list governed by one verb ("Può chiederci
# l'accesso ..., la rettifica, la cancellazione, la limitazione o la portabilità": five missed), "have
# mistakes put right", "stop using it", portability as "un format réutilisable"; recipients as a bare list
# or "visti solo da noi e dal nostro commercialista"; the basis in a short notice's one sentence ("necessary
# to fulfil your ticket purchase", "because HMRC requires it"); an interest worded "relève de notre intérêt
# légitime à". Pairs: a text notice under capitals headings 0 of 5; an HTML notice of <section>s whose
# paragraphs open with a run-in label ("Account.", "No-show protection.") 0 of 5, one pair named "Processing
# this data"; a PDF with an h3 per use 2 of 7 and a DOCX in prose 2 of 6 (headings taken as purposes with a
# neighbour's basis, an Art. 9 paragraph read as a consent pair); consent by ticking in Italian bullets;
# duties ("come ci impone", "comme l'exige", "prévue par le Code", "The law obliges us") and contract worded
# indirectly ("l'objet même de l'abonnement", "pour répondre à votre demande", "part of the service you
# asked for", "part of the membership terms"). False pairs (8): section headings with the previous basis, a
# recipients section and a rights section read as pairs. Read in full or nearly: the comune's TSV register
# (11 of 11), the clinic's lettered PDF (4 of 4, with two false pairs), the housing association's Markdown
# (6 of 7); the ticketing form's placeholder and Privacy Shield both found.
FLOORS = {
    "element_precision": 0.98,   # 1.000
    "element_recall": 0.83,      # 0.850
    "pair_precision": 0.77,      # 0.789
    "pair_recall": 0.47,         # 0.492
    "pair_f1": 0.59,             # 0.606
    "finding_recall": 0.99,      # 2 of 2
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right): none at the first run.
NOT_YET_RIGHT: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Eleven documents in three languages: 2 PDF of three pages and 1 DOCX (a notice in prose), built;
    HTML, Markdown, text and TSV; one register."""
    assert shape(FOLDER) == {
        "documents": 11, "pdf": 2, "docx": 1, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": ["registro-trattamenti-comune-it.tsv"],
        "processors": [],
        "committed_as_labelled": True,
    }
    register = (FOLDER / "registro-trattamenti-comune-it.tsv").read_text(encoding="utf-8")
    assert "Contratto (art. 6.1.b); obbligo legale (art. 6.1.c)" in register
    assert register.count("\t") >= 9 * 11


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
