"""Deadline reminders to the DPO: the requests due soon and the overdue ones, in one mail; and,
first, the requests whose identity nobody proved in ``unverified_request_days`` closed.

GDPR Art. 12(3): a request is answered within one month of receipt, extendable by two further
months. The dashboard shows the queue; this mail is for the day nobody looks at it. One mail per
run lists every open request due within ``reminder_days`` days (setting, 7 by default) and every
overdue one: its reference, its type in words, when it was received, when it is due, the days left
or past. Nothing about the subject (no identity, no data): the DPO's dashboard shows no more, and
the mail may cross servers garde does not control. It goes to the ``dpo_email`` setting, else the
register's ``controller.dpo.email``, through the configured mailer, in the register's language.

Idempotent: the list's state (each request's reference, due date and days left) is claimed for
the day in ``scheduled_runs`` (:mod:`garde.store.scheduled_runs`) in the transaction that sends the
mail and audits it (``request.reminded``): a second run the same day with the same list sends
nothing, a changed list (a request answered, another now overdue) sends a new one. A mail that
cannot be sent rolls the claim back: the next run sends it.

The claim is the mail's outbox: its Message-ID is made of it (:func:`message_id`), so a worker killed
after the mail left and before the claim committed leaves the next run to send the same list again
with the same Message-ID, which mail clients take for the same message and show once (the window is
the mail server's acceptance to the commit, as for a request's mails, :mod:`garde.rights.outbox`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.i18n import LANGUAGES
from garde.problems import GardeError
from garde.register import Register
from garde.rights import reminder_texts as texts
from garde.rights.code_limits import hold_request
from garde.rights.display import day
from garde.rights.intake import OPEN, get_request, transition
from garde.rights.mailer import Mailer, configured_mailer
from garde.rights.tables import requests
from garde.rights.wording import strings
from garde.settings import Settings, get_settings
from garde.store.scheduled_runs import claim, claimed
from garde.store.transactions import retried
from garde.subjects import now

WORK = "request.remind"


@dataclass(frozen=True)
class DueRequest:
    """One request the reminder names: overdue when ``days_left`` is negative."""

    request_id: str
    type: str
    status: str
    received: date
    due: date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    def to_data(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "type": self.type, "status": self.status,
                "received": self.received.isoformat(), "due": self.due.isoformat(),
                "days_left": self.days_left, "overdue": self.overdue}


@dataclass(frozen=True)
class Reminder:
    """What a run of :func:`remind` found and did."""

    day: date
    within_days: int
    requests: tuple[DueRequest, ...]
    to: str | None  # the DPO's address (None: none configured, on a dry run)
    sent: bool
    why_not: str | None = None  # "nothing due", "already sent today", "dry run"
    closed_unverified: tuple[str, ...] = ()  # closed never verified (on a dry run: would be)

    def to_data(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "within_days": self.within_days, "to": self.to,
                "sent": self.sent, "why_not": self.why_not, "closed_unverified": list(self.closed_unverified),
                "overdue": sum(r.overdue for r in self.requests),
                "requests": [r.to_data() for r in self.requests]}


def due_requests(conn: sa.Connection, today: date, within: int) -> list[DueRequest]:
    """Open requests due on or before ``today`` + ``within`` days (the overdue ones included),
    earliest due first."""
    r = requests.c
    due = sa.func.coalesce(r.extended_deadline, r.deadline)
    limit = date.fromordinal(today.toordinal() + within)
    query = (sa.select(r.id, r.type, r.status, r.received_at, due.label("due"))
             .where(r.status.in_(OPEN), due <= limit).order_by(due, r.received_at, r.id))
    found = []
    for row in conn.execute(query):
        due_on = row.due if isinstance(row.due, date) else date.fromisoformat(str(row.due)[:10])
        received = row.received_at.date() if isinstance(row.received_at, datetime) \
            else date.fromisoformat(str(row.received_at)[:10])
        found.append(DueRequest(row.id, row.type, row.status, received, due_on, (due_on - today).days))
    return found


def never_verified(store: sa.Engine, today: date, days: int) -> list[str]:
    """The requests still ``received`` (no identity proven) ``days`` days or more after their receipt
    (none when ``days`` is 0), oldest first."""
    if days <= 0:
        return []
    r = requests.c
    # received on ``today - days`` or before: the day after it begins the cut
    cutoff = datetime.combine(date.fromordinal(today.toordinal() - days + 1), time.min, tzinfo=UTC)
    query = (sa.select(r.id).where(r.status == "received", r.received_at < cutoff)
             .order_by(r.received_at, r.id))
    with store.connect() as conn:
        return list(conn.execute(query).scalars())


CLOSED_UNVERIFIED = ("identity not proven within {days} days of receipt: closed by garde, its identities "
                     "dropped (GDPR Art. 12(6), 5(1)(c) and (e)); a new request can be made at any time")


def close_unverified(store: sa.Engine, today: date, days: int) -> tuple[str, ...]:
    """Close (``cancelled``, audited, the raw identities dropped) every request nobody proved an identity
    of within ``days`` days: garde cannot answer it (Art. 12(6)) and keeps no identity it no longer
    needs (Art. 5(1)(c), (e)). Each in its own transaction, the request read again there: one proven or
    cancelled meanwhile is left as it is."""
    def close(conn: sa.Connection, request_id: str) -> bool:
        hold_request(conn, request_id)  # a proof or a cancellation meanwhile: read after it
        request = get_request(conn, request_id)
        if request.status != "received":
            return False
        transition(conn, request, "cancelled", actor="garde", note=CLOSED_UNVERIFIED.format(days=days))
        return True

    return tuple(request_id for request_id in never_verified(store, today, days)
                 if retried(store, partial(close, request_id=request_id),
                            what=f"request {request_id}: closed, never verified"))


def remind(store: sa.Engine, settings: Settings | None = None, *, today: date | None = None,
           within: int | None = None, dry_run: bool = False, mailer: Mailer | None = None,
           registers: Sequence[Register] | None = None) -> Reminder:
    """Mail the DPO the open requests due within ``within`` days (default: the ``reminder_days``
    setting) and the overdue ones, once per day and list (see the module). ``dry_run``: say what
    would be sent, send and record nothing. GardeError when there is something to send and no
    DPO address."""
    settings = settings or get_settings()
    today = today or now().date()
    within = settings.reminder_days if within is None else within
    if within < 0:
        raise GardeError(f"within {within} days: expected 0 or more")
    registers = _registers(settings) if registers is None else list(registers)
    register = next(iter(registers), None)
    to = settings.dpo_email or (register.controller.dpo.email
                                if register is not None and register.controller.dpo else None)
    days = settings.unverified_request_days
    closed = tuple(never_verified(store, today, days)) if dry_run else close_unverified(store, today, days)
    with store.begin() as conn:
        found = tuple(due_requests(conn, today, within))
        if dry_run:  # those it would close are not listed as due
            found = tuple(r for r in found if r.request_id not in closed)
        state = _state(found)
        if not found:
            return Reminder(today, within, found, to, False, "nothing due", closed)
        if dry_run:
            done = claimed(conn, WORK, today, state)
            return Reminder(today, within, found, to, False, "already sent today" if done else "dry run",
                            closed)
        if not to:
            raise GardeError("no address to remind the DPO at: set dpo_email (GARDE_DPO_EMAIL) or the "
                             "register's controller.dpo.email")
        summary = {"requests": [r.request_id for r in found], "overdue": sum(r.overdue for r in found)}
        if not claim(conn, WORK, today, state, summary):
            return Reminder(today, within, found, to, False, "already sent today", closed)
        subject, body = message(found, within, register)
        (mailer or configured_mailer(settings)).send(to, subject, body, message_id=message_id(today, state))
        audit.record(conn, "request.reminded", {"day": today.isoformat(), "within_days": within, **summary},
                     actor="garde")
    return Reminder(today, within, found, to, True, closed_unverified=closed)


def message(found: Sequence[DueRequest], within: int, register: Register | None) -> tuple[str, str]:
    """The reminder's subject line and body, in the register's language (English if garde has no
    catalogue for it), dates written as that language does in the controller's country."""
    lang = register.language if register is not None and register.language in LANGUAGES else "en"
    country = register.controller.country if register is not None else None
    types = strings(lang)["report"]["held"]["types"]
    lines = []
    for entry in found:
        text = texts.OVERDUE if entry.overdue else texts.SOON
        lines.append(text(lang).format(request=entry.request_id, type=types.get(entry.type, entry.type),
                                       received=day(entry.received, lang, country),
                                       due=day(entry.due, lang, country), days=abs(entry.days_left)))
    overdue = sum(entry.overdue for entry in found)
    subject = texts.SUBJECT(lang).format(overdue=overdue, soon=len(found) - overdue, days=within)
    body = texts.BODY(lang).format(days=within, lines="\n".join(lines),
                                   controller=register.controller.name if register is not None else "garde")
    return subject, body


def message_id(today: date, state: str) -> str:
    """The reminder's Message-ID: the same for the same claim (day and list), whichever run sends it."""
    return f"<reminder.{today.isoformat()}.{state[:32]}@garde>"


def _state(found: Sequence[DueRequest]) -> str:
    """What makes two lists the same list: each request's reference, due date and days left."""
    data = [[r.request_id, r.due.isoformat(), r.days_left] for r in found]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def _registers(settings: Settings) -> list[Register]:
    """The configured registers (``registers`` setting), or none when there is no register there."""
    from garde.decide.model import DecisionModel

    if not settings.registers.exists():
        return []
    return DecisionModel.load(settings.registers).registers
