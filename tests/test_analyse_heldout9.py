"""`garde analyse` on a ninth held-out set, black box: fourteen notices and registers it has never seen.

The documents (tests/data/analyse/heldout9/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: a UK veterinary practice's client notice (HTML, an h3 per use with its basis in the prose, a text
provider in Ireland under UK adequacy), a French expert-comptable firm's register (a DOCX table of eight
columns; part A its own activities, part B the payroll and bookkeeping it runs for clients, "Relève du
client", `^` cells merged down), an Italian regional bus company's notice to passengers (lettered
purposes with their bases, public task for reduced fares and on-board CCTV, a retention table; a 3-page
PDF), a UK food-delivery platform's notice to couriers (right-to-work checks, automatic order allocation
and pay, face matching with a manual alternative, support in the Philippines under the IDTA; Markdown),
a French commune's canteen and after-school registration notice (public task, the family quotient read
from the CAF; text), an Italian car dealer's informativa (test drives, finance companies as autonomous
controllers, a separate consent for the manufacturer's marketing, a leftover Privacy Shield; HTML), a UK
crowdfunding platform's policy (AML, FCA appropriateness test scored automatically, investors' names
published only if ticked, UK Extension to the DPF; a 3-page PDF with its bases in bullets), an Italian
university hospital's clinical study notice (public task and Art. 9(2)(j), a biobank's separate consent,
pseudonymisation; a DOCX in prose), a French online wine shop (age checks under the public health code,
excise documents, a fraud screen that only holds an order; Markdown with a table), an Irish solicitors'
firm (privilege, retention by limitation periods in a table; a 3-page PDF), a Dutch bulb webshop's
English notice for EU customers (a <dl> of uses, the Autoriteit Persoonsgegevens, "no transfers outside
the EEA" beside two US providers), an Italian cooperative bank's register (TSV, up to three bases in one
cell), a sole trader window cleaner's one-paragraph notice with findings (placeholder, consent by use, a
password sent back on request) and a French cinema chain's app notice (<details> sections, on-device
geolocation, loyalty tiers set automatically, advertising partners, DPF transfers; HTML).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07, the analyser at commit 457e6bb, its last change f9ebe0a, run once on the
finished labels, committed before it): elements P 0.995 R 0.857, pairs P 0.938 R 0.638 F1 0.759, findings
4 of 5. The floors sit just under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout9")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout9"

# Floors just under the first blind run (2026-12-07, the analyser of commit 457e6bb, while a round of
# analyser work on the eighth set's kinds of misses was going on elsewhere; labels unchanged after the
# run): elements P 0.995 R 0.857 (tp 221, fp 1, fn 37); pairs P 0.938 R 0.638 F1 0.759 (60 of 94
# labelled, 64 predicted); findings 4 of 5. Every document's language, kind and quoted evidence right.
# Misses by kind. Elements: withdrawal 7 of 11 missed (an unsubscribe link or "reply STOP", turning a
# named option off in the app, notifications switched off in the phone's settings, "revenir sur ce
# choix", withdrawing from a study); whether providing data is required 6 of 11 missed ("we need ...
# before we can treat", "If you cannot show ..., we cannot activate", "sans lesquelles nous ne pouvons
# ni", "La partecipazione ... è del tutto volontaria", a refused consent's stated consequence, "we need
# ... and, if you wish"); automated decisions 4 of 7 missed (an offer "made by the system", a loyalty tier
# "attribué automatiquement", an order held by a fraud screen and never cancelled without a person, an
# Italian negative "Nessuna decisione ... unicamente ... automatizzato"); source_of_data 4 of 9 missed (a
# Home Office online check, the CAF's CDAP service, the patient's record and health file, a register cell
# naming the credit bureaux consulted); controller contact 3 of 14 missed (a postal address inside the
# identity sentence, twice; a register's privacy lead line); transfers 2 of 12 missed (support agents in
# the Philippines, access "from Microsoft entities in the United States") and safeguards 2 of 7 (UK
# adequacy worded "the UK recognises the EU as giving adequate protection", a register's intergovernmental
# agreements); restriction and portability worded without their words (2 and 2: "limit its use", "stop or
# pause using it", "a form you can take to another shop", "a commonly used electronic format"); a
# one-paragraph notice's purposes, access right and categories, and its "[your address here]"
# placeholder; a TSV register's "Titolare:" preamble line; a processor named in Italian prose as a
# recipient; one false positive (a delivery paragraph as a DPO contact, in a notice with no DPO). Pairs:
# an app notice in <details>/<summary> sections, 0 of 6 ("Cette mesure" taken as a purpose); consent worded
# without the word ("if you tick", "only sent if you sign up", "Si vous l'autorisez", "solo se Lei attiva
# le notifiche", "With your agreement", "ne sont déposés qu'après votre accord", "soltanto se Lei presterà
# uno specifico consenso"), about ten missed; bases worded as duties ("nous devons exiger", "nous
# obligent", "come prevede l'art. 2220", "ci obbliga", "we are legally obliged", "The ... code requires
# this check", "adempimento imposto dalla normativa", "Keeping these records is a legal obligation on
# us" after the purpose) and a contract worded "needed to run the plan you signed up to" or "nell'ambito di
# misure precontrattuali"; run-in headings in a PDF ("Anti-money laundering. Solicitors are ...", 3 of 7);
# a public-task sentence after a paragraph's purposes; a register row's basis "Exécution de la lettre de
# mission" without the word contract; a purpose carried by "Anche" from the sentence before. False pairs:
# a rights section read as two pairs, a public-task purpose given the previous item's contract basis. Read
# in full or nearly: the bank's TSV register with up to three bases a cell (14 of 14), the crowdfunding
# PDF's bullets each with its basis (8 of 9), the bus company's lettered purposes (7 of 8), the
# expert-comptable's DOCX register (6 of 7, its processor rows rightly without a pair).
FLOORS = {
    "element_precision": 0.98,   # 0.995
    "element_recall": 0.84,      # 0.857
    "pair_precision": 0.92,      # 0.938
    "pair_recall": 0.62,         # 0.638
    "pair_f1": 0.74,             # 0.759
    "finding_recall": 0.79,      # 4 of 5
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right): none at the first run.
NOT_YET_RIGHT: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Fourteen documents in three languages: 3 PDF of three pages and 2 DOCX (a register that is partly a
    processor's, a clinical study in prose), built; HTML, Markdown, text and TSV; two registers."""
    assert shape(FOLDER) == {
        "documents": 14, "pdf": 3, "docx": 2, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": ["registre-cabinet-expertise-comptable-fr.docx", "registro-trattamenti-bcc-it.tsv"],
        "processors": [],
        "committed_as_labelled": True,
    }
    register = (FOLDER / "registro-trattamenti-bcc-it.tsv").read_text(encoding="utf-8")
    assert "Contratto; obbligo legale" in register and register.count("\t") >= 9 * 10


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
