"""The register of processing activities (GDPR Art. 30) as typed values.

Free texts are either one string (in the register's language) or a
``{fr:, en:, it:}`` map. Most list items accept a short form in YAML: a legal
basis may be just ``consent``, a retention rule just ``13 months after
collection``; the normalised form (``garde register show --format json``) is
itself a valid register file.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    field_validator,
    model_validator,
)

from garde.periods import Period
from garde.register.archive import Archive
from garde.register.identifiers import registration_problem
from garde.register.inherit import Effective, Inheritable, TransferState, effective
from garde.register.jurisdiction import normalise_country
from garde.register.roles import (
    Arrangement,
    ControllerRef,
    RoleField,
    ServedController,
    SubProcessor,
    check_contact_point,
    check_role_fields,
)
from garde.register.roles import (
    Role as Role,
)
from garde.register.trackers import Tracker
from garde.register.values import Contact as Contact  # re-exported: garde.register.model.Contact
from garde.register.values import FieldValueError, iso_country
from garde.register.values import Text as Text
from garde.retention_rule import Action, Combination, RetentionPeriod, retention_short_form
from garde.taxonomy.free import is_text_map as _is_text_map
from garde.taxonomy.free import read_term, show_term

# A language garde publishes notices in (its catalogue's: fr, en, it).
PublishedLanguage = Literal["fr", "en", "it"]


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


def _parse_period(value: Any) -> Any:
    return Period.parse(value) if isinstance(value, str) else value


# A period such as '13 months', written and shown as text.
PeriodText = Annotated[Period, BeforeValidator(_parse_period), PlainSerializer(str, return_type=str)]
# A vocabulary id, or {other: ...}: a term the vocabulary lacks, in the register's words (FreeTerm).
TermRef = Annotated[str, PlainValidator(read_term), PlainSerializer(show_term)]


class _Model(BaseModel):  # here too, so that linters see pydantic models (garde.register.values)
    model_config = ConfigDict(extra="forbid", frozen=False)


class Registration(_Model):
    """An official number identifying the controller: SIREN, SIRET, VAT, ICO registration..."""

    kind: str = Field(description="siren, siret, vat, ico_registration, codice_fiscale, partita_iva, "
                                  "company_number, ... (printed as written)")
    value: str = Field(description="as written; SIREN, SIRET, VAT (FR, IT), partita IVA and codice fiscale "
                                   "numbers must pass their check digit")

    @model_validator(mode="after")
    def _check_digit(self) -> Registration:
        problem = registration_problem(self.kind, self.value)
        if problem:
            raise ValueError(f"{self.kind} {self.value!r}: {problem}")
        return self


class Controller(_Model):
    """Who is responsible: GDPR Art. 30(1)(a) and 13(1)(a)-(b)."""

    name: str
    role: RoleField = Field(default="controller", description="the default role of the activities")
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
    public_body: bool = Field(
        default=False, description="a public authority or body (Art. 37(1)(a): a DPO is required)")
    privacy_center_url: str | None = Field(
        default=None, description="where subjects manage their data and choices (the notice links it)")
    cookie_settings_url: str | None = Field(
        default=None, description="where visitors change their cookie choices (the notice links it)")

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return iso_country(value)

    @field_validator("subjects_in")
    @classmethod
    def _iso_countries(cls, values: list[str]) -> list[str]:
        codes = [normalise_country(v) for v in values]
        for value, code in zip(values, codes, strict=True):
            if not re.fullmatch(r"[A-Z]{2}|EU|EEA", code):
                raise ValueError(f"expected ISO 3166 country codes, EU or EEA, not {value!r}")
        return codes


class Law(_Model):
    """The law a legal obligation or a public task rests on (GDPR Art. 6(3))."""

    text: Text = Field(description="the law as the register names it, e.g. 'Code de commerce, art. L123-22'")
    reference: str | None = Field(default=None, description="where to read it: an ELI, Légifrance URL, ...")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) or _is_text_map(value) else value


class LegalBasis(_Model):
    """One Art. 6(1) basis, with what Art. 13(1)(c)-(d) and 6(3) require alongside it."""

    basis: str
    legitimate_interest: Text | None = None
    obligation: Text | None = Field(default=None, description="what the obligation is")
    law: Law | None = Field(default=None, description="the law a legal obligation or public task rests on")
    wording: Text | None = Field(default=None, description="the basis as the source document words it")
    condition: Text | None = Field(
        default=None, description="the source's condition on it, e.g. 'si nécessaire', 'where required'")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"basis": value} if isinstance(value, str) else value


class Recipient(_Model):
    kind: TermRef
    name: Text | None = None
    country: str | None = None

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return iso_country(value)

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) or _is_free(value) else value


class Transfer(_Model):
    """A transfer outside the EEA: Art. 30(1)(e), 13(1)(f). ``country`` (ISO 3166) or ``region``."""

    country: str | None = Field(default=None, description="ISO 3166 code of the third country")
    region: Text | None = Field(default=None, description="when no single country: e.g. 'worldwide'")
    recipient: Text | None = None
    safeguard: str | None = Field(default=None, description="term of the safeguards vocabulary")

    @field_validator("country")
    @classmethod
    def _iso_country(cls, value: str | None) -> str | None:
        return iso_country(value)

    @model_validator(mode="after")
    def _somewhere(self) -> Transfer:
        if not self.country and not self.region:
            raise ValueError("a transfer names its `country` (ISO 3166 code) or its `region`")
        return self


def _parse_rule(value: Any) -> Any:
    return RetentionPeriod.parse(value) if isinstance(value, str) else value


# A retention rule such as '3 years after last_contact', written and shown as text.
RuleText = Annotated[RetentionPeriod, BeforeValidator(_parse_rule), PlainSerializer(str, return_type=str)]


class RetentionRule(_Model):
    """``rule`` is ``<period> after <event>``, a range, or ``until <event>``; then ``action``.

    A register that gives no period states its ``criterion`` in words instead
    (Art. 13(2)(a): "the criteria used to determine that period"); a rule may
    hold only where its ``condition`` (in words) does. The short form
    ``10 years after invoice_date where the customer is a business`` is a rule
    and its condition; a rule written in French or Italian keeps that text
    as its ``wording``.
    """

    rule: RuleText | None = Field(default=None, description="none: the `criterion` says it in words")
    criterion: Text | None = Field(
        default=None, description="the criteria that determine the period, in words (Art. 13(2)(a))")
    condition: Text | None = Field(default=None, description="where the rule applies, in words")
    action: Action = "delete"
    categories: list[TermRef] = Field(default=[], description="empty: every category of the activity")
    reference: Text | None = Field(default=None, description="where the period comes from")
    wording: Text | None = Field(default=None, description="the period as the source words it")
    archive: Archive | None = Field(default=None, description="action archive: until when, who may read it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return retention_short_form(value)

    @model_validator(mode="after")
    def _period_or_criterion(self) -> RetentionRule:
        if self.rule is None and self.criterion is None:
            raise ValueError("a retention rule states a `rule` ('3 years after last_contact') or, when the "
                             "register gives no period, its `criterion` in words")
        return self

    @property
    def final(self) -> RetentionPeriod | None:
        """When the data is deleted at last: the archive's ``until`` for an archiving rule (None when
        the register does not say), else the rule itself."""
        if self.action == "archive":
            return self.archive.until if self.archive is not None else None
        return self.rule

    @property
    def executable(self) -> bool:
        """Whether the sweep can tell when it is due: a period (or ``until``) with no condition in words."""
        return self.rule is not None and not self.rule.indefinite and self.condition is None

    def covers(self, category: str) -> bool:
        """Whether the rule governs data of ``category``: one of its categories or a finer one; a rule
        without categories governs every category of its activity."""
        return not self.categories or any(category == c or category.startswith(c + ".")
                                          for c in self.categories)

    def summary(self) -> str:
        """The rule in one line, in the register's words where it has no others (plans, reasons, receipts)."""
        text = str(self.rule) if self.rule is not None else f"criterion: {text_in(self.criterion, 'en')}"
        condition = text_in(self.condition, "en")
        return f"{text} where {condition}" if condition else text


class Consent(_Model):
    """How consent is captured and withdrawn (GDPR Art. 7), and how long it lasts."""

    capture: list[str] = []
    withdrawal: list[str] = []
    expiry: PeriodText | None = Field(default=None, description="e.g. '13 months' for trackers")


class Dpia(_Model):
    """The decision on a data-protection impact assessment (Art. 35)."""

    required: bool
    reason: Text | None = None
    done: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"required": value} if isinstance(value, bool) else value


# Art. 13(2)(e): whether providing the data is required, and why.
Requirement = Literal["statutory", "contractual", "contract_entry", "not_required"]
#: the requirements under which not providing the data has consequences to state (Art. 13(2)(e))
REQUIRING: tuple[Requirement, ...] = ("statutory", "contractual", "contract_entry")
#: the bases that rest on a law, which the register names (Art. 6(3))
LAW_BASED = ("legal_obligation", "public_task")


class Provision(_Model):
    """Art. 13(2)(e): a statutory or contractual requirement (or one to enter into a contract), or none;
    the consequences of not providing the data. A plain text is the register's own ``wording``."""

    requirement: Requirement | None = None
    consequences: Text | None = Field(default=None, description="what happens if the data is not provided")
    wording: Text | None = Field(default=None, description="the source's own words on it")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"wording": value} if isinstance(value, str) or _is_text_map(value) else value


class AutomatedDecisions(_Model):
    """Art. 13(2)(f), 22: whether decisions are based solely on automated processing, including
    profiling; when they are, the logic involved and the significance and envisaged consequences.
    ``true`` / ``false`` is the short form; absent means the register does not say."""

    exists: bool
    logic: Text | None = None
    consequences: Text | None = Field(default=None,
                                      description="the significance and envisaged consequences")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"exists": value}
        if isinstance(value, str) or _is_text_map(value):
            return {"exists": True, "logic": value}  # a description alone: the register says there is one
        return value


def _is_free(value: Any) -> bool:
    """``{other: ...}``: a free-text term (``garde.taxonomy.free``)."""
    return isinstance(value, dict) and set(value) == {"other"}


Right = Literal["access", "rectification", "erasure", "restriction", "portability", "objection"]


class RightsHandledBy(_Model):
    """Rights another controller answers for (e.g. a joint controller, Art. 26(1))."""

    rights: list[Right]
    controller: Text
    contact: Contact | None = None
    activities: list[str] = Field(default=[], description="activity ids; empty: every activity")


class Rights(_Model):
    """Where and how subjects exercise their rights (Art. 12(2)-(3), 13(2)(b)): the route is distinct
    from the DPO's contact; the answer time is what the register promises (the law: one month)."""

    route: Contact | None = Field(default=None, description="postal address, e-mail, form URL for requests")
    answer_time: PeriodText | None = Field(default=None, description="e.g. '1 month', '15 days'")
    handled_by: list[RightsHandledBy] = []


class Activity(_Model):
    """One processing activity of the register."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    ref: str | None = Field(default=None, description="row of the source document, e.g. '000#7'")
    name: Text
    purposes: list[Text] = []
    role: RoleField = Field(default="controller", description="controller, joint_controller or processor; "
                                                             "absent: the register's (controller.role)")
    on_behalf_of: list[ServedController] = Field(
        default=[], description="processor: the controllers served (Art. 30(2)(a)-(b), 28(3))")
    sub_processors: list[SubProcessor] = Field(default=[], description="processor: Art. 28(2), 28(4)")
    no_sub_processor: bool = Field(default=False, description="processor: the register states there is none")
    joint_controllers: list[ControllerRef] = Field(
        default=[], description="joint controller: the other controllers (Art. 26(1))")
    arrangement: Arrangement | None = Field(
        default=None, description="joint controller: the arrangement and its essence (Art. 26(1)-(2))")
    data_subjects: list[TermRef] = []
    data_categories: list[TermRef] = []
    data_description: Text | None = Field(default=None, description="the data as the source words it")
    legal_bases: list[LegalBasis] = []
    art9_condition: str | None = None
    recipients: list[Recipient] = []
    transfers: list[Transfer] = []
    no_transfer: bool = Field(
        default=False, description="the register states this activity transfers nothing outside the EEA")
    retention: list[RetentionRule] = []
    retention_combination: Combination = Field(
        default="first_reached", description="how several rules over the same data combine: the data goes "
        "at the first one reached, or once the latest of them is reached")
    security_measures: list[Text] = []
    sources: list[TermRef] = []
    overrides: list[Inheritable] = Field(
        default=[], description="register-level lists this activity's own list replaces "
                               "(default: the activity's list adds to the register's)")
    channels: list[str] = []
    consent: Consent | None = None
    dpia: Dpia | None = None
    profiling: bool = False
    automated_decisions: AutomatedDecisions | None = Field(
        default=None, description="Art. 13(2)(f), 22: yes / no; absent: not stated")
    automated_means: bool | None = Field(
        default=None, description="carried out by automated means (Art. 20(1)(b)); absent: not stated")
    # The CNIL model's "date de création de la fiche" and "mise à jour": the record's own dates.
    created: date | None = Field(default=None, description="when the activity's record was created")
    updated: date | None = Field(default=None, description="when the activity's record last changed")
    large_scale_monitoring: bool = False
    large_scale: bool = Field(
        default=False, description="processing on a large scale (Art. 35(3)(b), 37(1)(c); WP243)")
    direct_marketing: bool = False
    targeted_advertising: bool = Field(
        default=False,
        description="sale/sharing or targeted ads: a Global Privacy Control signal objects to it",
    )
    provision: Provision | None = Field(
        default=None,
        description="whether providing the data is required, and its consequences (Art. 13(2)(e))",
    )
    parental_consent: Text | None = Field(
        default=None,
        description="for minors: how a parent's consent is obtained and verified (Art. 8(1)-(2))",
    )
    notes: Text | None = None

    @model_validator(mode="after")
    def _role_fields(self) -> Activity:
        if "role" in self.model_fields_set:  # else the register's role, checked by Register
            check_role_fields(self, self.role)
        return self

    def bases(self) -> set[str]:
        return {b.basis for b in self.legal_bases}



class Register(_Model):
    """A controller's (or processor's) register of processing activities."""

    language: str = Field(default="en", description="language of the plain-string texts")
    publishes_in: list[PublishedLanguage] = Field(
        default=[], description="languages the notice is published in (fr, en, it); empty: `language` only")
    updated: date | None = Field(
        default=None, description="when the public wording last changed: the notice's 'last updated'")
    source: str | None = Field(default=None, description="document this register was encoded from")
    notes: Text | None = Field(default=None, description="remarks on the register as a whole")
    controller: Controller
    no_transfer: bool = Field(
        default=False, description="the register states no activity transfers anything outside the EEA")
    # Stated once for every activity (garde.register.inherit): an activity adds to them, or overrides.
    recipients: list[Recipient] = Field(default=[], description="recipients of every activity")
    transfers: list[Transfer] = Field(default=[], description="transfers of every activity")
    security_measures: list[Text] = Field(default=[], description="security measures of every activity")
    sources: list[str] = Field(default=[], description="sources of every activity's data")
    rights: Rights | None = Field(default=None, description="how subjects exercise their rights")
    activities: list[Activity] = []
    trackers: list[Tracker] = Field(default=[], description="cookies and other trackers (ePrivacy Art. 5(3))")

    @model_validator(mode="after")
    def _unique_ids(self) -> Register:
        seen: set[str] = set()
        for activity in self.activities:
            if activity.id in seen:
                raise ValueError(f"activity id {activity.id!r} is used twice")
            seen.add(activity.id)
        for i, activity in enumerate(self.activities):
            try:
                check_role_fields(activity, self.role_of(activity))
                check_contact_point(activity, self.controller.name)
            except FieldValueError as error:
                raise FieldValueError(("activities", i, *error.path), str(error)) from None
        for handled in self.rights.handled_by if self.rights else []:
            unknown = sorted(set(handled.activities) - seen)
            if unknown:
                raise ValueError(f"rights.handled_by names unknown activity ids: {', '.join(unknown)}")
        return self

    def published_languages(self) -> list[str]:
        """The languages the register publishes its notice in: ``publishes_in``, else its own language."""
        return list(self.publishes_in) or [self.language]

    def activity(self, activity_id: str) -> Activity | None:
        return next((a for a in self.activities if a.id == activity_id), None)

    def role_of(self, activity: Activity) -> Role:
        """An activity's role, or the register's when the activity does not state one."""
        return activity.role if "role" in activity.model_fields_set else self.controller.role

    def as_controller(self) -> list[Activity]:
        """The activities carried out as controller, alone or jointly: those a privacy notice explains
        and the controller rules check (Art. 13, 30(1))."""
        return [a for a in self.activities if self.role_of(a) != "processor"]

    def as_processor(self) -> list[Activity]:
        """The activities carried out as processor on behalf of other controllers (Art. 30(2))."""
        return [a for a in self.activities if self.role_of(a) == "processor"]

    def effective(self, activity: Activity) -> Effective:
        """What applies to ``activity``: the register-level statements it inherits, then its own."""
        return effective(self, activity)

    def transfer_state(self, activity: Activity) -> TransferState:
        """Listed transfers, an explicit "none" (the activity's or the register's), or a gap."""
        return self.effective(activity).transfer_state

    def to_data(self) -> dict[str, Any]:
        """The normalised register as plain data (what ``register show`` prints)."""
        return self.model_dump(mode="json", exclude_defaults=True)
