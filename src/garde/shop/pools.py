"""Pools of realistic words, made once with Faker, combined per row with a seeded ``random.Random``.

Calling Faker per row is far too slow for a million customers; a few
thousand names and streets per locale, drawn at random, look as real in a
demo and cost nothing per row. Dates are minutes since the start of the
period, formatted through precomputed day and time strings.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

LOCALES = {"fr": "fr_FR", "it": "it_IT", "en": "en_GB"}
#: Share of customers per language: a French house with Italian and British customers.
LANGUAGE_WEIGHTS = (("fr", 0.6), ("it", 0.25), ("en", 0.15))
COUNTRY = {"fr": "FR", "it": "IT", "en": "GB"}
DOMAINS = {
    "fr": ("exemple.fr", "courriel.example", "messagerie.example"),
    "it": ("esempio.it", "posta.example"),
    "en": ("example.co.uk", "mail.example"),
}
TITLES = {"fr": ("M.", "Mme"), "it": ("Sig.", "Sig.ra"), "en": ("Mr", "Ms", "Mx")}
PHONE = {"fr": ("+33", 9), "it": ("+39", 10), "en": ("+44", 10)}
MINUTES_PER_DAY = 1440
YEARS = 15


def slug(text: str) -> str:
    """ASCII, lower-case, dot-free form of a name for e-mail addresses."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "-" for c in ascii_text.lower()).strip("-") or "x"


@dataclass(frozen=True)
class LocalePool:
    """Names and places of one locale: (word, slug) pairs and (postal code, city) pairs."""

    first_names: tuple[tuple[str, str], ...]
    last_names: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    places: tuple[tuple[str, str], ...]
    companies: tuple[str, ...]
    jobs: tuple[str, ...]
    sentences: tuple[str, ...]


def build_pools(seed: int, size: int = 1000) -> dict[str, LocalePool]:
    """``size`` names, streets and places per language, the same for the same seed."""
    pools = {}
    for offset, (language, locale) in enumerate(LOCALES.items()):
        fake = Faker(locale)
        fake.seed_instance(seed * 31 + offset)
        firsts = sorted({fake.first_name() for _ in range(size)})
        lasts = sorted({fake.last_name() for _ in range(size)})
        pools[language] = LocalePool(
            first_names=tuple((n, slug(n)) for n in firsts),
            last_names=tuple((n, slug(n)) for n in lasts),
            streets=tuple(sorted({fake.street_name() for _ in range(size)})),
            places=tuple(sorted({_place(fake, language) for _ in range(size // 2)})),
            companies=tuple(sorted({fake.company() for _ in range(size // 10)})),
            jobs=tuple(sorted({fake.job()[:60] for _ in range(size // 10)})),
            sentences=tuple(fake.sentence(nb_words=12)[:300] for _ in range(size // 5)),
        )
    return pools


def _place(fake: Faker, language: str) -> tuple[str, str]:
    """A postal code and its city."""
    if language == "it":
        # it_IT's city() draws from a list built from a set, whose order changes between runs.
        postcode, rest = fake.postcode_city_province().split(", ", 1)
        return postcode, rest.rsplit(" (", 1)[0]
    return fake.postcode(), fake.city()


class Clock:
    """Timestamps as minutes since ``start``, rendered as ``YYYY-MM-DD HH:MM:SS`` strings.

    Strings are what SQLite stores and what PostgreSQL's COPY reads; making
    them from two precomputed tables is much faster than ``datetime`` per row.
    """

    def __init__(self, as_of: date, years: int = YEARS) -> None:
        self.start = date(as_of.year - years, as_of.month, min(as_of.day, 28))
        self.days = [
            (self.start + timedelta(days=d)).isoformat() for d in range((as_of - self.start).days + 2)
        ]
        self.now = (as_of - self.start).days * MINUTES_PER_DAY
        self.times = [f" {m // 60:02d}:{m % 60:02d}:00" for m in range(MINUTES_PER_DAY)]

    def __call__(self, minute: int | None) -> str | None:
        if minute is None:
            return None
        minute = min(minute, self.now)
        return self.days[minute // MINUTES_PER_DAY] + self.times[minute % MINUTES_PER_DAY]

    def day(self, minute: int) -> str:
        return self.days[min(minute, self.now) // MINUTES_PER_DAY]
