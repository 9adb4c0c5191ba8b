"""Telling the subject by mail what became of their request (GDPR Art. 12(3) and (4)).

Three moments: the deadline is extended (Art. 12(3): within the first month,
with the reasons for the delay), the request is refused (Art. 12(4): without
delay, with the reasons, the right to lodge a complaint with a supervisory
authority and to seek a judicial remedy), and the request is answered. In
the subject's language (fr/en/it), to the e-mail address the request gave.

A mail never carries the personal data itself: a mailbox may be read by
others, and mail crosses servers garde does not control. The answered mail
says the answer is ready and where to ask for it (the register's route for
requests, quoting the reference), never its content. Each mail sent is
audited (``request.notified``: what it told, by which channel; not the
address) in the transaction that marks it sent; a mail that cannot be sent stops
that transaction, so the step it tells of is not recorded as told. The file
mailer's copy names the request, so an erasure of the subject removes it
(:mod:`garde.rights.copies`). Every one goes through the store's outbox
(:mod:`garde.rights.outbox`): sent once though the process sending it dies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from garde import audit
from garde.documents.wording import Wording
from garde.register import Register
from garde.register.jurisdiction import supervisory_authority
from garde.rights.display import day, line_text
from garde.rights.wording import strings

if TYPE_CHECKING:  # intake sends these mails: it imports this module
    from garde.rights.intake import Request

About = Literal["extended", "rejected", "answered"]


def _controller(registers: Iterable[Register]) -> Register | None:
    return next(iter(registers), None)


def _route(register: Register | None, words: Wording, fallback: str) -> str:
    """Where to ask for an answer: the register's route for requests, else a reply to this mail."""
    route = register.rights.route if register is not None and register.rights else None
    lines = words.contact(route)
    return "\n".join(f"  {line_text(line)}" for line in lines) if lines else fallback


def message(request: Request, about: About, registers: Iterable[Register], *,
            reason: str | None = None) -> tuple[str, str]:
    """The mail's subject line and body for ``about``, in the request's language."""
    lang = request.language
    words = strings(lang)["notify"]
    register = _controller(registers)
    wording = Wording(lang, register.language if register else "en")
    country = register.controller.country if register else None
    fields = {"request": request.id, "type": strings(lang)["report"]["held"]["types"][request.type],
              "received": day(request.received_at, lang, country), "due": day(request.due, lang, country),
              "reason": (reason or "").strip(), "controller": register.controller.name if register else ""}
    if about == "rejected":
        authority = supervisory_authority(register.controller.supervisory_authority, country) \
            if register else None
        fields["authority"] = line_text(wording.authority(authority)) if authority else words["no_authority"]
    if about == "answered":
        kind = "answered_data" if request.type in ("access", "portability") else "answered_done"
        fields["where"] = _route(register, wording, words["where_reply"].format(**fields))
    else:
        kind = about
    return words[kind]["subject"].format(**fields), words[kind]["body"].format(**fields)


def notified(conn: sa.Connection, request: Request, about: About, actor: str) -> None:
    """Audit that the subject was mailed ``about`` the request (not the address)."""
    audit.record_many(conn, [notified_event(request, about, actor)])


def notified_event(request: Request, about: About, actor: str) -> audit.Event:
    """The audit entry saying the subject was mailed ``about`` the request: never the address."""
    return audit.Event("request.notified", {"request": request.id, "about": about, "channel": "email",
                                            "proven": "email" in request.proofs}, request.subject_id, actor)
