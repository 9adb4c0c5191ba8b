"""``garde demo``: the main job on the embedded SQLite default."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from garde.cli.output import Terminal

if TYPE_CHECKING:
    from garde.web.demo_shop.server import DemoServer

console = Terminal(highlight=False)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder the documents are written to")] = Path("out"),
    registers: Annotated[Path, typer.Option("--registers", help="Register file or folder")] = Path(
        "registers"),
    customers: Annotated[int, typer.Option("--customers", min=10,
                                           help="Size of the generated reference shop")] = 1000,
    registers_only: Annotated[bool, typer.Option(
        "--registers-only", help="Only lint and publish the registers (no shop, no store)")] = False,
    serve: Annotated[bool, typer.Option(
        "--serve/--no-serve", help="Then serve the privacy center, the DPO dashboard and a demo shop page "
                                   "with the cookie banner, until Ctrl-C")] = False,
    port: Annotated[int, typer.Option(help="with --serve: the TCP port on 127.0.0.1 (0: a free one)",
                                      min=0, max=65535)] = 8000,
) -> None:
    """Lint and publish the registers, then enforce the reference shop's register on live data.

    Publishes each register's Art. 30 register, privacy notices (fr/en/it) and lint
    findings; then generates the reference shop into .garde/ (SQLite), records
    consents, asks decide(), exports an audience, answers an access and an erasure
    request, plans and sweeps retention, and verifies the audit chain.

    With --serve (what `make demo` runs), then serves the privacy center (/privacy/), the DPO
    dashboard (/dpo/, with a demo DPO key it prints) and a demo shop page embedding the cookie
    banner (/demo-shop/) on the same store, until Ctrl-C.

    Example: garde demo --out out --customers 1000 --serve --port 8000
    """
    if serve and registers_only:
        raise typer.BadParameter("--serve needs the live part: drop --registers-only")
    from garde.demo import run_demo  # the shop, the store, FastAPI: only when the demo runs
    from garde.publish import publish
    from garde.web.demo_shop.server import open_demo_server, serve_demo

    server = open_demo_server(port) if serve else None  # a port taken is said before the long part
    with console.status("starting") as status:
        def step(what: str) -> None:
            status.update(what)
            console.print(f"[dim]·[/dim] {what}")

        if registers_only:
            publications, live = publish([registers], out, progress=lambda n: step(f"publishing {n}")), None
        else:
            publications, live = run_demo(out, registers, customers, step=step)
    table = Table(title="Registers linted and published", title_justify="left")
    for column in ("register", "controller", "activities", "errors", "warnings", "folder"):
        table.add_column(column, overflow="fold")
    for p in publications:
        table.add_row(p.register_file.name, p.controller, str(p.activities), str(p.count("error")),
                      str(p.count("warning")), str(p.files[0].parent.relative_to(out)))
    console.print(table)
    if live is not None:
        facts = Table(title="The reference shop's register, enforced", title_justify="left",
                      show_header=False)
        facts.add_row("shop generated", f"{live.customers:,} customers, {live.rows:,} rows (SQLite, .garde/)")
        for activity, email, allowed, reasons in live.decisions:
            facts.add_row(f"decide({activity}, {email})",
                          ("allowed" if allowed else "refused") + f" — {', '.join(reasons)}")
        facts.add_row("consents imported", f"{live.consents_imported:,} new newsletter events, "
                                           f"{live.consents_already:,} already in the ledger")
        facts.add_row("newsletter audience", f"{live.audience:,} addresses")
        for kind, request in live.requests.items():
            facts.add_row(f"{kind} request", f"{request['status']} ({request['id'][:8]})")
        facts.add_row("retention", f"{live.retention_due:,} row operations due today, "
                                   f"{live.retention_swept:,} rows swept, "
                                   f"{live.retention_archived:,} of them archived")
        sealed = "sealed by the audit key" if live.audit_sealed else "not sealed: GARDE_AUDIT_KEY unset"
        facts.add_row("audit chain", f"{'intact' if live.audit_ok else 'BROKEN'}, "
                                     f"{live.audit_entries:,} entries, {sealed}")
        console.print(facts)
        console.print(f"Live results in [bold]{(out / 'live').resolve()}[/bold]", soft_wrap=True)
    console.print(f"Open [bold]{(out / 'index.html').resolve()}[/bold] to read them.", soft_wrap=True)
    if server is not None:
        serve_demo(server, ready=lambda: _announce(server))
        console.print("Stopped.")


def _announce(server: DemoServer) -> None:
    """The URLs and the demo DPO key, flushed at once (a pipe is read while the server runs)."""
    console.print()
    for what, url in server.urls().items():
        console.print(f"{what + ':':<28} {url}", soft_wrap=True)
    console.print(f"{'demo DPO key (role dpo):':<28} {server.dpo_key}", soft_wrap=True)
    settings = server.settings
    mail = f" (files in {settings.outbox}/)" if settings.mailer == "file" else ""
    console.print(f"Paste that key at {server.base}/dpo/login to open the dashboard ({server.dpo_key_name}). "
                  f"A data subject signs in with a one-time code mailed to their address{mail}. "
                  "Ctrl-C stops the server.", soft_wrap=True)
    sys.stdout.flush()


def install(app: typer.Typer) -> None:
    app.command("demo")(demo)
