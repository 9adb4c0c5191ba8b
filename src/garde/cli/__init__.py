"""The ``garde`` command: a thin edge over the library.

Each concept has its own module here with an ``install(app)`` function that
adds its commands. A command parses its arguments, calls one library
function and renders the result; library errors are rendered in one place,
:class:`GardeGroup`, never as a traceback.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from typer._click.core import Context  # typer vendors click; this is the type its groups use
from typer.core import TyperGroup

from garde.problems import GardeError, InputError
from garde.store import unreachable

err = Console(stderr=True, highlight=False)


class GardeGroup(TyperGroup):
    """Renders input and domain errors as clear messages with exit status 2."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                err.print(f"[red]error[/red] {escape(str(problem))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except GardeError as exc:
            err.print(f"[red]error[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except sa.exc.OperationalError as exc:
            # a database that went away or refuses (disk full, locked, server down) after it was opened
            err.print(f"[red]error[/red] database unavailable: {escape(unreachable(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=GardeGroup,
    name="garde",
    help="The executable register of processing activities (GDPR Art. 30).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _install_all() -> None:
    from garde.cli import (
        audit,
        consent,
        datasets,
        decide,
        demo,
        hold,
        lint,
        notice,
        register,
        request,
        retention,
        shop,
        taxonomy,
    )

    for module in (taxonomy, register, lint, notice, datasets, shop, request, consent, decide, audit,
                   retention, hold, demo):
        module.install(app)


_install_all()


def main() -> None:
    app()
