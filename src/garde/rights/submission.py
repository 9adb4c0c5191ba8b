"""Receiving a request as a person sends it: recorded, then a one-time code to each identity that
can receive one, in two transactions.

The request is committed before any code is sent, so a mail server that refuses the code (or a
code limit reached) leaves a request that exists and says so, for an agent to verify another way
or to send a code again; it never rolls back the receipt, whose date starts the legal deadline.
Whether the identities given belong to a known person is not looked at here: the answer is the
same for anyone, so submitting cannot be used to learn who is a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from garde.problems import GardeError
from garde.rights.intake import Request, get_request, submit
from garde.rights.mailer import Mailer
from garde.rights.verification import send_codes
from garde.store.transactions import retried


@dataclass(frozen=True)
class Receipt:
    """A request received: the codes sent (identity kinds), the identities left to prove, and why
    no code went out when sending failed."""

    request: Request
    codes_sent: list[str]
    unproven: list[str]
    not_sent: str | None = None


def receive(store: sa.Engine, type: str, identities: Mapping[str, str], mailer: Mailer | None, *,
            language: str = "en", details: Mapping[str, Any] | None = None, actor: str = "garde",
            region: str | None = None) -> Receipt:
    """Record a request (:func:`~garde.rights.intake.submit`), then send its codes with ``mailer``
    (none: no code is sent)."""
    request = retried(store, lambda conn: submit(conn, type, identities, language=language, details=details,
                                                 actor=actor, region=region), what="a request submitted")
    sent: list[str] = []
    not_sent = None
    if mailer is not None:
        try:
            # run again, a new code is sent: the one mailed by the aborted attempt was never stored
            sent = retried(store, lambda conn: send_codes(conn, request.id, mailer, actor=actor),
                           what=f"request {request.id}: codes sent")
        except GardeError as refused:
            not_sent = str(refused)
    with store.connect() as conn:
        request = get_request(conn, request.id)
    return Receipt(request, sent, sorted(set(request.identities) - set(request.proofs)), not_sent)
