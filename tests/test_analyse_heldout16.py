"""`garde analyse` on a sixteenth held-out set, black box: eleven notices and a processor's register, unseen.

The documents (tests/data/analyse/heldout16/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: an Italian hospital's informativa on its electronic health dossier (the dossier by consent, emergency
access as vital interests, the access log as a legal duty, lettered purposes and bases by letter; a PDF in
prose), a French job board (candidates' accounts on contract, a CV database searchable by recruiters only on
consent, automated job matching that decides nothing, fake-offer moderation on a described legitimate
interest, a two-basis cell; an HTML table with explanations in its cells; "never leaves the EU" then video
interviews stored in the US under SCCs), an Irish e-mail marketing SaaS's Art. 30(2) register (six client
controllers, their DPOs, sub-processors, a US support tool under the DPF; TSV with title lines, processor),
a French veterinary clinic (the animal's record not personal data, the prescription register and pet
identification as duties, debt recovery on a legitimate interest; a DOCX table, bases as "Art. 6.1.x" only,
a basis cell merged down), a UK police force's short notice (Part 3 DPA 2018 law enforcement beside UK GDPR
lists introduced by one basis each; Markdown), an Italian online wine shop (age checks by law, a loyalty club
on its rules, profiling by ticking; purposes in prose paragraphs; consent by browsing in a cookie bar and a
Privacy Shield newsletter platform; HTML), a UK opticians' layered notice (a short first layer above the
full notice in one page: NHS sight test records and fee claims as legal obligations, a lens plan on
contract, recalls on a described legitimate interest; HTML), a French energy supplier (purposes numbered
(1)-(6) in prose, their bases and periods only in an annex table by number, smart-meter load curve by
consent, payment incidents on two bases, a Moroccan call centre under SCCs; a PDF), a UK dating app (bases
in Markdown footnotes, special categories by explicit consent, automated matching, moderation; a
placeholder DPO and a password e-mailed back), an Italian consumer-credit lender's informativa (a basis
sentence introducing each list, credit bureaux as a source, credit scoring with an analyst's review on
request; a DOCX), a French donation platform (KYC by the payment institution as a separate controller,
donors' names shown only if ticked, a placeholder DPO; text in numbered sections) and an Italian travel
agency (lettered purposes each closed by "art. 6.1 lett. x)", API data for border authorities, an Art.
49(1)(b) transfer, companions' data given by the booker; text).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07 23:02 UTC, load 11-13, the analyser at commit 752d2b9, whose last change to the
analyser is d17ebdb, in a clone at bbb761e, run once on the finished labels, committed before it in bbb761e):
elements P 0.991 R 0.940, pairs P 0.741 R 0.606 F1 0.667, findings 4 of 6; the processor's register read as
a processor's. The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout16")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout16"
PROCESSOR = "email-marketing-processor-register-ie-en.tsv"

# Floors just under the first blind run (2026-12-07, the analyser of commit 752d2b9; labels unchanged after
# the run): elements P 0.991 R 0.940 (tp 219, fp 2, fn 14); pairs P 0.741 R 0.606 F1 0.667 (40 of 66 labelled,
# 54 predicted); findings 4 of 6. Every document's language, kind and quoted evidence right; the processor's
# register read as a register, each activity on behalf of its client, none with a basis.
# Misses by kind (described, not quoted, so that they can be passed on without the documents).
# Elements (14 missed, 2 false): the controller's contact twice (a French job board's line opening with a
# question and saying to write to an address; a French supplier's customer-service phone line in a PDF,
# neither with a "contact" word); automated decisions twice (a French table cell saying the automatic matching
# of profiles to offers decides nothing, neither ranking nor rejecting; a French platform saying a campaign
# flagged by automatic rules is suspended only after a team member's review); described legitimate interests
# twice (a French vet's table cell giving the interest as being paid for care already given, without the word
# "legitimate"; an Italian agency's purpose closed by letter f) and the protection of the agency's rights);
# transfers twice (a French vet's closing sentence that no data leaves the EU, at the end of its recipients
# paragraph; a UK police force's international transfers through the national crime agency or Interpol
# channels) and, with the second, its safeguard (the conditions of the 2018 Act's chapter on law enforcement
# transfers); withdrawing consent twice (a French vet's SMS reminders that stop on request or on a STOP reply;
# a French supplier's consent-based use that can be switched off at any time from the customer area, with
# neither "withdraw" nor "consent" words); the controller's identity once (a processor's register whose
# controllers are the clients named in a column, the processor named in the title lines); the requirement once
# (an Italian hospital stating what follows a refusal of consent to the dossier: no dossier, care given all
# the same); the source once (an Italian agency saying the companions' data are given by the person who
# books). False (2): a French text's DPO line holding a bracketed placeholder read as the DPO's contact; an
# Italian lender's legitimate-interest sentence on reporting to credit bureaux read as a transfer safeguard.
# Pairs: read in full, a UK opticians' layered notice (each use once, 4 of 4), a French job board's HTML table
# with explanations in cells and a two-basis cell (7 of 7), a French vet's DOCX table with bases as article
# numbers only and a cell merged down (6 of 6), and an Italian lender's DOCX lists each introduced by one
# basis sentence (8 of 8). Missed (26): every pair of a French supplier's PDF whose purposes are numbered in
# prose and whose bases are in an annex table by number (0 of 7: all seven read with the right bases, but
# named by the number alone, matching misses counted missed and extra too); every pair of a UK dating app
# whose bases are Markdown footnotes referred to by numbered uses (0 of 7: the footnotes read as a purpose of
# their own, three extras named by the first footnote); an Italian hospital's lettered purposes whose bases
# follow in a paragraph by letter (0 of 4: consent and public task found but named by the section heading,
# matching misses; vital interests and the access log as a legal obligation missed); four of an Italian wine
# shop's prose paragraphs (age checks as a legal duty, invoices kept as the tax law requires, a loyalty club
# on the rules accepted when joining, profiling only if a box is ticked; the order's contract and the
# newsletter's consent read); the first two of an Italian agency's lettered purposes each closed by its
# article letter (contract and the passenger data for border authorities; the four after them read); a UK
# police force's consent sentence for community alerts, after two lists each introduced by a basis (both lists
# read); a French platform's numbered paragraph sending a monthly letter to the donors who accepted it.
# Extra pairs (14): the seven and two matching misses above; an Italian hospital's recipients section read as
# a legal obligation and its rights section as consent; the dating app's three footnote extras.
# Findings: found the contradiction (a French job board's data never leaving the EU, then video interviews
# stored in the US), consent by browsing in an Italian cookie bar, Privacy Shield for an Italian shop's US
# newsletter platform, and a current password e-mailed back; missed both placeholders (a bracketed DPO line
# left to be filled in English Markdown, and a bracketed name-and-e-mail line to fill in French text).
FLOORS = {
    "element_precision": 0.99,   # 0.991
    "element_recall": 0.93,      # 0.940 (219 of 233)
    "pair_precision": 0.74,      # 0.741
    "pair_recall": 0.60,         # 0.606
    "pair_f1": 0.66,             # 0.667
    "finding_recall": 0.66,      # 4 of 6
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right): none at the first run.
NOT_YET_RIGHT: dict[str, str] = {}
# A processor's document whose activities are not all read as on behalf of its clients (strict too): none.
NOT_YET_PROCESSOR: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Twelve documents in three languages: 2 PDF and 2 DOCX, built; HTML, Markdown, text and TSV; one
    register, a processor's."""
    assert shape(FOLDER) == {
        "documents": 12, "pdf": 2, "docx": 2, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": [PROCESSOR],
        "processors": [PROCESSOR],
        "committed_as_labelled": True,
    }
    jobs = (FOLDER / "offres-emploi-candidats-recruteurs-fr.html").read_text(encoding="utf-8")
    assert jobs.count("<tr><td>") == 6  # six uses, each explained in its own cell
    energy = (FOLDER / "fournisseur-energie-clients-fr.pdf.source").read_text(encoding="utf-8")
    # six numbered purposes in prose, and the annex table giving each number its basis
    assert (energy.count("\n("), energy.count("\n| (")) == (6, 6)
    dating = (FOLDER / "dating-app-privacy-policy-uk-en.md").read_text(encoding="utf-8")
    assert dating.count("\n[^") == 5  # the bases are footnotes
    opticians = (FOLDER / "opticians-layered-privacy-notice-uk-en.html").read_text(encoding="utf-8")
    assert 'id="at-a-glance"' in opticians and 'id="full-notice"' in opticians  # two layers, one page
    police = (FOLDER / "police-force-privacy-notice-uk-en.md").read_text(encoding="utf-8")
    assert police.count(":\n\n- ") == 2  # two bases, each introducing its list
    credit = (FOLDER / "informativa-credito-consumo-it.docx.source").read_text(encoding="utf-8")
    assert credit.count("trattiamo i suoi dati per:\n- ") == 2
    register = (FOLDER / PROCESSOR).read_text(encoding="utf-8")
    assert register.count("\t") == 7 * 9  # a header and six clients, ten columns, under title lines


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT, NOT_YET_PROCESSOR))
