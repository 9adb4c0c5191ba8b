"""Every CLI command has help text written for users, with an example."""

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
