"""Request and response bodies shared by several routers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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


ACTIVITY = Field(max_length=128, description="activity id of the register", examples=["newsletter"])
CHANNEL = Field(default=None, max_length=64, description="email, sms, post, phone, push, cookie.analytics...")
