"""Mail about a request sent once, though the worker sending it may die: an outbox in the store.

A mail cannot be sent inside a transaction: a process killed after sending and before its commit
would, run again, send it again. So the intent is committed first: one row per request and mail
(``about``: ``answered``), with the Message-ID the mail will carry, ``pending``; then the mail is
sent with that Message-ID; then, in one transaction, the row is marked ``sent`` and the sending
audited (``request.notified``). A run that finds the row ``sent`` sends nothing; one that finds it
``pending`` (the last run died between the send and that commit) sends it again with the same
Message-ID, which mail clients and servers take for the same message, and shows one. That window,
between the mail server's acceptance and the mark's commit (a few milliseconds), is the only one
where the subject's mailbox may receive it twice.

The row names the request and the Message-ID only: no address, no content.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde.register import Register
from garde.rights.mailer import Mailer
from garde.rights.notify import About, message, notified
from garde.store import is_postgres, metadata
from garde.subjects import now

if TYPE_CHECKING:  # intake imports notify, as this module does
    from garde.rights.intake import Request

mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    sa.Column("request_id", sa.String(36), sa.ForeignKey("requests.id"), primary_key=True),
    sa.Column("about", sa.String(16), primary_key=True),  # extended, rejected, answered
    sa.Column("message_id", sa.String(128), nullable=False),  # the Message-ID header, <...@garde>
    sa.Column("status", sa.String(8), nullable=False),  # pending, sent
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
)


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@garde>"


def mail_intent(store: sa.Engine, request_id: str, about: About) -> tuple[str, str]:
    """The outbox row of the mail ``about`` the request, committed (made pending if there was none):
    (its Message-ID, its status)."""
    insert = postgresql.insert if is_postgres(store) else sqlite.insert
    row = mail_outbox.c
    with store.begin() as conn:
        conn.execute(insert(mail_outbox).values(
            request_id=request_id, about=about, message_id=new_message_id(), status="pending",
            created_at=now()).on_conflict_do_nothing())
        found = conn.execute(sa.select(row.message_id, row.status).where(
            row.request_id == request_id, row.about == about)).one()
    return str(found.message_id), str(found.status)


def tell_once(store: sa.Engine, request: Request, about: About, mailer: Mailer,
              registers: Iterable[Register], *, actor: str = "garde") -> bool:
    """Mail the subject about ``request`` unless the outbox says it was sent, and audit the sending
    once; False when the request gave no e-mail address (nothing is recorded then). A mail that
    cannot be sent raises, and stays pending for the next run."""
    address = request.identities.get("email")
    if not address:
        return False
    message_id, status = mail_intent(store, request.id, about)
    if status == "sent":
        return True
    subject, body = message(request, about, registers)
    mailer.send(address, subject, body, message_id=message_id)
    row = mail_outbox.c
    with store.begin() as conn:
        marked = conn.execute(sa.update(mail_outbox).where(
            row.request_id == request.id, row.about == about, row.status == "pending").values(
            status="sent", sent_at=now())).rowcount
        if marked:
            notified(conn, request, about, actor)
    return True
