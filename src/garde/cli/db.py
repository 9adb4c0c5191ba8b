"""``garde db upgrade``: the store's migrations, the job queue's schema included."""

from __future__ import annotations

import typer

from garde.cli.output import Format, FormatOption, emit, say
from garde.settings import get_settings
from garde.store.upgrade import upgrade as upgrade_store

db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(format: FormatOption = Format.text) -> None:
    """Apply the migrations the store lacks: garde's tables and, on PostgreSQL, the job queue's.

    Run it once when installing or upgrading garde, with the workers stopped, before
    `garde serve` and `garde worker` start (each also upgrades a store it opens, but one
    upgrade at a time is safest on a database several machines share).

    Example: GARDE_DATABASE_URL=postgresql+psycopg://garde@db/garde garde db upgrade
    """
    result = upgrade_store(get_settings().database_url)
    if format is Format.json:
        emit(result.to_data())
        return
    change = (f"from {result.before} to {result.after}" if result.before != result.after
              else f"already at {result.after}")
    say(format, f"{result.database}: schema {change}"
        + (f"; job queue schema {result.queue_schema}" if result.queue_schema is not None
           else "; no job queue on SQLite (jobs run inline)"))


def install(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
