"""Who decides on an activity: its role, and what each role's register must say.

- ``controller`` (Art. 4(7)): the register's controller decides alone.
- ``joint_controller`` (Art. 26): it decides with other controllers, named in
  ``joint_controllers``; their ``arrangement`` says what each is responsible for,
  and its essence is made available to the data subjects (Art. 26(2)).
- ``processor`` (Art. 4(8), 28, 30(2)): it processes on behalf of the controllers
  named in ``on_behalf_of`` (each with its contact, its DPO or representative,
  the categories of processing carried out for it, the Art. 28(3) contract and
  its authorisation of sub-processors), with its ``sub_processors``.

Names may be written alone (``on_behalf_of: [Distributor SA]``); the normalised
form spells every field out.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from garde.register.values import Contact, FieldValueError, Text, _Model, iso_country
from garde.taxonomy.free import is_text_map as _is_text_map

Role = Literal["controller", "joint_controller", "processor"]
ROLES: tuple[Role, ...] = ("controller", "joint_controller", "processor")
#: GDPR Art. 28(2): the controller's prior written authorisation, specific or general
Authorisation = Literal["general", "specific"]


def _role_name(value: Any) -> Any:
    """``joint controller``, ``Joint-Controller`` → ``joint_controller``; anything else as given."""
    if isinstance(value, str):
        spelled = "_".join(value.strip().lower().replace("-", " ").split())
        if spelled in ROLES:
            return spelled
    return value


RoleField = Annotated[Role, BeforeValidator(_role_name)]


def _name_alone(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class ControllerRef(_Model):
    """Another controller: a joint controller (Art. 26), or one a processor acts for (Art. 30(2)(a))."""

    name: str
    contact: Contact | None = None
    dpo: Contact | None = Field(default=None, description="its data protection officer, where given")
    representative: Contact | None = Field(default=None,
                                           description="its representative (Art. 27), where given")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return _name_alone(value)


class ProcessorContract(_Model):
    """The contract or other legal act binding the processor to the controller (Art. 28(3), 28(9))."""

    reference: str | None = Field(default=None, description="e.g. 'DPA v3, annex 2 of the terms of service'")
    date: datetime.date | None = None
    wording: Text | None = Field(default=None, description="the register's own words on it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"reference": value}
        if isinstance(value, datetime.date):
            return {"date": value}
        return {"wording": value} if _is_text_map(value) else value

    @model_validator(mode="after")
    def _says_something(self) -> ProcessorContract:
        if not (self.reference or self.date or self.wording):
            raise ValueError("a contract names its `reference`, its `date` or its `wording`")
        return self


class ServedController(ControllerRef):
    """A controller on whose behalf a processor activity is carried out (Art. 30(2)(a)-(b), 28)."""

    processing: list[Text] = Field(
        default=[], description="categories of processing carried out for it (Art. 30(2)(b)); "
                               "empty: the activity's purposes, for every controller")
    contract: ProcessorContract | None = Field(default=None, description="the Art. 28(3) contract")
    sub_processor_authorisation: Authorisation | None = Field(
        default=None, description="its prior written authorisation of sub-processors (Art. 28(2))")


class SubProcessor(_Model):
    """Another processor engaged for the activity (Art. 28(2), 28(4))."""

    name: str
    country: str | None = Field(default=None, description="ISO 3166 code of where it processes the data")
    processing: Text | None = Field(default=None, description="what it does")
    authorisation: Authorisation | None = Field(
        default=None, description="general or specific written authorisation (Art. 28(2)); "
                                  "absent: as each controller in on_behalf_of states it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return _name_alone(value)

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return iso_country(value)


class Arrangement(_Model):
    """The joint controllers' arrangement (Art. 26(1)-(2)); a text alone is its ``essence``."""

    essence: Text | None = Field(
        default=None, description="the essence of the arrangement: what each controller is responsible for, "
                                  "in particular for the subjects' rights and information")
    available_at: Text | None = Field(default=None, description="where subjects can read the essence")
    contact_point: str | None = Field(
        default=None, description="the controller designated as contact point for subjects, by name")
    reference: str | None = Field(default=None, description="the arrangement document (title, date)")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"essence": value} if isinstance(value, str) or _is_text_map(value) else value


# Fields that only one role may have, and the role.
ROLE_FIELDS: dict[str, Role] = {
    "on_behalf_of": "processor", "sub_processors": "processor", "no_sub_processor": "processor",
    "joint_controllers": "joint_controller", "arrangement": "joint_controller",
}


def check_role_fields(activity: Any, role: Role) -> None:
    """A FieldValueError for the first field of another role that ``activity`` (an Activity) fills in."""
    for name, owner in ROLE_FIELDS.items():
        if getattr(activity, name) and role != owner:
            raise FieldValueError((name,), f"`{name}` is for activities with `role: {owner}`; "
                                           f"this activity's role is {role}")
    if activity.no_sub_processor and activity.sub_processors:
        raise FieldValueError(("no_sub_processor",), "the activity lists sub_processors: it cannot state "
                                                     "there is none")


def check_contact_point(activity: Any, own_name: str) -> None:
    """The contact point an arrangement designates is one of the joint controllers (Art. 26(1))."""
    point = activity.arrangement.contact_point if activity.arrangement else None
    names = [own_name, *(c.name for c in activity.joint_controllers)]
    if point is not None and point.strip().casefold() not in {n.strip().casefold() for n in names}:
        raise FieldValueError(("arrangement", "contact_point"),
                              f"{point!r} is not one of the joint controllers: {', '.join(names)}")


def every_controller_authorises(activity: Any) -> bool:
    """Whether every controller an activity (an Activity) serves states its authorisation of
    sub-processors (Art. 28(2)), so that a sub-processor needs none of its own."""
    return bool(activity.on_behalf_of) and all(s.sub_processor_authorisation for s in activity.on_behalf_of)
