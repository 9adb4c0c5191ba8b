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

First blind run: not yet run (the documents and labels are committed first).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analyse_blind import blind_tests, shape
from tests.heldout6_documents import build

pytestmark = pytest.mark.xdist_group("analyse_heldout14")

FOLDER = Path(__file__).parent / "data" / "analyse" / "heldout14"
COMMUNE = "registre-activites-traitement-commune-fr.tsv"

# Floors: set just under the first blind run once it has run.
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
