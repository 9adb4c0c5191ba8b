"""Cursor pagination of lists: ``?limit=50&cursor=…``, answered as ``{"items": […], "next_cursor": …}``.

A cursor is opaque to the caller: the base64url of the JSON array of the last item's sort key
(an id, or a date and an id). A list never moves under its reader as offsets do: rows added
or removed between two pages neither repeat nor skip the others. A cursor is read back only
as the sort key its list expects (its length and the type of each part): anything else is a
400 problem naming ``query.cursor``, never a 500. ``next_cursor`` is null on the last page.

The library's list functions take the decoded key (``after``) and a ``limit``; a route asks
one item more than the page holds, to know whether another page follows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from garde.problems import GardeError

T = TypeVar("T")
Item = TypeVar("Item")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_CURSOR = 512
_BIGINT = 2**63  # what a store's integer key holds: a larger number would be a database error
Part = str | int | datetime

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1 to {MAX_LIMIT}")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="`next_cursor` of the previous "
                                     "page; omit for the first page")]


class Page(BaseModel, Generic[T]):
    """One page of a list, in the list's order."""

    items: list[T]
    next_cursor: str | None = Field(description="give it as `cursor` for the next page; null: the last page")


class BadCursor(GardeError):
    """A cursor this list did not give: a 400 naming the query parameter."""

    status = 400
    field = "query.cursor"


def encode_cursor(key: Sequence[Part]) -> str:
    """The cursor after an item whose sort key is ``key`` (a date-time is written in ISO 8601)."""
    parts = [part.isoformat() if isinstance(part, datetime) else part for part in key]
    text = json.dumps(parts, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, shape: Sequence[type[Part]]) -> tuple[Any, ...] | None:
    """The sort key ``cursor`` holds, checked against ``shape`` (the type of each part: str, int,
    or datetime, read back in UTC); None for no cursor (the first page)."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw.decode("ascii"))
        if not isinstance(key, list) or len(key) != len(shape):
            raise ValueError("not a key of this list")
        return tuple(_part(part, kind) for part, kind in zip(key, shape, strict=True))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise BadCursor("not a cursor of this list: give the `next_cursor` of its previous page") from None


def _part(part: Any, kind: type[Part]) -> Part:
    if kind is int and type(part) is int and -_BIGINT < part < _BIGINT:
        return part
    if kind in (str, datetime) and type(part) is str and "\x00" not in part:
        if kind is str:
            return part
        moment = datetime.fromisoformat(part)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise ValueError(f"{part!r} is not a {kind.__name__}")


def page(items: Sequence[Item], limit: int, key: Callable[[Item], Sequence[Part]]) -> tuple[
        list[Item], str | None]:
    """The page of ``items`` (fetched with one more than ``limit``) and the cursor of the next one."""
    shown = list(items[:limit])
    return shown, encode_cursor(key(shown[-1])) if len(items) > limit and shown else None


@dataclass(frozen=True)
class Paging:
    """A list route's ``cursor`` and ``limit`` as one dependency: ``paging: Annotated[Paging, Depends()]``."""

    cursor: Cursor = None
    limit: Limit = DEFAULT_LIMIT

    def after(self, shape: Sequence[type[Part]]) -> tuple[Any, ...] | None:
        """The key the page starts after; None for the first page."""
        return decode_cursor(self.cursor, shape)

    @property
    def read(self) -> int:
        """How many items to read: one more than a page, to know whether a next page exists."""
        return self.limit + 1

    def page(self, items: Sequence[Item], key: Callable[[Item], Sequence[Part]]) -> tuple[
            list[Item], str | None]:
        """The page of ``items`` (read :attr:`read` of them) and the next page's cursor."""
        return page(items, self.limit, key)
