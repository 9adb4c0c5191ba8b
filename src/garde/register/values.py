"""Small values the register's models share: texts, contacts, country codes.

A leaf module, so that the models of one concept (:mod:`garde.register.roles`)
can use them without importing :mod:`garde.register.model`, which imports them.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from garde.register.jurisdiction import normalise_country

Text = str | dict[str, str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Contact(_Model):
    """A person or office to write to."""

    name: Text | None = None
    address: Text | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None


def iso_country(value: str | None) -> str | None:
    """``value`` as the ISO 3166 code garde compares (``uk`` → ``GB``), or a ValueError naming it."""
    if value is None:
        return None
    code = normalise_country(value)
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise ValueError(f"expected an ISO 3166 country code such as FR, IT or GB, not {value!r}")
    return code


class FieldValueError(ValueError):
    """A ValueError about a field below the validated one: ``path`` from there (the loader adds it)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
