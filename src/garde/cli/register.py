"""``garde register``: show and export a register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from garde.documents import REGISTER_FORMATS, export_register
from garde.register import load_register

register_app = typer.Typer(help="Read and publish registers of processing activities.", no_args_is_help=True)


@register_app.command("show")
def show(
    file: Annotated[Path, typer.Argument(help="Register YAML file")],
    format: Annotated[str, typer.Option("--format", help="json or yaml")] = "yaml",
) -> None:
    """Print the normalised register (itself a valid register file).

    Example: garde register show registers/online-shop.yaml --format json
    """
    data = load_register(file).to_data()
    if format == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif format == "yaml":
        typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    else:
        raise typer.BadParameter("expected json or yaml", param_hint="--format")


@register_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Register YAML file")],
    format: Annotated[str | None, typer.Option(
        "--format", help=f"{', '.join(REGISTER_FORMATS)} (default: from the output file's suffix)"
    )] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="fr, en or it (default: the register's)")] = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="File to write (default: print it; required for xlsx)"
    )] = None,
) -> None:
    """Publish the Art. 30 register: one row per activity, a sheet per role (controller, processor).

    Example: garde register export registers/dior-couture.yaml --format xlsx --lang fr -o out/register.xlsx
    """
    fmt = format or (output.suffix.lstrip(".") if output and output.suffix else None)
    if fmt is None:
        raise typer.BadParameter(f"give --format ({', '.join(REGISTER_FORMATS)}) or an output file "
                                 "with one of these suffixes", param_hint="--format")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("an xlsx workbook needs an output file", param_hint="-o")
    register = load_register(file)
    content = export_register(register, fmt, lang or register.language)
    if output is None:
        typer.echo(content.decode("utf-8"), nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    typer.echo(f"wrote {output}", err=True)


def install(app: typer.Typer) -> None:
    app.add_typer(register_app, name="register")
