"""Every log record of garde's processes says a database error as :func:`garde.store.database_refusal`.

A driver's message quotes values: PostgreSQL's ``DETAIL: Failing row contains (…)`` (every value of
the refused row), ``Key (email)=(…)``, a trigger's own words. procrastinate logs a failed job with its
exception, uvicorn an unexpected one, garde's own code sometimes the error as an argument: logs are
kept, shipped and read by people who are not the DPO (GDPR Art. 5(1)(f), 32). One place for all of
them: :func:`install_cleaning` wraps the process's log record factory, so a record made with a
database error anywhere in its exception's chain (``exc_info``, or an argument of the message) carries,
for each database error of the chain, its class and first line cut before the values, with the frames
where each was raised; other exceptions of that chain are said by their first line.

A database error's *text* in a record (written into the message by an f-string or ``.format``, which
ruff's ``G`` rules refuse in garde's code, or passed as ``str(error)``) is recognised by the marks
SQLAlchemy and the drivers put in it (``[SQL: …]``, SQLAlchemy's background link, PostgreSQL's
``DETAIL:``) and withheld from the error's class label on (:func:`withheld`): without the exception
there is no telling its values from its words.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from garde.store import database_refusal

_installed: list[Callable[..., logging.LogRecord]] = []


def is_database_error(exc: BaseException) -> bool:
    """SQLAlchemy's errors and the drivers' own (psycopg's carry a SQLSTATE, sqlite3's an error code)."""
    return isinstance(exc, sa.exc.SQLAlchemyError) or hasattr(exc, "sqlite_errorcode") or (
        hasattr(exc, "sqlstate") and hasattr(exc, "diag"))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _said(exc: BaseException) -> str:
    if is_database_error(exc):
        return database_refusal(exc)
    return (str(exc).strip().splitlines() or [""])[0]


def cleaned_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its chain, innermost first as Python prints it, each exception said
    by :func:`_said` (never a database error's whole message)."""
    parts = []
    for link in reversed(list(_chain(exc))):
        frames = "".join(traceback.format_tb(link.__traceback__))
        kind = type(link)
        parts.append(f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}: "
                     f"{_said(link)}")
    return "\n\nThe above exception led to the following exception:\n\n".join(parts)


def _quoting(value: object) -> bool:
    return isinstance(value, BaseException) and any(is_database_error(link) for link in _chain(value))


# SQLAlchemy's label of the driver's error, ``(psycopg.errors.UniqueViolation)``: the text starts there.
_LABEL = re.compile(r"\((?:psycopg2?|sqlite3|asyncpg|pg8000)(?:\.\w+)+\)")
WITHHELD = "[a database error's text, withheld: log the error itself, not its text]"


def withheld(text: str) -> str:
    """``text`` with the database error's text it holds withheld: the words before it and the error's
    class label are kept; without a label (a driver's own text) the whole text is withheld."""
    if not _saying(text):
        return text
    label = _LABEL.search(text)
    return f"{text[:label.end()]} {WITHHELD}" if label else WITHHELD


def _clean(record: logging.LogRecord) -> None:
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
    if exc is not None and _quoting(exc):
        record.exc_text = cleaned_traceback(exc)
        record.exc_info = None
    if _saying(record.msg):
        record.msg = _argument(record.msg)
    args: Any = record.args
    # every record passes here: its arguments are copied only when one says a database error
    if isinstance(args, tuple):
        for arg in args:
            if _saying(arg):
                record.args = tuple(_argument(arg) for arg in args)
                break
    elif isinstance(args, dict) and any(_saying(arg) for arg in args.values()):
        record.args = {name: _argument(arg) for name, arg in args.items()}


def _saying(value: object) -> bool:
    """``value`` is a database error, or a text holding one's (:func:`withheld`): the marks of
    SQLAlchemy's text (the statement, its parameters unless hidden, a link to its page) and of
    PostgreSQL's (``DETAIL:  Key (email)=(…)``, ``Failing row contains (…)``)."""
    if isinstance(value, str):
        return "DETAIL:  " in value or "[SQL: " in value or "sqlalche.me/e/" in value
    return isinstance(value, BaseException) and _quoting(value)


def _argument(value: object) -> object:
    if isinstance(value, str):
        return withheld(value)
    if not _quoting(value):
        return value
    assert isinstance(value, BaseException)
    return _said(next(link for link in _chain(value) if is_database_error(link)))


def install_cleaning() -> None:
    """Clean every log record this process makes from now on (idempotent): called by garde's command
    line, its service's app and its workers before they log anything."""
    if _installed:
        return
    made = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = made(*args, **kwargs)
        _clean(record)
        return record

    _installed.append(made)
    logging.setLogRecordFactory(factory)
