"""How every command renders: ``--format``, JSON on stdout, progress and messages on stderr.

A command that reports something takes ``--format text|json``. With ``json``,
stdout holds one JSON document (its schema is in :mod:`garde.cli.schemas` and
docs/cli.md) and nothing else, so ``garde … --format json | jq`` works; every
message meant for a person goes to stderr. Long commands show a progress bar on
stderr, only on a terminal and never with ``--quiet``.

Exit status, the same for every command: 0 done or allowed; 1 refused or
findings; 2 usage or input error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from garde.unseen import json_escaped


class Exit(IntEnum):
    """The exit status of every ``garde`` command."""

    done = 0  # done, or allowed
    refused = 1  # refused (not allowed, confirmation declined) or findings (lint errors, broken log)
    usage = 2  # usage or input error: a bad option, a file or value garde cannot use


EXIT_CODES = {
    Exit.done: "done, or allowed",
    Exit.refused: "refused or findings",
    Exit.usage: "usage or input error (bad option, unreadable file, unknown id)",
}


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="text, or json on stdout (docs/cli.md)")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")]

#: What a terminal acts on instead of showing, shown as an escape: C0 controls but the line feed and
#: tab (ESC starts a sequence that repaints the screen, sets the window's title, or writes an OSC 8
#: link; a carriage return writes over the line), DEL, C1 controls (0x9B is CSI to some terminals),
#: and the bidirectional embeddings, overrides and isolates that reorder the rest of a line
#: (U+202A – U+202E, U+2066 – U+2069). A request's notes, a failure's reason, a shop's value: text a
#: data subject or anyone else wrote reaches the operator's terminal only as text.
_SHOWN_AS_ESCAPES = str.maketrans(
    {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code not in (0x09, 0x0A)}
    | {code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def terminal_text(text: str) -> str:
    """``text`` with what a terminal would act on (:data:`_SHOWN_AS_ESCAPES`) written as escapes."""
    return text.translate(_SHOWN_AS_ESCAPES)


class Terminal(Console):
    """The console of every command: whatever it prints (a message, a table's cells) reaches the
    terminal as text, its control characters shown as escapes (:func:`terminal_text`); the one place
    that renders for a person, so no command's output can repaint the operator's screen. Rich's
    markup (``[bold]``) stays for garde's own words: values go in escaped (``rich.markup.escape``)."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(terminal_text(text), **options)


stderr = Terminal(stderr=True, highlight=False, soft_wrap=True)


def json_shown(text: str) -> str:
    """JSON ``text`` with what a terminal acts on or a reader does not see (:data:`_SHOWN_AS_ESCAPES`
    beyond the C0 controls JSON escapes itself, and every invisible format character:
    :func:`garde.unseen.json_escaped`) written as JSON's own ``\\u`` escapes: the same JSON, safe to
    print on a terminal."""
    return json_escaped(text)


def json_text(data: Any, indent: int | None = 2) -> str:
    """``data`` as JSON (non-ASCII text as itself), safe to print on a terminal: a subject's text in it
    cannot act on the terminal of whoever reads a command's output without ``jq``."""
    return json_shown(json.dumps(data, ensure_ascii=False, indent=indent, default=str))


def emit(data: Any) -> None:
    """Write ``data`` as the command's one JSON document on stdout."""
    typer.echo(json_text(data))


def say(format: Format, message: str) -> None:
    """A message for a person: stdout in text mode, stderr when stdout carries JSON."""
    if format is Format.json:
        stderr.print(message)
    else:
        Terminal(highlight=False, soft_wrap=True).print(message)


class Ticker:
    """The progress callback a library function takes: ``tick(n)`` after n more units done."""

    def __init__(self, advance: Callable[[int, str | None], None] | None = None) -> None:
        self._advance = advance

    def __call__(self, done: int = 1, what: str | None = None) -> None:
        if self._advance is not None:
            self._advance(done, what)


def shows_progress(quiet: bool) -> bool:
    """A bar only for a person watching: stderr is a terminal and ``--quiet`` was not given."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress(label: str, total: int | None, quiet: bool = False) -> Iterator[Ticker]:
    """A progress bar on stderr for ``total`` units (a spinner and a count when unknown)."""
    if not shows_progress(quiet):
        yield Ticker()
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()) if total is not None else (
        SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,}"),
        TimeElapsedColumn())
    with Progress(*columns, console=Terminal(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, what: str | None) -> None:
            bar.update(task, advance=done, description=what or label)

        yield Ticker(advance)


def parse_day(text: str, option: str) -> date:
    """A ``YYYY-MM-DD`` option; anything else is a usage error (exit 2) naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD", param_hint=option) from None


def parse_moment(text: str, option: str) -> datetime:
    """An ISO 8601 date or date and time option (``2025-01-01``, ``2025-01-01T10:00:00+02:00``; a
    date is its midnight); anything else, a number among them, is a usage error naming the option."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 date or time (YYYY-MM-DD or "
                                 "YYYY-MM-DDTHH:MM:SS+00:00)", param_hint=option) from None


def epilog(refused: str | None) -> str:
    """The ``--help`` epilog: this command's exit statuses."""
    one = f" 1 {refused};" if refused else ""
    return f"Exit status: 0 done;{one} 2 usage or input error. JSON output: docs/cli.md."
