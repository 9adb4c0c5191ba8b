"""The consent API's identities, checked by the shop or typed by a visitor (docs/consent.md).

The shop's systems name a subject by identities: some the shop checked (a signed-in account's
verified address, its customer id), some a visitor typed into a form, maybe someone else's. Linked
together as one engine subject, they made one person for ``decide()``: a visitor typing another's
number beside her own address opted that person in or out through the shop's own API (red team of
2026-12-07, red25; docs/security.md, *A consent is the person's own*). So each identity of a call
is checked or not (the call's ``checked``, else the ``consent_unchecked_identities`` setting, else
checked, as before the setting), and an unchecked one is never linked to the others:

- a consent **given** lands on the subject of the checked identities only; each unchecked one gets
  a confirmation asked of its holder (:mod:`garde.consent.confirmations`), who gives the consent
  in the privacy center once signed in with it; a call naming none checked records nothing yet;
- a **withdrawal** lands on the checked identities' subject and, apart, on the subject of each
  unchecked one (created if new, as any withdrawal's): a stranger's withdrawal is also an act in
  someone's name, but refusing it would keep mail flowing to someone who wanted it stopped, and
  withdrawing must be as easy as giving (Art. 7(3)); its holder gives it again in the privacy
  center. No identity is linked to another by it.

A customer id is the shop's own key for an account it holds: read as checked unless the call says
otherwise, which is refused (nothing can ask its holder). A telephone number is confirmable only
through an SMS gateway; without one an unchecked number is left out (the answer says so, whatever
the number). The answer is the same whether garde knew an identity or not, and whether its holder's
invitation left (:func:`record_call`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from garde.consent.confirmations import LIFETIME, ask
from garde.consent.ledger import LedgerEvent, consent_channel
from garde.consent.recording import ConsentChoice, choice_details, record_choice, record_in
from garde.decide.model import DecisionModel
from garde.problems import GardeError
from garde.ratelimit import Limit
from garde.register.model import text_in
from garde.rights.intake import LANGUAGES
from garde.rights.mailer import Mailer, SmsSender
from garde.rights.wording import strings
from garde.store.transactions import retried
from garde.subjects import find_subject

Policy = Literal["link", "confirm"]
CONFIRMABLE = ("email", "phone")


def unchecked_kinds(identities: Mapping[str, str], checked: Mapping[Any, bool] | None,
                    policy: Policy | None) -> frozenset[str]:
    """The kinds of ``identities`` the shop did not check: ``checked`` says so per kind; a kind it
    does not name follows ``policy`` (``confirm``: unchecked; ``link`` or unset: checked)."""
    flags = dict(checked or {})
    stray = sorted(set(flags) - set(identities))
    if stray:
        raise GardeError(f"`checked` names {', '.join(stray)}, which the subject does not give")
    if flags.get("customer_id") is False:
        raise GardeError("`checked.customer_id` cannot be false: a customer id is the shop's own key for "
                         "an account it holds, and nothing can ask its holder; leave it out of the subject")
    by_default = policy != "confirm"
    return frozenset(kind for kind in identities if kind != "customer_id" and not flags.get(kind, by_default))


@dataclass(frozen=True)
class Recorded:
    """What a consent call recorded: the event on the checked identities' subject (for a withdrawal
    naming none checked, on the first unchecked identity's), the kinds whose holder is asked to
    confirm, those nothing here can ask (a telephone number without an SMS gateway), and the
    invitations to send once the transaction is committed."""

    event: LedgerEvent | None
    pending: tuple[str, ...] = ()
    unconfirmable: tuple[str, ...] = ()
    deliver: Callable[[], None] = lambda: None


def record_call(engine: sa.Engine, model: DecisionModel, choice: ConsentChoice, unchecked: frozenset[str],
                mailer: Mailer, budget: tuple[Limit, str] | None = None) -> Recorded:
    """Record ``choice``, its ``unchecked`` identities apart (see the module's doc); one transaction.
    ``budget``: the calling key's limit on invitations and its counter key
    (:func:`garde.consent.confirmations.ask`)."""
    if not unchecked:
        return Recorded(record_choice(engine, model, choice))
    checked = {kind: value for kind, value in choice.identities.items() if kind not in unchecked}
    apart = [(kind, value) for kind, value in choice.identities.items() if kind in unchecked]
    details = choice_details(engine, model, choice)
    what = f"consent {choice.action} for {choice.activity}"
    if choice.action == "withdrawn":
        def withdrawing(conn: sa.Connection) -> list[LedgerEvent]:
            events = [record_in(conn, model, choice, checked, details)] if checked else []
            for kind, value in apart:
                held_by = find_subject(conn, {kind: value})
                if held_by is None or held_by not in {event.subject_id for event in events}:
                    events.append(record_in(conn, model, choice, {kind: value}, details))
            return events

        return Recorded(retried(engine, withdrawing, what=what, races_to_create=True)[0])
    confirmable = [(kind, value) for kind, value in apart if kind == "email" or isinstance(mailer, SmsSender)]
    channel = consent_channel(choice.channel)

    def giving(conn: sa.Connection) -> tuple[LedgerEvent | None, list[tuple[str, str]]]:
        event = record_in(conn, model, choice, checked, details) if checked else None
        return event, [(kind, value) for kind, value in confirmable
                       if ask(conn, kind, value, choice.activity, channel, actor=choice.actor, budget=budget)]

    event, invited = retried(engine, giving, what=what, races_to_create=True)
    return Recorded(event, tuple(kind for kind, _ in confirmable),
                    tuple(kind for kind, _ in apart if (kind, choice.identities[kind]) not in confirmable),
                    _invitations(mailer, model, choice, invited))


def _invitations(mailer: Mailer, model: DecisionModel, choice: ConsentChoice,
                 invited: list[tuple[str, str]]) -> Callable[[], None]:
    """The mails (or texts) asking each invited identity's holder to confirm ``choice``."""
    owner = model.register_of(choice.activity)
    language = choice.notice_lang or (owner.language if owner is not None else "en")
    language = language if language in LANGUAGES else "en"
    words = strings(language)
    controller = owner.controller.name if owner is not None else ""
    found = owner.activity(choice.activity) if owner is not None else None
    fields = {"controller": controller, "days": LIFETIME.days,
              "activity": (text_in(found.name, language) if found is not None else None) or choice.activity,
              "where": (owner.controller.privacy_center_url if owner is not None else None)
              or words["consent_confirm_where"].format(controller=controller)}

    def deliver() -> None:
        for kind, value in invited:
            if kind == "phone":
                assert isinstance(mailer, SmsSender)
                mailer.send_sms(value, words["consent_confirm_sms"].format(**fields))
            else:
                mailer.send(value, words["consent_confirm_mail"]["subject"],
                            words["consent_confirm_mail"]["body"].format(**fields))

    return deliver
