"""``garde notice``: the privacy notice (GDPR Art. 13 and 14) from a register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garde.documents import NOTICE_FORMATS, render_notice
from garde.register import load_register


def notice(
    file: Annotated[Path, typer.Argument(help="Register YAML file")],
    lang: Annotated[str | None, typer.Option("--lang", help="fr, en or it (default: the register's)")] = None,
    format: Annotated[str | None, typer.Option(
        "--format", help=f"{' or '.join(NOTICE_FORMATS)} (default: from the output file's suffix, else html)"
    )] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="File to write (default: print it)"
    )] = None,
) -> None:
    """Write the privacy notice drawn from a register; what it lacks shows as a visible gap.

    Example: garde notice registers/online-shop.yaml --lang it --format html -o out/notice-it.html
    """
    register = load_register(file)
    fmt = format or (output.suffix.lstrip(".") if output and output.suffix else "html")
    text = render_notice(register, lang or register.language, fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


def install(app: typer.Typer) -> None:
    """Add ``garde notice`` to ``app``."""
    app.command("notice")(notice)
