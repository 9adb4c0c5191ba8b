"""Request and response bodies shared by several routers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from garde.consent.recording import subject_identities


class Strict(BaseModel):
    """A request body: a field it does not know is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class SubjectIn(Strict):
    """Who the data subject is: at least one identity (a telephone number without its country
    code is one of the controller's country)."""

    email: str | None = Field(default=None, max_length=320, examples=["ana@example.com"])
    phone: str | None = Field(default=None, max_length=40)
    customer_id: str | None = Field(default=None, max_length=128)

    def identities(self) -> dict[str, str]:
        return subject_identities(self.email, self.phone, self.customer_id)


def _iso_text(kind: str, read: Callable[[str], date]) -> BeforeValidator:
    """Read a day or a moment from ISO 8601 text with ``read`` (one already read passes); anything
    else is the ``kind`` error, a number among them, where pydantic would read it as a Unix time
    (``?today=1700000000``: red29 noticed)."""
    def iso_only(value: Any) -> Any:
        if value is None or isinstance(value, date):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return read(value.upper())  # RFC 3339 allows a lower-case t and z
        raise PydanticCustomError(kind, "must be an ISO 8601 {what}",
                                  {"what": "date" if kind == "iso_date" else "date and time"})
    return BeforeValidator(iso_only)


#: A day (``date | None``) as the API reads it from a query or a body: ISO 8601 text only.
Day = Annotated[date | None, _iso_text("iso_date", date.fromisoformat)]
#: A moment (``datetime | None``) likewise: ISO 8601 text only.
Moment = Annotated[datetime | None, _iso_text("iso_datetime", datetime.fromisoformat)]


ACTIVITY = Field(max_length=128, description="activity id of the register", examples=["newsletter"])
CHANNEL = Field(default=None, max_length=64, description="email, sms, post, phone, push, cookie.analytics...")


class Mirror(BaseModel):
    """A response model that shows fields of a library dataclass (:func:`mirror`)."""

    shown: ClassVar[dict[str, str]] = {}  # the answer's field -> the dataclass's attribute

    @classmethod
    def of(cls, value: object) -> Self:
        return cls.model_validate({field: getattr(value, name) for field, name in cls.shown.items()})


def _hint(source: type, name: str) -> Any:
    hints = get_type_hints(source)
    if name in hints:
        return hints[name]
    shown = getattr(source, name)  # a property: its return type
    assert isinstance(shown, property) and shown.fget is not None, f"{source.__name__}.{name}"
    return get_type_hints(shown.fget)["return"]


def mirror(name: str, source: type, attributes: Sequence[str], *, module: str,
           renamed: Mapping[str, str] | None = None, described: Mapping[str, str] | None = None,
           ) -> type[Mirror]:
    """The response model ``name`` of ``attributes`` of the dataclass ``source`` (fields or
    properties), with their types, declared once by the library: the API cannot drift from it.
    ``renamed``: the answer's name for an attribute; ``described``: a field's description."""
    renamed, described = renamed or {}, described or {}
    definitions: dict[str, Any] = {renamed.get(attribute, attribute): (
        _hint(source, attribute), Field(description=described.get(attribute))) for attribute in attributes}
    model: type[Mirror] = create_model(name, __base__=Mirror, __module__=module, **definitions)
    model.shown = {renamed.get(attribute, attribute): attribute for attribute in attributes}
    return model
