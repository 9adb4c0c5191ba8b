"""Asking before what cannot be undone.

On a terminal, a destructive command says what it is about to do and waits
for a yes; ``--yes`` skips the question. Without a terminal (a script, a
scheduler, CI) nobody can answer, so the command goes on: the caller chose to
run it.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal")]


def will_ask(yes: bool) -> bool:
    """Whether :func:`confirm` would ask (to compute what the question says only then)."""
    return not yes and sys.stdin.isatty()


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` on a terminal unless ``yes``; a "no" stops with exit status 1, nothing done."""
    if not will_ask(yes):
        return
    if not typer.confirm(question, default=False, err=True):
        typer.echo("nothing done", err=True)
        raise typer.Exit(1)
