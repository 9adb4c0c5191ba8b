"""Processing a document states it carries out on behalf of other controllers, as their processor.

A processor's notice (a SaaS company's, a payroll bureau's) states two kinds of processing: its own
(its customers' accounts, its invoicing), for which it is the controller, and what it does with its
customers' data on their behalf. GDPR Art. 28(3)(a) and Art. 29: a processor processes on the
controller's documented instructions; the purposes and the legal basis are the controller's, and
Art. 30(2) has the processor record that processing apart (the categories of processing carried
out on behalf of each controller), with no purpose or basis of its own.

The words are data (``data/structure.yaml``): a section whose heading names the processor's role
(``processor_sections``: "When we act as a processor", "Fatturino come responsabile del
trattamento") and not the controller's (``controller_sections``), a passage saying it processes
on someone's behalf (``processor_cues``: "on behalf of our customers", "per conto dei Clienti"), or
a table's role column (``columns.role``: "Ruolo", "Role") whose cell names the processor
(``processor_roles``: "Responsabile", "Processor", "Sous-traitant").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from garde.analyse.cues import Cues, countries_outside_eea
from garde.analyse.document import Document
from garde.analyse.passages import Passage, plain_headings
from garde.analyse.wording import contains, load_structure
from garde.taxonomy import LANGS, normalise


def processor_heading(text: str, language: str) -> bool:
    """Whether a heading names the processor's role, and not the controller's."""
    structure = load_structure()
    return contains(text, structure.words(structure.processor_sections, language)) \
        and not contains(text, structure.words(structure.controller_sections, language))


def processor_spans(document: Document, language: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the document's processor sections: from such a heading to the
    next heading of its level or above (a plain text's headings: its short lines standing alone)."""
    spans: list[tuple[int, int]] = []
    headings = document.headings or plain_headings(list(document.blocks), language)
    for i, heading in enumerate(headings):
        if processor_heading(heading.text, language):
            end = next((h.start for h in headings[i + 1:] if h.level <= heading.level), len(document.text))
            spans.append((heading.start, end))
    return spans


def processor_role(cell: str, language: str) -> bool:
    """Whether a table's role cell ("Ruolo": "Responsabile") says the company is the processor."""
    structure = load_structure()
    return contains(cell, structure.words(structure.processor_roles, language)) \
        and not contains(cell, structure.words(structure.controller_sections, language))


def says_none(cell: str, language: str) -> bool:
    """Whether a processor's record's cell says there is none ("Aucun", "None", "Nessuno"): no
    sub-processor, no transfer."""
    structure = load_structure()
    words = " ".join(w for w in normalise(cell).replace(".", " ").split())
    return words in structure.words(structure.none_cells, language)


def third_countries(cell: str) -> list[str]:
    """The ISO 3166 codes of the countries outside the EEA a processor's record's transfers cell
    names, in French, English or Italian ("États-Unis (clauses contractuelles types)": US), in the
    order it names them."""
    normal = normalise(cell)
    found: list[tuple[int, str]] = []
    for name, code in _country_codes().items():
        match = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", normal)
        if match is not None and code not in (c for _, c in found):
            found.append((match.start(), code))
    return [code for _, code in sorted(found)]


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    """Each third country's names (CLDR, fr/en/it, normalised) -> its ISO 3166 code."""
    from babel import Locale

    names = {normalise(n) for n in countries_outside_eea()}
    return {normalise(name): str(code) for lang in LANGS
            for code, name in Locale.parse(lang).territories.items()
            if normalise(name) in names and len(str(code)) == 2}


def says_on_behalf(text: str, language: str) -> bool:
    """Whether a passage says it is processing on another controller's behalf."""
    structure = load_structure()
    return contains(text, structure.words(structure.processor_cues, language))


# The elements a processor's own details cannot show (Art. 13(1)(a)-(d) are the controller's): a
# processor's document names its customer, the controller, at most generically ("the Client").
CONTROLLER_SIDE = ("controller_identity", "dpo_contact", "legal_basis_any", "legal_basis_per_purpose",
                   "legitimate_interests_described")
# ... and, in a notice speaking only as a processor, its contact: the processor's own, not the controller's
PROCESSOR_NOTICE_SIDE = (*CONTROLLER_SIDE, "controller_contact")


def processor_document(document: Document, found: Sequence[Passage], titles: Cues) -> bool:
    """Whether the whole document is a processor's description of the processing it carries out
    for a controller (a data processing agreement, its annex or schedule, Art. 28(3)): its title
    says so (``titles``: "Description des traitements effectués pour le compte du Client"). A
    processor's notice about its own customers, or its list of sub-processors, is not: it speaks
    of its own processing too."""
    title = next((p for p in found if p.text.strip()), None)
    return title is not None and bool(titles.find(title.text, title.words))



def on_behalf_only(found: Sequence[Passage], language: str) -> bool:
    """Whether a notice speaks only as its customers' processor ("Tessellate processes your data on
    behalf of the studio you booked with"): a passage says so, and none names a controller's role
    but to say whose processing it is. Its own name, address and contact then show no controller
    (Art. 13(1)(a) is the controller's: its customer, whom it does not name)."""
    structure = load_structure()
    controller = structure.words(structure.controller_sections, language)
    # "Your employer is the controller of your payroll data": whose processing it is, not the writer's
    customers = structure.words(structure.customer_controllers, language)
    on_behalf = [p for p in found if says_on_behalf(p.text, language)]
    return bool(on_behalf) and not any(contains(p.text, controller) and not says_on_behalf(p.text, language)
                                       and not contains(p.text, customers) for p in found)
