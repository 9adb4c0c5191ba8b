"""``garde hold``: legal holds (not written yet)."""

import typer


def install(app: typer.Typer) -> None:
    """Add this concept's commands to ``app``."""
