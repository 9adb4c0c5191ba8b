"""Every CLI command has help text written for users, with an example."""

import subprocess
import sys
from typing import Any

import typer

from garde.cli import app


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            found += _commands(command, path)
        else:
            found.append((path, command))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 2, "no command installed"
    missing = [name for name, command in commands
               if not command.help or "Example:" not in command.help]
    assert missing == [], f"commands without help text and an example: {missing}"


def test_building_the_command_line_imports_no_web_or_job_framework() -> None:
    """``garde --help`` or ``garde analyse`` must not pay for FastAPI, procrastinate or openpyxl:
    a command imports what only its body needs when it runs."""
    heavy = ("fastapi", "uvicorn", "procrastinate", "openpyxl")
    script = f"import sys, garde.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"import garde.cli imported {done.stdout.strip()}"
