"""``garde analyse``: a document read, its language told, its Art. 13 elements found, its
problems listed; the report as JSON-ready data or as text for a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from garde.analyse.activities import extract_activities, stated_for_all
from garde.analyse.art13 import ELEMENTS, Element, detect_elements, load_rules
from garde.analyse.cues import compile_cues
from garde.analyse.document import Document
from garde.analyse.draft import draft_register
from garde.analyse.findings import Finding, find_problems
from garde.analyse.language import check_language, detect_language
from garde.analyse.on_behalf import CONTROLLER_SIDE, PROCESSOR_NOTICE_SIDE, on_behalf_only, processor_document
from garde.analyse.passages import Passage, passages
from garde.analyse.readers import read

Kind = Literal["notice", "register"]

# A register speaks of the controller's activities in the third person; a notice addresses the
# person whose data it is ("you", "vous", "tu"/"Lei").
_ADDRESS = compile_cues(["you", "your", "yours", "vous", "votre", "vos", "tu", "tuo", "tuoi", "tua", "tue",
                         "ti", "lei", "suoi"])
_ADDRESSED = 0.004  # words addressing the reader, per word: a register has next to none
# The title of a register (its first line).
_REGISTER_TITLE = compile_cues([
    "record of processing activities", "records of processing activities", "register of processing",
    "registre des activités de traitement", "registre des traitements", "liste des activités de traitement",
    "activités de traitement", "registro delle attività di trattamento", "registro dei trattamenti",
    "article 30", "art 30"])


@dataclass(frozen=True)
class Analysis:
    """What ``garde analyse`` found in one document."""

    source: str
    language: str
    kind: Kind
    art13: dict[str, Element]
    findings: list[Finding]
    # Each with its role: "controller" (the document's own purposes) or "processor" (processing
    # it carries out on behalf of other controllers, GDPR Arts. 28, 30(2): no legal basis of its own).
    activities: list[dict[str, Any]] = field(default_factory=list)
    # Bases tied to no purpose: in the text report and the draft's notes, not in the JSON (its shape
    # is the issue's: language, kind, art13, activities, findings).
    stated_for_all: list[dict[str, str]] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """The report's JSON (docs/cli.md, ``garde analyse --format json``)."""
        return {
            "language": self.language,
            "kind": self.kind,
            "art13": {name: self.art13[name].to_data() for name in ELEMENTS},
            "activities": self.activities,
            "findings": [f.to_data() for f in self.findings],
        }


def analyse_file(path: Path, lang: str = "auto", today: date | None = None) -> Analysis:
    """Read ``path`` and analyse it (``lang``: ``auto`` to detect it, else fr, en or it)."""
    return analyse(read(path), lang, today)


def analyse(document: Document, lang: str = "auto", today: date | None = None) -> Analysis:
    """Analyse a document already read."""
    language = check_language(lang) if lang != "auto" else \
        detect_language(document.text, declared=document.declared_language)
    document = replace(document, language=language)
    found = passages(document)
    processor = processor_document(document, found, load_rules().processor_document)
    everything = extract_activities(document, language, processor)
    activities = [a.as_json() for a in everything]
    extracted = [a for a in everything if a.role == "controller"]
    untied = [{"legal_basis": e.value, "evidence": e.excerpt} for e in stated_for_all(document, language)]
    elements = detect_elements(found)
    if processor:  # GDPR Art. 28: the controller is the processor's customer, not named by its details
        elements.update({name: Element(False) for name in CONTROLLER_SIDE})
    elif not any(a.legal_bases for a in extracted) and on_behalf_only(found, language):
        elements.update({name: Element(False) for name in PROCESSOR_NOTICE_SIDE})
    if not elements["purposes"].present:
        # Art. 13(1)(c): a purpose the layout reads (a bullet, a row, a heading over its basis).
        purpose = next((e for a in extracted for e in a.evidence if e.field == "purpose"), None)
        if purpose is not None:
            elements["purposes"] = Element(True, purpose.excerpt, purpose.start)
    if not elements["legal_basis_per_purpose"].present and not processor:
        # Art. 13(1)(c): a basis the document ties to one of its purposes, however laid out.
        tied = next((e for a in extracted for e in a.evidence if e.field == "legal_basis"), None)
        if tied is not None:
            elements["legal_basis_per_purpose"] = Element(True, tied.excerpt, tied.start)
    if elements["legal_basis_per_purpose"].present and not elements["legal_basis_any"].present:
        # a basis tied to a purpose is a basis stated, whatever its words ("we need it to run your
        # membership")
        elements["legal_basis_any"] = elements["legal_basis_per_purpose"]
    findings = find_problems(found, language, today, elements["transfer_safeguards"].present)
    return Analysis(document.source, language, document_kind(document, found, processor), elements, findings,
                    activities, untied)


def draft_file(path: Path, lang: str = "auto") -> str:
    """The draft register (YAML that ``garde lint`` reads) of the notice or register at ``path``:
    each value followed by its excerpt, the rest left for the DPO to write."""
    document = read(path)
    language = check_language(lang) if lang != "auto" else \
        detect_language(document.text, declared=document.declared_language)
    document = replace(document, language=language)
    processor = processor_document(document, passages(document), load_rules().processor_document)
    return draft_register(document, extract_activities(document, language, processor), language)


def document_kind(document: Document, found: Sequence[Passage], processor: bool = False) -> Kind:
    """``register`` when most of the text is tables (or the title says so) and it does not address
    the reader; ``notice`` otherwise. A processor's document (``processor``) that lists the
    processing it carries out in a table is its Art. 30(2) record, a register, though it addresses
    its customer ("vous", "you")."""
    total = sum(len(b.text) for b in document.blocks) or 1
    in_tables = sum(len(b.text) for b in document.blocks if b.kind == "cell")
    words = sum(p.word_count() for p in found) or 1
    addressed = sum(len(_ADDRESS.phrases.findall(_unaddressed(p.words))) for p in found
                    if _ADDRESS.phrases) / words
    titled = any(_REGISTER_TITLE.find(p.text, p.words) for p in found[:1])
    mostly_tables = in_tables / total >= 0.5 and any(len(t.rows) >= 3 for t in document.tables)
    if processor and any(len(t.rows) >= 3 for t in document.tables):
        return "register"
    return "register" if (mostly_tables or titled) and addressed < _ADDRESSED else "notice"


# Words holding an address word that address no one: a register's "Prise de rendez-vous" (an
# appointment) is no "vous".
_COMPOUNDS = re.compile(r"\brendez vous\b")


def _unaddressed(words: str) -> str:
    return _COMPOUNDS.sub("rendez", words)


def render_text(analysis: Analysis) -> str:
    """The report for a person: the elements found (with their evidence), those missing, the findings."""
    missing = [name for name in ELEMENTS if not analysis.art13[name].present]
    lines = [f"{analysis.source}: {analysis.kind}, language {analysis.language}",
             f"Art. 13 elements: {len(ELEMENTS) - len(missing)} of {len(ELEMENTS)} found"]
    for name in ELEMENTS:
        element = analysis.art13[name]
        if element.present:
            excerpt = element.evidence if len(element.evidence) <= 100 else element.evidence[:97] + "..."
            lines.append(f"  found    {name}: \"{excerpt}\"")
    lines += [f"  missing  {name}" for name in missing]
    lines.append(f"Activities: {len(analysis.activities)}")
    for activity in analysis.activities:
        bases = ", ".join(activity["legal_bases"]) or "no legal basis tied to it"
        lines.append(f"  {activity['purpose'][:100]}: {bases}")
    for untied in analysis.stated_for_all:
        lines.append(f"  stated for no particular purpose: {untied['legal_basis']}")
    lines.append(f"Findings: {len(analysis.findings)}")
    for finding in analysis.findings:
        excerpt = finding.evidence if len(finding.evidence) <= 100 else finding.evidence[:97] + "..."
        lines.append(f"  {finding.code} {finding.severity} {finding.message} ({finding.reference})")
        lines.append(f"    \"{excerpt}\"")
    return "\n".join(lines)
