"""A draft register, in garde's own YAML, from the activities a document states.

The draft is for a DPO to review: every value it holds was read from the document, and the excerpt
it was read from follows it as a comment. Nothing is invented: what the document does not say stays
absent for ``garde lint`` to report (data subjects, recipients, transfers...), a basis the document
ties to no purpose stays out of the activities (the draft's ``notes`` name it), and the controller,
which this draft does not read, is an explicit placeholder to fill.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

from garde.analyse.activities import Activity, Evidence, stated_for_all
from garde.analyse.document import Document
from garde.analyse.findings import alternative_bases
from garde.analyse.on_behalf import says_none, third_countries
from garde.analyse.wording import find_terms
from garde.taxonomy import LANGS

#: The controller's name until the DPO writes it: the linter reports the controller it cannot reach.
CONTROLLER_PLACEHOLDER = "[TO FILL: the controller's name]"
#: Longest excerpt a comment quotes; a longer one is cut, marked with "…".
COMMENT = 160
_ID_LENGTH = 40


def draft_register(document: Document, activities: list[Activity], language: str) -> str:
    """The draft register's YAML text; ``garde lint`` reads it (and reports its gaps)."""
    lang = language or document.language
    lang = lang if lang in LANGS else "en"
    untied = stated_for_all(document, lang)
    lines = [
        f"# Draft register read by `garde analyse` from {_comment(document.source)}: to review.",
        "# Each value is followed by the excerpt of the document it was read from; nothing else is",
        "# stated. What the document does not say is absent, for `garde lint` to report.",
        f"language: {lang}",
        f"source: {_quote(document.source)}",
    ]
    if untied:
        lines += _untied(untied)
    lines += [
        "controller:",
        "  # The controller is not read from the document: write its name, contact and country.",
        f"  name: {_quote(CONTROLLER_PLACEHOLDER)}",
        "activities:" if activities else "activities: []",
    ]
    ids: set[str] = set()
    for activity in activities:
        if activity.role == "processor":
            lines += _on_behalf(activity, _unique_id(activity, ids), lang)
        else:
            lines += _activity(activity, _unique_id(activity, ids), lang)
    return "\n".join(lines) + "\n"


def _on_behalf(activity: Activity, activity_id: str, language: str) -> list[str]:
    """Processing the document says it carries out for another controller, as its processor (GDPR
    Art. 28): a `role: processor` activity of the Art. 30(2) record, with no purpose or legal basis of
    its own (they are the controller's); the controller served, the sub-processors, the transfers and
    the security measures as the document states them (a processor's record's row), nothing else."""
    by_field: dict[str, list[Evidence]] = {}
    for evidence in activity.evidence:
        by_field.setdefault(evidence.field, []).append(evidence)
    purpose = by_field["purpose"][0]
    lines = [
        f"  - id: {_quote(activity_id)}",
        f"    # read as: {activity.layout}, carried out on behalf of a controller (GDPR Art. 28, 30(2)):",
        "    # no purpose or legal basis of its own, the controller's",
        f"    name: {_quote(_one_line(purpose.value))}  # at character {purpose.start}",
        "    role: processor",
        "    purposes:  # the categories of processing carried out for the controller (Art. 30(2)(b))",
        *(f"      - {_quote(_one_line(part))}  # at character {start}"
          for part, start in _parts(purpose.value, purpose.start)),
    ]
    lines += _terms("data_categories", by_field.get("category", []))
    served = by_field.get("on_behalf_of", [])
    if served:
        lines += ["    on_behalf_of:",
                  f"      - name: {_quote(_one_line(served[0].value))}  # at character {served[0].start}"]
        email = next(((e, m) for e in (*by_field.get("controller_contact", []), served[0])
                      for m in [_EMAIL.search(e.value)] if m), None)
        if email is not None:  # Art. 30(2)(a): the controller's contact details, an address quoted
            cell, found = email
            lines.append(f"        contact: {{email: {_quote(found.group())}}}"
                         f"  # at character {cell.start + found.start()}")
    else:
        lines.append("    # the document names no controller it is carried out for (on_behalf_of)")
    for cell in by_field.get("sub_processors", [])[:1]:
        if says_none(cell.value, language):
            lines.append(f"    no_sub_processor: true  # {_comment(cell.excerpt)}")
        else:
            lines += ["    sub_processors:  # as the document names them",
                      *(f"      - name: {_quote(name)}  # at character {at}" for name, at in _listed(cell))]
    for cell in by_field.get("transfers", [])[:1]:
        if says_none(cell.value, language):
            lines.append(f"    no_transfer: true  # {_comment(cell.excerpt)}")
            continue
        countries = third_countries(cell.value)
        if not countries:
            lines.append(f"    # transfers, as the document states them: {_comment(cell.excerpt)}")
            continue
        safeguards = [m.term for m in find_terms("safeguards", cell.value)]
        lines.append(f"    transfers:  # {_comment(cell.excerpt)}")
        for code in countries:  # Art. 30(2)(c): the third country, and the safeguard the cell names
            safeguard = f", safeguard: {safeguards[0]}" if len(safeguards) == 1 else ""
            lines.append(f"      - {{country: {code}{safeguard}}}")
    for cell in by_field.get("security_measures", [])[:1]:
        lines += ["    security_measures:",
                  f"      - {_quote(_one_line(cell.value))}  # at character {cell.start}"]
    return lines


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _listed(cell: Evidence) -> list[tuple[str, int]]:
    """The names a cell lists, one a line or apart by ";" (a comma may be inside a name: "Borghi
    S.p.A., Faenza"), each with its place in the text."""
    found = []
    for match in re.finditer(r"[^;\n]+", cell.value):
        name = match.group().strip()
        if name:
            found.append((_one_line(name), cell.start + match.start() + match.group().index(name)))
    return found


def _untied(untied: list[Evidence]) -> list[str]:
    bases = ", ".join(dict.fromkeys(e.value for e in untied))
    lines = ["# The document states these legal bases without tying them to a purpose; they are NOT",
             "# copied into the activities below: decide which activity each one covers."]
    lines += [f"#   {e.value}: {_comment(e.excerpt)}" for e in untied]
    note = (f"The document states the legal bases {bases} for no one purpose; "
            "the analyser did not assign them to any activity.")
    lines.append(f"notes: {_quote(note)}")
    return lines


def _activity(activity: Activity, activity_id: str, language: str) -> list[str]:
    by_field: dict[str, list[Evidence]] = {}
    for evidence in activity.evidence:
        by_field.setdefault(evidence.field, []).append(evidence)
    purpose = by_field["purpose"][0]
    name = by_field.get("name", [purpose])[0]
    lines = [
        f"  - id: {_quote(activity_id)}",
        f"    # read as: {activity.layout}",
        f"    name: {_quote(_one_line(name.value))}  # at character {name.start}",
        "    purposes:",
        *(f"      - {_quote(_one_line(part))}  # at character {start}"
          for part, start in _parts(purpose.value, purpose.start)),
    ]
    if activity.legal_bases:
        offers = (alternative_bases(e.excerpt, language, activity.layout == "table")
                  for e in by_field.get("legal_basis", []))
        offered = next((o for o in offers if o is not None), None)
        if offered is not None:  # GA006: the document leaves the choice open
            lines.append(f"    # the document offers {_comment(offered[0])} or {_comment(offered[1])}: "
                         "keep the one basis decided (Art. 13(1)(c))")
        lines.append("    legal_bases:")
        for evidence in by_field.get("legal_basis", []):
            lines += [f"      - basis: {evidence.value}",
                      f"        wording: {_quote(_one_line(evidence.excerpt))}"
                      f"  # at character {evidence.start}"]
    else:
        lines.append("    # no legal basis tied to this purpose in the document")
    lines += _terms("data_categories", by_field.get("category", []))
    lines += _recipients(by_field.get("recipient", []))
    if activity.retention is not None:
        retention = activity.retention
        at = next(e.start for e in by_field["retention"])
        lines.append("    retention:")
        if retention.rule is not None:
            lines += [f"      - rule: {_quote(retention.rule)}",
                      f"        wording: {_quote(_one_line(retention.text))}  # at character {at}"]
        else:
            lines.append(f"      - criterion: {_quote(_one_line(retention.text))}  # at character {at}")
    return lines


def _parts(text: str, start: int) -> list[tuple[str, int]]:
    """The purposes a cell lists on lines of their own ("...<br>...", as Markdown tables write them)."""
    parts = []
    begin = 0
    # Between the breaks (a search from inside "<br>" would read its "br>" as a purpose).
    for separator in (*re.finditer(r"<br\s*/?>", text), None):
        end = separator.start() if separator else len(text)
        piece = text[begin:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            parts.append((piece.strip(), start + begin + lead))
        begin = separator.end() if separator else end
    return parts or [(text, start)]


def _terms(key: str, found: Iterable[Evidence]) -> list[str]:
    found = list(found)
    if not found:
        return []
    return [f"    {key}:", *(f"      - {e.value}  # {_comment(e.excerpt)}" for e in found)]


def _recipients(found: list[Evidence]) -> list[str]:
    if not found:
        return []
    return ["    recipients:", *(f"      - kind: {e.value}  # {_comment(e.excerpt)}" for e in found)]


# What YAML does not allow in a file, or reads as a line break inside a quoted text.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's), characters YAML refuses
    escaped."""
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _comment(text: str) -> str:
    """An excerpt for a comment: on one line, cut past :data:`COMMENT` characters, characters YAML
    refuses shown as U+FFFD."""
    line = _NOT_PRINTABLE.sub("\ufffd", _one_line(text))
    return "«" + (line if len(line) <= COMMENT else line[:COMMENT].rstrip() + "…") + "»"


def _unique_id(activity: Activity, taken: set[str]) -> str:
    """An activity id from its name or purpose: ASCII words joined by hyphens, unique."""
    text = unicodedata.normalize("NFKD", activity.name or activity.purpose)
    ascii_text = text.encode("ascii", "ignore").decode().lower()
    base = "-".join(re.findall(r"[a-z0-9]+", ascii_text))[:_ID_LENGTH].strip("-") or "activity"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate
