"""`garde` commands for this concept (not written yet)."""

import typer


def install(app: typer.Typer) -> None:
    """Add this concept's commands to ``app``."""
