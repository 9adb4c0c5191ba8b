"""The crm database's rows: events, contacts and prospects, newsletter, tickets, influencers, PR."""

from __future__ import annotations

from garde.shop.people import PeopleDraws, Rows
from garde.shop.pools import MINUTES_PER_DAY

DAY = MINUTES_PER_DAY
STORES = (
    "Paris Saint-Honoré",
    "Paris Rive Gauche",
    "Milano Montenapoleone",
    "London Bond Street",
    "Cannes Croisette",
    "Roma Condotti",
)
TOPICS = ("order status", "return", "product question", "account", "invoice", "delivery")
SEGMENTS = ("vip", "regular", "occasional", "lapsed", "new")
NETWORKS = ("instagram", "tiktok", "youtube", "pinterest")
POSITIONS = ("sales associate", "store manager", "e-commerce analyst", "tailor", "buyer", "stylist")


class CrmDraws(PeopleDraws):
    """Rows of the crm database, drawn from the shared stream."""

    def _events(self, rows: Rows, count: int) -> None:
        for _ in range(count):
            event_id = self.next_id("events")
            minute = self.rnd.randrange(self.clock.now)
            self.events.append((event_id, minute))
            rows["events"].append(
                (
                    event_id,
                    f"{self.rnd.choice(('Défilé', 'Vernissage', 'Private sale'))} {event_id}",
                    self.rnd.choice(STORES).split()[0],
                    self.clock(minute),
                )
            )

    def _contact(
        self,
        rows: Rows,
        language: str,
        first: str,
        last: str,
        email: str,
        phone: str,
        number: str | None,
        created: int,
        last_contact: int,
    ) -> int:
        rnd, at = self.rnd, self.clock
        contact_id = self.next_id("contacts")
        rows["contacts"].append(
            (
                contact_id,
                email,
                phone,
                number,
                first,
                last,
                language,
                rnd.choice(("website", "store", "event", "call_centre")),
                rnd.choice(("bags", "shoes", "ready-to-wear", "jewellery", None)),
                at(created),
                at(last_contact),
            )
        )
        if rnd.random() < 0.7:
            subscribed = self._between(created, last_contact)
            left = self._between(subscribed, at.now) if rnd.random() < 0.3 else None
            rows["newsletter_subscriptions"].append(
                (
                    self.next_id("newsletter_subscriptions"),
                    contact_id,
                    email,
                    language,
                    rnd.choice(("news", "news,sales", "sales")),
                    at(subscribed),
                    at(left),
                )
            )
        if rnd.random() < 0.4:
            rows["segments"].append(
                (
                    self.next_id("segments"),
                    contact_id,
                    rnd.choice(SEGMENTS),
                    rnd.randint(1, 5),
                    at(last_contact),
                )
            )
        if rnd.random() < 0.15:
            rows["survey_responses"].append(
                (
                    self.next_id("survey_responses"),
                    contact_id,
                    rnd.randint(0, 10),
                    rnd.choice(self.pools[language].sentences),
                    at(self._between(created, last_contact)),
                )
            )
        if rnd.random() < 0.08:
            self._invite(rows, contact_id=contact_id)
        return contact_id

    def _invite(
        self,
        rows: Rows,
        contact_id: int | None = None,
        professional_id: int | None = None,
        influencer_id: int | None = None,
    ) -> None:
        event_id, minute = self.rnd.choice(self.events)
        rows["event_invitations"].append(
            (
                self.next_id("event_invitations"),
                event_id,
                contact_id,
                professional_id,
                influencer_id,
                self.rnd.choice(("invited", "accepted", "declined")),
                self.clock(minute - 30 * DAY),
                self.clock(minute),
            )
        )

    def _crm(
        self,
        rows: Rows,
        index: int,
        language: str,
        first: str,
        last: str,
        email: str,
        phone: str,
        number: str,
        created: int,
        last_contact: int,
    ) -> None:
        rnd, at = self.rnd, self.clock
        if rnd.random() < 0.35:  # the marketing team knows this customer
            self._contact(rows, language, first, last, email, phone, number, created, last_contact)
        if rnd.random() < 0.2:  # and a prospect who has not bought yet
            p_first, p_last, p_email, p_phone = self._other_person(language)
            p_created = rnd.randrange(at.now)
            self._contact(
                rows,
                language,
                p_first,
                p_last,
                p_email,
                p_phone,
                None,
                p_created,
                self._between(p_created, at.now),
            )
        if rnd.random() < 0.12:
            self._ticket(rows, language, email, phone, number, created, last_contact)
        r = rnd.random()
        if r < 0.01:
            self._influencer(rows, language)
        elif r < 0.02:
            self._professional(rows, language)
        elif r < 0.035:
            c_first, c_last, c_email, c_phone = self._other_person(language)
            applied = rnd.randrange(at.now)
            pool = self.pools[language]
            rows["candidates"].append(
                (
                    self.next_id("candidates"),
                    c_email,
                    c_phone,
                    f"{c_first} {c_last}",
                    rnd.choice(POSITIONS),
                    f"/cv/{self.ids['candidates'] + 1}.pdf",
                    rnd.choice(pool.sentences),
                    at(applied),
                    at(applied + rnd.randrange(60 * DAY)),
                )
            )

    def _ticket(
        self, rows: Rows, language: str, email: str, phone: str, number: str, created: int, last_contact: int
    ) -> None:
        rnd, at = self.rnd, self.clock
        ticket_id = self.next_id("tickets")
        opened = self._between(created, last_contact)
        closed = opened + rnd.randrange(DAY, 10 * DAY)
        rows["tickets"].append(
            (
                ticket_id,
                email,
                number,
                rnd.choice(TOPICS),
                "closed" if closed <= at.now else "open",
                at(opened),
                at(closed) if closed <= at.now else None,
            )
        )
        for step in range(rnd.randint(1, 3)):
            rows["ticket_messages"].append(
                (
                    self.next_id("ticket_messages"),
                    ticket_id,
                    ("customer", "adviser")[step % 2],
                    rnd.choice(self.pools[language].sentences),
                    at(opened + step * 60),
                )
            )
        if rnd.random() < 0.3:
            rows["call_recordings"].append(
                (
                    self.next_id("call_recordings"),
                    ticket_id,
                    phone,
                    f"/calls/{self.ids['call_recordings'] + 1}.ogg",
                    rnd.randint(30, 1800),
                    at(opened),
                )
            )

    def _influencer(self, rows: Rows, language: str) -> None:
        rnd, at = self.rnd, self.clock
        first, last, email, _ = self._other_person(language)
        influencer_id = self.next_id("influencers")
        created = rnd.randrange(at.now)
        last_contact = self._between(created, at.now)
        rows["influencers"].append(
            (
                influencer_id,
                email,
                f"{first} {last}",
                f"@{email.split('@')[0][:30]}",
                at(created),
                at(last_contact),
                at(last_contact) if rnd.random() < 0.3 else None,
            )
        )
        for network in rnd.sample(NETWORKS, rnd.randint(1, 3)):
            rows["influencer_profiles"].append(
                (
                    self.next_id("influencer_profiles"),
                    influencer_id,
                    network,
                    f"https://{network}.example/{influencer_id}",
                    rnd.randrange(1_000, 2_000_000),
                    at(last_contact),
                )
            )
        if rnd.random() < 0.3:
            self._invite(rows, influencer_id=influencer_id)

    def _professional(self, rows: Rows, language: str) -> None:
        rnd, at = self.rnd, self.clock
        first, last, email, phone = self._other_person(language)
        professional_id = self.next_id("fashion_professionals")
        created = rnd.randrange(at.now)
        pool = self.pools[language]
        rows["fashion_professionals"].append(
            (
                professional_id,
                email,
                phone,
                f"{first} {last}",
                rnd.choice(pool.companies)[:60],
                rnd.choice(pool.jobs),
                at(created),
                at(self._between(created, at.now)),
            )
        )
        if rnd.random() < 0.5:
            self._invite(rows, professional_id=professional_id)
