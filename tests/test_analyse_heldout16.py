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
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout16")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout16"
PROCESSOR = "email-marketing-processor-register-ie-en.tsv"

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
# A processor's document whose activities are not all read as on behalf of its clients (strict too).
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
