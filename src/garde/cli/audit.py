"""``garde audit``: verify the log (chain, seals, checkpoints), checkpoint its head, export entries."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from garde import audit
from garde.audit import head_export as audit_head
from garde.cli.output import (
    Format,
    FormatOption,
    QuietOption,
    Terminal,
    emit,
    json_shown,
    parse_moment,
    progress,
)
from garde.private_files import open_private
from garde.problems import GardeError
from garde.store import open_store

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
out = Terminal(highlight=False)


@audit_app.command("verify")
def verify(
    against: Annotated[Path | None, typer.Option(
        "--against", help="checkpoint file (default: GARDE_AUDIT_CHECKPOINT_FILE, when set)")] = None,
    format: FormatOption = Format.text,
    quiet: QuietOption = False,
) -> None:
    """Recompute the hash chain, check its seals (GARDE_AUDIT_KEY) and checkpoints; name the first bad entry.

    Exits 1 when the log was tampered with: an entry modified, deleted, inserted
    or moved, a chain recomputed or an entry forged without the audit key, the
    log cut short or emptied after a checkpoint recorded more.

    Example: garde audit verify --against /var/lib/garde-checkpoints/audit.jsonl
    """
    engine = open_store()
    try:
        with progress("verifying the audit log", None, quiet) as tick:
            result = audit.verify_store(engine, against, progress=tick)
    finally:
        engine.dispose()
    if format is Format.json:
        emit(_verification(result))
    else:
        _report(result)
    if not result.ok:
        raise typer.Exit(1)


def _verification(result: audit.Verification) -> dict[str, object]:
    return {**asdict(result), "warnings": list(result.warnings)}


def _report(result: audit.Verification) -> None:
    for warning in result.warnings:
        out.print(f"[yellow]warning[/yellow]: {escape(warning)}")
    if not result.ok:  # the reason may quote what an attacker wrote (a key id): no markup from it
        out.print(f"[red]broken[/red] at entry {result.first_bad}: {escape(result.reason or '')} "
                  f"({result.checked} entries checked before it)")
    elif result.checked == 0:
        out.print("nothing to verify: the audit log is empty")
    else:
        sealed = ", sealed by the audit key" if result.sealed else ""
        against = f", consistent with {result.checkpoints} checkpoints" if result.checkpoints else ""
        out.print(f"[green]ok[/green]: {result.checked} entries, chain intact{sealed}{against}")


@audit_app.command("checkpoint")
def checkpoint(
    to: Annotated[Path | None, typer.Option(
        "--to", help="append-only JSON-lines file, created 0600 (default: GARDE_AUDIT_CHECKPOINT_FILE)",
    )] = None,
    format: FormatOption = Format.text,
    quiet: QuietOption = False,
) -> None:
    """Verify the log, then append its head (entries, sequence, hash, MAC) to a file outside the store.

    Schedule it (cron) and keep the file where the database's users cannot
    write; `garde audit verify --against FILE` then catches a truncated,
    rewritten or deleted log. Nothing is appended when verification fails (exit 1).

    Example: garde audit checkpoint --to /var/lib/garde-checkpoints/audit.jsonl
    """
    engine = open_store()
    try:
        with progress("verifying the audit log", None, quiet) as tick:
            result, written = audit.checkpoint(engine, to, progress=tick)
    finally:
        engine.dispose()
    if format is Format.json:
        head = None if written is None else {
            "at": written.at, "entries": written.entries, "seq": written.seq, "hash": written.hash,
            "key": written.key}
        emit({"verification": _verification(result), "checkpoint": head})
        if written is None:
            raise typer.Exit(1)
        return
    _report(result)
    if written is None:
        out.print("[red]no checkpoint written[/red]: the log does not verify")
        raise typer.Exit(1)
    keyed = f", MAC'd by key {written.key}" if written.key else ", not MAC'd (no audit key)"
    out.print(f"checkpoint: entry {written.seq} ({written.hash[:16]}…){keyed}")


@audit_app.command("export-head")
def export_head(
    to: Annotated[Path | None, typer.Option(
        "--to", help="append-only JSON-lines file, created 0600 (default: GARDE_AUDIT_CHECKPOINT_FILE)",
    )] = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="HTTPS address to POST the head to (default: GARDE_AUDIT_HEAD_URL)")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Verify the log, then export its head (sequence, hash, time) to a file and/or an outside address.

    Run it daily (cron or the workers): a rewrite of the whole log then fails
    `garde audit verify --against FILE`. Once a day per head: a second run
    with the same head exports nothing. Exit 1 when the log does not verify.

    Example: garde audit export-head --to /var/lib/garde-checkpoints/audit.jsonl
    """
    engine = open_store()
    try:
        exported = audit_head.export_head(engine, to=to, url=url)
    finally:
        engine.dispose()
    verification = exported.verification
    if format is Format.json:
        emit({**exported.to_data(), "verification": verification and _verification(verification)})
    else:
        if verification is not None:
            _report(verification)
        if exported.checkpoint is None and exported.seq is not None:
            out.print(f"head: entry {exported.seq}: {exported.why_not}")
        if exported.checkpoint is not None:
            sent = ((exported.file, exported.written), (exported.url, exported.posted))
            where = [str(w) for w, done in sent if done]
            what = f"head: entry {exported.checkpoint.seq} ({exported.checkpoint.hash[:16]}…)"
            out.print(escape(f"{what} exported to {', '.join(where)}" if where
                             else f"{what}: {exported.why_not or 'already in the file'}"))
    if verification is not None and not verification.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export(
    since: Annotated[str | None, typer.Option(
        help="ISO 8601 date or date and time, e.g. 2025-01-01 or 2025-01-01T10:00:00+02:00")] = None,
    format: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
    kind: Annotated[str | None, typer.Option(help="only entries of this kind, e.g. decision")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None,
) -> None:
    """Export entries as JSON lines, with their hashes, to verify or archive elsewhere.

    Example: garde audit export --since 2025-01-01 --format jsonl -o audit.jsonl
    """
    if format != "jsonl":
        raise GardeError(f"--format {format!r}: only jsonl is supported")
    start = audit.stamp(parse_moment(since, "--since")) if since else None
    engine = open_store()
    handle = open_private(output) if output else sys.stdout
    try:
        lines = audit.export_lines(engine, since=start, kind=kind)
        # stdout may be a terminal; a file is opened by staff: the same JSON, its unseen characters
        # (bidirectional controls, zero-width spaces) as \u escapes either way (garde.unseen)
        handle.writelines(map(json_shown, lines))
    finally:
        if output:
            handle.close()
        engine.dispose()


def install(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
