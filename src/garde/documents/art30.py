"""The register of processing activities as a published table (GDPR Art. 30).

One sheet per role: the Art. 30(1) table for the activities the controller
carries out itself, with the columns of the CNIL model register plus a
legal-basis column and the DPIA decision (as the ICO template has them);
and the Art. 30(2) table for activities carried out as a processor on
behalf of other controllers. The writers in :mod:`garde.documents.formats`
turn this one structure into CSV, XLSX, Markdown, HTML and JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from garde.documents.inherited import StatementLines, common_statements, reading_row
from garde.documents.links import safe_href
from garde.documents.roles import (
    contract_cell,
    joint_lines,
    processing_categories_cell,
    served_controllers_cell,
    sub_processors_cell,
)
from garde.documents.trackers import activity_trackers, unattached_trackers
from garde.documents.wording import Cell, Line, Piece, Wording, cell
from garde.register.inherit import Inheritable
from garde.register.jurisdiction import supervisory_authority
from garde.register.model import LAW_BASED, Activity, Law, Recipient, Register, Role, Text, Transfer
from garde.taxonomy import Vocabulary, normalise
from garde.taxonomy.free import FreeTerm


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int  # characters, for spreadsheets


@dataclass(frozen=True)
class Sheet:
    """The activities of one role, one row per activity."""

    role: Role
    title: str
    heading: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Cell], ...]
    activity_ids: tuple[str, ...]
    # The rows as the HTML and Markdown print them: a statement the register makes for every
    # activity is printed once above the tables (``RegisterDocument.common``), and a row that
    # inherits it says so, then adds its own. CSV, XLSX and JSON keep ``rows``: exact per row.
    reading_rows: tuple[dict[str, Cell], ...] = ()
    # Per activity, the record's dates the register states: (label, date in words), never the build date.
    dates: tuple[tuple[tuple[str, str], ...], ...] = ()


@dataclass(frozen=True)
class RegisterDocument:
    lang: str
    title: str
    cover_title: str
    controller: str
    generated: date
    generated_text: str
    cover: tuple[tuple[str, Cell], ...]
    sheets: tuple[Sheet, ...] = field(default=())
    common_title: str = ""
    common: tuple[tuple[str, Cell], ...] = ()  # the register's statements for every activity


# Column key -> width in characters. GDPR Art. 30(1)(a)-(g) and the CNIL model register,
# plus the Art. 6 basis and the DPIA decision (ICO template).
CONTROLLER_COLUMNS: dict[str, int] = {
    "ref": 12, "name": 30, "controller": 22, "purposes": 45, "legal_bases": 35, "consent": 30,
    "data_subjects": 22, "data_categories": 40, "data_description": 35, "channels": 20, "sensitive": 25,
    "recipients": 30, "transfers": 30, "retention": 35, "security": 30, "dpia": 20, "sources": 20,
}
# GDPR Art. 30(2)(a)-(d), with the Art. 28(3) contract and the sub-processors (28(2), 28(4)).
PROCESSOR_COLUMNS: dict[str, int] = {
    "ref": 12, "name": 30, "processor": 22, "on_behalf_of": 35, "processing_categories": 45,
    "contract": 30, "sub_processors": 35, "data_categories": 40, "transfers": 30, "security": 30,
}

CNIL_GROUPS = ("identity", "personal_life", "professional_life", "economic", "connection",
               "location", "internet", "sensitive", "other")
# A recipient term's `cnil` extra (recipients.yaml) says whether the kind is internal or a
# processor; every other vocabulary kind is an external body; a kind in the register's own
# words ({other: ...}) is in none of these groups.


def build_register(register: Register, lang: str, today: date | None = None) -> RegisterDocument:
    words = Wording.for_register(register, lang)
    today = today or date.today()
    sheets = []
    # The trackers an activity uses, beside it, where the register lists any (ePrivacy Art. 5(3)).
    with_trackers = {**CONTROLLER_COLUMNS, "trackers": 40} if register.trackers else CONTROLLER_COLUMNS
    for role, columns, activities in (("controller", with_trackers, register.as_controller()),
                                      ("processor", PROCESSOR_COLUMNS, register.as_processor())):
        if not activities and (role == "processor" or register.controller.role == "processor"):
            continue
        rows = tuple(_row(register, a, words, tuple(columns)) for a in activities)
        sheets.append(Sheet(
            role=role,  # type: ignore[arg-type]
            title=words.ui(f"register.sheet.{role}"),
            heading=words.ui(f"register.heading.{role}", name=register.controller.name),
            columns=tuple(Column(key, words.ui(f"register.column.{key}"), width)
                          for key, width in columns.items()),
            rows=rows,
            activity_ids=tuple(a.id for a in activities),
            reading_rows=tuple(reading_row(register, a, words, row, STATEMENT_LINES)
                               for a, row in zip(activities, rows, strict=True)),
            dates=tuple(record_dates(a, words) for a in activities),
        ))
    return RegisterDocument(
        lang=lang,
        title=words.ui("register.title"),
        cover_title=words.ui("register.sheet.cover"),
        controller=register.controller.name,
        generated=today,
        generated_text=words.ui("common.word.generated", date=words.date(today)),
        cover=_cover(register, words, today),
        sheets=tuple(sheets),
        common_title=words.ui("register.heading.common"),
        common=common_statements(register, words, STATEMENT_LINES),
    )


def record_dates(activity: Activity, words: Wording) -> tuple[tuple[str, str], ...]:
    """When the activity's record was created and last updated, where the register says so."""
    return tuple((words.ui(f"register.dates.{name}"), words.date(day))
                 for name, day in (("created", activity.created), ("updated", activity.updated)) if day)


def _cover(register: Register, words: Wording, today: date) -> tuple[tuple[str, Cell], ...]:
    controller = register.controller
    role = "processor" if controller.role == "processor" else "controller"
    counts = {"controller": str(len(register.as_controller())),
              "processor": str(len(register.as_processor()))}
    rows: list[tuple[str, Cell]] = [
        (f"register.cover.{role}", cell([(words.name(controller.name),)])),
        ("register.cover.contact", cell(words.contact(controller.contact),
                                        words.gap("controller_contact"))),
        ("register.cover.other_contacts", cell([words.join(words.contact(other), "common.word.dash")
                                                for other in controller.other_contacts])),
        ("register.cover.country", cell([(Piece(words.country(controller.country), words.lang),)]
                                        if controller.country else [])),
        ("register.cover.registrations", cell(words.registrations(controller.registrations))),
        ("register.cover.dpo", cell(words.contact(controller.dpo), words.gap("dpo"))),
        ("register.cover.rights_contact",
         cell(words.contact(register.rights.route if register.rights else None))),
        ("register.cover.trackers", unattached_trackers(register, words)),
    ]
    if controller.representative:
        rows.append(("register.cover.representative", cell(words.contact(controller.representative))))
    if controller.uk_representative:
        rows.append(("register.cover.uk_representative", cell(words.contact(controller.uk_representative))))
    if controller.group_entities:
        rows.append(("register.cover.group_entities",
                     cell([(words.name(e),) for e in controller.group_entities])))
    authority = supervisory_authority(controller.supervisory_authority, controller.country)
    rows += [
        ("register.cover.supervisory_authority", cell([words.authority(authority)])),
        ("register.cover.activities", cell([(words.word("register.cover.activity_counts", **counts),)])),
        ("register.cover.source", cell([(Piece(register.source, words.lang),)] if register.source else [])),
        ("register.cover.generated", cell([(Piece(words.date(today), words.lang),)])),
        ("register.cover.language", cell([(Piece(words.language_name(words.lang), words.lang),),
                                          (words.word("register.cover.language_note"),)])),
    ]
    return tuple((words.ui(key), value) for key, value in rows if value.lines)


def _row(register: Register, activity: Activity, words: Wording, keys: tuple[str, ...]) -> dict[str, Cell]:
    applies = register.effective(activity)  # the register-level statements it inherits, then its own
    builders = {
        "ref": lambda: cell([(Piece(text, words.lang),) for text in (activity.ref, activity.id) if text]),
        "name": lambda: cell([(p,) for p in [words.text(activity.name)] if p]),
        "controller": lambda: cell([*controller_cell(register, words).lines,
                                    *joint_lines(register, activity, words)]),
        "processor": lambda: controller_cell(register, words),
        "purposes": lambda: purposes_cell(activity, words),
        "processing_categories": lambda: processing_categories_cell(activity, words),
        "contract": lambda: contract_cell(activity, words),
        "sub_processors": lambda: sub_processors_cell(activity, words),
        "legal_bases": lambda: cell(legal_basis_lines(activity, words), words.gap("legal_basis")),
        "data_subjects": lambda: cell([words.terms("subjects", activity.data_subjects)],
                                      words.gap("data_subjects")),
        "data_categories": lambda: cell(category_lines(activity.data_categories, words),
                                        words.gap("data_categories")),
        "data_description": lambda: cell([(p,) for p in [words.text(activity.data_description)] if p]),
        "sensitive": lambda: sensitive_cell(activity, words),
        "recipients": lambda: cell(recipient_lines(applies.recipient_list(), words), words.gap("recipients")),
        "transfers": lambda: cell(transfer_statement(register, activity, words)),
        "retention": lambda: cell(retention_lines(activity, words), words.gap("retention")),
        "security": lambda: cell(security_lines(applies.security_list(), words), words.gap("security")),
        "dpia": lambda: dpia_cell(activity, words),
        "sources": lambda: cell(source_lines(applies.source_list(), words)),
        "channels": lambda: cell([words.terms("channels", activity.channels)]),
        "consent": lambda: cell(consent_lines(activity, words)),
        "trackers": lambda: activity_trackers(register, activity.id, words),
        "on_behalf_of": lambda: served_controllers_cell(activity, words),
    }
    return {key: builders[key]() for key in keys}


def controller_cell(register: Register, words: Wording) -> Cell:
    lines: list[Line] = [(words.name(register.controller.name),)]
    for key in ("representative", "uk_representative"):
        representative = getattr(register.controller, key)
        name = words.text(representative.name) if representative else None
        if name:
            lines.append(words.labelled(f"common.word.{key}", (name,)))
    return cell(lines)


def purposes_cell(activity: Activity, words: Wording) -> Cell:
    return cell([(p,) for p in map(words.text, activity.purposes) if p], words.gap("purposes"))


def legal_basis_lines(activity: Activity, words: Wording) -> list[Line]:
    """Each Art. 6(1) basis: its label, the legitimate interest pursued or the obligation, the law a
    legal obligation or public task rests on (Art. 6(3)), then the source's own words and condition."""
    lines: list[Line] = []
    for basis in activity.legal_bases:
        line: list[Piece] = [words.term("legal_bases", basis.basis)]
        if basis.basis == "legitimate_interests":
            # GDPR Art. 13(1)(d): the interest pursued must be stated.
            interest = words.text(basis.legitimate_interest)
            line += [words.word("common.word.label_separator"), interest or words.gap("legitimate_interest")]
        obligation = words.text(basis.obligation)
        if obligation:
            line += [words.word("common.word.label_separator"), obligation]
        if basis.basis in LAW_BASED:
            line += [words.word("common.word.dash"), *law_line(basis.law, words)]
        wording, condition = words.text(basis.wording), words.text(basis.condition)
        dash = words.word("common.word.dash")
        if wording and normalise(wording.text) != normalise(line[0].text):  # not the label again
            line += [dash, words.word("common.word.as_worded"), *words.quoted(wording)]
        if condition:
            line += [dash, words.word("common.word.condition"), *words.quoted(condition)]
        lines.append(tuple(line))
    return lines




def consent_lines(activity: Activity, words: Wording) -> list[Line]:
    """How consent is given and withdrawn (Art. 7(1), 7(3)), and how long it lasts: where the activity
    rests on consent a missing way is a gap; elsewhere only what the register states."""
    consent, based = activity.consent, "consent" in activity.bases()
    lines: list[Line] = []
    for key, gap in (("capture", "consent_capture"), ("withdrawal", "withdrawal")):
        methods = getattr(consent, key) if consent else []
        if methods or based:
            how = words.terms("consent_methods", methods) if methods else (words.gap(gap),)
            lines.append(words.labelled(f"common.word.consent_{key}", how))
    if consent and consent.expiry:
        lines.append(words.labelled("common.word.consent_expiry",
                                    (Piece(words.period(consent.expiry), words.lang),)))
    return lines


def law_line(law: Law | None, words: Wording) -> Line:
    """``law: Code de commerce, art. L123-22 (https://...)``, or a gap (GDPR Art. 6(3))."""
    text = words.text(law.text) if law else None
    if law is None or text is None or not text.text.strip():
        return (words.gap("law"),)
    line: Line = (words.word("common.word.law"), text)
    href = safe_href(law.reference) if law.reference else None
    if law.reference and (href or not words.public):  # a public page links a law; a remark stays in
        line += (Piece(" (", words.lang), Piece(law.reference, words.lang, href=href), Piece(")", words.lang))
    return line


def category_group(vocabulary: Vocabulary, category: str) -> str:
    """The CNIL model-register group of a category (from it or its nearest ancestor)."""
    for term_id in (category, *vocabulary.ancestors(category)):
        term = vocabulary.get("categories", term_id)
        if term and term.extra.get("cnil") in CNIL_GROUPS:
            return str(term.extra["cnil"])
    return "other"


def category_lines(categories: list[str], words: Wording) -> list[Line]:
    """``Group : category, category`` per CNIL group, in the model register's order."""
    grouped: dict[str, list[str]] = {}
    for category in categories:
        grouped.setdefault(category_group(words.vocabulary, category), []).append(category)
    lines = []
    for group in CNIL_GROUPS:
        if group not in grouped:
            continue
        # The group's own root category alone (`personal_life` in "Vie personnelle") is the label;
        # beside other categories of the group it is listed too, or it would be lost.
        finer = [] if grouped[group] == [group] else grouped[group]
        label = (words.word(f"common.cnil_group.{group}"),)
        lines.append(words.labelled_line(label, words.terms("categories", finer)) if finer else label)
    return lines


def is_special(words: Wording, category: str) -> bool:
    term = words.vocabulary.get("categories", category)
    special = bool(term and term.extra.get("special"))
    return special or category_group(words.vocabulary, category) == "sensitive"


def sensitive_cell(activity: Activity, words: Wording) -> Cell:
    special = [c for c in activity.data_categories if is_special(words, c)]
    lines: list[Line] = []
    if special:
        lines.append(words.terms("categories", special))
    if special or activity.art9_condition:
        condition = (words.term("art9_conditions", activity.art9_condition) if activity.art9_condition
                     else words.gap("art9_condition"))
        lines.append(words.labelled("common.field.art9_condition", (condition,)))
    # "None" follows from the categories the register lists; with none listed it would be invented.
    return cell(lines, words.word("common.word.none") if activity.data_categories
                else words.gap("data_categories"))


def recipient_group(words: Wording, kind: str) -> str:
    if isinstance(kind, FreeTerm):  # the register's own words say nothing of internal or external
        return "other"
    term = words.vocabulary.get("recipients", kind)
    declared = term.extra.get("cnil") if term else None
    return str(declared) if declared in ("internal", "external", "processors") else "external"


def recipient_lines(recipients: Sequence[Recipient], words: Wording) -> list[Line]:
    """Recipients per CNIL group: internal, external bodies, processors (Art. 30(1)(d))."""
    grouped: dict[str, list[Line]] = {}
    for recipient in recipients:
        line: list[Piece] = [words.term("recipients", recipient.kind)]
        name = words.text(recipient.name)
        details = [p for p in (name, Piece(words.country(recipient.country), words.lang)
                               if recipient.country else None) if p]
        if details:
            line += [Piece(" (", words.lang), *words.join(details), Piece(")", words.lang)]
        grouped.setdefault(recipient_group(words, recipient.kind), []).append(tuple(line))
    return [words.labelled(f"common.recipient_group.{group}", words.join(grouped[group]))
            for group in ("internal", "external", "processors", "other") if group in grouped]


def transfer_statement(register: Register, activity: Activity, words: Wording) -> list[Line]:
    """What the register says of the activity's transfers: the list, its explicit "none", or a gap."""
    applies = register.effective(activity)
    state = applies.transfer_state
    if state == "listed":
        return transfer_lines(applies.transfer_list(), words)
    return [(words.word("common.word.no_transfer") if state == "none" else words.gap("transfers"),)]


def transfer_lines(transfers: Sequence[Transfer], words: Wording) -> list[Line]:
    """Country (or region), recipient and safeguard of each transfer outside the EEA (Art. 30(1)(e)).

    The safeguard is the vocabulary's label of the term the register names; nothing is inferred.
    """
    lines: list[Line] = []
    for transfer in transfers:
        region = words.text(transfer.region)
        place = Piece(words.country(transfer.country), words.lang) if transfer.country else region
        parts: list[Piece] = [place] if place else []
        if transfer.country and region:
            parts += [Piece(" (", words.lang), region, Piece(")", words.lang)]
        recipient = words.text(transfer.recipient)
        if recipient:
            parts += [words.word("common.word.dash"), recipient]
        safeguard = (words.term("safeguards", transfer.safeguard) if transfer.safeguard
                     else words.gap("safeguard"))
        parts += [words.word("common.word.dash"), safeguard]
        lines.append(tuple(parts))
    return lines


def security_lines(measures: Sequence[Text], words: Wording) -> list[Line]:
    """The security measures as the register describes them (Art. 30(1)(g))."""
    return [(p,) for p in map(words.text, measures) if p]


def source_lines(sources: Sequence[str], words: Wording) -> list[Line]:
    return [words.terms("sources", sources)]


# How each statement a register may make for every activity is printed (garde.documents.inherited).
STATEMENT_LINES: dict[Inheritable, StatementLines] = {
    "recipients": recipient_lines, "transfers": transfer_lines,
    "security_measures": security_lines, "sources": source_lines,
}


def retention_lines(activity: Activity, words: Wording) -> list[Line]:
    """Each rule, for the categories it covers (Art. 30(1)(f))."""
    lines: list[Line] = []
    for rule in activity.retention:
        categories = (words.terms("categories", rule.categories) if rule.categories
                      else (words.word("common.word.all_categories"),))
        lines.append(words.labelled_line(categories, words.retention(rule))
                     if len(activity.retention) > 1 or rule.categories else words.retention(rule))
    if activity.retention and all(rule.categories for rule in activity.retention):
        named = [c for rule in activity.retention for c in rule.categories]
        left = [c for c in activity.data_categories if not any(words.vocabulary.covers(n, c) for n in named)]
        if left:  # categories no rule names: their period is not stated, which is a gap, not silence
            lines.append(words.labelled_line(words.terms("categories", left), (words.gap("retention"),)))
    # How the rules combine, only where the register states it: silence is not "first reached".
    if len(activity.retention) > 1 and "retention_combination" in activity.model_fields_set:
        lines.append((words.word(f"common.retention_combination.{activity.retention_combination}"),))
    return lines


def dpia_cell(activity: Activity, words: Wording) -> Cell:
    dpia = activity.dpia
    if dpia is None:
        return cell([], words.gap("dpia"))
    line: list[Piece] = [words.word("common.word.required" if dpia.required
                                    else "common.word.not_required")]
    if dpia.required and dpia.done is not None:
        done = words.word("common.word.done" if dpia.done else "common.word.not_done")
        line += [Piece(" (", words.lang), done, Piece(")", words.lang)]
    reason = words.text(dpia.reason)
    if reason:
        line += [words.word("common.word.dash"), reason]
    return cell([tuple(line)])
