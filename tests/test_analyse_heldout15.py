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

First blind run (2026-12-07 19:44 UTC, load 15, the analyser at commit 41b1e6a, a merge whose last change to
the analyser is ea2d655, in a clone at 4326f99, run once on the finished labels, committed before it in
0291b1d): elements P 1.000 R 0.943, pairs P 0.907 R 0.773 F1 0.834, findings 5 of 5. The floors sit just
under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout15")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout15"
DENTAL = "record-of-processing-dental-practice-uk-en.tsv"

# Floors just under the first blind run (2026-12-07, the analyser of commit 41b1e6a; labels unchanged after
# the run): elements P 1.000 R 0.943 (tp 232, fp 0, fn 14); pairs P 0.907 R 0.773 F1 0.834 (68 of 88
# labelled, 75 predicted); findings 5 of 5. Every document's language, kind and quoted evidence right (the
# register read as a register).
# Misses by kind (described, not quoted, so that they can be passed on without the documents).
# Elements (14 missed, none false): sources six times, each a plain sentence with no "source", "obtain" or
# "collect" word (a UK operator getting the keeper's name and address from the vehicle licensing agency; a
# French app receiving weighings from a connected scale's own app; an Italian library whose data on young
# children are given by the parent who signs; a French FAQ answer saying the parents' income is not given by
# them but read on the family-benefits service; an MP saying the bodies written to send information back; a
# panel saying a partner website passed on the e-mail address when the member clicked to join); automated
# decisions three times (a French app adjusting weekly targets automatically, a dietitian reviewing on
# request; a French FAQ's tariff computed by software and checked by a person; a panel closing accounts
# automatically after failed quality checks, with a human review on request); the statutory or contractual
# requirement twice (a French practice's data said to be indispensable for reimbursement, with the
# consequence of paying in full; a French FAQ answer under a question heading making compulsory vaccinations
# a condition of admission by law); transfers once (a French FAQ answer: no, nothing leaves the EU); data
# categories once (the same FAQ's answer listing, in prose, what is asked about the child and the parents);
# the controller's contact once (a panel's member-services line with an e-mail address, no "contact" word).
# Pairs: read in full, an Irish charity's numbered paragraphs each closed by its basis (7 of 7), an Italian
# library's DOCX table with a public-task cell merged down over four rows (7 of 7), an Italian CAF's prose
# paragraphs with bases by article letter only, public task for a convention with the pension institute
# (6 of 6), an Italian professional order's three lists each introduced by one basis sentence (9 of 9), and
# a UK dental register's rows under a two-row header, two bases in one cell (10 of 10). Missed (20): every
# pair of a UK car park operator's HTML table whose header has two rows (a basis group spanning an Article 6
# column and a detail column) and whose legitimate-interest cell, an article letter alone, spans four rows
# (0 of 7, no activity at all); a UK panel's first list, introduced by a sentence tying the uses to the
# membership terms the member joined under (3 contract uses; the consent, legitimate-interest and
# legal-obligation lists after it were read); a French haulier's PDF table row under the second row of a
# spanned legitimate-interest cell (the first row under it and the other spanned cells were read); in a
# French FAQ, the second duty of a paragraph opening with "the law obliges us" (keeping invoices), a later
# paragraph whose last clause calls the reading of income a legal obligation, and a contract paragraph found
# but named by its demonstrative opening words (a matching miss, counted missed and extra too); in a French
# practice's prose under headings, the care record as a legal obligation and photos by consent found but
# named by the section heading (matching misses), SMS reminders on a legitimate interest and electronic
# claims as a legal obligation, in the second section, missed; an MP's paragraph on keeping closed files,
# which says the keeping is in the MP's legitimate interests and the constituent's; a French app's bold
# run-in paragraph whose basis is given as part of the subscription, hence the contract.
# Extra pairs (7): the three matching misses above; a UK dental register's NHS row read as contract too (its
# public-task cell names the NHS dental contract); an MP passing a message to another MP with the
# constituent's agreement read as consent (the text's basis is public task); a French FAQ answer on where the
# income comes from, which mentions the parents' agreement, read as consent; an Italian section on whether
# providing data is compulsory read as a consent use.
# Findings: all found (Privacy Shield in an Italian PDF, a placeholder DPO in a French FAQ, a contradiction
# between a UK notice's data never leaving the UK and a later appeals team in India under the IDTA, consent
# by continued use in a Markdown blockquote, and a current password sent back by e-mail).
FLOORS = {
    "element_precision": 0.99,   # 1.000
    "element_recall": 0.94,      # 0.943
    "pair_precision": 0.90,      # 0.907
    "pair_recall": 0.77,         # 0.773
    "pair_f1": 0.83,             # 0.834
    "finding_recall": 0.99,      # 5 of 5
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right): none at the first run.
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
    # a two-row header (one basis group over two columns) and one basis cell spanning four rows
    assert (car_park.count('colspan="2"'), car_park.count('rowspan="4"')) == (1, 1)
    creche = (FOLDER / "micro-creche-faq-donnees-parents-fr.html").read_text(encoding="utf-8")
    assert creche.count("?</h2>") == creche.count("<h2>") == 13  # every heading a question
    panel = (FOLDER / "online-research-panel-members-uk-en.html").read_text(encoding="utf-8")
    assert panel.count(":</p>\n<ul>") == 4  # four bases, each introducing its list of uses
    register = (FOLDER / DENTAL).read_text(encoding="utf-8")
    assert register.count("\t") == 11 * 9  # two header rows and nine activities, ten columns


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
