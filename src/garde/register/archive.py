"""The intermediate archive of a retention rule (``action: archive``): until when, and who may read it.

Intermediate archiving in the CNIL's sense (guide "Les durées de
conservation", 2020): once the purpose is achieved, data the controller
must still keep (an invoice, for the accounting obligation) leaves the live
database for a separate archive that only named staff may read, until its
own final period ends; then it is deleted. A register says it on the rule::

    - rule: 3 years after invoice_date          # in the live database until then
      action: archive
      archive:
        until: 10 years after invoice_date      # deleted from the archive then
        access: Accounting staff only           # who may read the archive (optional)

``archive: 10 years after invoice_date`` is the short form (``until`` only).
``until`` is a rule of the same syntax as ``rule``, its event a trigger event;
``archiving`` (the day the row entered the archive) is one too:
``until: 5 years after archiving``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from garde.retention_rule import RetentionPeriod

#: The trigger event "the row entered the archive": its date is the archive table's ``archived_at``.
ARCHIVING = "archiving"


class Archive(BaseModel):
    """Where an archiving rule's data ends: ``until`` (deleted then), and who may read it meanwhile."""

    model_config = ConfigDict(extra="forbid")

    until: RetentionPeriod | None = Field(
        default=None, description="the archive's final period: deleted from the archive when it ends")
    access: str | dict[str, str] | None = Field(
        default=None, description="who may read the archive (restricted access), as the register states it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"until": value} if isinstance(value, str) else value

    @field_validator("until", mode="before")
    @classmethod
    def _parse_until(cls, value: Any) -> Any:
        return RetentionPeriod.parse(value) if isinstance(value, str) else value

    @field_serializer("until")
    def _show_until(self, until: RetentionPeriod | None) -> str | None:
        return None if until is None else str(until)
