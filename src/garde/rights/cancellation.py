"""Withdrawing a request before it is answered.

Whoever sent a request may take it back while nothing has been done with it:
received or verified, not yet started. Once a run has begun (an erasure may
already have removed rows) or the request is answered or refused, it stays
what it is: cancelling it then would leave a record that says less than what
happened. Cancelling twice is the same as once. Like the other closing steps,
a cancellation drops the raw identities the request held (GDPR Art. 5(1)(c)).
"""

from __future__ import annotations

import sqlalchemy as sa

from garde.problems import GardeError
from garde.rights.code_limits import hold_request
from garde.rights.intake import Request, RequestConflict, get_request, transition

CANCELLABLE = ("received", "verified")


def cancel(conn: sa.Connection, request_id: str, reason: str, *, actor: str) -> Request:
    """Cancel a request not yet started (audited ``request.cancelled`` with the reason); idempotent.

    A request being run, answered or refused cannot be cancelled (:class:`RequestConflict`).
    """
    if not reason.strip():
        raise GardeError("a cancellation needs a reason (who asked for it, and why)")
    request = get_request(conn, request_id)
    hold_request(conn, request.id)  # a run starting meanwhile waits, then finds it cancelled
    request = get_request(conn, request.id)
    if request.status == "cancelled":
        return request
    if request.status not in CANCELLABLE:
        raise RequestConflict(f"request {request.id} is {request.status}; only a request not yet started "
                              "(received or verified) can be cancelled")
    return transition(conn, request, "cancelled", actor=actor, note=reason)
