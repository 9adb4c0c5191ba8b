"""``garde consent``: give, withdraw, show, history, receipt, import, gpc."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
import typer
from rich.markup import escape
from rich.table import Table

from garde import consent
from garde.cli.output import Format, FormatOption, QuietOption, Terminal, emit, json_text, parse_day, progress
from garde.consent import renewal
from garde.consent.importing import count_rows, import_csv
from garde.consent.ledger import LedgerEvent, event_time
from garde.consent.recording import (
    ConsentChoice,
    check_activity,
    consent_history,
    consent_receipt,
    consent_state,
    record_choice,
    subject_identities,
)
from garde.decide.model import DecisionModel
from garde.problems import GardeError
from garde.settings import get_settings
from garde.store import open_store
from garde.store.transactions import retried
from garde.subjects import ensure_subject

consent_app = typer.Typer(help="Record and prove consents (GDPR Art. 7): the append-only ledger.",
                          no_args_is_help=True)
out = Terminal(highlight=False, soft_wrap=True)

Email = Annotated[str | None, typer.Option("--email", help="the subject's e-mail address")]
Phone = Annotated[str | None, typer.Option("--phone", help="the subject's telephone number")]
CustomerId = Annotated[str | None, typer.Option("--customer-id", help="the subject's customer number")]
RegisterPath = Annotated[Path | None, typer.Option("--register", help="register file or folder "
                                                   "(default: the `registers` setting)")]


def identities(email: str | None, phone: str | None, customer_id: str | None) -> dict[str, str]:
    return subject_identities(email, phone, customer_id)


def load_model(path: Path | None) -> DecisionModel:
    return DecisionModel.load(path or get_settings().registers)


def _record(action: Literal["given", "withdrawn"], activity: str, ids: dict[str, str], channel: str | None,
            method: str, notice_version: str | None, ip: str | None, user_agent: str | None, at: str | None,
            register: Path | None, unsubscribe: bool = False, notice_lang: str | None = None) -> LedgerEvent:
    model = load_model(register)
    check_activity(model, activity)
    engine = open_store()
    try:
        return record_choice(engine, model, ConsentChoice(
            action, activity, ids, channel, method, notice_version, notice_lang, ip, user_agent,
            event_time(at, "--at") if at else None,
            unsubscribe))
    finally:
        engine.dispose()


@consent_app.command("give")
def give(
    activity: Annotated[str, typer.Argument(help="activity id of the register")],
    email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    channel: Annotated[str | None, typer.Option(help="email, sms, post, phone, push, cookie.analytics")]
    = None,
    method: Annotated[str, typer.Option(help="how it was collected: web_form, cookie_banner, in_store, "
                                        "call_centre, import...")] = "web_form",
    notice_version: Annotated[str | None, typer.Option(
        help="version of the notice shown (default: the register's current notice, as `garde notice` "
             "prints it)")] = None,
    notice_lang: Annotated[str | None, typer.Option(
        help="language of the notice shown, for its default version (default: the register's)")] = None,
    ip: Annotated[str | None, typer.Option(help="IP address (only its HMAC is kept)")] = None,
    user_agent: Annotated[str | None, typer.Option(help="browser user agent")] = None,
    at: Annotated[str | None, typer.Option(help="when it happened (ISO 8601), not in the future; "
                                       "default now")] = None,
    register: RegisterPath = None,
    format: FormatOption = Format.text,
) -> None:
    """Record that a subject gave consent; prints the receipt id.

    The consent expires after the activity's `consent.expiry`, if it has one.

    Example: garde consent give newsletter --email ana@example.com --channel email --method web_form
    """
    event = _record("given", activity, identities(email, phone, customer_id), channel, method,
                    notice_version, ip, user_agent, at, register, notice_lang=notice_lang)
    _recorded(format, event, f"consent given: {activity}{' on ' + event.channel if event.channel else ''}, "
                             f"receipt {event.event_id}")


def _recorded(format: Format, event: LedgerEvent, message: str) -> None:
    if format is Format.json:
        emit(event.to_data())
    else:
        out.print(message)


@consent_app.command("withdraw")
def withdraw(
    activity: Annotated[str, typer.Argument(help="activity id of the register")],
    email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    channel: Annotated[str | None, typer.Option(help="the channel; omit for every channel")] = None,
    method: Annotated[str, typer.Option(help="how: preference_centre, unsubscribe_link, call_centre...")]
    = "preference_centre",
    unsubscribe: Annotated[bool, typer.Option("--unsubscribe", help="also put the subject on the "
                                              "suppression list (do not contact)")] = False,
    at: Annotated[str | None, typer.Option(help="when it happened (ISO 8601), not in the future; "
                                       "default now")] = None,
    register: RegisterPath = None,
    format: FormatOption = Format.text,
) -> None:
    """Record that a subject withdrew consent: as easy as giving it (GDPR Art. 7(3)).

    Example: garde consent withdraw newsletter --email ana@example.com --channel email --unsubscribe
    """
    event = _record("withdrawn", activity, identities(email, phone, customer_id), channel, method,
                    None, None, None, at, register, unsubscribe=unsubscribe)
    _recorded(format, event, f"consent withdrawn: {activity}"
                             f"{' on ' + event.channel if event.channel else ''}, receipt {event.event_id}")


@consent_app.command("show")
def show(
    email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    format: FormatOption = Format.text,
    register: RegisterPath = None,
) -> None:
    """Show a subject's consents as they stand now, derived from the ledger.

    Example: garde consent show --email ana@example.com
    """
    model = load_model(register)
    engine = open_store()
    try:
        states = consent_state(engine, model, identities(email, phone, customer_id))
    finally:
        engine.dispose()
    if format is Format.json:
        emit([{"activity": s.activity, "channel": s.channel, "status": s.status,
                                "dpv": s.dpv, "since": s.since.isoformat() if s.since else None,
                                "expires_at": s.expires_at.isoformat() if s.expires_at else None,
                "receipt": s.event_id} for s in states])
        return
    table = Table("activity", "channel", "state", "since", "expires", "receipt")
    for s in states:
        table.add_row(escape(s.activity), escape(s.channel or "(all)"), s.status,
                      f"{s.since:%Y-%m-%d}" if s.since else "",
                      f"{s.expires_at:%Y-%m-%d}" if s.expires_at else "", s.event_id or "")
    out.print(table)


@consent_app.command("history")
def history(
    email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    activity: Annotated[str | None, typer.Option(help="only this activity")] = None,
    format: Annotated[str, typer.Option("--format", help="table or jsonl")] = "table",
) -> None:
    """Every consent event of a subject, oldest first: the proof the controller keeps.

    Example: garde consent history --email ana@example.com --format jsonl
    """
    engine = open_store()
    try:
        events = consent_history(engine, identities(email, phone, customer_id), activity)
    finally:
        engine.dispose()
    if format == "jsonl":
        for event in events:
            typer.echo(json_text(event.to_data(), indent=None))
        return
    table = Table("when", "activity", "channel", "action", "method", "notice", "receipt")
    for e in events:
        # method and notice version come from the shop's systems (a service key): shown as text
        table.add_row(f"{e.at:%Y-%m-%d %H:%M}", escape(e.activity), escape(e.channel or "(all)"), e.action,
                      escape(e.method), escape(e.notice_version or ""), e.event_id)
    out.print(table)


@consent_app.command("receipt")
def receipt_command(
    receipt_id: Annotated[str, typer.Argument(help="the event's receipt id")],
    register: RegisterPath = None,
) -> None:
    """Print the consent receipt of one event (ISO/IEC TS 27560, Kantara CR 1.1 fields) as JSON.

    Example: garde consent receipt 3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b > receipt.json
    """
    model = load_model(register)
    engine = open_store()
    try:
        found = consent_receipt(engine, model, receipt_id)
    finally:
        engine.dispose()
    typer.echo(json.dumps(found, ensure_ascii=False, indent=2))


@consent_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV export of another consent tool", exists=True,
                                         dir_okay=False)],
    source: Annotated[str | None, typer.Option(help="name of the tool (default: the file name)")] = None,
    column: Annotated[list[str] | None, typer.Option("--column", help="FIELD=COLUMN when the file names "
                                                     "a field differently, e.g. activity=purpose")] = None,
    activity: Annotated[str | None, typer.Option(help="activity for rows without one")] = None,
    channel: Annotated[str | None, typer.Option(help="channel for rows without one")] = None,
    register: RegisterPath = None,
    format: FormatOption = Format.text,
    quiet: QuietOption = False,
    as_job: Annotated[bool, typer.Option("--job", help="as a job: the file is staged in the store, "
                                         "encrypted, and a worker imports it (PostgreSQL; here on SQLite)"
                                         )] = False,
) -> None:
    """Import consents from a CSV file; re-running it adds nothing twice.

    Fields: id, activity, channel, action (given/withdrawn/refused or opt-in/opt-out...),
    at, method, notice_version, ip, user_agent, expires_at, and identities email, phone,
    customer_id, loyalty_card.

    With `--job`, a worker imports it with its own register (docs/jobs.md); its report is in
    the worker's log.

    Example: garde consent import export.csv --source onetrust --column at=timestamp --column activity=purpose
    """
    mapping = {}
    for item in column or []:
        name, sep, header = item.partition("=")
        if not sep:
            raise GardeError(f"--column {item!r}: write FIELD=COLUMN")
        mapping[name.strip()] = header.strip()
    if as_job:
        if register or format is Format.json:
            raise GardeError("--job imports with the register of whoever runs it, and prints the job's id: "
                             "without --register or --format json (`garde jobs show` follows the job)")
        _import_job(file, source or file.stem, mapping, activity, channel)
        return
    model = load_model(register)
    engine = open_store()
    try:
        with progress("importing", count_rows(file), quiet) as tick:
            report = import_csv(engine, file, source=source, columns=mapping,
                                defaults={"activity": activity, "channel": channel},
                                activities=dict(model.validity()), on_progress=tick)
    finally:
        engine.dispose()
    if format is Format.json:
        emit(asdict(report))
        if report.problems:
            raise typer.Exit(1)
        return
    out.print(f"{report.read} rows read: {report.added} events added, {report.already_there} already "
              f"imported, {report.new_subjects} new subjects, {len(report.problems)} rows refused")
    if report.changed:
        out.print(f"{report.changed} of the events added have an id imported before with another event: "
                  "both are kept")
    if report.set_aside:
        out.print(f"{report.set_aside} withdrawals or refusals are listed after a consent dated later: "
                  "recorded after it, each sets it aside")
    if report.evidence_kept:
        out.print(f"{report.evidence_kept} rows already imported had other evidence: the evidence first "
                  "imported is kept")
    for note in report.notes[:20]:
        out.print(f"[yellow]note[/yellow] {escape(note)}")  # a row's values, as the file wrote them
    for problem in report.problems[:20]:
        out.print(f"[red]refused[/red] {escape(problem)}")
    if report.problems:
        raise typer.Exit(1)


@consent_app.command("gpc")
def gpc(email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
        format: FormatOption = Format.text) -> None:
    """Record a Global Privacy Control signal (Sec-GPC: 1): an objection to targeted advertising.

    Example: garde consent gpc --email ana@example.com
    """
    engine = open_store()
    def recording(conn: sa.Connection) -> bool:
        return consent.record_gpc(conn, ensure_subject(conn, identities(email, phone, customer_id)))

    new = retried(engine, recording, what="a GPC signal", races_to_create=True)
    engine.dispose()
    if format is Format.json:
        emit({"recorded": new})
    else:
        out.print("objection to sale/sharing and targeted advertising recorded" if new
                  else "already recorded")


@consent_app.command("renewals")
def renewals(
    within: Annotated[int | None, typer.Option("--within", min=0, max=366, help="Days ahead (default: the "
                                               "`consent_renewal_days` setting, 30)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the list to FILE, owner-only: "
                                                "CSV, or JSON when FILE ends in .json (default: "
                                                "GARDE_CONSENT_RENEWAL_FILE, if set)")] = None,
    today: Annotated[str | None, typer.Option("--today", help="Evaluate as of this day, YYYY-MM-DD")] = None,
    register: RegisterPath = None,
    format: FormatOption = Format.text,
) -> None:
    """List the consents that lapse within DAYS days, or lapsed in the last DAYS days, to ask again.

    A consent lapses at the first of its own expiry, its activity's `consent.expiry`,
    the `consent_renewal_periods` setting for its channel and, for cookies, 13 months
    (CNIL). The list names garde's subject ids, never an identity (docs/consent.md).

    Example: garde consent renewals --within 30 --output renewals.csv
    """
    day = parse_day(today, "--today") if today else None
    model = load_model(register) if register else None
    listed = renewal.renewals(open_store(), today=day, within=within, model=model, output=output)
    data = listed.to_data()
    if format is Format.json:
        emit(data if listed.output is None else {**data, "consents": []})
        return
    if listed.output is None:
        table = Table("subject", "kind", "activity", "channel", "lapses on", "days left", "limit")
        for entry in listed.consents:
            table.add_row(entry.subject_id[:8], entry.subject_kind or "", entry.activity, entry.channel or "",
                          entry.lapses_at.date().isoformat(), str(entry.days_left), entry.limit)
        out.print(table)
    written = f", written to {listed.output}" if listed.output is not None else ""
    out.print(f"{data['lapsing']} consents lapse within {listed.within_days} days, {data['lapsed']} lapsed "
              f"in the last {listed.within_days} days and not renewed{written}")


def _import_job(file: Path, source: str, mapping: dict[str, str], activity: str | None,
                channel: str | None) -> None:
    from garde.jobs import submit
    from garde.jobs.imports import consent_import
    from garde.jobs.staging import discard, stage

    engine = open_store()
    try:
        staged = stage(engine, file)
        try:
            done = submit(engine, consent_import, {"staged": staged, "name": file.name, "source": source,
                                                   "columns": mapping, "activity": activity,
                                                   "channel": channel})
        except BaseException:
            discard(engine, staged)
            raise
    finally:
        engine.dispose()
    if done.queued:
        out.print(f"{escape(file.name)} staged (encrypted) and queued as job {done.job_id}: a worker imports "
                  f"it; `garde jobs show {done.job_id}` follows it, the worker's log has the report")
    else:
        report = done.result
        out.print(f"{report['read']} rows read: {report['added']} events added, {report['already_there']} "
                  f"already imported, {len(report['problems'])} rows refused")
        if report["problems"]:
            raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")
