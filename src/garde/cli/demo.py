"""``garde demo``: the main job on the embedded SQLite default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from garde.publish import publish

console = Console(highlight=False)


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder the documents are written to")] = Path("out"),
    registers: Annotated[Path, typer.Option("--registers", help="Register file or folder")] = Path(
        "registers"),
) -> None:
    """Lint the registers and publish their Art. 30 registers and privacy notices.

    Example: garde demo --out out
    """
    with Progress(console=console, transient=True) as progress:
        files = [registers] if registers.is_file() else sorted(registers.glob("*.y*ml"))
        task = progress.add_task("publishing", total=len(files))

        def step(name: str) -> None:
            progress.update(task, advance=1, description=f"publishing {name}")

        publications = publish([registers], out, progress=step)
    table = Table(title="Registers linted and published", title_justify="left")
    for column in ("register", "controller", "activities", "errors", "warnings", "folder"):
        table.add_column(column, overflow="fold")
    for p in publications:
        table.add_row(p.register_file.name, p.controller, str(p.activities), str(p.count("error")),
                      str(p.count("warning")), str(p.files[0].parent.relative_to(out)))
    console.print(table)
    console.print(f"Open [bold]{(out / 'index.html').resolve()}[/bold] to read them.", soft_wrap=True)


def install(app: typer.Typer) -> None:
    app.command("demo")(demo)
