"""The rights a notice tells of (GDPR Art. 12, 13(2)(b), 20, 21), derived from the register.

A right whose conditions the law sets is listed only where the register's
activities meet them, with the activities concerned: objection where an
activity rests on a public task or legitimate interests (Art. 21(1)), the
absolute objection to direct marketing (21(2)-(3)), portability where the
basis is consent or a contract and the processing is automated (20(1)). The
route to send a request and the answer time are the register's; the route
missing is a visible gap, the time missing leaves the law's one month alone.
"""

from __future__ import annotations

from garde.documents.wording import Line, Piece, Wording
from garde.register.model import Activity, Register, RightsHandledBy

ALWAYS = ("access", "rectification", "erasure", "restriction")
OBJECTION_BASES = {"public_task", "legitimate_interests"}
PORTABILITY_BASES = {"consent", "contract"}

def activity_name(activity: Activity, words: Wording) -> Line:
    """The activity's name in the document's language if the register has it, else its id."""
    piece = words.text(activity.name)
    return (piece,) if piece else (Piece(activity.id, words.lang),)


def rights_items(register: Register, activities: list[Activity], words: Wording) -> list[Line]:
    """One line per right the subject has over these activities, with the activities a conditional
    right covers."""
    items: list[Line] = [(words.word(f"notice.text.right_{right}"),) for right in ALWAYS]
    portable = [a for a in activities if a.bases() & PORTABILITY_BASES and a.automated_means is not False]
    if portable:
        concerned = [_with_means(a, words) for a in portable]
        items.append(_concerning(words, "notice.text.right_portability", concerned))
    objectable = [activity_name(a, words) for a in activities if a.bases() & OBJECTION_BASES]
    if objectable:
        items.append(_concerning(words, "notice.text.right_objection", objectable))
    marketing = [activity_name(a, words) for a in activities if a.direct_marketing]
    if marketing:
        items.append(_concerning(words, "notice.text.right_objection_marketing", marketing))
    rights = register.rights
    for handled in rights.handled_by if rights else []:
        items.append(_handled_by(handled, register, words))
    return items


def rights_closing(register: Register, words: Wording) -> list[Line]:
    """Where to send a request (the register's route, else a gap) and how soon it is answered."""
    rights = register.rights
    lines = words.contact(rights.route if rights else None)
    route = words.join(lines, "common.word.dash") if lines else (words.gap("rights_contact"),)
    closing: list[Line] = [(words.word("notice.text.exercise"), *route)]
    closing.append((words.word("notice.text.deadline"),))
    if rights and rights.answer_time:
        closing.append((words.word("notice.text.answer_time", period=words.period(rights.answer_time)),))
    return closing


def _concerning(words: Wording, key: str, activities: list[Line]) -> Line:
    return (words.word(key), Piece(" ", words.lang),
            *words.labelled("notice.label.activities_concerned", words.join(activities)))


def _with_means(activity: Activity, words: Wording) -> Line:
    """The activity's name; with a gap when the register does not say it is automated (Art. 20(1)(b))."""
    if activity.automated_means is None:
        return (*activity_name(activity, words), Piece(" (", words.lang), words.gap("automated_means"),
                Piece(")", words.lang))
    return activity_name(activity, words)


def _handled_by(handled: RightsHandledBy, register: Register, words: Wording) -> Line:
    """``Portability … is handled by Plateforme SA — contact: … (activities concerned: …)``."""
    rights = words.join(words.word(f"notice.right_name.{right}") for right in handled.rights)
    controller = words.text(handled.controller) or Piece("", words.lang)
    line: Line = (*rights, words.word("notice.text.handled_by"), controller)
    contact = words.contact(handled.contact)
    if contact:
        line += (words.word("common.word.dash"), *words.join(contact, "common.word.dash"))
    if handled.activities:
        named = [activity_name(a, words) for a in register.activities if a.id in handled.activities]
        line += (Piece(" (", words.lang), *words.labelled("notice.label.activities_concerned",
                                                         words.join(named)), Piece(")", words.lang))
    return line
