"""`garde analyse` on an eleventh held-out set, black box: nine notices and three registers it has never seen.

The documents (tests/data/analyse/heldout11/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: a UK GP surgery's patient notice (public task under the NHS contract, Art. 9 conditions in a third
column, the GPDPR direction and notifiable diseases as legal obligations; a PDF with a real table), an
Italian università's informativa for students (a table of finalità, base giuridica and conservazione, data
taken from INPS and the Ministry, proctoring flags decided by people; HTML), a French commune's registre
des activités de traitement (CNIL-model columns, merged transfer and security cells, a heatwave register by
consent; a DOCX table), an Italian payroll provider's Art. 30(2) register (five client controllers, their
DPOs, sub-processors, an expense tool under the DPF; a PDF table, processor), a Welsh hospice's supporter
notice (postal appeals on legitimate interests, email by opt-in, Gift Aid for HMRC, prospect research from
public sources, a lottery licence; Markdown), a UK homeware retailer's notice in <details>/<summary>
accordions (a fraud score that cancels orders automatically with a review on request, Wi-Fi, design visits,
cookie-based audiences; HTML, 2,100 words), a marketplace seller's notice as joint controller with the
platform (Art. 26, no DPO, no complaint route; text), a gym chain's member notice (PIN entry logs, a
palm-vein option by explicit consent, CCTV, Direct Debit, an automatic booking block; a DOCX in prose), an
Italian food shop's one-page "informativa privacy e cookie" with a cookie table (consent by continued
browsing, Privacy Shield; HTML), a French mutuelle's notice (health data, premiums computed automatically,
an offshore call centre under SCCs; a PDF of 2,000 words), a Dutch webshop's notice in non-native English
("[NAME DPO]", a password sent back by e-mail, "never leaving the European Union" then servers in the United
States; text) and a French hosting provider's Art. 30(2) register (six clients; TSV, processor).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07 07:42 UTC, the analyser at commit d2ceb2f, its last change 93faf3b, run once
on the finished labels, committed before it in d2ceb2f): elements P 0.990 R 0.945, pairs P 0.765 R 0.677
F1 0.718, findings 4 of 5; the two processors' registers not read as a processor's. The floors sit just
under it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout11")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout11"
COMMUNE = "registre-activites-traitement-commune-fr.docx"
HOSTING = "registre-sous-traitant-hebergeur-fr.tsv"
PAYROLL = "registro-responsabile-elaborazione-paghe-it.pdf"

# Floors just under the first blind run (2026-12-07, the analyser of commit 93faf3b; labels unchanged after
# the run): elements P 0.990 R 0.945 (tp 206, fp 2, fn 12); pairs P 0.765 R 0.677 F1 0.718 (65 of 96
# labelled, 85 predicted); findings 4 of 5. Every document's language, kind and quoted evidence right.
# Misses by kind. Elements (12 missed): a negative transfer statement made through the recipients ("Tous
# sont situés en France"), an adequacy regulation given as the reason no safeguard is needed, sub-processors
# in a processor register's column (both registers: recipients missed), erasure in a sentence that goes on
# to its limits, access as the verb "see" in "the right to see, correct or delete", portability as "a
# reusable format", an automatic booking block ("applied automatically by the booking system"), data needed
# "because otherwise we cannot execute the agreement", a source as the national health insurer that
# "transmet les décomptes", a controller's identity line in non-native English, and an Italian soft-spam
# interest named with its purpose. False elements (2): "[NAME DPO]" read as a DPO contact, and a payroll
# register's "comunicazioni obbligatorie" read as a statutory requirement. Pairs: read in full, the
# university's HTML table (9 of 9) and the commune's DOCX register with merged cells (10 of 10); nearly, the
# GP's PDF table (11 of 13: a second basis in one cell, and a consent tie in the recipients section); the
# Italian shop's numbered list (<ol>) of purposes 0 of 5, each basis found but named after the sentence that
# follows the list; contract worded as "part of your membership contract", "fait partie des prestations
# prévues par votre contrat", "to take steps at your request", "as part of our agreement with you" (three in
# the hospice's notice), and in non-native English "for executing the agreement", "it is part of the
# agreement"; consent as "Only if you are giving us permission by ticking the box", "if you tick the
# separate box", "n'est activée que si vous l'acceptez", "set only if you accept them", "only after you give
# permission"; a basis after a colon in a French bullet (": obligation légale") and a second basis in the
# same sentence or cell (legal guarantees, fraud checks, safeguarding). Of the 20 pairs
# not in the labels, 7 have the right basis under the section's heading but share too few words with the
# label's purpose (gym "Keeping in touch" and "Joining and paying" for debt recovery, the retailer's four
# accordions "Buying from us ...", "Keeping our stores ... preventing fraud", "Reviews, competitions and
# surveys", "Personalised recommendations and advertising", the mutuelle's "Prévention et action sociale");
# 4 are the Italian shop's bases above; the rest (9) are an Art. 9 explicit consent read as a consent pair
# (gym health, hospice events), "our NHS contract" inside a public-task cell read as contract, recipients
# and rights paragraphs read as pairs (5), and a mutuelle's social fund "avec votre accord" read as consent
# (arguable; left as labelled: the text names no basis for it).
# Findings: placeholder, recoverable password, consent by browsing and Privacy Shield found; the Dutch
# webshop's contradiction ("never leaving the European Union", then servers in the United States) missed.
FLOORS = {
    "element_precision": 0.98,   # 0.990
    "element_recall": 0.93,      # 0.945
    "pair_precision": 0.75,      # 0.765
    "pair_recall": 0.66,         # 0.677
    "pair_f1": 0.70,             # 0.718
    "finding_recall": 0.79,      # 4 of 5
}

# Documents whose language, kind or quoted evidence the analyser gets wrong (strict: a mark must go when
# it is read right): none at the first run.
NOT_YET_RIGHT: dict[str, str] = {}

# Processors' registers not yet read as a processor's (strict): at the first run the hosting provider's TSV
# gave its six client rows as the provider's own activities (role controller, no basis), and the payroll
# provider's PDF table gave no activity at all. Both read as a processor's since round 13 (ana26, which
# never opened this set: a register's controller column had been taken for the activity's name).
NOT_YET_PROCESSOR: dict[str, str] = {}


def test_the_set_is_what_it_claims() -> None:
    """Twelve documents in three languages: 3 PDF (two with a table) and 2 DOCX (one a register's table),
    built; HTML, Markdown, text and TSV; three registers, two of them a processor's."""
    assert shape(FOLDER) == {
        "documents": 12, "pdf": 3, "docx": 2, "suffixes": {".html", ".md", ".txt", ".tsv", ".pdf", ".docx"},
        "languages": {"en", "fr", "it"},
        "registers": [COMMUNE, HOSTING, PAYROLL],
        "processors": [HOSTING, PAYROLL],
        "committed_as_labelled": True,
    }
    accordions = (FOLDER / "homeware-retailer-privacy-accordions-uk-en.html").read_text(encoding="utf-8")
    assert accordions.count("<details>") == accordions.count("</summary>") == 12
    register = (FOLDER / HOSTING).read_text(encoding="utf-8")
    assert register.count("\t") == 9 * 7


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT, NOT_YET_PROCESSOR))
