"""``garde decide`` and ``garde audience``: the decision point from the command line."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from garde.audience import audited_audience
from garde.cli.consent import CustomerId, Email, Phone, RegisterPath, identities, load_model
from garde.decide import DecisionPoint
from garde.store import open_store

out = Console(highlight=False, soft_wrap=True)


def decide(
    activity: Annotated[str, typer.Argument(help="activity id of the register")],
    email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="data category to use "
                                                       "(repeat; default: every declared one)")] = None,
    channel: Annotated[str | None, typer.Option(help="channel of the contact: email, sms, post...")] = None,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    register: RegisterPath = None,
) -> None:
    """May this activity use this subject's data? Prints every reason; exits 1 when not allowed.

    The decision is written to the audit log.

    Example: garde decide newsletter --email ana@example.com --channel email --category contact.email
    """
    model = load_model(register)
    engine = open_store()
    with DecisionPoint(model, engine) as point:
        decision = point.decide(activity, identities(email, phone, customer_id), category, channel)
    engine.dispose()
    if format == "json":
        typer.echo(json.dumps(decision.to_data(), ensure_ascii=False, indent=2))
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
    channel: Annotated[str, typer.Option(help="email, sms, post, phone, push...")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="CSV file (default: stdout)")] = None,
    register: RegisterPath = None,
) -> None:
    """Write the subjects this activity may contact on this channel, as CSV, streamed.

    A subject is in it when decide() would allow it: consent (or the soft opt-in
    rule for customers' e-mail), minus objections and the suppression list.
    Columns: subject_id, basis. The audience is recorded in the audit log.

    Example: garde audience newsletter --channel email -o newsletter.csv
    """
    model = load_model(register)
    engine = open_store()
    handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(["subject_id", "basis"])
        for member in audited_audience(engine, model, activity, channel):
            writer.writerow([member.subject_id, member.basis])
            count += 1
    finally:
        if output:
            handle.close()
        engine.dispose()
    if output:
        Console(stderr=True, highlight=False).print(f"{count} subjects written to {output}")


def install(app: typer.Typer) -> None:
    app.command("decide")(decide)
    app.command("audience")(audience)
