"""``garde request``: data-subject requests, from receipt to answer (GDPR Arts. 12, 15-21)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.markup import escape
from rich.table import Table

from garde import rights
from garde.cli.confirm import YesOption, confirm
from garde.cli.output import Format, FormatOption, QuietOption, Terminal, emit, parse_day, progress, say
from garde.problems import GardeError
from garde.rights import forwarding, instructed_erasure, instructed_restriction
from garde.rights.access import report_ready
from garde.rights.deployment import configured_phone_region, configured_registers
from garde.rights.reminders import remind as remind_dpo
from garde.settings import get_settings
from garde.store import open_store, written
from garde.store.transactions import retried

request_app = typer.Typer(help="Receive, verify, run and answer data-subject requests.", no_args_is_help=True)
out = Terminal(highlight=False, soft_wrap=True)

Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log)")]
RequestId = Annotated[str, typer.Argument(help="Request id (in full, or its first 8 characters or more)")]
PROOF_WORDS = {"code": "one-time code", "out_of_band": "an agent's out-of-band check"}


def _show(request: rights.Request, format: Format) -> None:
    if format is Format.json:
        emit(request.to_data())
        return
    due = f"{request.due}" + (" (extended)" if request.extended_deadline else "")
    out.print(f"[bold]{request.id}[/bold]  {request.type}  {request.status}  due {due}"
              + ("  [red]OVERDUE[/red]" if request.is_overdue() else ""))
    out.print(f"received {request.received_at:%Y-%m-%d %H:%M} UTC, language {request.language}")
    for kind in sorted(request.identity_hashes):
        out.print(f"  identity {kind}: {_proof(request.proofs.get(kind))}")
    for kind in request.details.get("confirming") or []:  # a rectification's new e-mail or phone
        proof = request.proofs.get("new_" + kind)
        out.print(f"  new {kind}: {_proof(proof) if proof else 'not proven: not written until it is'}")
    if request.details.get("conflict"):
        out.print(f"[red]NEW VALUE IN USE[/red]: the new {', '.join(request.details['conflict'])} already "
                  "belongs to another person; it is never written (reject with a reason that names no one)")
    if request.locked_at:
        out.print(f"[red]LOCKED[/red] since {request.locked_at:%Y-%m-%d %H:%M} UTC after "
                  f"{request.wrong_attempts} wrong codes; unlock with `garde request unlock ID --reason …`")
    elif request.wrong_attempts:
        out.print(f"wrong codes so far: {request.wrong_attempts}")
    if request.extension_reason:
        out.print(f"extension: {escape(request.extension_reason)}")
    if request.rejection_reason:
        out.print(f"rejected: {escape(request.rejection_reason)}")
    for step in request.steps:
        note = f" — {step['note']}" if step["note"] else ""
        out.print(escape(f"  {step['at']:%Y-%m-%d %H:%M:%S}  {step['status']:<12} {step['actor']}{note}"))
    if request.result:
        out.print(escape(json.dumps(request.result, ensure_ascii=False, indent=2)))
    for row in (request.result or {}).get("shared") or []:  # garde.rights.shared: for staff to decide
        key = "(keyed digest)" if isinstance(row["key"], dict) else row["key"]
        out.print("[red]SHARED ROW[/red] " + escape(
            f"{row['table']} {key}: another person's ({row['why']}); only "
            f"{', '.join(row['matched']) or 'nothing'} acted on — decide with the business"))


def _proof(proof: dict[str, Any] | None) -> str:
    if proof is None:
        return "not proven: not used to find or act on data"
    how = PROOF_WORDS.get(proof["method"], proof["method"])
    return escape(f"proven by {how}, {proof['at'][:16]} UTC, by {proof['by']} — {proof['note']}")


def _corrections(values: list[str]) -> dict[str, str]:
    corrections = {}
    for value in values:
        field, sep, new = value.partition("=")
        if not sep or not field:
            raise typer.BadParameter(f"{value!r}: expected FIELD=VALUE", param_hint="--set")
        corrections[field.strip()] = new
    return corrections


@request_app.command("submit")
def submit(
    type: Annotated[str, typer.Option("--type", help="access, portability, rectification, erasure, "
                                      "restriction or objection")],
    email: Annotated[str | None, typer.Option("--email", help="The requester's e-mail address")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The requester's telephone number")] = None,
    customer_id: Annotated[str | None, typer.Option("--customer-id", help="The customer number")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the answer: fr, en or it")] = "en",
    set_: Annotated[list[str] | None, typer.Option("--set", help="Rectification: FIELD=VALUE, FIELD a "
                                                   "data category or database.table.column")] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="Objection: direct_marketing (default) "
                                              "or an activity id")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="The requester's reason, if given")] = None,
    send_code: Annotated[bool, typer.Option("--send-code/--no-code", help="Send a one-time code to the "
                                            "e-mail address (mail) and the phone (SMS)")] = True,
    actor: Actor = "garde",
    format: FormatOption = Format.text,
) -> None:
    """Record a request; its deadline runs from now. A one-time code goes to each e-mail and phone given.

    Only the identities proven afterwards (by their code, or by an agent) are used.

    Example: garde request submit --type access --email ana@example.org --lang fr
    """
    identities = {k: v for k, v in (("email", email), ("phone", phone), ("customer_id", customer_id)) if v}
    details: dict[str, Any] = {}
    if set_:
        details["corrections"] = _corrections(set_)
    if scope:
        details["scope"] = scope
    if reason:
        details["reason"] = reason
    engine = open_store()
    request = retried(engine, lambda conn: rights.submit(conn, type, identities, language=lang,
                                                         details=details, actor=actor,
                                                         region=configured_phone_region()),
                      what="a request submitted")
    say(format, f"request {request.id} received: {request.type}, due {request.deadline}")
    sent: list[str] = []
    if send_code:
        mailer = rights.configured_mailer()
        sent = retried(engine, lambda conn: rights.send_codes(conn, request.id, mailer, actor=actor),
                       what=f"request {request.id}: codes sent")
    if sent:
        say(format, f"a one-time code was sent to the {' and the '.join(sent)}; confirm each with "
                  "`garde request verify ID --code CODE --identity KIND`")
    unsent = sorted(set(identities) - set(sent))
    if unsent:
        say(format, f"not proven yet: {', '.join(unsent)} (not used until proven; an agent checks it with "
                  "`garde request verify ID --out-of-band HOW --checked KIND`)")
    if format is Format.json:
        emit({"request": request.to_data(), "codes_sent": sent, "unproven": unsent})


@request_app.command("verify")
def verify(
    request_id: RequestId,
    code: Annotated[str | None, typer.Option("--code", help="The one-time code the requester got")] = None,
    identity: Annotated[str | None, typer.Option("--identity", help="Which identity's code: email or phone "
                                                 "(needed when both have a code waiting)")] = None,
    out_of_band: Annotated[str | None, typer.Option("--out-of-band", help="How an agent confirmed the "
                                                    "identities instead (ID card in store, ...)")] = None,
    checked: Annotated[list[str] | None, typer.Option("--checked", help="With --out-of-band: an identity "
                                                      "the agent checked (email, phone, customer_id); "
                                                      "repeat for each")] = None,
    actor: Actor = "agent",
    format: FormatOption = Format.text,
) -> None:
    """Prove an identity of the request: its one-time code, or an agent's check naming what was checked.

    A rectification waiting for this proof of its new e-mail or phone (new_email, new_phone) then runs,
    as when the subject types the code: here on SQLite, queued for the workers on PostgreSQL.

    Example: garde request verify 3f2a9c41 --code 123456 --identity email
    Example: garde request verify 3f2a9c41 --out-of-band "ID card checked in store" --checked customer_id
    """
    if (code is None) == (out_of_band is None):
        raise GardeError("give either --code or --out-of-band REASON")
    engine = open_store()
    try:
        if out_of_band is not None:
            request = retried(engine, lambda conn: rights.verify_out_of_band(
                conn, request_id, out_of_band, actor=actor, identities=checked or []),
                what=f"request {request_id}: verified out of band")
            message = f"request {request.id} verified out of band: {', '.join(sorted(checked or []))}"
            _verified(format, request.id, "out_of_band", sorted(checked or []), message,
                      _resumed(engine, request.id, actor))
            return
        assert code is not None
        outcome = retried(engine, lambda conn: rights.check_code(conn, request_id, code, kind=identity),
                          what=f"request {request_id}: a code checked")
        if not outcome.verified:
            raise GardeError(outcome.message)
        with engine.connect() as conn:
            full_id = rights.get_request(conn, request_id).id
        _verified(format, full_id, "code", [identity] if identity else [], outcome.message,
                  _resumed(engine, full_id, actor))
    finally:
        engine.dispose()


def _resumed(engine: sa.Engine, request_id: str, actor: str) -> dict[str, Any] | None:
    """A rectification that waited for this proof of its new e-mail or phone runs now, as when the
    subject types the code (:func:`garde.jobs.requests.resume_proven`: here on SQLite, one job on
    PostgreSQL); what became of it, or None when nothing waited on this proof."""
    from garde.jobs.queue import is_queued
    from garde.jobs.requests import resume_proven  # procrastinate: only when a request runs

    with engine.connect() as conn:
        request = rights.get_request(conn, request_id)
    waited = request.status == "verified" and bool(request.details.get("confirming")) and not request.awaiting
    submission = resume_proven(engine, request, actor=actor, settings=get_settings(),
                               mailer=rights.configured_mailer())
    if submission is None and not waited:
        return None
    with engine.connect() as conn:
        status = rights.get_request(conn, request_id).status
    if submission is None:  # it could not start or failed (logged): the request says why
        return {"job_id": None, "queued": False, "status": status}
    queued = submission.queued or is_queued(engine.url)
    return {"job_id": submission.job_id, "queued": queued, "status": status}


def _verified(format: Format, request_id: str, method: str, identities: list[str], message: str,
              resumed: dict[str, Any] | None) -> None:
    if format is Format.json:
        emit({"request_id": request_id, "method": method, "identities": identities, "message": message,
              "resumed": resumed})
        return
    out.print(message)
    if resumed is not None and resumed["queued"]:
        job = f" as job {resumed['job_id']}" if resumed["job_id"] is not None else " (a job already waits)"
        out.print(f"request {request_id} was waiting for this proof: queued{job} for the workers")
    elif resumed is not None and resumed["status"] in ("completed", "in_progress"):
        out.print(f"request {request_id} was waiting for this proof: it ran, {resumed['status']}")
    elif resumed is not None:
        out.print(f"request {request_id} was waiting for this proof but did not complete "
                  f"({resumed['status']}): `garde request show {request_id}` says why")


@request_app.command("send-code")
def send_code(
    request_id: RequestId,
    identity: Annotated[str | None, typer.Option("--identity", help="email or phone (default: each not "
                                                 "yet proven)")] = None,
    actor: Actor = "garde",
    format: FormatOption = Format.text,
) -> None:
    """Send a new one-time code (it replaces the previous one; the wrong attempts still count).

    Example: garde request send-code 3f2a9c41 --identity phone
    """
    mailer = rights.configured_mailer()

    def sending(conn: sa.Connection) -> list[str]:
        # run again, a new code is sent: the one mailed by the aborted attempt was never stored
        if identity:
            rights.send_code(conn, request_id, mailer, kind=identity, actor=actor)
            return [identity]
        return rights.send_codes(conn, request_id, mailer, actor=actor)

    sent = written(sending, what=f"request {request_id}: codes sent")
    if format is Format.json:
        emit({"request_id": request_id, "sent": sent})
    else:
        out.print(f"a new code was sent to the {' and the '.join(sent)}" if sent else "no code to send")


@request_app.command("unlock")
def unlock(request_id: RequestId,
           reason: Annotated[str, typer.Option("--reason", help="How the requester was checked out of band")],
           actor: Actor = "dpo", format: FormatOption = Format.text) -> None:
    """Unlock a request locked after too many wrong codes (audited); its count of wrong codes restarts.

    Example: garde request unlock 3f2a9c41 --reason "called the customer back on the number on file"
    """
    request = written(lambda conn: rights.unlock(conn, request_id, reason, actor=actor),
                      what=f"request {request_id}: unlocked")
    _done(format, request,
          f"request {request.id} unlocked; send a new code with `garde request send-code ID`")


def _done(format: Format, request: rights.Request, message: str) -> None:
    """A command that changed a request: the request as JSON, or one line."""
    if format is Format.json:
        emit(request.to_data())
    else:
        out.print(message)


@request_app.command("list")
def list_(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open requests past their due")] = False,
    status: Annotated[str | None, typer.Option("--status", help="Only requests in this status, or `locked`: "
                                               "those locked after too many wrong codes")] = None,
    format: FormatOption = Format.text,
) -> None:
    """List requests with their status and due date (ids shortened to 8 characters, enough to name one).

    `--status locked` lists the requests locked after too many wrong codes.

    Example: garde request list --overdue
    """
    with open_store().connect() as conn:
        found = rights.list_requests(conn, overdue=overdue, status=status)
    if format is Format.json:
        emit([r.to_data() for r in found])
        return
    table = Table("id", "type", "status", "received", "due", "")
    for request in found:
        flags = [f for f, on in (("overdue", request.is_overdue()), ("locked", request.locked_at)) if on]
        table.add_row(request.id[:8], request.type, request.status, f"{request.received_at:%Y-%m-%d}",
                      str(request.due), f"[red]{' '.join(flags)}[/red]" if flags else "")
    out.print(table)


@request_app.command("show")
def show(request_id: RequestId, format: FormatOption = Format.text) -> None:
    """Show a request, its timestamped steps and its result.

    Example: garde request show 3f2a9c41 --format json
    """
    with open_store().connect() as conn:
        request = rights.get_request(conn, request_id)
        forwardings = forwarding.with_contacts(configured_registers(), forwarding.listed(conn, request.id))
    if format is Format.json:
        emit({**request.to_data(), **({"forwardings": forwardings} if forwardings else {})})
        return
    _show(request, format)
    _show_forwardings(forwardings)


def _show_forwardings(forwardings: list[dict[str, Any]]) -> None:
    """The forwardings to do (GDPR Art. 28(3)(e)): which controller, its contact, what was found."""
    for view in forwardings:
        state = {"to_forward": "[red]TO FORWARD[/red]", "forwarded": "forwarded", "restricted": "restricted",
                 "lifted": "restriction lifted", "erased": "erased"}
        found = ", ".join(f"{table}: {rows} row(s)" for table, rows in sorted(view["found"].items()))
        out.print(f"{state[view['status']]} to {escape(view['controller'])} (held on its behalf as a "
                  f"processor) — found {escape(found)}")
        out.print(escape(f"  contact: {view['contact'] or 'not in the register'}"
                         + (f"; its DPO: {view['dpo']}" if view["dpo"] else "")))
        if view["forwarded_at"]:
            note = f" — {view['note']}" if view["note"] else ""
            out.print(escape(f"  forwarded {view['forwarded_at'][:16]} UTC by {view['forwarded_by']}{note}"))
        if view["erased_at"]:
            instruction = f"\"{view['instruction']}\" given by {view['instructed_by']}"
            out.print(escape(f"  erased {view['erased_at'][:16]} UTC on the instruction {instruction}: "
                             f"{view['erasure']}"))
        elif view["instruction"]:
            out.print(escape(f"  restricted on the instruction \"{view['instruction']}\" "
                             f"given by {view['instructed_by']}"))
        if view["lifted_at"]:
            out.print(escape(f"  restriction lifted {view['lifted_at'][:16]} UTC on the instruction "
                             f"\"{view['lift_instruction']}\" given by {view['lifted_by']}"))


ControllerName = Annotated[str, typer.Option("--controller", help="The client controller, as `request show` "
                                             "names it (the register's on_behalf_of)")]
InstructedBy = Annotated[str, typer.Option("--instructed-by", help="Who gave it, for the controller")]


@request_app.command("forward")
def forward(request_id: RequestId, controller: ControllerName,
            note: Annotated[str | None, typer.Option("--note", help="How it was passed on (mail, "
                                                      "portal)")] = None,
            actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Record that a request was passed on to the controller whose data it found (GDPR Art. 28(3)(e)).

    Data held as a processor is not answered or erased as the organisation's own: `request show`
    lists it per client controller. Recorded once, audited.

    Example: garde request forward 3f2a9c41 --controller "Distributor SA" --note "mailed to its DPO"
    """
    store = open_store()
    with store.connect() as conn:
        full = rights.get_request(conn, request_id).id
    done = forwarding.mark_forwarded(store, full, controller, actor=actor, note=note)
    _forwarding_done(format, done, f"request {full}: forwarded to {controller}")


@request_app.command("instruct-erasure")
def instruct_erasure(
    request_id: RequestId, controller: ControllerName,
    instruction: Annotated[str, typer.Option("--instruction", help="The controller's instruction to erase, "
                                             "as received (its reference, its date)")],
    instructed_by: InstructedBy,
    actor: Actor = "garde", yes: YesOption = False, format: FormatOption = Format.text,
) -> None:
    """Erase, on the controller's instruction (GDPR Art. 28(3)(a), 29), the rows a forwarded request
    found of the data held for it: its columns only; legal holds still apply. Run again, it changes
    nothing more.

    Example: garde request instruct-erasure 3f2a9c41 --controller "Distributor SA"
    --instruction "mail of 2026-12-07, ref. 118" --instructed-by "its DPO, J. Martin"
    """
    confirm(f"Erase the data held for {controller} that this request found?", yes)
    store = open_store()
    try:
        with store.connect() as conn:
            full = rights.get_request(conn, request_id).id
        with rights.Deployment.open() as deployment:
            done = instructed_erasure.instruct_erasure(store, deployment, full, controller,
                                                       instruction=instruction, instructed_by=instructed_by,
                                                       actor=actor)
    finally:
        store.dispose()
    _forwarding_done(format, done, f"request {full}: the data held for {controller} erased on its "
                                   "instruction")


@request_app.command("instruct-restriction")
def instruct_restriction(
    request_id: RequestId, controller: ControllerName,
    instruction: Annotated[str, typer.Option("--instruction", help="The controller's instruction to "
                                             "restrict, as received (its reference, its date)")],
    instructed_by: InstructedBy,
    actor: Actor = "garde", format: FormatOption = Format.text,
) -> None:
    """Restrict, on the controller's instruction (GDPR Art. 18, 28(3)(a), 29), what the organisation
    does as a processor for that controller with the data of a forwarded restriction request's
    subject: decide() refuses those activities from then on. Changes no row; run again, nothing more.

    Example: garde request instruct-restriction 3f2a9c41 --controller "Distributor SA"
    --instruction "mail of 2026-12-07, ref. 119" --instructed-by "its DPO, J. Martin"
    """
    _on_instruction(instructed_restriction.instruct_restriction, request_id, controller, instruction,
                    instructed_by, actor, format,
                    "the processing for {controller} restricted on its instruction")


@request_app.command("lift-restriction")
def lift_restriction(
    request_id: RequestId, controller: ControllerName,
    instruction: Annotated[str, typer.Option("--instruction", help="The controller's instruction to lift "
                                             "its restriction, as received (its reference, its date)")],
    instructed_by: InstructedBy,
    actor: Actor = "garde", format: FormatOption = Format.text,
) -> None:
    """Lift, on the controller's instruction (GDPR Art. 18(3), 28(3)(a)), the restriction it
    instructed (`request instruct-restriction`): decide() allows what the organisation does for it as
    a processor with the subject's data again. Informing the subject first is the controller's duty.
    Run again, nothing more.

    Example: garde request lift-restriction 3f2a9c41 --controller "Distributor SA"
    --instruction "mail of 2026-12-21, ref. 131" --instructed-by "its DPO, J. Martin"
    """
    _on_instruction(instructed_restriction.lift_restriction, request_id, controller, instruction,
                    instructed_by, actor, format,
                    "the restriction of the processing for {controller} lifted on its instruction")


def _on_instruction(act: Callable[..., dict[str, Any]], request_id: str, controller: str, instruction: str,
                    instructed_by: str, actor: str, format: Format, done_text: str) -> None:
    """Record a controller's instruction about its restriction (``act``: instruct or lift)."""
    store = open_store()
    try:
        with store.connect() as conn:
            full = rights.get_request(conn, request_id).id
        done = act(store, configured_registers(), full, controller, instruction=instruction,
                   instructed_by=instructed_by, actor=actor)
    finally:
        store.dispose()
    _forwarding_done(format, done, f"request {full}: " + done_text.format(controller=controller))


def _forwarding_done(format: Format, view: dict[str, Any], message: str) -> None:
    if format is Format.json:
        emit(forwarding.with_contacts(configured_registers(), [view])[0])
    else:
        say(format, message)


@request_app.command("run")
def run(
    request_id: RequestId,
    datasets: Annotated[Path | None, typer.Option("--datasets", help="Dataset file or folder "
                                                  "(default: the `datasets` setting; a worker uses only "
                                                  "its own)")] = None,
    results: Annotated[Path | None, typer.Option("--results", help="Folder for the answer files (a worker "
                                                 "uses only its own `results` setting)")] = None,
    actor: Actor = "garde",
    inline: Annotated[bool, typer.Option("--inline", help="Run it here, now, even on PostgreSQL "
                                         "(where it is otherwise queued for `garde worker`)")] = False,
    yes: YesOption = False,
    format: FormatOption = Format.text,
    quiet: QuietOption = False,
) -> None:
    """Execute a verified request over every dataset and write its answer files.

    On PostgreSQL the request is queued for the workers (`garde worker`) and the
    job's id printed: follow it with `garde request show`. On SQLite, or with
    `--inline`, it runs here.

    An erasure, rectification or restriction asks for confirmation on a terminal
    (`--yes` to skip).

    A request left in_progress or failed (the reason is in `request show`)
    is run again: an erasure resumes from its stored plan.

    Example: garde request run 3f2a9c41 --datasets datasets/
    """
    from garde.jobs.requests import run_request  # procrastinate: only when a request runs

    store = open_store()
    try:
        with store.connect() as conn:
            kind = rights.get_request(conn, request_id).type
        if kind in ("erasure", "rectification", "restriction"):
            confirm(f"Run this {kind} request on every database of the data map? It changes the subject's "
                    "data.", yes)
        with progress("running the request", None, quiet):
            submission = run_request(store, request_id, actor=actor, inline=inline, datasets=datasets,
                                     results=results, mailer=rights.configured_mailer())
    finally:
        store.dispose()
    request = submission.result
    if submission.queued:
        if format is Format.json:
            emit({**request.to_data(), "job_id": submission.job_id, "queued": True})
        else:
            out.print(f"request {request.id} queued as job {submission.job_id}: a worker runs it "
                      "(`garde request show` follows it)")
        return
    if request.status == "completed" and request.type == "access":
        # the HTML report is rendered when the answer is first read (garde.rights.access.report_ready);
        # run here, the folder the operator opens next holds it
        where = (results or get_settings().results).resolve()
        report_ready(where / request.id, where)
    _show(request, format)
    if request.status == "completed":
        _told(format, request)


@request_app.command("extend")
def extend(request_id: RequestId,
           reason: Annotated[str, typer.Option("--reason", help="Why, as told to the subject")],
           actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Extend the deadline by two months (GDPR Art. 12(3)); only within the first month.

    The subject is told by mail, with the reason and the new date.

    Example: garde request extend 3f2a9c41 --reason "complex request spanning several systems"
    """
    mailer, registers = rights.configured_mailer(), configured_registers()
    request = written(lambda conn: rights.extend(conn, request_id, reason, actor=actor,
                                                 mailer=mailer, registers=registers),
                      what=f"request {request_id}: extended")
    _done(format, request, f"request {request.id} now due {request.due}")
    _told(format, request)


@request_app.command("reject")
def reject(request_id: RequestId,
           reason: Annotated[str, typer.Option("--reason", help="Why, as told to the subject")],
           actor: Actor = "garde", format: FormatOption = Format.text) -> None:
    """Refuse a request, with the reason given to the subject (GDPR Art. 12(4)).

    The subject is told by mail: the reason, and their right to complain to the supervisory
    authority and to seek a judicial remedy.

    Example: garde request reject 3f2a9c41 --reason "manifestly unfounded (Art. 12(5))"
    """
    mailer, registers = rights.configured_mailer(), configured_registers()
    request = written(lambda conn: rights.reject(conn, request_id, reason, actor=actor,
                                                 mailer=mailer, registers=registers),
                      what=f"request {request_id}: rejected")
    _done(format, request, f"request {request.id} rejected")
    _told(format, request)


@request_app.command("remind")
def remind(
    within: Annotated[int | None, typer.Option("--within", min=0, max=31, help="Days ahead (default: the "
                                               "`reminder_days` setting, 7)")] = None,
    today: Annotated[str | None, typer.Option("--today", help="Evaluate as of this day, YYYY-MM-DD")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing")] = False,
    format: FormatOption = Format.text,
) -> None:
    """Mail the DPO the open requests due within 7 days and the overdue ones (GDPR Art. 12(3)).

    First closes the requests nobody proved an identity of within `unverified_request_days` (90) of
    receipt: cancelled, their raw identities dropped (GDPR Art. 12(6), 5(1)(c) and (e)).

    One mail listing them (reference, type, received, due, days left or past; nothing about the
    subjects), to the `dpo_email` setting or the register's DPO. Sent once a day for the same
    list: run it from cron or the workers as often as you like.

    Example: garde request remind --dry-run
    """
    day = parse_day(today, "--today") if today else None
    reminder = remind_dpo(open_store(), today=day, within=within, dry_run=dry_run)
    if format is Format.json:
        emit(reminder.to_data())
        return
    if reminder.closed_unverified:
        verb = "would close" if dry_run else "closed"
        out.print(f"{verb} {len(reminder.closed_unverified)} request(s) nobody proved an identity of in "
                  f"{get_settings().unverified_request_days} days: "
                  + ", ".join(r[:8] for r in reminder.closed_unverified))
    for entry in reminder.requests:
        left = f"[red]overdue by {-entry.days_left} d[/red]" if entry.overdue else f"{entry.days_left} d left"
        out.print(f"{entry.request_id[:8]}  {entry.type:<13} received {entry.received}  "
                  f"due {entry.due}  {left}")
    if reminder.sent:
        out.print(f"reminder sent to {reminder.to}: {len(reminder.requests)} requests")
    else:
        out.print(f"no reminder sent: {reminder.why_not}" + (f" (to {reminder.to})" if reminder.to else ""))


def _told(format: Format, request: rights.Request) -> None:
    """Whether the subject was told by mail (on stderr when stdout carries JSON)."""
    if "email" in request.identity_hashes:
        say(format, "the subject was told by mail")
    else:
        say(format, "the request gave no e-mail address: tell the subject another way")


def install(app: typer.Typer) -> None:
    app.add_typer(request_app, name="request")
