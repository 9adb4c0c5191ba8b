"""The cookies and other trackers a register lists (ePrivacy Directive 2002/58/EC Art. 5(3)).

Reading or writing on a user's device needs consent, except for what is strictly
necessary to provide the service the user asked for. Under the CNIL's guidelines
(délibération 2020-091, art. 5) that covers e.g. authentication and session cookies,
the shopping cart, load balancing, the cookie that stores the consent choice, and some
audience measurement under strict conditions; never advertising or social-network trackers.

Each tracker names its category, a ``cookie.*`` term of the channels vocabulary, which is
also the channel a consent to it is recorded on: the cookie banner asks per category.
Whether a category may be exempt is vocabulary data (``exempt: always | conditional |
never`` in ``taxonomy/data/channels.yaml``).

YAML::

    trackers:
      - name: _ga
        provider: {party: third, name: Google Ireland Ltd}
        purpose: Count visits and pages seen
        activity: web-audience
        lifetime: 13 months
        strictly_necessary: false
        category: cookie.analytics
      - {name: session_id, provider: first, lifetime: session, strictly_necessary: true,
         category: cookie.necessary, purpose: Keep the visitor signed in}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from garde.periods import Period

Party = Literal["first", "third"]
SESSION = "session"


def _parse_lifetime(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == SESSION:
        return SESSION
    return Period.parse(value) if isinstance(value, str) else value


# '13 months', or 'session' (deleted when the browser closes).
Lifetime = Annotated[Period | Literal["session"], BeforeValidator(_parse_lifetime),
                     PlainSerializer(str, return_type=str)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provider(_Model):
    """Who reads or writes the tracker: the controller itself (first party) or a named third party.

    Short forms: ``first``; ``third``; any other text is a third party's name.
    """

    party: Party
    name: str | None = Field(default=None, description="the third party's name (the first party: optional)")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            return {"party": word} if word in ("first", "third") else {"party": "third", "name": value}
        return value


class Tracker(_Model):
    """One cookie or other tracker (pixel, local storage, SDK...) the controller's sites or apps use."""

    name: str = Field(min_length=1, description="the cookie's or tracker's name, e.g. '_ga'")
    provider: Provider | None = Field(default=None, description="first party, or the third party's name")
    purpose: str | dict[str, str] | None = Field(default=None, description="what it is used for")
    activity: str | None = Field(default=None, description="id of the processing activity it serves")
    lifetime: Lifetime | None = Field(default=None, description="'13 months', or 'session'")
    strictly_necessary: bool | None = Field(
        default=None, description="exempt from consent (strictly necessary for the service asked for); "
                                  "absent: not stated, so consent is asked")
    category: str | None = Field(default=None, pattern=r"^cookie\.[a-z_]+$",
                                 description="cookie.necessary, cookie.analytics, cookie.advertising, ...")

    @property
    def needs_consent(self) -> bool:
        """Consent is asked unless the register states the tracker is strictly necessary."""
        return self.strictly_necessary is not True

    @property
    def lifetime_period(self) -> Period | None:
        return self.lifetime if isinstance(self.lifetime, Period) else None


def tracker_problems(trackers: list[Tracker],
                     activity_ids: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """What makes a tracker list wrong, as (field path, message): an unknown activity id, a tracker
    listed twice (same name and provider)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: set[tuple[str, str]] = set()
    for i, tracker in enumerate(trackers):
        if tracker.activity is not None and tracker.activity not in activity_ids:
            problems.append((("trackers", i, "activity"), f"unknown activity id {tracker.activity!r}"))
        key = (tracker.name, _provider_key(tracker.provider))
        if key in seen:
            problems.append((("trackers", i, "name"), f"{tracker.name!r} is listed twice for one provider"))
        seen.add(key)
    return problems


def _provider_key(provider: Provider | None) -> str:
    if provider is None:
        return ""
    return provider.party + ":" + " ".join((provider.name or "").casefold().split())
