"""``garde hold place|list|release``: legal holds, which suspend erasure and retention (GDPR Art. 17(3))."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from garde.cli.output import Format, FormatOption, Terminal, emit, parse_day
from garde.datasets import load_datamap
from garde.decide.model import DecisionModel
from garde.legal_holds import list_holds, place_known_hold, release_hold
from garde.rights.deployment import configured_phone_region
from garde.settings import get_settings
from garde.store import open_store, written

out = Terminal(highlight=False, soft_wrap=True, emoji=False, markup=False)
hold_app = typer.Typer(help="Legal holds: keep data a request or a retention rule would remove.",
                       no_args_is_help=True)


class ScopeKind(StrEnum):
    subject = "subject"
    table = "table"
    activity = "activity"


Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log)")]


def _last_day(text: str | None) -> date | None:
    """``--until DATE``: the hold's last day (it covers that whole day)."""
    return None if text is None else parse_day(text, "--until")


@hold_app.command("place")
def place(
    scope: Annotated[ScopeKind, typer.Option("--scope", help="subject, table or activity")],
    value: Annotated[str, typer.Argument(help="The subject as kind:value (email:ana@example.org), "
                                         "the table as database.table, or the activity id")],
    reason: Annotated[str, typer.Option("--reason", help="Why the data is kept (litigation, fraud, ...)")],
    until: Annotated[str | None, typer.Option("--until", help="Last day of the hold, YYYY-MM-DD "
                                              "(default: until released)")] = None,
    actor: Actor = "garde",
    datasets: Annotated[Path | None, typer.Option("--datasets", help="Dataset file or folder "
                                                  "(default: the `datasets` setting)")] = None,
    registers: Annotated[Path | None, typer.Option("--registers", help="Register file or folder "
                                                   "(default: the `registers` setting)")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Place a legal hold: what it covers is neither erased nor swept until it ends or is released.

    A subject is named the way a request names it, by an identity kind:value;
    the hold keeps that person's rows in every table and database.

    The table, the identity kind and the activity must be ones the data map
    and the register know: a misspelt name would keep nothing.

    Example: garde hold place --scope subject email:ana@example.org --reason "litigation" --until 2026-12-31
    """
    settings = get_settings()
    datamap = load_datamap(datasets or settings.datasets)
    activities = DecisionModel.load(registers or settings.registers).activities
    placed = written(lambda conn: place_known_hold(
        conn, datamap, activities, scope.value, value, reason, _last_day(until), actor=actor,
        region=configured_phone_region()), what="a legal hold placed")
    if format is Format.json:
        emit({"hold": placed.to_data()})
        return
    out.print(f"hold {placed.id} placed on {scope.value} {value}" + (f" until {until}" if until else ""))


@hold_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Also released and ended holds")] = False,
    format: FormatOption = Format.text,
) -> None:
    """The legal holds in force (or all of them): scope, reason, end.

    Example: garde hold list --all --format json
    """
    with open_store().connect() as conn:
        holds = list_holds(conn, everything=all_)
    if format is Format.json:
        emit([h.to_data() for h in holds])
        return
    table = Table("id", "scope", "value", "reason", "since", "ends (UTC)", "released")
    for h in holds:
        table.add_row(str(h.id), h.scope_kind, h.scope, h.reason, f"{h.starts_at:%Y-%m-%d}",
                      f"{h.ends_at:%Y-%m-%d %H:%M}" if h.ends_at else "",
                      f"{h.released_at:%Y-%m-%d}" if h.released_at else "")
    out.print(table)


@hold_app.command("release")
def release(
    hold_id: Annotated[int, typer.Argument(help="The hold's id (garde hold list)")],
    actor: Actor = "garde",
    format: FormatOption = Format.text,
) -> None:
    """Release a legal hold: from now on what it kept is erased or swept when due.

    Example: garde hold release 3
    """
    written(lambda conn: release_hold(conn, hold_id, actor=actor),
            what=f"legal hold {hold_id} released")
    if format is Format.json:
        emit({"id": hold_id, "released": True})
    else:
        out.print(f"hold {hold_id} released")


def install(app: typer.Typer) -> None:
    """Add this concept's commands to ``app``."""
    app.add_typer(hold_app, name="hold")
