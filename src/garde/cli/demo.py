"""``garde demo``: the main job on the embedded defaults (written as the pieces land)."""

from __future__ import annotations

import typer


def install(app: typer.Typer) -> None:
    """Add ``garde demo`` (filled in once lint and documents exist)."""
