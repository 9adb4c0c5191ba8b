"""Cursor pagination for every list of the API: ``?limit=`` and an opaque ``?cursor=``.

A list is read in a total, stable order (for requests: received_at, then id). A page ends with
``next_cursor``, the key of its last item, encoded; the next page is what comes after that key.
Unlike an offset, a key does not move when items are added or removed before it, so a reader
never sees an item twice or misses one that was there all along. The cursor is only a position:
it grants nothing (the route's own rule still decides who reads), and one that does not decode is
a 422 naming ``query.cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

T = TypeVar("T")
Key = tuple[Any, ...]


class Page(BaseModel, Generic[T]):
    """One page of a list, and where the next one starts (none: this is the last)."""

    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


def encode(key: Key) -> str:
    """The opaque cursor of ``key`` (strings, integers, datetimes)."""
    values = [{"t": value.isoformat()} if isinstance(value, datetime) else value for value in key]
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, shape: Sequence[type]) -> Key:
    """The key a cursor holds, each value of the type ``shape`` says; 422 on anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(shape):
            raise ValueError("wrong length")
        key = tuple(_value(value, kind) for value, kind in zip(values, shape, strict=True))
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise RequestValidationError([{"loc": ("query", "cursor"), "type": "cursor",
                                       "msg": "not a cursor this list gave (pass next_cursor as it is)"}]
                                     ) from None
    return key


def _value(value: Any, kind: type) -> Any:
    if kind is datetime:
        return datetime.fromisoformat(value["t"])
    if not isinstance(value, kind):
        raise TypeError(kind)
    return value


@dataclass(frozen=True)
class Paging:
    """A list route's ``cursor`` and ``limit``: ``paging: Annotated[Paging, Depends()]``."""

    cursor: Annotated[str | None, Query(max_length=512, description="the previous page's next_cursor")] = None
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = DEFAULT_LIMIT

    def after(self, shape: Sequence[type]) -> Key | None:
        """The key the page starts after, or none for the first page."""
        return None if self.cursor is None else decode(self.cursor, shape)

    @property
    def read(self) -> int:
        """How many items to read: one more than a page, to know whether a next page exists."""
        return self.limit + 1

    def page(self, items: Sequence[T], key: Callable[[T], Key]) -> tuple[list[T], str | None]:
        """The page of ``items`` (read :attr:`read` of them) and the next page's cursor."""
        shown = list(items[:self.limit])
        more = len(items) > self.limit
        return shown, encode(key(shown[-1])) if more and shown else None
