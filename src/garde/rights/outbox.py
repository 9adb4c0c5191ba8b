"""Mail about a request sent once, though the worker sending it may die: an outbox in the store.

A mail cannot be sent inside a transaction: a process killed after sending and before its commit
would, run again, send it again. So the intent is committed first: one row per request and mail
(``about``: ``answered``, ``extended``, ``rejected``), with the Message-ID the mail will carry,
``pending``; then the mail is sent with that Message-ID; then, in one transaction, the row is marked
``sent`` and the sending audited (``request.notified``). A run that finds the row ``sent`` sends
nothing; one that finds it ``pending`` (the last run died between the send and that commit) sends it
again with the same Message-ID, which mail clients and servers take for the same message, and shows
one. That window, between the mail server's acceptance and the mark's commit (a few milliseconds),
is the only one where the subject's mailbox may receive it twice.

``answered`` is sent between the request's transactions, under its run lock (:func:`send_once`): its
intent committed in one statement, the mail sent, and the ``sent`` mark with its audit entry written
by the request's completing transaction (the request completed and its mail marked sent commit
together; killed between the send and that commit, the run is resumed and sends the same message).
``extended`` and ``rejected`` are sent in the transaction that records the step they tell of
(:func:`tell_in`): their intent is committed before it, on a connection of its own
(:func:`prepare`); the step's transaction marks the row ``sent`` first (so of two such
transactions, one sends and the other, waiting for its commit, finds nothing pending), then mails,
audits and commits with the step. Killed after sending, the step and the mark roll back, the intent
stays: the DPO's next ``extend`` or ``reject`` sends the same message again, with its Message-ID.

The row names the request and the Message-ID only: no address, no content.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from garde import audit
from garde.register import Register
from garde.rights.mailer import Mailer
from garde.rights.notify import About, message, notified, notified_event
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
    (its Message-ID, its status).

    On PostgreSQL the one statement runs in autocommit: it is atomic by itself, and a transaction
    around it only added a ``BEGIN`` and a ``COMMIT`` round trip (it holds no lock while it waits,
    so it is in no deadlock either)."""
    if is_postgres(store):
        with store.connect() as conn:
            return _intent(conn.execution_options(isolation_level="AUTOCOMMIT"), request_id, about)
    with store.begin() as conn:
        return _intent(conn, request_id, about)


def _intent_statement(insert: Callable[[sa.Table], Any]) -> sa.Executable:
    """The intent's upsert with its values as parameters: built once per dialect (building it, the
    ``excluded`` alias's columns above all, cost about as much CPU as running it)."""
    row = mail_outbox.c
    statement = insert(mail_outbox).values(
        request_id=sa.bindparam("request_id"), about=sa.bindparam("about"),
        message_id=sa.bindparam("message_id"), status="pending", created_at=sa.bindparam("created_at"))
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[row.request_id, row.about], set_={"about": statement.excluded.about},
    ).returning(row.message_id, row.status)


_INTENTS = {"postgresql": _intent_statement(postgresql.insert), "sqlite": _intent_statement(sqlite.insert)}


def _intent(conn: sa.Connection, request_id: str, about: About) -> tuple[str, str]:
    """One statement: the row inserted, or the one there returned as it is (the update of its
    ``about`` to itself only makes the conflict return it, and locks it as the insert would)."""
    found = conn.execute(_INTENTS[conn.dialect.name], {
        "request_id": request_id, "about": about, "message_id": new_message_id(), "created_at": now()}).one()
    return str(found.message_id), str(found.status)


def _written(conn: sa.Connection) -> bool:
    """Whether the connection's transaction has written anything yet (it then holds locks, and rows
    other connections cannot see: the request itself, submitted in it)."""
    if is_postgres(conn):
        return bool(conn.execute(sa.text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")).scalar_one())
    return bool(getattr(conn.connection.driver_connection, "in_transaction", True))  # sqlite3: a write began


# Marks a mail sent in the caller's transaction: the audit entries to append with it (none when
# another transaction marked it first, or it had been sent already).
Told = Callable[[sa.Connection], list[audit.Event]]


def send_once(store: sa.Engine, request: Request, about: About, mailer: Mailer,
              registers: Iterable[Register], *, actor: str = "garde") -> Told | None:
    """Mail the subject about ``request`` unless the outbox says it was sent: the intent committed
    and the mail sent, the mark left to the caller's next transaction (a request's completion),
    which appends the returned entries with its own (a mail that cannot be sent raises, and stays
    pending for the next run). Killed before that commits, the row stays pending
    and the next run sends the same message again, with its Message-ID; None without an address."""
    address = request.identities.get("email")
    if not address:
        return None
    message_id, status = mail_intent(store, request.id, about)
    if status != "sent":
        subject, body = message(request, about, registers)
        mailer.send(address, subject, body, message_id=message_id)

    def mark(conn: sa.Connection) -> list[audit.Event]:
        if status == "sent" or not _mark(conn, request.id, about):
            return []
        return [notified_event(request, about, actor)]

    return mark


def _mark(conn: sa.Connection, request_id: str, about: About) -> bool:
    """Mark the pending mail sent: False when it was not pending (marked by another transaction)."""
    row = mail_outbox.c
    return bool(conn.execute(sa.update(mail_outbox).where(
        row.request_id == request_id, row.about == about, row.status == "pending").values(
        status="sent", sent_at=now())).rowcount)


@dataclass(frozen=True)
class Intent:
    """A mail about a request, committed to the outbox before the transaction that sends it."""

    request_id: str
    about: About
    message_id: str
    sent: bool


def prepare(conn: sa.Connection, request: Request, about: About, mailer: Mailer | None) -> Intent | None:
    """The intent of the mail ``about`` the request, committed on a connection of its own before the
    caller's transaction writes anything; None when no mail is to be sent (no mailer, or no address:
    the step is recorded all the same). A caller's transaction that wrote already (a request submitted
    and rejected at once) holds the intent itself: committed with the step, it keeps a second run from
    sending, but a process killed after sending leaves nothing to resend with the same Message-ID."""
    if mailer is None or not request.identities.get("email"):
        return None
    if _written(conn):
        message_id, status = _intent(conn, request.id, about)
    else:
        message_id, status = mail_intent(conn.engine, request.id, about)
    return Intent(request.id, about, message_id, status == "sent")


def tell_in(conn: sa.Connection, intent: Intent | None, request: Request, mailer: Mailer | None,
            registers: Iterable[Register], *, reason: str | None = None, actor: str = "garde") -> bool:
    """In the transaction recording the step: mark the prepared mail sent, mail it with its Message-ID
    and audit it; nothing when it was sent already (False when there was no mail to send)."""
    if intent is None or mailer is None:
        return False
    claimed = intent.sent or _mark(conn, intent.request_id, intent.about)
    if intent.sent or not claimed:
        return True
    subject, body = message(request, intent.about, registers, reason=reason)
    mailer.send(request.identities["email"], subject, body, message_id=intent.message_id)
    notified(conn, request, intent.about, actor)
    return True
