"""Synthetic people for the reference shop: deterministic from a seed, about 10 rows per customer.

One ``random.Random(seed)`` draws everything in a fixed order, so the same
seed and the same ``as_of`` date give the same rows, byte for byte. Dates
spread over fifteen years before ``as_of``, so every retention rule has
something due and something not. Identities are unique by construction
(the customer's number is in their e-mail and phone), so two subjects never
share one by chance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from garde.shop.crm_rows import STORES, CrmDraws
from garde.shop.people import Rows
from garde.shop.pools import COUNTRY, MINUTES_PER_DAY, TITLES

DAY = MINUTES_PER_DAY
CHANNELS = ("web", "web", "web", "store", "app")
BRANDS = ("visa", "mastercard", "amex", "cb")
CARRIERS = ("colissimo", "dhl", "ups", "brt", "royalmail")
REASONS = ("size", "colour", "damaged", "late delivery", "changed mind")
PAGES = ("/", "/women", "/men", "/bags", "/shoes", "/sale", "/new-in", "/account", "/basket")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile",
)
CONSENTS = (
    "necessary",
    "necessary,analytics",
    "necessary,analytics,advertising",
    "necessary,personalisation",
)


class ShopGenerator(CrmDraws):
    """Draws customers in batches; ids continue from batch to batch."""

    def batches(self, customers: int, batch_size: int = 10_000) -> Iterator[tuple[int, Rows]]:
        """``(customers in this batch, rows per table)`` until ``customers`` are made."""
        done = 0
        while done < customers:
            count = min(batch_size, customers - done)
            rows: Rows = defaultdict(list)
            if done == 0:
                self._events(rows, max(10, customers // 1000))
            for index in range(done, done + count):
                self._customer(rows, index)
            done += count
            yield count, rows

    def _customer(self, rows: Rows, index: int) -> None:
        rnd, at = self.rnd, self.clock
        language = self._language()
        first, last, local = self._person(language)
        number = f"C{index + 1:08d}"
        email = self._email(local, language, str(index + 1))
        phone = self._phone(language, 6, index)
        created = rnd.randrange(at.now)
        last_contact = self._between(created, at.now)
        ended = self._between(last_contact, at.now) if rnd.random() < 0.3 else None
        customer_id = self.next_id("customers")
        birth = f"{rnd.randint(1940, 2006)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        rows["customers"].append(
            (
                customer_id,
                number,
                email,
                phone,
                rnd.choice(TITLES[language]),
                first,
                last,
                birth,
                language,
                COUNTRY[language],
                at(created),
                at(last_contact),
                at(ended),
            )
        )
        name = f"{first} {last}"
        if rnd.random() < 0.85:
            closed = ended if ended is not None and rnd.random() < 0.5 else None
            rows["accounts"].append(
                (
                    self.next_id("accounts"),
                    customer_id,
                    email,
                    f"{rnd.getrandbits(256):064x}",
                    at(created),
                    at(last_contact),
                    at(closed),
                )
            )
        street, postal_code, city = self._address(language)
        rows["addresses"].append(
            (
                self.next_id("addresses"),
                customer_id,
                "billing",
                name,
                street,
                postal_code,
                city,
                COUNTRY[language],
                at(created),
            )
        )
        if rnd.random() < 0.15:
            other = self._address(language)
            rows["addresses"].append(
                (
                    self.next_id("addresses"),
                    customer_id,
                    "delivery",
                    name,
                    *other,
                    COUNTRY[language],
                    at(self._between(created, last_contact)),
                )
            )
        billing = f"{street}, {postal_code} {city}"
        for _ in range(rnd.choice((0, 0, 1, 1, 1, 1, 2, 3))):
            self._order(rows, customer_id, language, name, billing, created, last_contact)
        self._customer_extras(rows, customer_id, index, language, created, last_contact)
        self._crm(rows, index, language, first, last, email, phone, number, created, last_contact)

    def _order(
        self,
        rows: Rows,
        customer_id: int,
        language: str,
        name: str,
        billing: str,
        created: int,
        last_contact: int,
    ) -> None:
        rnd, at = self.rnd, self.clock
        order_id = self.next_id("orders")
        ordered = self._between(created, last_contact)
        completed = ordered + rnd.randrange(DAY, 14 * DAY)
        done = completed if completed <= at.now else None
        channel = rnd.choice(CHANNELS)
        total = rnd.randrange(2_000, 400_000)
        currency = "GBP" if language == "en" else "EUR"
        rows["orders"].append(
            (order_id, customer_id, f"O{order_id:09d}", channel, total, currency, at(ordered), at(done))
        )
        rows["payments"].append(
            (
                self.next_id("payments"),
                order_id,
                f"tok_{rnd.getrandbits(96):024x}",
                rnd.choice(BRANDS),
                total,
                at(ordered),
                at(done),
            )
        )
        rows["invoices"].append(
            (self.next_id("invoices"), order_id, f"F{order_id:09d}", name, billing, total, at(ordered))
        )
        if channel != "store":
            carrier = rnd.choice(CARRIERS)
            rows["deliveries"].append(
                (
                    self.next_id("deliveries"),
                    order_id,
                    name,
                    billing,
                    carrier,
                    f"{carrier[:2].upper()}{order_id:012d}",
                    at(ordered + DAY),
                    at(done),
                )
            )
            if rnd.random() < 0.35:
                rows["fraud_checks"].append(
                    (
                        self.next_id("fraud_checks"),
                        order_id,
                        rnd.randrange(100),
                        rnd.choice(("accept", "accept", "accept", "review")),
                        at(ordered),
                    )
                )
        if done is not None and rnd.random() < 0.1:
            return_id = self.next_id("returns")
            requested = done + rnd.randrange(DAY, 30 * DAY)
            rows["returns"].append(
                (return_id, order_id, rnd.choice(REASONS), at(requested), at(requested + 7 * DAY))
            )
            if rnd.random() < 0.9:
                rows["refunds"].append((self.next_id("refunds"), return_id, total, at(requested + 7 * DAY)))
        if rnd.random() < 0.02:
            rows["tax_free_refunds"].append(
                (
                    self.next_id("tax_free_refunds"),
                    order_id,
                    f"{rnd.choice(('US', 'CN', 'AE', 'JP'))}{rnd.randrange(10**7):07d}",
                    rnd.choice(("US", "CN", "AE", "JP")),
                    total // 6,
                    at(ordered),
                    at(done),
                )
            )
        if rnd.random() < 0.04:
            initials = "".join(rnd.choice("ABCDEFGHIJKLMNOPRSTV") for _ in range(rnd.randint(2, 3)))
            rows["personalisations"].append(
                (self.next_id("personalisations"), order_id, initials, at(ordered))
            )

    def _customer_extras(
        self, rows: Rows, customer_id: int, index: int, language: str, created: int, last_contact: int
    ) -> None:
        rnd, at = self.rnd, self.clock
        if rnd.random() < 0.08:
            booked = self._between(created, last_contact)
            notes = rnd.choice(self.pools[language].sentences)[:200]
            rows["appointments"].append(
                (
                    self.next_id("appointments"),
                    customer_id,
                    rnd.choice(STORES),
                    notes,
                    at(booked),
                    at(booked + rnd.randrange(DAY, 20 * DAY)),
                )
            )
        for _ in range(rnd.choice((0, 0, 0, 0, 1, 2))):
            rows["wishlist_items"].append(
                (
                    self.next_id("wishlist_items"),
                    customer_id,
                    f"SKU{rnd.randrange(10**6):06d}",
                    at(self._between(created, last_contact)),
                )
            )
        if rnd.random() < 0.2:
            added = self._between(created, last_contact)
            rows["basket_items"].append(
                (
                    self.next_id("basket_items"),
                    customer_id,
                    f"SKU{rnd.randrange(10**6):06d}",
                    rnd.randint(1, 3),
                    at(added),
                    at(added + DAY) if rnd.random() < 0.5 else None,
                )
            )
        if rnd.random() < 0.12:
            rows["reviews"].append(
                (
                    self.next_id("reviews"),
                    customer_id,
                    f"SKU{rnd.randrange(10**6):06d}",
                    rnd.randint(1, 5),
                    rnd.choice(self.pools[language].sentences),
                    at(self._between(created, last_contact)),
                )
            )
        if rnd.random() < 0.35:
            rows["loyalty_accounts"].append(
                (
                    self.next_id("loyalty_accounts"),
                    customer_id,
                    f"L{index + 1:09d}",
                    rnd.choice(("silver", "gold", "platinum")),
                    rnd.randrange(20_000),
                    at(created),
                    at(last_contact),
                )
            )
        browsers = [customer_id] if rnd.random() < 0.3 else []
        if rnd.random() < 0.1:
            browsers.append(0)  # a visitor who never signed in
        for owner in browsers:
            first_seen = self._between(created, last_contact) if owner else rnd.randrange(at.now)
            browser_id = self.next_id("browsers")
            rows["browsers"].append(
                (
                    browser_id,
                    owner or None,
                    f"{rnd.getrandbits(128):032x}",
                    rnd.choice(CONSENTS),
                    rnd.choice(AGENTS),
                    at(first_seen),
                    at(first_seen + rnd.randrange(90 * DAY)),
                )
            )
            ip = rnd.getrandbits(32)
            rows["web_sessions"].append(
                (
                    self.next_id("web_sessions"),
                    browser_id,
                    f"{ip >> 24 & 255}.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}",
                    rnd.choice(PAGES),
                    rnd.randint(1, 30),
                    at(first_seen),
                )
            )
        if rnd.random() < 0.02:
            start = at.now - rnd.randrange(90 * DAY)
            store = rnd.choice(STORES)
            rows["cctv_footage"].append(
                (
                    self.next_id("cctv_footage"),
                    store,
                    f"cam-{rnd.randint(1, 12):02d}",
                    f"/cctv/{at.day(start)}/{self.ids['cctv_footage']}.mp4",
                    at(start),
                    at(start + 60),
                )
            )
