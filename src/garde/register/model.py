"""The register of processing activities (GDPR Art. 30) as typed values.

Free texts are either one string (in the register's language) or a
``{fr:, en:, it:}`` map. Most list items accept a short form in YAML: a legal
basis may be just ``consent``, a retention rule just ``13 months after
collection``; the normalised form (``garde register show --format json``) is
itself a valid register file.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from garde.periods import Period
from garde.register.jurisdiction import normalise_country
from garde.retention_rule import Action, RetentionPeriod

Text = str | dict[str, str]
Role = Literal["controller", "processor"]
# What a register says about transfers outside the EEA (GDPR Art. 30(1)(e), 13(1)(f)):
# "none" is an explicit statement that there is none; "gap" is silence, never read as "none".
TransferState = Literal["none", "gap", "listed"]


def text_in(value: Text | None, lang: str) -> str | None:
    """``value`` in ``lang``; otherwise in whatever language it has (never translated)."""
    if value is None or isinstance(value, str):
        return value
    return value.get(lang) or next(iter(value.values()), None)


def text_lang(value: Text | None, lang: str, default: str) -> str:
    """The language ``text_in(value, lang)`` is actually written in."""
    if isinstance(value, dict) and lang not in value and value:
        return next(iter(value))
    return lang if isinstance(value, dict) else default


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Contact(_Model):
    """A person or office to write to."""

    name: Text | None = None
    address: Text | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None


class Registration(_Model):
    """An official number identifying the controller: SIREN, SIRET, VAT, ICO registration..."""

    kind: str = Field(description="siren, siret, vat, ico_registration, codice_fiscale, partita_iva, "
                                  "company_number, ... (printed as written)")
    value: str


class Controller(_Model):
    """Who is responsible: GDPR Art. 30(1)(a) and 13(1)(a)-(b)."""

    name: str
    role: Role = "controller"
    country: str | None = Field(default=None, description="ISO 3166 code of the main establishment")
    contact: Contact | None = None
    other_contacts: list[Contact] = Field(
        default=[], description="further addresses and contacts (other establishments, customer service)")
    registrations: list[Registration] = []
    dpo: Contact | None = None
    representative: Contact | None = Field(
        default=None, description="representative in the Union of a controller outside it (Art. 27)")
    uk_representative: Contact | None = Field(
        default=None, description="representative in the UK of a controller outside it (UK GDPR Art. 27)")
    subjects_in: list[str] = Field(
        default=[], description="where the data subjects are: ISO 3166 codes, or EU / EEA (Art. 3(2))")
    group_entities: list[str] = []
    supervisory_authority: str | None = Field(
        default=None, description="Authority a subject may complain to, e.g. CNIL, Garante, ICO"
    )

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = normalise_country(value)
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise ValueError(f"expected an ISO 3166 country code such as FR, IT or GB, not {value!r}")
        return code

    @field_validator("subjects_in")
    @classmethod
    def _iso_countries(cls, values: list[str]) -> list[str]:
        codes = [normalise_country(v) for v in values]
        for value, code in zip(values, codes, strict=True):
            if not re.fullmatch(r"[A-Z]{2}|EU|EEA", code):
                raise ValueError(f"expected ISO 3166 country codes, EU or EEA, not {value!r}")
        return codes


class LegalBasis(_Model):
    """One Art. 6(1) basis, with what Art. 13(1)(c)-(d) requires alongside it."""

    basis: str
    legitimate_interest: Text | None = None
    obligation: Text | None = None
    wording: Text | None = Field(default=None, description="the basis as the source document words it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"basis": value} if isinstance(value, str) else value


class Recipient(_Model):
    kind: str
    name: Text | None = None
    country: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value


class Transfer(_Model):
    """A transfer outside the EEA: Art. 30(1)(e), 13(1)(f). ``country`` (ISO 3166) or ``region``."""

    country: str | None = Field(default=None, description="ISO 3166 code of the third country")
    region: Text | None = Field(default=None, description="when no single country: e.g. 'worldwide'")
    recipient: Text | None = None
    safeguard: str | None = Field(default=None, description="term of the safeguards vocabulary")

    @model_validator(mode="after")
    def _somewhere(self) -> Transfer:
        if not self.country and not self.region:
            raise ValueError("a transfer names its `country` (ISO 3166 code) or its `region`")
        return self


class RetentionRule(_Model):
    """``rule`` is ``<period> after <event>`` or ``until <event>``; then ``action``."""

    rule: RetentionPeriod
    action: Action = "delete"
    categories: list[str] = Field(default=[], description="empty: every category of the activity")
    reference: Text | None = Field(default=None, description="where the period comes from")
    wording: Text | None = Field(default=None, description="the period as the source words it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"rule": value} if isinstance(value, str) else value

    @field_validator("rule", mode="before")
    @classmethod
    def _parse_rule(cls, value: Any) -> Any:
        if isinstance(value, str):
            return RetentionPeriod.parse(value)
        return value

    @field_serializer("rule")
    def _show_rule(self, rule: RetentionPeriod) -> str:
        return str(rule)


class Consent(_Model):
    """How consent is captured and withdrawn (GDPR Art. 7), and how long it lasts."""

    capture: list[str] = []
    withdrawal: list[str] = []
    expiry: Period | None = Field(default=None, description="e.g. '13 months' for trackers")

    @field_validator("expiry", mode="before")
    @classmethod
    def _parse_expiry(cls, value: Any) -> Any:
        return Period.parse(value) if isinstance(value, str) else value

    @field_serializer("expiry")
    def _show_expiry(self, expiry: Period | None) -> str | None:
        return None if expiry is None else str(expiry)


class Dpia(_Model):
    """The decision on a data-protection impact assessment (Art. 35)."""

    required: bool
    reason: Text | None = None
    done: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"required": value} if isinstance(value, bool) else value


class Activity(_Model):
    """One processing activity of the register."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    ref: str | None = Field(default=None, description="row of the source document, e.g. '000#7'")
    name: Text
    purposes: list[Text] = []
    role: Role = "controller"
    on_behalf_of: list[str] = Field(default=[], description="controllers served, for processor activities")
    data_subjects: list[str] = []
    data_categories: list[str] = []
    data_description: Text | None = Field(default=None, description="the data as the source words it")
    legal_bases: list[LegalBasis] = []
    art9_condition: str | None = None
    recipients: list[Recipient] = []
    transfers: list[Transfer] = []
    no_transfer: bool = Field(
        default=False, description="the register states this activity transfers nothing outside the EEA")
    retention: list[RetentionRule] = []
    security_measures: list[Text] = []
    sources: list[str] = []
    channels: list[str] = []
    consent: Consent | None = None
    dpia: Dpia | None = None
    profiling: bool = False
    automated_decisions: Text | None = None
    large_scale_monitoring: bool = False
    direct_marketing: bool = False
    targeted_advertising: bool = Field(
        default=False,
        description="sale/sharing or targeted ads: a Global Privacy Control signal objects to it",
    )
    provision: Text | None = Field(
        default=None,
        description="whether providing the data is required, and its consequences (Art. 13(2)(e))",
    )
    parental_consent: Text | None = Field(
        default=None,
        description="for minors: how a parent's consent is obtained and verified (Art. 8(1)-(2))",
    )
    notes: Text | None = None

    def bases(self) -> set[str]:
        return {b.basis for b in self.legal_bases}


class Register(_Model):
    """A controller's (or processor's) register of processing activities."""

    language: str = Field(default="en", description="language of the plain-string texts")
    source: str | None = Field(default=None, description="document this register was encoded from")
    notes: Text | None = Field(default=None, description="remarks on the register as a whole")
    controller: Controller
    no_transfer: bool = Field(
        default=False, description="the register states no activity transfers anything outside the EEA")
    activities: list[Activity] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> Register:
        seen: set[str] = set()
        for activity in self.activities:
            if activity.id in seen:
                raise ValueError(f"activity id {activity.id!r} is used twice")
            seen.add(activity.id)
        return self

    def activity(self, activity_id: str) -> Activity | None:
        return next((a for a in self.activities if a.id == activity_id), None)

    def transfer_state(self, activity: Activity) -> TransferState:
        """Listed transfers, an explicit "none" (the activity's or the register's), or a gap."""
        if activity.transfers:
            return "listed"
        return "none" if activity.no_transfer or self.no_transfer else "gap"

    def to_data(self) -> dict[str, Any]:
        """The normalised register as plain data (what ``register show`` prints)."""
        return self.model_dump(mode="json", exclude_defaults=True)
