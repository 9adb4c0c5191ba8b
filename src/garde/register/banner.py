"""What a cookie banner shows, read from the register's tracker list.

The banner asks consent per category (a ``cookie.*`` channel of the vocabulary, the channel a
consent or refusal is recorded on in the consent ledger) and lists the trackers of each;
strictly necessary trackers are shown for information, with no choice to make (Directive
2002/58/EC Art. 5(3); CNIL délibération 2020-092: the user is told of them, not asked).

    >>> view = banner_view(register, "fr")
    >>> [c.id for c in view.needing_consent()]
    ['cookie.analytics']

A tracker the register does not state as strictly necessary needs consent. A tracker
without a category is in a category of its own (``id`` None): the banner asks consent for it
alone (lint GL077 asks the register to give its category).
"""

from __future__ import annotations

from dataclasses import dataclass

from garde.register.model import Register, text_in
from garde.register.trackers import Tracker
from garde.taxonomy import Vocabulary, load_vocabulary


@dataclass(frozen=True)
class BannerTracker:
    """One tracker as the banner lists it; texts in the banner's language where the register has it."""

    name: str
    provider: str | None  # the third party's name, or the first party's if the register gives one
    third_party: bool | None  # None: the register does not say who sets it
    purpose: str | None
    lifetime: str | None  # '13 months' or 'session'


@dataclass(frozen=True)
class BannerCategory:
    """A group of trackers the banner shows together, with or without a choice to make."""

    id: str | None  # the consent channel (cookie.analytics, ...); None: trackers with no category
    label: str | None  # the category's label in the banner's language
    needs_consent: bool
    trackers: tuple[BannerTracker, ...]


@dataclass(frozen=True)
class BannerView:
    lang: str
    categories: tuple[BannerCategory, ...]

    def needing_consent(self) -> tuple[BannerCategory, ...]:
        """The categories the banner asks about, each accepted or refused as a whole."""
        return tuple(c for c in self.categories if c.needs_consent)


def banner_view(register: Register, lang: str = "en", vocabulary: Vocabulary | None = None) -> BannerView:
    """The register's trackers grouped by category, those needing consent first, in register order."""
    vocabulary = vocabulary or load_vocabulary()
    groups: dict[tuple[bool, str | None], list[BannerTracker]] = {}
    for tracker in register.trackers:
        groups.setdefault((tracker.needs_consent, tracker.category), []).append(_listed(tracker, lang))
    ordered = sorted(groups.items(), key=lambda item: not item[0][0])  # stable: register order kept
    return BannerView(lang, tuple(
        BannerCategory(category, vocabulary.label("channels", category, lang) if category else None,
                       needs_consent, tuple(trackers))
        for (needs_consent, category), trackers in ordered))


def _listed(tracker: Tracker, lang: str) -> BannerTracker:
    provider = tracker.provider
    return BannerTracker(
        name=tracker.name,
        provider=provider.name if provider else None,
        third_party=provider.party == "third" if provider else None,
        purpose=text_in(tracker.purpose, lang),
        lifetime=str(tracker.lifetime) if tracker.lifetime is not None else None,
    )
