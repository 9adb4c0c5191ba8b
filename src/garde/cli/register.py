"""``garde register``: show and export a register."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

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


def install(app: typer.Typer) -> None:
    app.add_typer(register_app, name="register")
