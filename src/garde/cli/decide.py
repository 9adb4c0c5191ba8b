"""``garde decide`` and ``garde audience``: the decision point from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from garde.audience import audited_audience, write_contacts_csv
from garde.audit import AuditWriter
from garde.cli.consent import CustomerId, Email, Phone, RegisterPath, identities, load_model
from garde.cli.output import Format, FormatOption, QuietOption, Terminal, emit, progress
from garde.consent.recording import check_activity
from garde.datasets import connect_datamap, load_datamap
from garde.decide import DecisionPoint
from garde.documents.spreadsheet import CsvWriter
from garde.private_files import open_private
from garde.problems import GardeError
from garde.settings import get_settings
from garde.store import open_store

out = Terminal(highlight=False, soft_wrap=True)


def decide(
    activity: Annotated[str, typer.Argument(help="activity id of the register")],
    email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="data category to use "
                                                       "(repeat; default: every declared one)")] = None,
    channel: Annotated[str | None, typer.Option(help="channel of the contact: email, sms, post...")] = None,
    format: FormatOption = Format.text,
    register: RegisterPath = None,
) -> None:
    """May this activity use this subject's data? Prints every reason; exits 1 when not allowed.

    The decision is written to the audit log. An activity the register does not
    have is a usage error (exit 2), with the nearest activity id.

    Example: garde decide newsletter --email ana@example.com --channel email --category contact.email
    """
    model = load_model(register)
    check_activity(model, activity)
    engine = open_store()
    # One decision: audit it in this process when the command ends, no background writer.
    with AuditWriter(engine, max_delay=None) as writer, DecisionPoint(model, engine, audit=writer) as point:
        decision = point.decide(activity, identities(email, phone, customer_id), category, channel)
    engine.dispose()
    if format is Format.json:
        emit(decision.to_data())
    else:
        verdict = "[green]allowed[/green]" if decision.allowed else "[red]not allowed[/red]"
        out.print(f"{activity}: {verdict}" + (f" — {', '.join(decision.categories)}"
                                              if decision.categories else ""))
        for reason in decision.reasons:
            mark = "✗" if reason.blocks else "·"
            out.print(f"  {mark} {reason.code}: {reason.message}")
    if not decision.allowed:
        raise typer.Exit(1)


def audience(
    activity: Annotated[str, typer.Argument(help="activity id of the register")],
    channel: Annotated[str, typer.Option(help="email, sms, phone or post")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="CSV file (default: stdout)")] = None,
    subject_ids: Annotated[bool, typer.Option("--subject-ids", help="only the engine's subject ids, "
                                              "no address (reads the store alone)")] = False,
    datasets: Annotated[Path | None, typer.Option("--datasets", help="data map file or folder "
                                                  "(default: the `datasets` setting)")] = None,
    register: RegisterPath = None,
    quiet: QuietOption = False,
    as_job: Annotated[bool, typer.Option("--job", help="as a job: the CSV goes to the `exports` folder, "
                                         "written by a worker on PostgreSQL (here on SQLite)")] = False,
) -> None:
    """Write who this activity may contact on this channel, with their address, as CSV, streamed.

    A subject is in it when decide() would allow it: consent (or the soft opt-in
    rule for customers' e-mail and SMS), minus objections and the suppression
    list. The addresses are read from the business databases of the data map
    (the tables holding the channel's address for subjects the activity uses),
    each written once. Columns: the address (email; phone; or the postal
    columns), subject_id (empty when the engine never met the subject), basis,
    source. The audience is recorded in the audit log (a count and a hash, no
    address).

    With `--job`, the export is a job (docs/jobs.md): on PostgreSQL a worker writes it,
    owner-only, to its `exports` folder, with its own registers and datasets settings.

    Example: garde audience newsletter --channel email -o newsletter.csv
    """
    model = load_model(register)
    check_activity(model, activity)
    if as_job:
        if output or subject_ids or datasets or register:
            raise GardeError("--job writes to the `exports` folder with the settings of whoever runs it: "
                             "without --output, --subject-ids, --datasets or --register")
        _export_job(activity, channel)
        return
    engine = open_store()
    handle = open_private(output, newline="") if output else sys.stdout
    count = 0
    engines: dict[str, sa.Engine] = {}
    try:
        writer = CsvWriter(handle)
        with progress(f"{activity} audience", None, quiet) as tick:
            if subject_ids:
                writer.writerow(["subject_id", "basis"])
                for member in audited_audience(engine, model, activity, channel):
                    writer.writerow([member.subject_id, member.basis])
                    count += 1
                    tick()
            else:
                datamap = load_datamap(datasets or get_settings().datasets)
                engines = connect_datamap(datamap)
                count = write_contacts_csv(handle, engine, model, datamap, engines, activity, channel,
                                           progress=tick, exports=get_settings().exports)
    finally:
        if output:
            handle.close()
        engine.dispose()
        for business in engines.values():
            business.dispose()
    if output:
        what = "subjects" if subject_ids else "addresses"
        Terminal(stderr=True, highlight=False).print(f"{count} {what} written to {output}")


def _export_job(activity: str, channel: str) -> None:
    from garde.jobs import submit
    from garde.jobs.exports import audience_export, export_name

    name = export_name(activity, channel)
    store = open_store()
    try:
        done = submit(store, audience_export, {"activity": activity, "channel": channel, "name": name})
    finally:
        store.dispose()
    say = Terminal(stderr=True, highlight=False).print
    if done.queued:
        say(f"audience export queued as job {done.job_id}: a worker writes {name} to its exports folder "
            f"({get_settings().exports} here)")
    else:
        say(f"{done.result['count']} addresses written to {done.result['file']}")


def install(app: typer.Typer) -> None:
    app.command("decide")(decide)
    app.command("audience")(audience)
