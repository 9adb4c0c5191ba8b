"""The ``garde`` command: a thin edge over the library.

Each concept has its own module here with an ``install(app)`` function that
adds its commands. A command parses its arguments, calls one library
function and renders the result; library errors are rendered in one place,
:class:`GardeGroup`, never as a traceback.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pydantic
import sqlalchemy as sa
import typer
from pydantic_settings import SettingsError
from rich.markup import escape
from typer._click.core import Context  # typer vendors click; this is the type its groups use
from typer.core import TyperGroup

from garde.cli.output import Terminal
from garde.keys import DemoKeyWarning
from garde.problems import GardeError, InputError
from garde.store import transactions, unreachable
from garde.store.transactions import conflicted, sqlstate

err = Terminal(stderr=True, highlight=False)


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """Warnings the library raises for the operator (the public demo key), loud, on stderr."""
    if issubclass(category, DemoKeyWarning):
        err.print(f"[bold yellow]warning[/bold yellow] {message}", soft_wrap=True)
    else:
        err.print(f"[yellow]warning[/yellow] {category.__name__}: {message}", soft_wrap=True)


class GardeGroup(TyperGroup):
    """Renders input and domain errors as clear messages with exit status 2."""

    def invoke(self, ctx: Context) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", DemoKeyWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                err.print(f"[red]error[/red] {escape(str(problem))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except GardeError as exc:
            err.print(f"[red]error[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except SettingsError as exc:  # a list or map setting whose GARDE_* value is not JSON
            found = re.search(r'field "(\w+)"', str(exc))
            name = found.group(1) if found else "?"
            err.print(f"[red]error[/red] setting {name} (GARDE_{name.upper()}): not valid JSON; a list or "
                      'map setting is JSON in the environment, e.g. ["10.0.0.1"] or {"email": "3 years"}',
                      soft_wrap=True)
            raise typer.Exit(2) from None
        except pydantic.ValidationError as exc:  # a setting (GARDE_* or garde.toml) that is refused
            for error in exc.errors():
                name = ".".join(str(part) for part in error["loc"])
                err.print(f"[red]error[/red] setting {name} (GARDE_{name.upper()}): "
                          f"{escape(error['msg'].removeprefix('Value error, '))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except sa.exc.OperationalError as exc:
            if conflicted(exc):  # a deadlock or a conflict that outlasted the store's attempts
                err.print(f"[red]error[/red] the store met a concurrent change and could not finish this "
                          f"one (SQLSTATE {sqlstate(exc)}, {transactions.ATTEMPTS} attempts); its last "
                          "transaction wrote nothing: run the command again", soft_wrap=True)
                raise typer.Exit(2) from None
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
        analyse,
        api_keys,
        audit,
        consent,
        datasets,
        db,
        decide,
        demo,
        hold,
        jobs,
        keys,
        lint,
        notice,
        register,
        request,
        retention,
        serve,
        shop,
        taxonomy,
        worker,
    )

    for module in (taxonomy, register, lint, notice, datasets, shop, request, consent, decide, audit,
                   retention, hold, keys, api_keys, serve, demo, analyse, db, worker, jobs):
        module.install(app)
    _add_exit_statuses()


def _add_exit_statuses() -> None:
    """Each command's ``--help`` ends with its exit statuses (what 1 means comes from its schema)."""
    from garde.cli.output import epilog
    from garde.cli.schemas import COMMANDS

    groups = [("", app)] + [(g.name or "", g.typer_instance) for g in app.registered_groups
                            if g.typer_instance is not None]
    for prefix, group in groups:
        for command in group.registered_commands:
            name = f"{prefix} {command.name}".strip()
            report = COMMANDS.get(name)
            command.epilog = command.epilog or epilog(report.refused if report else None)


_install_all()


def main() -> None:
    from garde.store.logs import install_cleaning

    install_cleaning()  # no log line of this process quotes a database error's values
    app()
