"""``garde notice``: the privacy notice (GDPR Art. 13 and 14) from a register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garde.cli.output import epilog
from garde.documents import NOTICE_FORMATS, build_notice, check_notice_request, write_notice
from garde.register import load_register

DRAFT_REFUSED = "a draft (gaps, or passages not in its language) not written: --allow-gaps writes it"


def notice(
    file: Annotated[Path, typer.Argument(help="Register YAML file")],
    lang: Annotated[str | None, typer.Option("--lang", help="fr, en or it (default: the register's)")] = None,
    format: Annotated[str | None, typer.Option(
        "--format", help=f"{' or '.join(NOTICE_FORMATS)} (default: from the output file's suffix, else html)"
    )] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="File to write (default: print it)"
    )] = None,
    allow_gaps: Annotated[bool, typer.Option(
        "--allow-gaps",
        help="Write a draft that still has gaps or untranslated passages (it says so)")] = False,
) -> None:
    """Write the privacy notice drawn from a register; what it lacks shows as a visible gap.

    A notice with gaps (or passages the register lacks in its language) is a draft: it carries a
    banner, and without --allow-gaps nothing is written and the command exits 1 with the counts.

    Example: garde notice registers/reference-shop.yaml --lang it --format html -o out/notice-it.html
    --allow-gaps
    """
    register = load_register(file)
    fmt = format or (output.suffix.lstrip(".") if output and output.suffix else "html")
    chosen = lang or register.language
    check_notice_request(chosen, fmt)
    document = build_notice(register, chosen)
    counts = document.counts
    if counts.draft and not allow_gaps:
        typer.echo(f"{file}: the {chosen} notice is a draft — gaps (fields the register does not state): "
                   f"{counts.gaps}; passages not translated into {chosen}: {counts.untranslated}. "
                   "Run `garde lint` to see them, or pass --allow-gaps to write the draft.", err=True)
        raise typer.Exit(1)
    text = write_notice(document, fmt)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    if counts.draft:
        typer.echo(f"draft written — gaps: {counts.gaps}; untranslated passages: {counts.untranslated}",
                   err=True)


def install(app: typer.Typer) -> None:
    """Add ``garde notice`` to ``app``."""
    app.command("notice", epilog=epilog(DRAFT_REFUSED))(notice)
