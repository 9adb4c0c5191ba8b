"""Recording a consent event as an edge receives it (the CLI, the API): one call each.

The edge names the subject by its identities and the activity by its id; this module checks
the activity against the register, finds or creates the subject, keeps only the HMAC of the
IP address, and records the event with its audit entry in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from garde import consent
from garde.consent.ledger import Evidence, LedgerEvent
from garde.consent.state import ConsentState
from garde.decide.model import DecisionModel
from garde.keys import identifier_data_key
from garde.problems import GardeError, NotFound, closest
from garde.rights.deployment import configured_phone_region
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
    of the notice the register gives now), or withdrawn (with ``unsubscribe``: also do not contact)."""
    check_activity(model, choice.activity)
    rules = model.get(choice.activity)
    owner = model.register_of(choice.activity)
    notice_version = choice.notice_version
    if choice.action == "given" and notice_version is None and owner is not None:
        from garde.documents import notice_version as current_version  # the notice the register gives now

        notice_version = current_version(owner, choice.notice_lang or owner.language)
    details: dict[str, Any] = {"channel": choice.channel, "method": choice.method, "actor": choice.actor,
                               "at": choice.at}
    details["evidence"] = Evidence.from_request(choice.ip, choice.user_agent, notice_version,
                                                key=identifier_data_key(engine))
    with engine.begin() as conn:
        subject_id = ensure_subject(conn, choice.identities)
        if choice.action == "given":
            return consent.give(conn, subject_id, choice.activity,
                                valid_for=rules.consent_validity if rules else None, **details)
        if choice.unsubscribe:
            return consent.unsubscribe(conn, subject_id, choice.activity, **details)
        return consent.withdraw(conn, subject_id, choice.activity, **details)


def consent_state(engine: sa.Engine, model: DecisionModel, identities: dict[str, str]) -> list[ConsentState]:
    """A subject's consents as they stand now; NotFound when no subject holds these identities."""
    with engine.connect() as conn:
        subject_id = find_subject(conn, identities)
        if subject_id is None:
            raise NotFound("no subject with this identity")
        return consent.current(conn, subject_id, validity=dict(model.validity()))
