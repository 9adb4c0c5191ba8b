"""Consent receipts: one JSON record per ledger event.

The layout is ISO/IEC TS 27560 (consent record information structure),
whose fields descend from the Kantara Initiative's Consent Receipt 1.1:
a ``header`` (schema version, record id, PII principal), the ``processing``
it covers (notice, language, purposes, personal data types, controllers,
retention, jurisdiction, recipients, withdrawal method, legal basis), the
``parties`` and the ``events`` (time, validity, type, state). The Kantara
1.1 names (``consentReceiptID``, ``piiPrincipalId``, ``services``...) are
given alongside in ``kantara`` for tools that read that format.

The subject is named by garde's subject id, never by an address, and the
evidence by the HMAC of the IP address: a receipt can be handed out or
archived without disclosing more than the ledger holds.
"""

from __future__ import annotations

from typing import Any

from garde.consent.ledger import LedgerEvent
from garde.consent.state import DPV_STATES
from garde.periods import Period
from garde.register import Activity, Register, text_in

SCHEMA = "ISO/IEC TS 27560:2023"
KANTARA_VERSION = "KI-CR-v1.1.0"
LEGAL_BASES = {
    "consent": "eu-gdpr:A6-1-a", "contract": "eu-gdpr:A6-1-b", "legal_obligation": "eu-gdpr:A6-1-c",
    "vital_interests": "eu-gdpr:A6-1-d", "public_task": "eu-gdpr:A6-1-e",
    "legitimate_interests": "eu-gdpr:A6-1-f",
}


def iso_duration(period: Period) -> str:
    """``13 months`` -> ``P13M`` (ISO 8601), the validity duration of a consent."""
    return f"P{period.count}{ {'day': 'D', 'week': 'W', 'month': 'M', 'year': 'Y'}[period.unit] }"


def receipt(event: LedgerEvent, register: Register | None = None) -> dict[str, Any]:
    """The receipt of one consent event, with what the register says of its activity."""
    activity = register.activity(event.activity) if register else None
    lang = register.language if register else "en"
    controller = _controller(register)
    validity = activity.consent.expiry if activity and activity.consent else None
    processing = _processing(event, activity, register, lang)
    record_event: dict[str, Any] = {
        "event_time": event.at.isoformat(),
        "recorded_time": event.recorded_at.isoformat(),
        "event_type": {"given": "consent_given", "withdrawn": "consent_withdrawn",
                       "refused": "consent_refused"}[event.action],
        "event_state": DPV_STATES[event.action],
        "validity_duration": iso_duration(validity) if validity and event.action == "given" else None,
        "expiry_time": event.expires_at.isoformat() if event.expires_at else None,
        "collection_method": event.method,
        "channel": event.channel,
        "actor": event.actor,
        "evidence": {"notice_version": event.notice_version, "ip_address_hmac": event.ip_hash,
                     "user_agent": event.user_agent},
    }
    return {
        "schema_version": SCHEMA,
        "header": {"record_id": event.event_id, "pii_principal_id": event.subject_id,
                   "timestamp": event.recorded_at.isoformat(), "source": event.source},
        "processing": processing,
        "parties": [
            {"role": "controller", **controller},
            {"role": "pii_principal", "id": event.subject_id},
        ],
        "events": [record_event],
        "kantara": _kantara(event, processing, controller, lang),
    }


def _controller(register: Register | None) -> dict[str, Any]:
    if register is None:
        return {"name": None}
    c = register.controller
    contact = c.contact
    return {"name": c.name, "country": c.country, "email": contact.email if contact else None,
            "phone": contact.phone if contact else None, "url": contact.url if contact else None,
            "address": text_in(contact.address, register.language) if contact else None}


def _processing(event: LedgerEvent, activity: Activity | None, register: Register | None,
                lang: str) -> dict[str, Any]:
    if activity is None or register is None:  # an activity is only ever found in a register
        return {"activity": event.activity, "purposes": [], "personal_data_types": [],
                "notice": {"version": event.notice_version}}
    return {
        "activity": activity.id,
        "notice": {"version": event.notice_version},
        "language": lang,
        "purposes": [text_in(p, lang) for p in activity.purposes] or [text_in(activity.name, lang)],
        "personal_data_types": list(activity.data_categories),
        "controllers": [register.controller.name],
        "retention": [r.summary() for r in activity.retention],
        "jurisdiction": register.controller.country,
        # the register's recipients for every activity too (Register.effective)
        "recipients": [r.kind for r in register.effective(activity).recipient_list()],
        "withdrawal_method": list(activity.consent.withdrawal) if activity.consent else [],
        "legal_basis": [LEGAL_BASES.get(b, b) for b in sorted(activity.bases())],
        "direct_marketing": activity.direct_marketing,
        "sensitive": activity.art9_condition is not None,
    }


def _kantara(event: LedgerEvent, processing: dict[str, Any], controller: dict[str, Any],
             lang: str) -> dict[str, Any]:
    """The same record under Kantara Consent Receipt 1.1 names."""
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": processing.get("jurisdiction"),
        "consentTimestamp": int(event.at.timestamp()),
        "collectionMethod": event.method,
        "consentReceiptID": event.event_id,
        "language": lang,
        "piiPrincipalId": event.subject_id,
        "piiControllers": [{"piiController": controller.get("name"), "contact": controller.get("email"),
                            "address": controller.get("address"), "email": controller.get("email"),
                            "phone": controller.get("phone"), "piiControllerUrl": controller.get("url")}],
        "policyUrl": controller.get("url"),
        "services": [{"service": processing["activity"], "purposes": [
            {"purpose": purpose, "consentType": "EXPLICIT" if event.action == "given" else "WITHDRAWN",
             "purposeCategory": ["Direct marketing"] if processing.get("direct_marketing") else [],
             "piiCategory": processing["personal_data_types"],
             "primaryPurpose": index == 0,
             "termination": ", ".join(processing.get("retention", [])) or None,
             "thirdPartyDisclosure": bool(processing.get("recipients")),
             "thirdPartyName": None}
            for index, purpose in enumerate(processing["purposes"] or [processing["activity"]])]}],
        "sensitive": bool(processing.get("sensitive")),
        "spiCat": processing["personal_data_types"] if processing.get("sensitive") else [],
    }
