"""The documents' words: the notice's table of cookies and other trackers.

In English, each under its key as its context: message ids of garde's gettext catalogues.
"""

from __future__ import annotations

from garde.i18n import Keyed, keyed

TEXTS: tuple[Keyed, ...] = (
    keyed("trackers.section", "Cookies and other trackers"),
    keyed("trackers.article", "Directive 2002/58/EC Art. 5(3); GDPR Art. 13(1)(a), (c), (e), 13(2)(a)"),
    keyed("trackers.intro",
          "Trackers read from or stored on your device, as the register lists them. The law requires "
          "your prior consent for any tracker that is not strictly necessary for the service you ask for."),
    keyed("trackers.column.name", "Name"),
    keyed("trackers.column.provider", "Provider"),
    keyed("trackers.column.purpose", "Purpose"),
    keyed("trackers.column.category", "Category"),
    keyed("trackers.column.lifetime", "Lifetime"),
    keyed("trackers.column.consent", "Consent needed"),
    keyed("trackers.word.first_party", "Us (first party)"),
    keyed("trackers.word.third_party", "Third party"),
    keyed("trackers.word.session", "Session (deleted when the browser closes)"),
    keyed("trackers.word.consent_needed", "Yes"),
    keyed("trackers.word.exempt", "No (strictly necessary)"),
    keyed("trackers.word.serves", "Activity"),
)
