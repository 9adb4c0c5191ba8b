"""``garde analyse``: an existing privacy notice or register read, and what it fails to say."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from garde.cli.output import emit


class Format(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


class Lang(StrEnum):
    auto = "auto"
    fr = "fr"
    en = "en"
    it = "it"


def analyse(
    file: Annotated[Path, typer.Argument(
        help="The notice or register: .txt, .md, .tsv, .html, .docx or .pdf")],
    format: Annotated[Format, typer.Option(
        "--format", help="text (to read), json (docs/cli.md) or yaml (a draft register)")] = Format.text,
    lang: Annotated[Lang, typer.Option(
        "--lang", help="the document's language: auto (detected), fr, en or it")] = Lang.auto,
) -> None:
    """Read a privacy notice or register and report which Art. 13 elements it states, each with
    a verbatim excerpt as evidence, and what a DPO must fix (GA001...).

    Nothing is invented: an element counts as present only with an excerpt of the document.
    Exits with status 1 when any finding is an error. `--format yaml` prints instead a draft
    register (`garde lint` reads it): each value followed by its excerpt as a comment.

    Example: garde analyse privacy-notice.pdf --format json > gaps.json
    """
    from garde.analyse.report import analyse_file, draft_file, render_text  # the readers: only when it runs

    if format is Format.yaml:
        typer.echo(draft_file(file, lang.value), nl=False)
        return
    analysis = analyse_file(file, lang.value)
    if format is Format.json:
        emit(analysis.to_data())
    else:
        typer.echo(render_text(analysis))
    if any(f.severity == "error" for f in analysis.findings):
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    """Add ``garde analyse`` to ``app``."""
    app.command("analyse")(analyse)
