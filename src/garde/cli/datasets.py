"""``garde datasets``: check the data map, draw its reference graph, find a subject's rows."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from garde.cli.output import Format, FormatOption, QuietOption, Terminal, emit, progress
from garde.datasets import connect_datamap, discovery_warnings, find_subject, load_datamap
from garde.datasets.archive import archive_warnings
from garde.datasets.graph import graph_dot, graph_text, render
from garde.datasets.live import check_databases
from garde.problems import GardeError, InputError
from garde.settings import get_settings

datasets_app = typer.Typer(
    help="Dataset annotations: which table holds whose personal data.", no_args_is_help=True
)
PathArgument = Annotated[
    Path | None, typer.Argument(help="Dataset file or folder (default: setting `datasets`)")
]


class GraphFormat(StrEnum):
    text = "text"
    dot = "dot"
    svg = "svg"
    png = "png"


def _path(path: Path | None) -> Path:
    return path or get_settings().datasets


@datasets_app.command("check")
def check(
    path: PathArgument = None,
    offline: Annotated[bool, typer.Option(
        "--offline", help="Check the files only, not the databases' tables and columns")] = False,
    format: FormatOption = Format.text,
    quiet: QuietOption = False,
) -> None:
    """Load and check dataset files against the vocabulary, their registers and their databases.

    Unless --offline, each database is read (tables, columns, types, lengths,
    NOT NULL) and every column's `erase` mask is checked to fit the column it
    writes: a 64-character hash in a VARCHAR(16), a NULL in a NOT NULL
    number... Errors name the file, the line and the field; exit status 2 when any. Warnings (e.g. no
    authoritative table: discovery would only find direct matches; a table with two identities or
    more and no `owner`: a request proving one acts on the whole row) do not change the status.

    Example: garde datasets check datasets/
    """
    datamap = load_datamap(_path(path))
    tables = datamap.tables()
    if not offline:
        with progress("checking tables", len(tables), quiet) as tick:
            problems = check_databases(datamap, progress=tick)
        if problems:
            raise InputError(problems)
    columns = sum(len(t.columns) for t in tables)
    warnings = [*discovery_warnings(datamap), *archive_warnings(datamap)]
    if format is Format.json:
        emit({"databases": [{"database": name, "file": str(dataset.file), "tables": len(dataset.tables)}
                            for name, dataset in datamap.datasets.items()],
              "tables": len(tables), "columns": columns, "identities": list(datamap.identity_kinds()),
              "live": not offline, "warnings": list(warnings)})
        return
    for name, dataset in datamap.datasets.items():
        typer.echo(f"{dataset.file}: database {name}, {len(dataset.tables)} tables")
    typer.echo(
        f"ok: {len(datamap.datasets)} databases, {len(tables)} tables, {columns} annotated columns, "
        f"identities: {', '.join(datamap.identity_kinds())}"
        + ("" if offline else "; every mask fits its column")
    )
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


@datasets_app.command("show")
def show(
    path: PathArgument = None, format: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml"
) -> None:
    """Print the normalised data map (each document is itself a valid dataset file).

    Example: garde datasets show datasets/shop.yaml --format json
    """
    data = load_datamap(_path(path)).to_data()
    if format == "json":
        typer.echo(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
    elif format == "yaml":
        typer.echo(yaml.safe_dump_all(data, allow_unicode=True, sort_keys=False))
    else:
        raise typer.BadParameter("expected yaml or json", param_hint="--format")


@datasets_app.command("graph")
def graph(
    path: PathArgument = None,
    format: Annotated[GraphFormat, typer.Option("--format", help="text, dot, svg or png")] = GraphFormat.text,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout)")
    ] = None,
) -> None:
    """Draw the reference graph: from identities, through references, across databases.

    `text` prints the tree discovery walks; `dot` is Graphviz source; `svg`
    and `png` need Graphviz's `dot` command.

    Example: garde datasets graph datasets/ --format png -o datamap.png
    """
    datamap = load_datamap(_path(path))
    if format is GraphFormat.text:
        content: str | bytes = graph_text(datamap)
    elif format is GraphFormat.dot:
        content = graph_dot(datamap)
    else:
        content = render(graph_dot(datamap), format.value)
    if output is not None:
        if isinstance(content, str):
            output.write_text(content, encoding="utf-8")
        else:
            output.write_bytes(content)
        typer.echo(f"wrote {output}")
    elif isinstance(content, bytes):
        raise GardeError(f"{format.value} is binary: give -o FILE")
    else:
        typer.echo(content, nl=False)


@datasets_app.command("find")
def find(
    identities: Annotated[list[str], typer.Argument(help="kind=value, e.g. email=ana@example.com")],
    path: Annotated[Path | None, typer.Option("--datasets", help="Dataset file or folder")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Find every row of one data subject across all databases (what a request will act on).

    Example: garde datasets find email=alphonse.perret.1@messagerie.example
    """
    given = {}
    for item in identities:
        kind, sep, value = item.partition("=")
        if not sep or not value:
            raise typer.BadParameter(f"expected kind=value, not {item!r}")
        given[kind] = value
    datamap = load_datamap(_path(path))
    engines = connect_datamap(datamap)
    footprint = find_subject(datamap, engines, given)
    if format is Format.json:
        emit(footprint.to_data())
        return
    table = Table(title=f"{footprint.count()} rows in {len(footprint.tables())} tables", title_justify="left")
    for column in ("table", "rows", "keys"):
        table.add_column(column)
    for ref in footprint.tables():
        keys = footprint.primary_keys(*ref)
        shown = ", ".join(map(str, keys[:8])) + (" ..." if len(keys) > 8 else "")
        table.add_row(str(ref), str(len(keys)), shown)
    terminal = Terminal(highlight=False, soft_wrap=True, markup=False, emoji=False)  # keys and values as text
    terminal.print(table)
    for match in footprint.identity_matches():
        how = "given" if match.via is None else (
            f"linked: {match.table}.{match.column}, reached from {match.via[0]} {match.via[1]}")
        terminal.print(f"{match.kind}: {match.value}  [{how}]")
    for match in footprint.not_followed():
        typer.echo(f"{match.kind}: seen in {match.table}.{match.column}, not followed (not checked)")


def install(app: typer.Typer) -> None:
    app.add_typer(datasets_app, name="datasets")
