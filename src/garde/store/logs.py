"""Every log record of garde's processes says a database error as :func:`garde.store.database_refusal`.

A driver's message quotes values: PostgreSQL's ``DETAIL: Failing row contains (…)`` (every value of
the refused row), ``Key (email)=(…)``, a trigger's own words. procrastinate logs a failed job with its
exception, uvicorn an unexpected one, garde's own code sometimes the error as an argument: logs are
kept, shipped and read by people who are not the DPO (GDPR Art. 5(1)(f), 32). One place for all of
them: :func:`install_cleaning` wraps the process's log record factory, so a record made with a
database error anywhere in its exception's chain (``exc_info``, or an argument of the message) carries,
for each database error of the chain, its class and first line cut before the values, with the frames
where each was raised; other exceptions of that chain are said by their first line.
"""

from __future__ import annotations

import logging
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


def _clean(record: logging.LogRecord) -> None:
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
    if exc is not None and _quoting(exc):
        record.exc_text = cleaned_traceback(exc)
        record.exc_info = None
    if _quoting(record.msg):
        record.msg = _argument(record.msg)
    args: Any = record.args
    if isinstance(args, tuple) and any(_quoting(arg) for arg in args):
        record.args = tuple(_argument(arg) for arg in args)
    elif isinstance(args, dict) and any(_quoting(arg) for arg in args.values()):
        record.args = {name: _argument(arg) for name, arg in args.items()}


def _argument(value: object) -> object:
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
