"""``garde lint``: check registers against the GDPR and regulator guidance."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from garde.documents.lint_report import render_lint_html
from garde.lint import lint_paths, render_text, to_json, to_sarif
from garde.lint.report import message_language
from garde.lint.runner import register_files


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    html = "html"


class Lang(StrEnum):
    en = "en"
    fr = "fr"
    it = "it"


def lint(
    paths: Annotated[list[Path], typer.Argument(help="Register files, or folders of *.yaml registers")],
    format: Annotated[Format, typer.Option(
        "--format", help="text, json, sarif (2.1.0) or html (a report to read, per register and activity)",
    )] = Format.text,
    lang: Annotated[Lang, typer.Option(
        "--lang", help="language of the report and of the rules' messages",
    )] = Lang.en,
) -> None:
    """Check registers: legal bases, retention, consent, special data, transfers, DPIA...

    Each finding has a stable code (GL001...), a severity and the article or
    guidance it comes from. Exits with status 1 when any finding is an error.

    Example: garde lint registers/ --format sarif > garde.sarif
    """
    findings = lint_paths(paths, lang=message_language(lang.value))
    files = [str(path) for path in register_files(paths)]
    if format is Format.html:
        typer.echo(render_lint_html(findings, lang=lang.value, files=files))
    elif format is Format.json:
        typer.echo(to_json(findings))
    elif format is Format.sarif:
        sarif = to_sarif(findings, lang=message_language(lang.value))
        typer.echo(json.dumps(sarif, ensure_ascii=False, indent=2))
    else:
        typer.echo(render_text(findings, lang=lang.value, linted=len(files)))
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.command("lint")(lint)
