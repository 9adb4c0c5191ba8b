"""Every CLI command has help text written for users, with an example."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from garde.cli import app

from .conftest import ROOT


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


def _examples(help_text: str) -> list[str]:
    """The ``Example:`` lines of a help text, each joined from its wrapped lines."""
    paragraphs = re.split(r"\n\s*\n", help_text)
    return [" ".join(found.split()) for paragraph in paragraphs
            for found in re.findall(r"Example:(.*?)(?=Example:|\Z)", paragraph, re.S)]


def _parse(root: TyperGroup, words: list[str]) -> None:
    """Parse ``words`` down to the command they name, as the command line would, without running it."""
    context = root.make_context("garde", list(words))
    command: Any = root
    rest = list(words)
    while isinstance(command, TyperGroup):
        name, found, rest = command.resolve_command(context, rest)
        assert found is not None and name is not None
        command = found
        context = command.make_context(name, rest, parent=context)


def test_every_help_example_parses_as_the_command_it_documents(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user copies from ``--help`` is accepted: options that exist, required ones given, values
    of the right type (a placeholder id or an input file named but absent aside). Shell parts around
    the command (``VAR=value`` before it, ``> file`` after it) are the shell's, not garde's."""
    monkeypatch.chdir(tmp_path)
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    wrong = []
    checked = 0
    for name, command in _commands(root):
        for example in _examples(command.help or ""):
            words = shlex.split(example.split(" > ")[0])
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)
            if words[:1] != ["garde"] or " ".join(words[1:]).split(" -")[0].split()[:len(name.split())] \
                    != name.split():
                wrong.append(f"{name}: {example!r} is not an example of `garde {name}`")
                continue
            for word in words[1:]:  # an input file the example names exists where a user runs it
                if re.fullmatch(r"[\w./-]+\.(csv|pdf|jsonl?)", word) and "/" not in word:
                    (tmp_path / word).touch()
            try:
                _parse(root, words[1:])
            except Exception as error:  # typer's click: a usage error says what is wrong with the words
                message = error.format_message() if hasattr(error, "format_message") else repr(error)
                wrong.append(f"{name}: {example!r}: {message}")
            checked += 1
    assert checked >= 50
    assert wrong == []


def test_notice_help_says_a_draft_exits_1(tmp_path: Path) -> None:
    """Every shipped register's notice has gaps: `garde notice` without --allow-gaps exits 1 on each,
    and its help's exit statuses say so (they said only 0 and 2)."""
    helped = subprocess.run([sys.executable, "-m", "garde", "notice", "--help"], capture_output=True,
                            text=True, check=True, env={**os.environ, "COLUMNS": "200"})
    assert "1 a draft" in " ".join(helped.stdout.split())
    refused = subprocess.run([sys.executable, "-m", "garde", "notice", "registers/quieta-salute.yaml", "-o",
                              str(tmp_path / "notice.html")], capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 1 and "--allow-gaps" in refused.stderr
    assert not (tmp_path / "notice.html").exists()
