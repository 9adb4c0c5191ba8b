"""Drawing people for the reference shop: names, e-mails, phones, addresses, from one seeded stream.

The shop and crm generators both draw from the same ``random.Random``, in a
fixed order, so a seed and an ``as_of`` date always give the same rows.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

from garde.shop.pools import DOMAINS, LANGUAGE_WEIGHTS, PHONE, Clock, LocalePool, build_pools

Rows = dict[str, list[tuple[Any, ...]]]


class PeopleDraws:
    """The seeded stream and the people-drawing helpers every table generator uses."""

    def __init__(self, seed: int, as_of: date, pools: dict[str, LocalePool] | None = None) -> None:
        self.rnd = random.Random(seed)
        self.pools = pools or build_pools(seed)
        self.clock = Clock(as_of)
        self.ids: dict[str, int] = defaultdict(int)
        self.others = 0  # people who are not customers: their own e-mail and phone numbers
        self.events: list[tuple[int, int]] = []  # (id, minute)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _language(self) -> str:
        r = self.rnd.random()
        for language, weight in LANGUAGE_WEIGHTS:
            if r < weight:
                return language
            r -= weight
        return "fr"

    def _person(self, language: str) -> tuple[str, str, str]:
        """First name, last name and an e-mail local part."""
        pool = self.pools[language]
        first, first_slug = self.rnd.choice(pool.first_names)
        last, last_slug = self.rnd.choice(pool.last_names)
        return first, last, f"{first_slug}.{last_slug}"

    def _email(self, local: str, language: str, tag: str) -> str:
        return f"{local}.{tag}@{self.rnd.choice(DOMAINS[language])}"

    @staticmethod
    def _phone(language: str, lane: int, number: int) -> str:
        """Unique per (lane, number): 7919 is prime to 10, so ``number -> number*7919`` is one-to-one."""
        prefix, digits = PHONE[language]
        span = 10 ** (digits - 1)
        return f"{prefix}{lane}{(number * 7919 + 1234567) % span:0{digits - 1}d}"

    def _other_person(self, language: str) -> tuple[str, str, str, str]:
        self.others += 1
        first, last, local = self._person(language)
        return (
            first,
            last,
            self._email(local, language, f"p{self.others}"),
            self._phone(language, 7, self.others),
        )

    def _between(self, start: int, end: int) -> int:
        return start + self.rnd.randrange(max(1, end - start))

    def _address(self, language: str) -> tuple[str, str, str]:
        pool = self.pools[language]
        postal_code, city = self.rnd.choice(pool.places)
        return f"{self.rnd.randint(1, 150)} {self.rnd.choice(pool.streets)}", postal_code, city
