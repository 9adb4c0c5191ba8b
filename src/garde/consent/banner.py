"""A cookie banner's choice, recorded in the consent ledger (ePrivacy Art. 5(3); GDPR Art. 7(1)).

The visitor is named by the anonymous id their browser made (a random UUID kept on the shop's
site, identity kind ``visitor``, hashed like every identity): a shop page can hold no API key, so
the banner's route is public, and it may only *write* what a visitor chose, never read anything
back. Each category the banner asks about is recorded on every activity its trackers serve, on the
category's channel (``cookie.analytics``...): ``given``, or ``refused`` (``withdrawn`` when the
visitor had given it), with the method ``cookie_banner``, the version of the notice in the
banner's language, and a consent that lapses after the banner's lifetime (at most 13 months, CNIL
délibération 2020-092) or the activity's own validity, whichever ends first.

Global Privacy Control (``navigator.globalPrivacyControl``, ``Sec-GPC: 1``) is the visitor's
refusal of targeted advertising: the advertising categories are recorded refused whatever was
clicked, and the signal is recorded as the visitor's objection (:func:`garde.consent.record_gpc`).

A choice names every category the banner asks about, and only those: a partial or unknown one is
refused, so the ledger never holds half a choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from garde import consent
from garde.consent.ledger import Evidence, LedgerEvent
from garde.decide.model import DecisionModel
from garde.documents.banner import consent_categories
from garde.keys import identifier_data_key
from garde.periods import Period
from garde.problems import GardeError
from garde.register.model import Register
from garde.store.transactions import retried
from garde.subjects import VISITOR, ensure_subject, normalise_identifier, now

METHOD = "cookie_banner"
GPC_REFUSES = frozenset({"cookie.advertising"})  # targeted advertising: what the GPC signal refuses
ACTOR = "cookie-banner"


@dataclass(frozen=True)
class BannerChoice:
    """What a visitor chose on the banner: accepted or not, per category."""

    visitor_id: str
    choices: Mapping[str, bool]
    notice_version: str
    months: int
    ip: str | None = None
    user_agent: str | None = None
    gpc: bool = False  # the browser sent the Global Privacy Control signal


def record_banner_choice(engine: sa.Engine, model: DecisionModel, register: Register,
                         choice: BannerChoice) -> list[LedgerEvent]:
    """Record ``choice`` in one transaction (each event with its audit entry); GardeError when the
    visitor id is not one or the categories are not exactly the banner's."""
    visitor = normalise_identifier(VISITOR, choice.visitor_id)
    asked = consent_categories(register)
    unknown = sorted(set(choice.choices) - set(asked))
    missing = sorted(set(asked) - set(choice.choices))
    if unknown or missing:
        raise GardeError("a banner choice names every category the banner asks about, and only those: "
                         + "; ".join(part for part in (
                             f"unknown {', '.join(unknown)}" if unknown else "",
                             f"missing {', '.join(missing)}" if missing else "") if part)
                         + f" (asked: {', '.join(asked) or 'none'})")
    lifetime = Period.parse(f"{choice.months} months")
    evidence = Evidence.from_request(choice.ip, choice.user_agent, choice.notice_version,
                                     key=identifier_data_key(engine))

    def recording(conn: sa.Connection) -> list[LedgerEvent]:
        events: list[LedgerEvent] = []
        subject_id = ensure_subject(conn, {VISITOR: visitor}, kind=VISITOR)
        standing = {(s.activity, s.channel) for s in consent.current(conn, subject_id) if s.status == "given"}
        if choice.gpc:
            consent.record_gpc(conn, subject_id, actor=ACTOR)
        for category, accepted in choice.choices.items():
            accepted = accepted and not (choice.gpc and category in GPC_REFUSES)
            for activity in asked[category]:
                details = {"channel": category, "method": METHOD, "evidence": evidence, "actor": ACTOR}
                if accepted:
                    rules = model.get(activity)
                    validity = rules.consent_validity if rules else None
                    events.append(consent.give(conn, subject_id, activity,
                                               valid_for=_shorter(lifetime, validity), **details))
                elif (activity, category) in standing:
                    events.append(consent.withdraw(conn, subject_id, activity, **details))
                else:
                    events.append(consent.refuse(conn, subject_id, activity, **details))
        return events

    # two clients (two tabs) recording the same new visitor at once: the second runs again, finding it
    return retried(engine, recording, what="a banner choice", races_to_create=True)


def _shorter(lifetime: Period, validity: Period | None) -> Period:
    if validity is None:
        return lifetime
    start = now()
    return validity if validity.after(start) < lifetime.after(start) else lifetime
