"""The register's cookies and other trackers as the documents print them.

The notice's table (name, provider, purpose, category, lifetime, whether consent is
needed) and the Art. 30 register's lines come from the ``trackers`` fields only: a field
the register leaves empty is a visible gap. "Consent needed" is the law's default
(Directive 2002/58/EC Art. 5(3)): "no" only where the register states the tracker is
strictly necessary.
"""

from __future__ import annotations

from dataclasses import dataclass

from garde.documents.wording import Cell, Line, Piece, Wording, cell
from garde.register.model import Register
from garde.register.trackers import SESSION, Tracker

COLUMNS = ("name", "provider", "purpose", "category", "lifetime", "consent")


@dataclass(frozen=True)
class Table:
    """A table of a document: its column headers and its rows of cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def tracker_table(register: Register, words: Wording) -> Table:
    """One row per tracker the register lists, in its order."""
    header = tuple(words.ui(f"trackers.column.{key}") for key in COLUMNS)
    rows = tuple(tuple(cell([line]) for line in tracker_cells(register, tracker, words))
                 for tracker in register.trackers)
    return Table(header, rows)


def tracker_cells(register: Register, tracker: Tracker, words: Wording) -> tuple[Line, ...]:
    """The tracker's name, provider, purpose (and activity), category, lifetime, consent: one line each."""
    return (
        (words.name(tracker.name),),
        provider_line(register, tracker, words),
        purpose_line(register, tracker, words),
        (words.term("channels", tracker.category),) if tracker.category
        else (words.gap("tracker_category"),),
        lifetime_line(tracker, words),
        (words.word("trackers.word.consent_needed" if tracker.needs_consent else "trackers.word.exempt"),),
    )


def provider_line(register: Register, tracker: Tracker, words: Wording) -> Line:
    provider = tracker.provider
    if provider is None:
        return (words.gap("tracker_provider"),)
    if provider.party == "first":
        if not provider.name:
            return (words.word("trackers.word.first_party"),)
        return (words.word("trackers.word.first_party"), words.word("common.word.dash"),
                words.name(provider.name))
    if not provider.name:
        return (words.word("trackers.word.third_party"), words.word("common.word.dash"),
                words.gap("tracker_provider"))
    return words.labelled("trackers.word.third_party", (words.name(provider.name),))


def purpose_line(register: Register, tracker: Tracker, words: Wording) -> Line:
    """The purpose as the register words it, then the activity it serves, if it names one."""
    purpose = words.text(tracker.purpose)
    line: Line = (purpose,) if purpose and purpose.text.strip() else (words.gap("tracker_purpose"),)
    activity = register.activity(tracker.activity) if tracker.activity else None
    name = words.text(activity.name) if activity else None
    if name:
        line += (words.word("common.word.dash"), *words.labelled("trackers.word.serves", (name,)))
    return line


def lifetime_line(tracker: Tracker, words: Wording) -> Line:
    period = tracker.lifetime_period
    if period is not None:
        return (Piece(words.period(period), words.lang),)
    if tracker.lifetime == SESSION:
        return (words.word("trackers.word.session"),)
    return (words.gap("tracker_lifetime"),)


def tracker_summary(register: Register, tracker: Tracker, words: Wording) -> Line:
    """``_ga — Third party: Google — 13 months — Consent needed: Yes``: one line of the Art. 30 register."""
    name, provider, _, _, lifetime, consent = tracker_cells(register, tracker, words)
    return words.join([name, provider, lifetime,
                       words.labelled("trackers.column.consent", consent)], "common.word.dash")


def activity_trackers(register: Register, activity_id: str, words: Wording) -> Cell:
    return cell([tracker_summary(register, t, words) for t in register.trackers if t.activity == activity_id])


def unattached_trackers(register: Register, words: Wording) -> Cell:
    """The trackers that name no activity (or one the register lacks), each with a gap: the register
    not saying which processing a tracker serves (Art. 30(1)(b)) is no statement that it serves none."""
    ids = {a.id for a in register.activities}
    return cell([(*tracker_summary(register, t, words), words.word("common.word.dash"),
                  words.gap("tracker_activity"))
                 for t in register.trackers if t.activity not in ids])
