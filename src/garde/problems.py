"""Problems in user input: every one names the file, the line and the field.

Loaders collect :class:`Problem` objects and raise one :class:`InputError`
carrying all of them, so a user fixes a file in one pass instead of one
error at a time. The CLI renders them; nothing upstream prints a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file."""

    file: str
    line: int | None
    field: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        if self.suggestion:
            text += f" (did you mean `{self.suggestion}`?)"
        return text


class InputError(Exception):
    """Raised when an input file cannot be used; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class GardeError(Exception):
    """A domain error with a message meant for the user (unknown request id, ...).

    The CLI prints the message and exits with status 2; the API answers 4xx. An error whose message
    quotes personal data (the identity it could not read) also says it without: :attr:`public`,
    what the API answers, since a problem's body lands in clients' logs and error trackers.
    """

    status = 400
    public: str | None = None


class NotFound(GardeError):
    status = 404


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The known term nearest to a probable typo, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
