"""``garde keys create|list|revoke``: the API keys of `garde serve`.

A key is printed once, when it is created; the store keeps only its SHA-256.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from garde.api.keys import ROLES, create_key, list_keys, revoke_key
from garde.cli.keys import keys_app
from garde.cli.output import Format, FormatOption, Terminal, emit, say
from garde.store import open_store
from garde.store.transactions import retried

out = Terminal(highlight=False, soft_wrap=True, emoji=False, markup=False)
Actor = Annotated[str, typer.Option("--actor", help="who does this (in the audit log)")]


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help=f"what the key may do: {', '.join(ROLES)} "
                                      "(docs/api.md)")],
    name: Annotated[str, typer.Option("--name", help="who holds it, e.g. shop-checkout (in the audit log)")],
    actor: Actor = "garde",
    format: FormatOption = Format.text,
) -> None:
    """Create an API key and print it once: only its hash is kept, it cannot be shown again.

    Example: garde keys create --role service --name shop-checkout
    """
    engine = open_store()
    try:
        record, key = retried(engine, lambda conn: create_key(conn, name, role, actor=actor),
                              what=f"API key {name} created")
    finally:
        engine.dispose()
    if format is Format.json:
        emit({"key": key, **record.to_data()})
        return
    say(format, f"API key {record.name} ({record.role}), id {record.id}; shown once, store it now:")
    typer.echo(key)


@keys_app.command("list")
def list_command(format: FormatOption = Format.text) -> None:
    """List the API keys (never a key: id, name, role, when created and revoked).

    Example: garde keys list --format json
    """
    engine = open_store()
    try:
        with engine.connect() as conn:
            keys = list_keys(conn)
    finally:
        engine.dispose()
    if format is Format.json:
        emit([key.to_data() for key in keys])
        return
    table = Table("id", "name", "role", "created", "revoked")
    for key in keys:
        table.add_row(key.id, key.name, key.role, f"{key.created_at:%Y-%m-%d %H:%M}",
                      f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "")
    out.print(table)


@keys_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="the key's name or id")],
    actor: Actor = "garde",
    format: FormatOption = Format.text,
) -> None:
    """Revoke an API key: every server process refuses its next request. Revoking twice is a no-op.

    Example: garde keys revoke shop-checkout
    """
    engine = open_store()
    try:
        record = retried(engine, lambda conn: revoke_key(conn, name, actor=actor),
                         what=f"API key {name} revoked")
    finally:
        engine.dispose()
    if format is Format.json:
        emit(record.to_data())
        return
    out.print(f"API key {record.name} revoked at {record.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


def install(app: typer.Typer) -> None:
    """The commands are on ``garde keys`` (installed by :mod:`garde.cli.keys`)."""
