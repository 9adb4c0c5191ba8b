"""Recording a consent event as an edge receives it (the CLI, the API): one call each.

The edge names the subject by its identities and the activity by its id; this module checks
the activity against the register, finds or creates the subject, keeps only the HMAC of the
IP address, and records the event with its audit entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from garde import consent
from garde.consent.identities import record as recorded_with
from garde.consent.ledger import Evidence, LedgerEvent
from garde.consent.objections import TARGETED_ADVERTISING, gpc_signal, record_gpc
from garde.consent.receipts import receipt
from garde.consent.state import ConsentState
from garde.decide.model import DecisionModel
from garde.keys import identifier_data_key
from garde.problems import GardeError, NotFound, closest
from garde.rights.deployment import configured_phone_region
from garde.store.transactions import retried
from garde.subjects import ensure_subject, find_subject, normalise_identifier


def subject_identities(email: str | None, phone: str | None, customer_id: str | None) -> dict[str, str]:
    """The identities named, a telephone number read as a request reads it (without its country
    code: a number of the controller's country); at least one is required."""
    if phone:
        phone = normalise_identifier("phone", phone, configured_phone_region())
    found = {k: v for k, v in (("email", email), ("phone", phone), ("customer_id", customer_id)) if v}
    if not found:
        raise GardeError("name the subject: email, phone or customer_id")
    return found


def check_activity(model: DecisionModel, activity: str) -> None:
    """An activity the register does not have is refused, with the nearest id."""
    if model.get(activity) is None:
        hint = closest(activity, model.activities)
        suggestion = f" (did you mean {hint!r}?)" if hint else ""
        raise NotFound(f"{activity!r} is not in the register{suggestion}")


@dataclass(frozen=True)
class ConsentChoice:
    """One consent event as an edge received it."""

    action: Literal["given", "withdrawn"]
    activity: str
    identities: dict[str, str]
    channel: str | None = None
    method: str = "web_form"
    notice_version: str | None = None
    notice_lang: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    at: datetime | None = None  # when it happened; default now, never in the future
    unsubscribe: bool = False
    actor: str = "garde"


def record_choice(engine: sa.Engine, model: DecisionModel, choice: ConsentChoice) -> LedgerEvent:
    """Record ``choice``: a consent given (with the activity's validity, and by default the version
    of the notice the register gives now), or withdrawn (with ``unsubscribe``: also do not contact),
    on the subject of all its identities (each one linked to it)."""
    details = choice_details(engine, model, choice)
    return retried(engine, lambda conn: record_in(conn, model, choice, choice.identities, details),
                   what=f"consent {choice.action} for {choice.activity}", races_to_create=True)


def choice_details(engine: sa.Engine, model: DecisionModel, choice: ConsentChoice) -> dict[str, Any]:
    """What the ledger records of ``choice`` besides its subject (checked against the register first):
    built before the transaction (it may render the notice)."""
    check_activity(model, choice.activity)
    owner = model.register_of(choice.activity)
    notice_version = choice.notice_version
    if choice.action == "given" and notice_version is None and owner is not None:
        from garde.documents import notice_version as current_version  # the notice the register gives now

        notice_version = current_version(owner, choice.notice_lang or owner.language)
    details: dict[str, Any] = {"channel": choice.channel, "method": choice.method, "actor": choice.actor,
                               "at": choice.at}
    details["evidence"] = Evidence.from_request(choice.ip, choice.user_agent, notice_version,
                                                key=identifier_data_key(engine))
    return details


def record_in(conn: sa.Connection, model: DecisionModel, choice: ConsentChoice, identities: dict[str, str],
              details: dict[str, Any]) -> LedgerEvent:
    """Record ``choice`` in ``conn``'s transaction on the subject of ``identities`` (created if new,
    each identity linked to it), noting the event was recorded with them; ``details``:
    :func:`choice_details`."""
    subject_id = ensure_subject(conn, identities)
    if choice.action == "given":
        rules = model.get(choice.activity)
        event = consent.give(conn, subject_id, choice.activity,
                             valid_for=rules.consent_validity if rules else None, **details)
    elif choice.unsubscribe:
        event = consent.unsubscribe(conn, subject_id, choice.activity, **details)
    else:
        event = consent.withdraw(conn, subject_id, choice.activity, **details)
    recorded_with(conn, event.event_id, identities)  # what a narrowed session reaches
    return event


def consent_state(engine: sa.Engine, model: DecisionModel, identities: dict[str, str]) -> list[ConsentState]:
    """A subject's consents as they stand now; NotFound when no subject holds these identities."""
    with engine.connect() as conn:
        return consent.current(conn, _known_subject(conn, identities), validity=dict(model.validity()))


def _known_subject(conn: sa.Connection, identities: dict[str, str]) -> str:
    subject_id = find_subject(conn, identities)
    if subject_id is None:
        raise NotFound("no subject with this identity")
    return subject_id


def consent_history(engine: sa.Engine, identities: dict[str, str], activity: str | None = None, *,
                    after: tuple[datetime, int] | None = None, limit: int | None = None) -> list[LedgerEvent]:
    """A subject's consent events in the order they happened (the proof, Art. 7(1)); a page of
    them with ``after`` and ``limit`` (:func:`garde.consent.ledger.history`). NotFound when no
    subject holds these identities."""
    with engine.connect() as conn:
        subject_id = _known_subject(conn, identities)
        return list(consent.history(conn, subject_id, activity, after=after, limit=limit))


def consent_receipt(engine: sa.Engine, model: DecisionModel, event_id: str) -> dict[str, Any]:
    """The receipt of one ledger event (ISO/IEC TS 27560 and Kantara fields), with what the
    register says of its activity; NotFound for an unknown event id."""
    with engine.connect() as conn:
        event = consent.event(conn, event_id)
    return receipt(event, model.register_of(event.activity))


@dataclass(frozen=True)
class GpcRecorded:
    """A Global Privacy Control signal as recorded: the objection's scope, whether it is new, and
    the register's activities it stops (those marked ``targeted_advertising: true``)."""

    subject_id: str
    recorded: bool
    scope: str
    activities: list[str]


def gpc_activities(model: DecisionModel) -> list[str]:
    """The activities a GPC signal objects to: sale/sharing and targeted advertising, as the
    register marks them (``targeted_advertising: true``, honoured by ``decide()`` and audiences)."""
    return sorted(rules.id for rules in model.activities.values() if rules.targeted_advertising)


def record_gpc_signal(engine: sa.Engine, model: DecisionModel, identities: dict[str, str],
                      headers: Mapping[str, str], actor: str = "garde",
                      unchecked: frozenset[str] = frozenset()) -> GpcRecorded:
    """Record the ``Sec-GPC: 1`` that ``headers`` carry (a browser's, relayed by the shop) as the
    subject's objection to targeted advertising (GDPR Art. 21(2) and (5), CCPA "do not sell or
    share"); audited with ``actor``. A GardeError when the headers carry no signal.

    The identities of ``unchecked`` (kinds the shop did not check, :func:`garde.consent.unchecked.
    unchecked_kinds`) are linked to no other: the objection lands on the checked identities' subject
    and, apart, on each unchecked one's own (created if new), as a withdrawal does. ``recorded``:
    whether one of them objected anew; ``subject_id``: the first subject objecting."""
    if not gpc_signal(headers):
        raise GardeError("no Global Privacy Control signal: send the browser's `Sec-GPC: 1` header")
    checked = {kind: value for kind, value in identities.items() if kind not in unchecked}

    def recording(conn: sa.Connection) -> tuple[str, bool]:
        objecting = [ensure_subject(conn, checked)] if checked else []
        for kind, value in identities.items():
            held_by = find_subject(conn, {kind: value}) if kind in unchecked else objecting[0]
            if held_by not in objecting:
                objecting.append(held_by or ensure_subject(conn, {kind: value}))
        new = [record_gpc(conn, subject_id, actor=actor) for subject_id in objecting]
        return objecting[0], any(new)

    subject_id, recorded = retried(engine, recording, what="a GPC signal", races_to_create=True)
    return GpcRecorded(subject_id, recorded, TARGETED_ADVERTISING, gpc_activities(model))
