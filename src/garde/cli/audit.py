"""``garde audit``: verify the hash chain, export entries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from garde import audit
from garde.private_files import open_private
from garde.problems import GardeError
from garde.store import open_store

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
out = Console(highlight=False)


@audit_app.command("verify")
def verify() -> None:
    """Recompute the hash chain; name the first modified, deleted, inserted or moved entry.

    Exits 1 when the log was tampered with.

    Example: garde audit verify
    """
    engine = open_store()
    with engine.connect() as conn:
        result = audit.verify(conn)
    engine.dispose()
    if result.ok:
        out.print(f"[green]ok[/green]: {result.checked} entries, chain intact")
        return
    out.print(f"[red]broken[/red] at entry {result.first_bad}: {result.reason} "
              f"({result.checked} entries checked before it)")
    raise typer.Exit(1)


@audit_app.command("export")
def export(
    since: Annotated[str | None, typer.Option(help="ISO date or timestamp, e.g. 2025-01-01")] = None,
    format: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
    kind: Annotated[str | None, typer.Option(help="only entries of this kind, e.g. decision")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None,
) -> None:
    """Export entries as JSON lines, with their hashes, to verify or archive elsewhere.

    Example: garde audit export --since 2025-01-01 --format jsonl -o audit.jsonl
    """
    if format != "jsonl":
        raise GardeError(f"--format {format!r}: only jsonl is supported")
    engine = open_store()
    handle = open_private(output) if output else sys.stdout
    try:
        with engine.connect() as conn:
            for entry in audit.entries(conn, since=since, kind=kind):
                handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
    finally:
        if output:
            handle.close()
        engine.dispose()


def install(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
