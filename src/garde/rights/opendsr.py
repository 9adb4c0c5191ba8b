"""OpenDSR v2 (formerly OpenGDPR): requests sent by other privacy tools, in garde's terms.

OpenDSR names three request types, and each is one of garde's six: ``access``,
``portability`` and ``erasure``. garde's ``rectification``, ``restriction`` and
``objection`` have no OpenDSR type (they need details OpenDSR cannot carry: the
corrections, the objection's scope); any other type is refused with its name.
garde's statuses map onto OpenDSR's four: received and verified are ``pending``,
in progress and failed (to be run again) ``in_progress``, completed
``completed``, rejected and cancelled ``cancelled``.

The sending tool holds a staff key (``agent`` or ``dpo``): OpenDSR leaves the
subject's verification to the controller's tool that received the request, so
the identities it sends are recorded as proven out of band by that key, named
in the audit log, exactly as an agent's check. A tool's ``opendsr`` key follows and cancels the
requests that tool sent (recorded by a key of its name) and no other: another tool's requests,
sent to the same garde, are the same 404 as an id no one sent (red team of 2026-12-07, red28);
staff keys reach every OpenDSR request. Identities must be ``raw``:
garde keys its digests with its own secret, so another tool's SHA-256 or MD5 of
an address matches nothing. The request keeps the ``subject_request_id`` the
sender chose as its id: ``garde request show ID`` finds it, and sending the same
request again answers with the one recorded instead of a second one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from garde.consent.ledger import CLOCK_SKEW
from garde.problems import GardeError, NotFound
from garde.rights.cancellation import cancel
from garde.rights.intake import Request, RequestConflict, RequestType, get_request, submit
from garde.rights.tables import requests
from garde.rights.verification import verify_out_of_band
from garde.store.transactions import retried
from garde.subjects import now

API_VERSION = "2.0"
REGULATIONS = ("gdpr",)
REQUEST_TYPES: dict[str, RequestType] = {"access": "access", "portability": "portability",
                                         "erasure": "erasure"}
# OpenDSR identity types garde's data maps know; advertising and device ids have no garde identity.
IDENTITY_TYPES = {"email": "email", "controller_customer_id": "customer_id", "phone_number": "phone"}
IDENTITY_FORMATS = ("raw",)
STATUSES = {"received": "pending", "verified": "pending", "in_progress": "in_progress",
            "failed": "in_progress", "completed": "completed", "rejected": "cancelled",
            "cancelled": "cancelled"}
#: How long before it reaches garde a request sent through OpenDSR may have been received: the
#: deadline of GDPR Art. 12(3), one month extended by two further months, at its longest (92 days).
#: A request older than that is past any deadline the controller could still keep; a tool sending one
#: backdates it (red28: a request "received" in year 1, overdue by 739,925 days on every list).
SUBMITTED_WITHIN = timedelta(days=92)


@dataclass(frozen=True)
class Identity:
    """One ``subject_identities`` entry."""

    identity_type: str
    identity_value: str
    identity_format: str = "raw"


@dataclass(frozen=True)
class OpenDsrRequest:
    """An OpenDSR request as sent (``status_callback_urls`` are kept in the request's details)."""

    regulation: str
    subject_request_id: str
    subject_request_type: str
    subject_identities: list[Identity]
    submitted_time: datetime | None = None
    status_callback_urls: list[str] = field(default_factory=list)


def discovery() -> dict[str, Any]:
    """What this processor supports, as OpenDSR's discovery document says it."""
    return {"api_version": API_VERSION,
            "supported_identities": [{"identity_type": kind, "identity_format": form}
                                     for kind in IDENTITY_TYPES for form in IDENTITY_FORMATS],
            "supported_subject_request_types": list(REQUEST_TYPES),
            "supported_regulations": list(REGULATIONS),
            "processor_certificate": None}


def _identities(sent: list[Identity]) -> dict[str, str]:
    identities: dict[str, str] = {}
    for identity in sent:
        kind = IDENTITY_TYPES.get(identity.identity_type)
        if kind is None:
            raise GardeError(f"OpenDSR identity type {identity.identity_type!r} has no garde equivalent; "
                             f"supported: {', '.join(IDENTITY_TYPES)}")
        if identity.identity_format not in IDENTITY_FORMATS:
            raise GardeError(f"identity format {identity.identity_format!r} cannot be used: garde needs "
                             "raw identities (its digests are keyed with its own secret)")
        if identities.get(kind, identity.identity_value) != identity.identity_value:
            raise GardeError(f"two different {identity.identity_type} identities: send one of each type")
        identities[kind] = identity.identity_value
    if not identities:
        raise GardeError("an OpenDSR request needs at least one subject identity")
    return identities


def receive_opendsr(store: sa.Engine, sent: OpenDsrRequest, *, actor: str, region: str | None = None,
                    language: str = "en", own_only: bool = False) -> Request:
    """Record an OpenDSR request, its identities proven by the sending tool's key (``actor``), in
    a transaction of its own.

    Sent again (same ``subject_request_id`` and type), the request recorded is returned unchanged;
    with another type, :class:`RequestConflict`. The same request sent twice at once (a tool that
    retries before its first answer, two of its workers) is recorded once: both find no request,
    both insert it, the store's unique id lets one through; the other transaction is rolled back
    and reads the request now recorded, exactly as a resend does. ``own_only``: the sender is a tool's
    ``opendsr`` key, answered with a request recorded only when ``actor`` sent it (else 409).
    """
    return retried(store, lambda conn: _receive(conn, sent, actor=actor, region=region, language=language,
                                                own_only=own_only),
                   what=f"OpenDSR request {sent.subject_request_id}", races_to_create=True)


def _receive(conn: sa.Connection, sent: OpenDsrRequest, *, actor: str, region: str | None,
             language: str, own_only: bool) -> Request:
    if sent.regulation.lower() not in REGULATIONS:
        raise GardeError(f"regulation {sent.regulation!r} is not handled; supported: "
                         f"{', '.join(REGULATIONS)}")
    request_type = REQUEST_TYPES.get(sent.subject_request_type)
    if request_type is None:
        raise GardeError(f"OpenDSR request type {sent.subject_request_type!r} has no garde equivalent; "
                         f"supported: {', '.join(REQUEST_TYPES)}")
    identities = _identities(sent.subject_identities)
    request_id = str(uuid.UUID(sent.subject_request_id))
    if conn.execute(sa.select(requests.c.id).where(requests.c.id == request_id)).first() is not None:
        try:
            known = opendsr_request(conn, request_id, sender=actor if own_only else None)
        except NotFound:  # another tool's request, or one not sent through OpenDSR: never answered with it
            raise RequestConflict(f"request {request_id} exists already; send another id") from None
        if known.type != request_type:
            raise RequestConflict(f"request {request_id} exists already, as {known.type}")
        return known
    received = sent.submitted_time
    if received is not None:
        received = received if received.tzinfo else received.replace(tzinfo=UTC)
        if received > now() + CLOCK_SKEW:
            raise GardeError(f"submitted_time {received.isoformat()} is in the future")
        if received < now() - SUBMITTED_WITHIN:
            raise GardeError(f"submitted_time {received.isoformat()} is more than three months ago "
                             f"({SUBMITTED_WITHIN.days} days: a month, extended by two, GDPR Art. 12(3)); "
                             "send the request when the subject makes it")
    details = {"opendsr": {"regulation": sent.regulation.lower(), "by": actor,
                           "status_callback_urls": sent.status_callback_urls}}
    request = submit(conn, request_type, identities, language=language, details=details, actor=actor,
                     received_at=received, region=region, request_id=request_id)
    return verify_out_of_band(conn, request.id, f"OpenDSR request: identities verified by the sending "
                              f"tool ({actor})", actor=actor, identities=list(identities))


def opendsr_request(conn: sa.Connection, request_id: str, *, sender: str | None = None) -> Request:
    """The request received through OpenDSR with this exact id; with ``sender`` (a tool's key's actor),
    only one that key's tool sent: another's is not found, as a missing one."""
    request = get_request(conn, request_id) if len(request_id) == 36 else None
    if request is None or "opendsr" not in request.details or request.id != request_id \
            or (sender is not None and request.details["opendsr"].get("by") != sender):
        raise NotFound(f"no OpenDSR request {request_id!r}")
    return request


def cancel_opendsr(conn: sa.Connection, request_id: str, *, actor: str, own_only: bool = False) -> Request:
    """Cancel an OpenDSR request while it is pending (:func:`~garde.rights.cancellation.cancel`);
    ``own_only``: only one ``actor`` sent."""
    opendsr_request(conn, request_id, sender=actor if own_only else None)
    return cancel(conn, request_id, "cancelled by the sender (OpenDSR)", actor=actor)


def status(request: Request) -> str:
    """The request's status in OpenDSR's words."""
    return STATUSES[request.status]


def expected_completion(request: Request) -> datetime | None:
    """The end of the due day (UTC) of an open request; none once it is closed."""
    return datetime.combine(request.due, time(23, 59, 59), UTC) if request.is_open else None
