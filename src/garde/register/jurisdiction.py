"""The law that governs a register: by the controller's country, and by it only.

A register's national rules (the CNIL's reference periods for a French
controller, the Garante's for an Italian one, the ICO and the UK GDPR for a UK
one, the age of digital consent of GDPR Art. 8(1)) follow
``controller.country``. The table is data (``garde/data/jurisdictions.yaml``)
so that a DPO can read where each figure comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from garde.yamlsource import load_model

DATA = Path(__file__).resolve().parents[1] / "data" / "jurisdictions.yaml"
Law = Literal["gdpr", "uk_gdpr"]
# ISO 3166-1 reserves UK for the United Kingdom (GB) and the EU writes Greece EL (GR):
# a register may use either, garde keeps the ISO code.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


class NationalReference(BaseModel):
    """The national text a lint rule cites for controllers of one country."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str
    url: str | None = None


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    law: Law | None = None
    authority: str | None = None
    digital_consent_age: int | None = None
    age_reference: str | None = None
    references: dict[str, NationalReference] = {}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: _Entry
    countries: dict[str, _Entry]


@dataclass(frozen=True)
class Jurisdiction:
    """What applies to a register: its law, its national authority and national figures.

    ``country`` is None when the register does not say where the controller is:
    then only the GDPR itself applies and every national check is skipped.
    """

    country: str | None
    law: Law
    authority: str | None
    digital_consent_age: int
    age_reference: str
    #: whether the age is the controller's country's own (else the GDPR's 16, which a Member
    #: State may lower to 13: the documents then show a gap for the national age)
    age_known: bool = False
    references: Mapping[str, NationalReference] = field(default_factory=dict)  # lint code -> text

    @property
    def uk(self) -> bool:
        return self.law == "uk_gdpr"


def normalise_country(code: str) -> str:
    """``fr`` → ``FR``, ``UK`` → ``GB``: the ISO 3166-1 alpha-2 code garde compares."""
    upper = code.strip().upper()
    return COUNTRY_ALIASES.get(upper, upper)


@lru_cache(maxsize=2)
def _table(path: Path = DATA) -> _Table:
    return load_model(path, _Table)


def jurisdiction(country: str | None) -> Jurisdiction:
    """The law and national rules for a controller established in ``country``."""
    table = _table()
    code = normalise_country(country) if country else None
    entry = table.countries.get(code or "")
    default = table.default
    return Jurisdiction(
        country=code,
        law=(entry and entry.law) or default.law or "gdpr",
        authority=entry.authority if entry else None,
        digital_consent_age=(entry and entry.digital_consent_age) or default.digital_consent_age or 16,
        age_reference=(entry and entry.age_reference) or default.age_reference or "GDPR Art. 8(1)",
        age_known=bool(entry and entry.digital_consent_age),
        references=dict(entry.references) if entry else {},
    )


def supervisory_authority(stated: str | None, country: str | None) -> str | None:
    """The authority a subject may complain to: the register's, else its country's by law.

    GDPR Art. 13(2)(d) and 77; for a UK controller the Information Commissioner is the
    supervisory authority by statute (Data Protection Act 2018 s. 114-115). Without either,
    None: the documents print a gap.
    """
    return stated or jurisdiction(country).authority
