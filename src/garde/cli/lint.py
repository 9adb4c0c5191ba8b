"""``garde lint``: check registers against the GDPR and regulator guidance."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from garde.lint import lint_paths, render_text, to_json, to_sarif


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


class Lang(StrEnum):
    en = "en"
    fr = "fr"


def lint(
    paths: Annotated[list[Path], typer.Argument(help="Register files, or folders of *.yaml registers")],
    format: Annotated[Format, typer.Option("--format", help="text, json or sarif (2.1.0)")] = Format.text,
    lang: Annotated[Lang, typer.Option("--lang", help="language of the messages")] = Lang.en,
) -> None:
    """Check registers: legal bases, retention, consent, special data, transfers, DPIA...

    Each finding has a stable code (GL001...), a severity and the article or
    guidance it comes from. Exits with status 1 when any finding is an error.

    Example: garde lint registers/ --format sarif > garde.sarif
    """
    findings = lint_paths(paths, lang=lang.value)
    if format is Format.json:
        typer.echo(to_json(findings))
    elif format is Format.sarif:
        typer.echo(json.dumps(to_sarif(findings, lang=lang.value), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(findings, lang=lang.value))
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.command("lint")(lint)
