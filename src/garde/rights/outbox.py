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
intent committed by the run's start (:func:`intent_ahead`: a statement in the round trip of the
request's move to ``in_progress``, where it once was a statement and a connection of its own), the
mail sent, and the ``sent`` mark with its audit entry written by the request's completing transaction
(the request completed and its mail marked sent commit together; killed between the send and that
commit, the run is resumed and sends the same message). A run that fails after its start leaves the
intent pending: its next run sends the mail with that Message-ID.
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
from garde.problems import GardeError
from garde.register import Register
from garde.rights.mailer import Mailer
from garde.rights.notify import About, message, notified, notified_event
from garde.store import is_postgres, metadata
from garde.store.driver import driver_execute
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


def _intent_statement(insert: Callable[[sa.Table], Any]) -> sa.Insert:
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


def intent_ahead(conn: sa.Connection, request_id: str, about: About,
                 ) -> tuple[audit.Along, list[tuple[str, str]]]:
    """The intent's upsert as a statement run with a request's move in its transaction
    (:func:`garde.rights.intake.transition`'s ``ahead``; committed with the move), and the list that
    then holds its row: (Message-ID, status), :func:`send_once`'s ``intent``."""
    found: list[tuple[str, str]] = []

    def keep(rows: list[tuple[Any, ...]]) -> None:
        ((message_id, status),) = rows
        found.append((str(message_id), str(status)))

    return (_INTENTS[conn.dialect.name], {"request_id": request_id, "about": about,
                                          "message_id": new_message_id(), "created_at": now()}, keep), found


def _written(conn: sa.Connection) -> bool:
    """Whether the connection's transaction has written anything yet (it then holds locks, and rows
    other connections cannot see: the request itself, submitted in it)."""
    if is_postgres(conn):
        return bool(conn.execute(sa.text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")).scalar_one())
    return bool(getattr(conn.connection.driver_connection, "in_transaction", True))  # sqlite3: a write began


@dataclass(frozen=True)
class Told:
    """A mail :func:`send_once` sent (or found sent), its mark left to the caller's next transaction.

    Called with that transaction's connection: marks the mail sent and returns the audit entries to
    append with it (none when another transaction marked it first, or it had been sent already).
    :meth:`ahead`: the same as a statement to run with a request's move (its round trip on PostgreSQL)."""

    request: Request
    about: About
    actor: str
    sent: bool  # the outbox said so before this run: nothing to mark

    def __call__(self, conn: sa.Connection) -> list[audit.Event]:
        if self.sent or not _mark(conn, self.request.id, self.about):
            return []
        return [notified_event(self.request, self.about, self.actor)]

    def ahead(self) -> tuple[audit.Along | None, list[audit.Event]]:
        """The mark as :func:`garde.rights.intake.transition`'s ``ahead``, and the entries to append
        with the move (None and none when it was sent already). Under the request's run lock nothing
        else marks its ``answered`` mail: a mark that finds it no longer pending refuses (the caller's
        transaction rolls back; the next run finds the mail sent and completes the request)."""
        if self.sent:
            return None, []
        request_id, about = self.request.id, self.about

        def marked(rows: list[tuple[Any, ...]]) -> None:
            if not rows:
                raise GardeError(f"request {request_id}: its {about!r} mail was marked sent by another "
                                 "transaction meanwhile; run the request again")

        parameters = {"request_id": request_id, "about": about, "sent_at": now()}
        return (_MARK_RETURNING, parameters, marked), [notified_event(self.request, about, self.actor)]


def send_once(store: sa.Engine, request: Request, about: About, mailer: Mailer,
              registers: Iterable[Register], *, actor: str = "garde",
              intent: tuple[str, str] | None = None) -> Told | None:
    """Mail the subject about ``request`` unless the outbox says it was sent: the intent committed
    and the mail sent, the mark left to the caller's next transaction (a request's completion),
    which appends the returned entries with its own (a mail that cannot be sent raises, and stays
    pending for the next run). Killed before that commits, the row stays pending
    and the next run sends the same message again, with its Message-ID; None without an address.
    ``intent``: the row as a committed transaction of the caller's wrote it (:func:`intent_ahead`);
    else it is written here, a statement of its own."""
    address = request.identities.get("email")
    if not address:
        return None
    message_id, status = intent or mail_intent(store, request.id, about)
    if status != "sent":
        subject, body = message(request, about, registers)
        mailer.send(address, subject, body, message_id=message_id)
    return Told(request, about, actor, status == "sent")


def _mark(conn: sa.Connection, request_id: str, about: About) -> bool:
    """Mark the pending mail sent: False when it was not pending (marked by another transaction).
    On the driver (:mod:`garde.store.driver`), a statement built once: SQLAlchemy's execution of the
    update built each time cost 3 – 4 times its CPU (0.65 – 0.83 ms against 0.18 – 0.24 ms a mark on
    PostgreSQL at load 22 – 27, 2026-12-07)."""
    return driver_execute(conn, _MARK, {"request_id": request_id, "about": about, "sent_at": now()}) > 0


_MARK = sa.update(mail_outbox).where(
    mail_outbox.c.request_id == sa.bindparam("request_id"), mail_outbox.c.about == sa.bindparam("about"),
    mail_outbox.c.status == "pending").values(status="sent", sent_at=sa.bindparam("sent_at"))
_MARK_RETURNING = _MARK.returning(mail_outbox.c.request_id)


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
