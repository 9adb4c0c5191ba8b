"""Reading a submitted HTML form (``application/x-www-form-urlencoded``), bounded.

The body is already bounded by its route's limit (64 kB, garde.api.limits); here each field is
bounded too, and a field given twice keeps its first value.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

MAX_FIELD = 2000  # a reason, a key: a DPO's paragraph at most
MAX_FIELDS = 20


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields; a field longer than :data:`MAX_FIELD` is cut there."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields: dict[str, str] = {}
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True,
                          max_num_fields=MAX_FIELDS)
    except ValueError:  # more fields than any of garde's forms has
        return {}
    for name, value in pairs[:MAX_FIELDS]:
        fields.setdefault(name[:64], value[:MAX_FIELD])
    return fields
