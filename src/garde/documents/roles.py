"""What the documents say of the roles: the Art. 30(2) cells of a processor activity, the joint
controllers and their arrangement (Art. 26), and the notice's sentence on processing done for others.

Every statement comes from a register field; what the register leaves out is a visible gap.
"""

from __future__ import annotations

from garde.documents.links import safe_href
from garde.documents.wording import Cell, Line, Piece, Wording, cell
from garde.register.model import Activity, Register, Text
from garde.register.roles import ControllerRef, ProcessorContract, every_controller_authorises


def gap(words: Wording, field: str) -> Piece:
    """A visible marker for a role field the register leaves empty (``roles.field.<field>``)."""
    return Piece(words.ui("common.gap.field", field=words.ui(f"roles.field.{field}")), words.lang, gap=True)


def _name(words: Wording, name: str) -> Piece:
    return Piece(name, words.register_lang)


def party_line(other: ControllerRef, words: Wording, contact_gap: str) -> Line:
    """``Name — its contact — DPO: ... — Representative: ...``; a gap for a missing contact."""
    dash = "common.word.dash"
    line: Line = (_name(words, other.name), words.word(dash))
    contact = words.join(words.contact(other.contact), dash)
    line += contact or (gap(words, contact_gap),)
    for label, extra in (("roles.word.dpo", other.dpo), ("common.word.representative", other.representative)):
        lines = words.contact(extra)
        if lines:
            line += (words.word(dash), *words.labelled(label, words.join(lines, dash)))
    return line


# -- Art. 30(2): the processor sheet ------------------------------------------------------------


def served_controllers_cell(activity: Activity, words: Wording) -> Cell:
    """Art. 30(2)(a): each controller the processor acts for, with its contact, DPO, representative."""
    return cell([party_line(served, words, "served_contact") for served in activity.on_behalf_of],
                words.gap("on_behalf_of"))


def processing_categories_cell(activity: Activity, words: Wording) -> Cell:
    """Art. 30(2)(b): the activity's purposes (for every controller), then each controller's own."""
    lines: list[Line] = [(p,) for p in map(words.text, activity.purposes) if p]
    for served in activity.on_behalf_of:
        own = _texts(served.processing, words)
        if own:
            lines.append(words.labelled_line((_name(words, served.name),), words.join(own)))
        elif not lines:
            lines.append(words.labelled_line((_name(words, served.name),), (words.gap("purposes"),)))
    return cell(lines, words.gap("purposes"))


def contract_cell(activity: Activity, words: Wording) -> Cell:
    """Art. 28(3): the contract with each controller, and its authorisation of sub-processors (28(2))."""
    lines: list[Line] = []
    for served in activity.on_behalf_of:
        value = contract_line(served.contract, words)
        if served.sub_processor_authorisation:
            value += (words.word("common.word.dash"),
                      words.word(f"roles.authorisation.{served.sub_processor_authorisation}"))
        lines.append(words.labelled_line((_name(words, served.name),), value))
    return cell(lines, gap(words, "contract"))


def contract_line(contract: ProcessorContract | None, words: Wording) -> Line:
    if contract is None:
        return (gap(words, "contract"),)
    parts: list[Line] = []
    if contract.reference:
        parts.append((Piece(contract.reference, words.register_lang),))
    if contract.date:
        parts.append(words.labelled("roles.word.dated", (Piece(words.date(contract.date), words.lang),)))
    wording = words.text(contract.wording)
    if wording:
        parts.append((words.word("common.word.as_worded"), *words.quoted(wording)))
    return words.join(parts, "common.word.dash")


def sub_processors_cell(activity: Activity, words: Wording) -> Cell:
    """Each sub-processor: name (country) — what it does — the authorisation it was engaged under."""
    everyone = every_controller_authorises(activity)
    lines: list[Line] = []
    for sub in activity.sub_processors:
        line: Line = (_name(words, sub.name),)
        if sub.country:
            line += (Piece(f" ({words.country(sub.country)})", words.lang),)
        what = words.text(sub.processing)
        if what:
            line += (words.word("common.word.dash"), what)
        if sub.authorisation:
            line += (words.word("common.word.dash"), words.word(f"roles.authorisation.{sub.authorisation}"))
        elif not everyone:
            line += (words.word("common.word.dash"), gap(words, "sub_processor_authorisation"))
        lines.append(line)
    if activity.no_sub_processor and not lines:
        return cell([(words.word("roles.word.no_sub_processor"),)])
    return cell(lines, gap(words, "sub_processors"))


# -- Art. 26: joint controllers -------------------------------------------------------------------


def joint_lines(register: Register, activity: Activity, words: Wording) -> list[Line]:
    """For the Art. 30(1)(a) controller column: the joint controllers and the arrangement."""
    if register.role_of(activity) != "joint_controller":
        return []
    others = [party_line(o, words, "joint_contact") for o in activity.joint_controllers]
    lines = [words.labelled("roles.label.joint_controllers",
                            words.join(others, "common.word.list_separator") if others
                            else (gap(words, "joint_controllers"),))]
    return [*lines, *(words.labelled(label, value) for label, value in arrangement_fields(activity, words))]


def arrangement_fields(activity: Activity, words: Wording) -> list[tuple[str, Line]]:
    """Art. 26(1)-(2): the essence of the arrangement (or a gap), where to read it, the contact point."""
    arrangement = activity.arrangement
    essence = words.text(arrangement.essence) if arrangement else None
    where = _where(arrangement.available_at, words) if arrangement else None
    fields: list[tuple[str, Line]] = []
    if essence and essence.text.strip():
        fields.append(("roles.label.essence", (essence,)))
    elif not where:
        fields.append(("roles.label.essence", (gap(words, "essence"),)))
    if where:
        fields.append(("roles.label.available_at", where))
    if arrangement and arrangement.contact_point:
        fields.append(("roles.label.contact_point", (_name(words, arrangement.contact_point),)))
    if arrangement and arrangement.reference:
        fields.append(("roles.label.reference", (_name(words, arrangement.reference),)))
    return fields


def joint_party_fields(activity: Activity, words: Wording) -> list[tuple[str, Cell]]:
    """The notice's fields of one joint activity: the other controllers, then the arrangement."""
    others = cell([party_line(o, words, "joint_contact") for o in activity.joint_controllers],
                  gap(words, "joint_controllers"))
    return [(words.ui("roles.label.joint_controllers"), others),
            *((words.ui(label), cell([value])) for label, value in arrangement_fields(activity, words))]


def _where(value: Text | None, words: Wording) -> Line | None:
    piece = words.text(value)
    if piece is None or not piece.text.strip():
        return None
    href = safe_href(piece.text) if piece.text.startswith(("https://", "http://")) else None
    return (Piece(piece.text, piece.lang, href=href),)


# -- the notice: processing done for others ---------------------------------------------------------


def processor_sentence(register: Register, words: Wording) -> Line | None:
    """One sentence, only where the register has processor activities: the controller also acts as a
    processor on behalf of other controllers, for the activities (services) the register names."""
    activities = register.as_processor()
    if not activities:
        return None
    line: Line = (words.word("roles.notice.processor", controller=register.controller.name),)
    services = [p for p in (words.text(a.name) for a in activities) if p and p.text.strip()]
    if services:
        listed = words.join(services, "roles.notice.service_separator")
        line += (Piece(" ", words.lang), *words.labelled("roles.notice.services", listed),
                 Piece(".", words.lang))
    return line


def _texts(values: list[Text], words: Wording) -> list[Piece]:
    return [p for p in map(words.text, values) if p and p.text.strip()]

