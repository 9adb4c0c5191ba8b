"""`garde analyse` on a fourteenth held-out set, black box: eleven notices and a register it has never seen.

The documents (tests/data/analyse/heldout14/, labels.yaml there) were written and labelled without reading
the analyser, its vocabulary, docs/analyse.md or the earlier sets' documents, for kinds the earlier sets
lack: an Italian ASL's informativa for its cancer screening programmes (invitations drawn from the regional
register of patients, a table of finalità, what is done and the basis by article and letter, "lett. e) e
lett. c)" in one cell, Art. 9(2)(h) and (i); a PDF), a UK recruitment agency's notice to candidates found on
job boards (Art. 14, consent per introduction to a client, right-to-work and agency records as legal
obligations, a US database under the IDTA; a PDF in prose paragraphs), an Italian condominium's informativa
by its administrator (duties of the civil code, a placeholder DPO; a DOCX in prose), a French EHPAD's notice
to residents and families (a DOCX table whose cells explain each use, its basis and its retention), a
Portuguese help desk SaaS in English (processor for its customers' tickets, controller for its users;
"exclusively in the European Union" then a subsidiary in Manila; HTML), a French potter selling on her site
and on a marketplace as separate controllers (uses in a <dl>, consent by browsing in a cookie bar; HTML), an
Italian school of Italian for foreigners with an English summary box (Alloggiati Web, a level test that
places students automatically, Privacy Shield; HTML), a UK children's reading app (parental consent, ages of
digital consent by country in a table, a password e-mailed back; Markdown), a UK music festival (one basis
introducing each list of uses, vital interests, wristbands blocked automatically; Markdown), a UK funeral
director (the deceased outside the law, statutory cremation forms, funeral plans under the FCA; text in
numbered clauses), a French commune's register (TSV with title lines above the CNIL-model header, bases as
"6.1.e ; 6.1.c", a DPO shared through the centre de gestion) and an Italian estate agency's informativa
(lettered purposes each closed by "(art. 6.1 lett. b GDPR)", anti-money-laundering checks, protest
registers as a source; text).

Built with tests/heldout6_documents.py (the third set's markup) and scored by the blind sets' harness
(tests/analyse_blind.py), which prints the table.

First blind run (2026-12-07 16:47 UTC, load 22, the analyser at commit 7358021, a merge whose last change to
the analyser is d089e95, in a clone at 4307f76, run once on the finished labels, committed before it in
4307f76): elements P 0.996 R 0.959, pairs P 0.962 R 0.835 F1 0.894, findings 3 of 5. The floors sit just under
it (FLOORS, with the misses by kind).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout14")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout14"
COMMUNE = "registre-activites-traitement-commune-fr.tsv"

# Floors just under the first blind run (2026-12-07, the analyser of commit 7358021; labels unchanged after
# the run): elements P 0.996 R 0.959 (tp 234, fp 1, fn 10); pairs P 0.962 R 0.835 F1 0.894 (76 of 91
# labelled, 79 predicted); findings 3 of 5. Every document's language, kind and quoted evidence right (the
# Italian notice with an English summary box read as Italian, the register as a register).
# Misses by kind (described, not quoted, so that they can be passed on without the documents).
# Elements (10 missed): sources three times, each a plain sentence with no "source", "obtain" or "collect"
# word (a French marketplace seller saying what it does with the order details the platform passes on; a
# one-line English note that whoever bought your ticket gave us your name; an app's "everything we know about
# your child comes from you or from what your child does"); the statutory or contractual requirement three
# times, each a bare consequence with no "required" or "mandatory" word (a French "without a name and address
# I cannot send your order" under a question heading; a UK funeral director's "we cannot arrange a cremation
# without what the statutory forms ask"; an app's "we need X and Y to create an account, everything else is
# optional"); transfers twice (a UK controller's "we do not send any information outside the United Kingdom";
# a UK agency's database "provided by a company in the United States", the record "stored there", though the
# IDTA after it was found as the safeguard); automated decisions twice (an Italian level test whose score
# places the student in a class automatically, a teacher checking on day one; a reading level suggested from
# quiz answers that orders the books an app shows).
# False elements (1): a French register's data-category cell naming compulsory vaccinations (a certificate)
# read as a statutory requirement to provide data (the kind the twelfth and thirteenth sets showed).
# Pairs: read in full, an Italian text's lettered purposes each closed by "(art. 6.1 lett. x GDPR)" (6 of 6),
# a help desk's h3 uses with a bold "Why we may:" line (5 of 5; its processor part rightly gave none), a <dl>
# of uses with "Base légale :" in each <dd>, two bases in one (7 of 7), a French DOCX table whose cells
# explain use, basis and retention (6 of 6), and a festival's legitimate-interest, legal-obligation and
# consent lists (8 of 8). Missed (15): the same festival's first list, four uses under "we use your
# information to keep our side of the ticket contract, that is to:", and its one vital-interests use under
# "to protect someone's life, we:"; a funeral director's numbered clauses: a funeral-plan clause with two
# bases (performing the plan contract; legally required to keep records and report to the regulator) gave
# neither, and donors' names sent to a charity only for donors who tick a box (consent by ticking); an
# Italian PDF table cell "lett. e) e lett. c) (debito informativo ...)" gave only the first basis; a French
# register cell of two bare article numbers with brackets ("6.1.e (...) ; 6.1.c pour ...") gave neither; an
# Italian prose paragraph whose basis is executing the relationship between a condòmino and the condominium
# "e quindi a un contratto"; an Italian bold run-in paragraph whose publication "è subordinata al suo
# consenso"; one of an app's six uses, a "Why we may:" line giving "our legitimate interests in ..."; a UK
# agency's right-to-work and agency-records paragraph, found with its legal-obligation basis but named by its
# first sentence, which shares too few words with the use (a matching miss, counted missed and extra too).
# Extra pairs (3): that one; a French "informations obligatoires" section read as a contract use; an Italian
# "Conferimento" section read as a legal-obligation use.
# Findings: a placeholder DPO, consent by browsing in a cookie bar and Privacy Shield found; missed a password
# e-mailed to the account's address after "Forgot password" (recoverable, in a Markdown section of its own),
# and a contradiction between "all customer data stored and processed exclusively in the European Union" and
# a later subsidiary in Manila that sees account details (under standard contractual clauses).
FLOORS = {
    "element_precision": 0.99,   # 0.996
    "element_recall": 0.95,      # 0.959
    "pair_precision": 0.95,      # 0.962
    "pair_recall": 0.83,         # 0.835
    "pair_f1": 0.89,             # 0.894
    "finding_recall": 0.6,       # 3 of 5
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
        "registers": [COMMUNE],
        "processors": [],
        "committed_as_labelled": True,
    }
    potter = (FOLDER / "atelier-ceramique-vendeur-place-de-marche-fr.html").read_text(encoding="utf-8")
    assert potter.count("<dt>") == potter.count("<dd>") == 6
    school = (FOLDER / "informativa-scuola-italiano-stranieri-riepilogo-en-it.html").read_text("utf-8")
    assert school.count('<aside class="riepilogo" lang="en">') == 1
    festival = (FOLDER / "festival-ticket-holders-privacy-uk-en.md").read_text(encoding="utf-8")
    assert festival.count(":\n\n- ") == 5  # five bases, each introducing its list of uses
    register = (FOLDER / COMMUNE).read_text(encoding="utf-8")
    assert register.count("\t") == 12 * 9


# The blind sets' tests (tests/analyse_blind.py), after this set's own.
globals().update(blind_tests(FOLDER, build, FLOORS, NOT_YET_RIGHT))
