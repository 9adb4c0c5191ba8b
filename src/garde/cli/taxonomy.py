"""``garde taxonomy``: list the vocabulary."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from garde.cli.output import Format, FormatOption, Terminal, emit
from garde.problems import closest
from garde.taxonomy import KINDS, LANGS, load_vocabulary


def taxonomy(
    kind: Annotated[str | None, typer.Argument(help=f"One kind: {', '.join(KINDS)}")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Label language: fr, en or it")] = "en",
    synonyms: Annotated[bool, typer.Option("--synonyms", help="Show the words documents use")] = False,
    format: FormatOption = Format.text,
) -> None:
    """List the vocabulary: ids, labels, W3C DPV and fideslang keys.

    Example: garde taxonomy categories --lang it --synonyms
    """
    if lang not in LANGS:
        raise typer.BadParameter(f"expected one of {', '.join(LANGS)}", param_hint="--lang")
    if kind is not None and kind not in KINDS:
        guess = closest(kind, KINDS)
        hint = f" Did you mean {guess!r}?" if guess else ""
        raise typer.BadParameter(
            f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}.{hint}", param_hint="KIND"
        )
    vocabulary = load_vocabulary()
    if format is Format.json:
        emit([{"kind": name, "id": term.id, "label": term.label(lang), "dpv": term.dpv,
               "fideslang": term.fideslang, "synonyms": {k: list(v) for k, v in term.synonyms.items()}}
              for name in ([kind] if kind else list(KINDS)) for term in vocabulary.terms(name)])
        return
    console = Terminal()
    for name in [kind] if kind else list(KINDS):
        table = Table(title=KINDS[name], title_justify="left")
        for column in ("id", "label", "DPV", "fideslang", *(["synonyms"] if synonyms else [])):
            table.add_column(column, overflow="fold")
        for term in vocabulary.terms(name):
            row = [term.id, term.label(lang), term.dpv or "", term.fideslang or ""]
            if synonyms:
                row.append("; ".join(w for words in term.synonyms.values() for w in words))
            table.add_row(*row)
        console.print(table)


def install(app: typer.Typer) -> None:
    app.command("taxonomy")(taxonomy)
