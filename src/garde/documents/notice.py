"""The privacy notice (GDPR Art. 13, and Art. 14 where data is not collected from the subject).

Built from the activities the register's owner carries out as controller
(a processor's activities are its clients' to explain). Each section cites
the paragraph of Art. 13 it satisfies; what the register does not state
appears as a visible gap, so the notice shows the DPO what is missing
instead of hiding it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from garde.documents.art30 import (
    STATEMENT_LINES,
    category_lines,
    consent_lines,
    is_special,
    legal_basis_lines,
    recipient_lines,
    retention_lines,
    transfer_statement,
)
from garde.documents.inherited import once_then_each, said_once
from garde.documents.links import safe_href
from garde.documents.notice_layout import (
    Counts,
    content_version,
    finisher,
    map_cell,
    map_table,
    pieces_of_table,
    summary_table,
    updated_line,
)
from garde.documents.notice_rights import activity_name, rights_closing, rights_items
from garde.documents.roles import joint_party_fields, processor_sentence
from garde.documents.templating import render
from garde.documents.trackers import Table, tracker_table
from garde.documents.wording import Cell, Line, Piece, Wording, cell
from garde.problems import GardeError
from garde.register.jurisdiction import jurisdiction, supervisory_authority
from garde.register.model import REQUIRING, Activity, Register
from garde.taxonomy import LANGS
from garde.taxonomy.free import FreeTerm

NOTICE_FORMATS = ("html", "md")


@dataclass(frozen=True)
class Entry:
    """One activity within a section: a heading and labelled fields."""

    heading: Line
    fields: tuple[tuple[str, Cell], ...]


@dataclass
class Section:
    key: str
    title: str
    article: str
    paragraphs: list[Line] = field(default_factory=list)
    items: list[Line] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    closing: list[Line] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True)
class NoticeDocument:
    lang: str
    title: str
    controller: str
    intro: str
    generated_text: str
    sections: tuple[Section, ...]
    summary: Table | None = None  # purpose, legal basis, retention: one line per activity
    summary_title: str = ""
    summary_label: str = ""
    contents_title: str = ""
    updated: Line = ()  # "last updated" as the register sets it, or a gap
    version_label: str = ""
    version: str = ""  # :func:`notice_version`: a hash of the content, the same on every build
    counts: Counts = field(default_factory=lambda: Counts(0, 0))
    draft: str | None = None  # the banner of a notice with gaps or untranslated passages
    table_label: str = ""


def build_notice(register: Register, lang: str, today: date | None = None) -> NoticeDocument:
    words = Wording.for_register(register, lang)
    words.public = True
    activities = register.as_controller()  # alone or jointly; a processor's are its clients' to explain
    name = register.controller.name
    updated = words.date(register.updated) if register.updated else None
    notice = NoticeDocument(
        lang=lang,
        title=words.ui("notice.title"),
        controller=name,
        intro=words.ui("notice.intro", controller=name),
        generated_text="",
        sections=tuple(notice_sections(register, words)),
        summary=summary_table(activities, words) if activities else None,
        summary_title=words.ui("notice.layout.summary"),
        summary_label=words.ui("notice.layout.summary_label"),
        contents_title=words.ui("notice.layout.contents"),
        updated=updated_line(updated, words),
        version_label=words.ui("notice.layout.version"),
        table_label=words.ui("notice.layout.trackers_label"),
    )
    notice = _finish(notice, words)
    return replace(notice, version=content_version(write_notice(notice, "md")),
                   generated_text=words.ui("common.word.generated", date=words.date(today or date.today())))


def notice_sections(register: Register, words: Wording) -> list[Section]:
    """The sections of the notice, before its finish (typography, untranslated markers)."""
    activities = register.as_controller()
    builders = [_controller, _dpo, _purposes, _joint, _sources, _recipients, _transfers, _retention, _rights,
                _consent, _trackers, _children, _complaint, _automated]
    return [s for build in builders if (s := build(register, activities, words)) is not None]


def notice_version(register: Register, lang: str) -> str:
    """The version of ``register``'s notice in ``lang``: the hash of its rendered text without the
    generation date (so every build of the same register gives the same version). The consent ledger
    records it, so a consent links to the exact notice shown."""
    if lang not in LANGS:
        raise GardeError(f"unknown language {lang!r} for the notice; expected one of {', '.join(LANGS)}")
    return build_notice(register, lang).version


def _finish(notice: NoticeDocument, words: Wording) -> NoticeDocument:
    """Untranslated passages marked, gaps counted and the draft banner set (French typography is the
    HTML page's: :func:`~garde.documents.notice_layout.html_typeset`)."""
    fn = finisher(words)
    sections = tuple(replace(s, paragraphs=[fn(x) for x in s.paragraphs], items=[fn(x) for x in s.items],
                             closing=[fn(x) for x in s.closing], table=map_table(s.table, fn),
                             entries=[Entry(fn(e.heading), tuple((k, map_cell(v, fn)) for k, v in e.fields))
                                      for e in s.entries])
                     for s in notice.sections)
    notice = replace(notice, sections=sections, summary=map_table(notice.summary, fn),
                     updated=fn(notice.updated))
    pieces = [p for line in notice_lines(notice) for p in line]
    counts = Counts(sum(p.gap for p in pieces), sum(p.untranslated and p.lang != words.lang for p in pieces))
    draft = words.ui("notice.layout.draft", gaps=str(counts.gaps), untranslated=str(counts.untranslated))
    return replace(notice, counts=counts, draft=draft if counts.draft else None)


def notice_lines(notice: NoticeDocument) -> list[Line]:
    """Every line of the notice's details (not the summary, which repeats them)."""
    lines: list[Line] = [notice.updated]
    for s in notice.sections:
        lines += [*s.paragraphs, *s.items, *s.closing, *(e.heading for e in s.entries)]
        lines += [line for _, value in (f for e in s.entries for f in e.fields) for line in value.lines]
        lines.append(tuple(pieces_of_table(s.table)))
    return lines


def write_notice(notice: NoticeDocument, fmt: str) -> str:
    return render(f"notice.{fmt}.j2", doc=notice, lang=notice.lang)


def _section(words: Wording, key: str, article: str) -> Section:
    return Section(key, words.ui(f"notice.section.{key}"), words.ui("notice.article", article=article))


def _controller(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(1)(a): identity and contact details of the controller and its representative."""
    controller = register.controller
    section = _section(words, "controller", "13(1)(a)")
    section.paragraphs.append((words.name(controller.name),))
    # The contact's name is often the controller's own: printed once.
    contact = [line for line in words.contact(controller.contact)
               if "".join(p.text for p in line).strip() != controller.name.strip()]
    section.paragraphs += contact or [(words.gap("controller_contact"),)]
    section.paragraphs += [words.join(words.contact(other), "common.word.dash")
                           for other in controller.other_contacts if words.contact(other)]
    section.paragraphs += words.registrations(controller.registrations)
    for key, representative in (("representative", controller.representative),
                                ("uk_representative", controller.uk_representative)):
        if representative:
            section.paragraphs.append(words.labelled(f"common.word.{key}",
                                                     words.join(words.contact(representative))))
    also_processor = processor_sentence(register, words)
    if also_processor:
        section.paragraphs.append(also_processor)
    return section


def _dpo(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(1)(b): contact details of the DPO, where applicable."""
    section = _section(words, "dpo", "13(1)(b)")
    section.paragraphs += words.contact(register.controller.dpo) or [(words.gap("dpo"),)]
    return section


def _purposes(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(1)(c)-(d): purposes, legal basis, legitimate interests; 13(2)(e): provision."""
    section = _section(words, "purposes", "13(1)(c), 13(1)(d), 13(2)(e)")
    for activity in activities:
        fields = [
            ("notice.label.purposes", cell([(p,) for p in map(words.text, activity.purposes) if p],
                                            words.gap("purposes"))),
            ("notice.label.legal_bases", bases_cell(activity, words)),
            ("notice.label.data_categories", data_cell(activity, words)),
        ]
        if activity.channels:
            fields.append(("notice.label.channels", cell([words.terms("channels", activity.channels)])))
        applies = register.effective(activity)
        if not applies.source_list():  # Art. 13 or 14 is not assumed: the register does not say where from
            fields.append(("notice.label.sources", cell([], words.gap("sources"))))
        if applies.collects_from_subject(words.vocabulary.direct_sources()) or activity.provision:
            fields.append(("notice.label.provision", cell([provision_line(activity, words)])))
        section.entries.append(Entry(activity_name(activity, words),
                                     tuple((words.ui(label), value) for label, value in fields)))
    if not activities:
        section.paragraphs.append((words.gap("purposes"),))
    return section




def _joint(register: Register, activities: list[Activity], words: Wording) -> Section | None:
    """Art. 26(2)-(3): for activities decided jointly, the other controllers and the essence of the
    arrangement (or a gap); the subject may exercise their rights against each controller."""
    joint = [a for a in activities if register.role_of(a) == "joint_controller"]
    if not joint:
        return None
    section = Section("joint", words.ui("roles.notice.section"), words.ui("notice.article", article="26"))
    section.paragraphs.append((words.word("roles.notice.joint", controller=register.controller.name),))
    for activity in joint:
        fields = tuple(joint_party_fields(activity, words))
        section.entries.append(Entry(activity_name(activity, words), fields))
    return section


def bases_cell(activity: Activity, words: Wording) -> Cell:
    """The Art. 6(1) bases (or a gap), then the Art. 9(2) condition where one is needed."""
    bases = legal_basis_lines(activity, words) or [(words.gap("legal_basis"),)]
    return cell([*bases, *art9_lines(activity, words)])


def art9_lines(activity: Activity, words: Wording) -> list[Line]:
    """The Art. 9(2) condition relied on for special-category data (WP260 rev.01, annex); a gap
    when the activity lists a special category and states none."""
    if activity.art9_condition:
        condition = words.term("art9_conditions", activity.art9_condition)
    elif any(is_special(words, c) for c in activity.data_categories):
        condition = words.gap("art9_condition")
    else:
        return []
    return [words.labelled("common.field.art9_condition", (condition,))]


def data_cell(activity: Activity, words: Wording) -> Cell:
    """The categories (or a gap), then the data as the register words it (``data_description``)."""
    categories = words.terms("categories", activity.data_categories)
    lines: list[Line] = [categories or (words.gap("data_categories"),)]
    description = words.text(activity.data_description)
    if description and description.text.strip():
        lines.append((words.word("common.word.as_worded"), *words.quoted(description)))
    return cell(lines)


def provision_line(activity: Activity, words: Wording) -> Line:
    """Art. 13(2)(e): a statutory or contractual requirement, or one to enter into a contract, or none;
    the consequences of not providing the data; the source's own words. A gap for what is missing."""
    provision = activity.provision
    if provision is None:
        return (words.gap("provision"),)
    line: list[Piece] = []
    consequences = words.text(provision.consequences)
    wording = words.text(provision.wording)
    if provision.requirement:
        line.append(words.word(f"notice.requirement.{provision.requirement}"))
    elif not wording:  # consequences alone: whether providing the data is required stays a gap
        line.append(words.gap("provision"))
    if consequences or (provision.requirement in REQUIRING and not wording):
        if line:
            line.append(words.word("common.word.dash"))
        line += words.labelled("notice.label.if_not_provided",
                               (consequences or words.gap("provision_consequences"),))
    if wording:
        if line:
            line.append(words.word("common.word.dash"))
        line += [words.word("common.word.as_worded"), *words.quoted(wording)]
    return tuple(line) or (words.gap("provision"),)


def _sources(register: Register, activities: list[Activity], words: Wording) -> Section | None:
    """Art. 14(1)(d) and 14(2)(f): categories of data and their source, when not the subject."""
    direct = words.vocabulary.direct_sources()
    # A source in the register's own words ({other: ...}) may be the person: it does not by itself
    # make the notice say the data is obtained elsewhere.
    indirect = [a for a in activities
                if {s for s in register.effective(a).source_list() if not isinstance(s, FreeTerm)} - direct]
    if not indirect:
        return None
    section = _section(words, "sources", "14(1)(d), 14(2)(f)")
    section.paragraphs.append((words.word("notice.text.sources_intro"),))
    # The register's sources said once, when they are what brings the section (some not the person).
    once = once_then_each(register, activities, words, "sources", STATEMENT_LINES, lambda a: [], "sources") \
        if set(register.sources) - direct else None
    section.paragraphs += once[0] if once else []
    for activity in indirect:
        applies = register.effective(activity)
        if once and said_once(register, activity, "sources"):
            sources = [(words.word("common.word.as_for_every_activity"),),
                       words.terms("sources", [s.value for s in applies.own("sources")])]
        else:
            sources = [words.terms("sources", applies.source_list())]
        fields = (
            (words.ui("notice.label.data_categories"),
             cell(category_lines(activity.data_categories, words), words.gap("data_categories"))),
            (words.ui("notice.label.sources"), cell(sources)),
        )
        section.entries.append(Entry(activity_name(activity, words), fields))
    return section


LinesOf = Callable[[Activity, Wording], list[Line]]


def _per_activity(activities: list[Activity], words: Wording, lines_of: LinesOf, gap: str) -> list[Line]:
    """``Activity: its lines`` for each activity, or a gap when it has none."""
    items: list[Line] = []
    for activity in activities:
        lines = lines_of(activity, words)
        value = words.join(lines, "common.word.dash") if lines else (words.gap(gap),)
        items.append(words.labelled_line(activity_name(activity, words), value))
    return items


def _recipients(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(1)(e): recipients or categories of recipients."""
    section = _section(words, "recipients", "13(1)(e)")

    def full(activity: Activity) -> list[Line]:
        return recipient_lines(register.effective(activity).recipient_list(), words)

    once = once_then_each(register, activities, words, "recipients", STATEMENT_LINES, full, "recipients")
    if once:  # the register's recipients of every activity said once, then what each adds
        section.paragraphs, section.items = once
    else:
        section.items = _per_activity(activities, words, lambda a, w: full(a), "recipients")
    return section


def _transfers(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(1)(f): transfers to third countries and the safeguard relied on."""
    section = _section(words, "transfers", "13(1)(f)")
    states = {register.transfer_state(a) for a in activities}
    if states == {"none"}:  # every activity (or the register as a whole) states there is none
        section.paragraphs.append((words.word("notice.text.no_transfer"),))
    elif not activities:
        section.paragraphs.append((words.gap("transfers"),))
    elif once := once_then_each(register, activities, words, "transfers", STATEMENT_LINES,
                                lambda a: transfer_statement(register, a, words), "transfers"):
        section.paragraphs, section.items = once  # the register's statement once, then the others
    else:  # each activity as the register has it: its transfers, its "none", or a visible gap
        section.items = _per_activity(activities, words,
                                      lambda a, w: transfer_statement(register, a, w), "transfers")
    return section


def _retention(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(2)(a): the period for which the data is stored, or the criteria."""
    section = _section(words, "retention", "13(2)(a)")
    section.items = _per_activity(activities, words, retention_lines, "retention")
    return section


def _rights(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(2)(b), 12(3), 20, 21: the rights the register's activities give, where to ask, how soon."""
    section = _section(words, "rights", "13(2)(b), 12(3)")
    section.paragraphs.append((words.word("notice.text.rights_intro"),))
    section.items = rights_items(register, activities, words)
    if register.controller.country == "FR":  # Loi Informatique et Libertés art. 85: instructions after death
        section.items.append((words.word("notice.layout.right_post_mortem"),))
    section.closing = rights_closing(register, words)
    controller = register.controller
    section.closing += _link_line(controller.privacy_center_url, "notice.layout.privacy_center", words)
    return section


def _link_line(url: str | None, key: str, words: Wording) -> list[Line]:
    """``Label: https://...`` as a link, when the register has the page (else nothing: optional)."""
    if not url:
        return []
    return [(words.word(key), Piece(url, words.lang, href=safe_href(url)))]


def _consent(register: Register, activities: list[Activity], words: Wording) -> Section | None:
    """Art. 13(2)(c): the right to withdraw consent, where processing rests on it."""
    based = [a for a in activities if "consent" in a.bases()]
    if not based:
        return None
    section = _section(words, "consent", "13(2)(c)")
    section.paragraphs.append((words.word("notice.text.consent"),))
    for activity in based:  # how consent is given and withdrawn (Art. 7(1), 7(3)), each or a gap
        how = words.join(consent_lines(activity, words), "common.word.dash")
        section.items.append(words.labelled_line(activity_name(activity, words), how))
    return section


def _trackers(register: Register, activities: list[Activity], words: Wording) -> Section | None:
    """ePrivacy Art. 5(3) and Art. 13: the cookies and trackers the register lists, as a table."""
    if not register.trackers:
        return None
    section = Section("trackers", words.ui("trackers.section"), words.ui("trackers.article"))
    section.paragraphs.append((words.word("trackers.intro"),))
    section.paragraphs += _link_line(register.controller.cookie_settings_url, "notice.layout.cookie_settings",
                                     words)
    section.table = tracker_table(register, words)
    return section


def _children(register: Register, activities: list[Activity], words: Wording) -> Section | None:
    """Art. 8: the age of digital consent of the controller's country, only when minors are concerned.

    The age and its source come from the law of the controller's country
    (``data/jurisdictions.yaml``); how a parent's consent is obtained comes from the register
    (``parental_consent``), or is a gap.
    """
    concerned = [a for a in activities if "minor" in a.data_subjects]
    if not concerned:
        return None
    law = jurisdiction(register.controller.country)
    section = _section(words, "children", "8")
    paragraph: Line = (words.word("notice.text.children", age=str(law.digital_consent_age),
                                  reference=law.age_reference),)
    if law.country is None:  # the GDPR's 16 may be lowered by the controller's Member State
        paragraph += (Piece(" ", words.lang), words.gap("country_for_age"))
    elif not law.age_known:  # a country garde's table does not hold: its own age is not known here
        paragraph += (Piece(" ", words.lang), words.gap("national_age"))
    section.paragraphs.append(paragraph)
    for activity in concerned:
        if "consent" in activity.bases():
            how = words.text(activity.parental_consent)
            value = words.labelled("notice.label.parental_consent",
                                   (how,) if how and how.text.strip() else (words.gap("parental_consent"),))
        else:
            value = (words.word("notice.text.children_no_consent"),)
            how = words.text(activity.parental_consent)
            if how and how.text.strip():  # a parent's authorisation the register states all the same
                value += (words.word("common.word.dash"), *words.labelled("notice.label.parental_consent",
                                                                           (how,)))
        section.items.append(words.labelled_line(activity_name(activity, words), value))
    return section


def _complaint(register: Register, activities: list[Activity], words: Wording) -> Section:
    """Art. 13(2)(d): the right to lodge a complaint with a supervisory authority."""
    section = _section(words, "complaint", "13(2)(d)")
    section.paragraphs.append((words.word("notice.text.complaint"),
                               *words.authority(supervisory_authority(
                                   register.controller.supervisory_authority, register.controller.country))))
    return section


def _automated(register: Register, activities: list[Activity], words: Wording) -> Section | None:
    """Art. 13(2)(f), 22: whether there are automated decisions including profiling, and if so the logic
    involved and their significance and envisaged consequences; a gap where the register is silent."""
    if not activities:
        return None
    section = _section(words, "automated", "13(2)(f), 22")
    section.paragraphs.append((words.word("notice.text.automated"),))
    for activity in activities:
        section.items.append(words.labelled_line(activity_name(activity, words),
                                                 automated_line(activity, words)))
    return section


def automated_line(activity: Activity, words: Wording) -> Line:
    decisions = activity.automated_decisions
    line: list[Piece] = []
    if activity.profiling:
        line += [words.word("notice.text.profiling"), words.word("common.word.dash")]
    if decisions is None:
        return (*line, words.gap("automated_decisions"))
    if not decisions.exists:
        return (*line, words.word("notice.text.no_automated"))
    logic, consequences = words.text(decisions.logic), words.text(decisions.consequences)
    return (*line, words.word("notice.text.automated_yes"), words.word("common.word.dash"),
            *words.labelled("notice.label.logic", (logic or words.gap("automated_logic"),)),
            words.word("common.word.dash"),
            *words.labelled("notice.label.consequences",
                            (consequences or words.gap("automated_consequences"),)))
