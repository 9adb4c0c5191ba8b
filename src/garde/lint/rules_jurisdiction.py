"""Lint rules that depend on where the controller is: its country, its representative, children.

National rules apply by the controller's country only (``data/jurisdictions.yaml``): a
register that names no country is told which national checks were skipped instead of
being checked against a country it is not in.
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.model import Context, Hit, country_codes, rule
from garde.lint.reference_periods import load_reference_periods
from garde.lint.rules import GDPR, is_empty
from garde.register.inherit import stated_transfers


def _national_checks() -> str:
    """What a register without a country misses: the reference periods' authorities, Art. 8 ages."""
    authorities = sorted({f"{p.authority} ({', '.join(p.applies_to.countries)})"
                          for p in load_reference_periods().periods if p.applies_to.countries})
    return "; ".join(authorities)


@rule("GL040", "info", "national-checks-skipped",
      reference="GDPR Art. 3, 55, 56; Art. 8(1) (national age of digital consent)", url=GDPR.format(8))
def national_checks_skipped(ctx: Context) -> Iterator[Hit]:
    """No ``controller.country``: no national rule can be chosen, so none is applied."""
    if ctx.jurisdiction.country is None:
        yield Hit(("controller",), None, {"checks": _national_checks()})


@rule("GL041", "warning", "minor-consent-without-parental-consent",
      reference="GDPR Art. 8(1)-(2) (age of digital consent of the controller's country)",
      url=GDPR.format(8))
def minor_consent_without_parental_consent(ctx: Context) -> Iterator[Hit]:
    """Minors' data on consent, and the register does not say how a parent's consent is obtained.

    Art. 8(1): for an information-society service offered directly to a child below the
    national age, consent is lawful only if given or authorised by the holder of parental
    responsibility; 8(2): the controller makes reasonable efforts to verify it.
    """
    law = ctx.jurisdiction
    for at, activity in ctx.activities():
        if "minor" not in activity.data_subjects or "consent" not in activity.bases():
            continue
        if is_empty(activity.parental_consent):
            yield Hit((*at, "data_subjects"), activity.id,
                      {"age": str(law.digital_consent_age), "source": law.age_reference})


@rule("GL042", "warning", "no-representative-in-the-union", reference="GDPR Art. 3(2), 27",
      url=GDPR.format(27))
def no_representative_in_the_union(ctx: Context) -> Iterator[Hit]:
    """A controller outside the EEA with data subjects in it names no representative there.

    Art. 27(2) exempts occasional processing without large-scale special data and public
    authorities: garde cannot tell, so this is a warning to justify or fix.
    """
    controller = ctx.register.controller
    country = ctx.jurisdiction.country
    if ctx.eea is None or country is None or controller.representative is not None:
        return
    eea = _eea_states(ctx)
    if country in eea:
        return
    inside = [c for c in controller.subjects_in if c in {"EU", "EEA"} or c in eea]
    if inside:
        yield Hit(("controller", "subjects_in"), None,
                  {"controller": controller.name, "country": country, "where": ", ".join(inside)})


@rule("GL044", "warning", "no-representative-in-the-uk", reference="UK GDPR Art. 3(2), 27",
      url="https://www.legislation.gov.uk/eur/2016/679/article/27")
def no_representative_in_the_uk(ctx: Context) -> Iterator[Hit]:
    """A controller outside the UK with data subjects in it names no UK representative."""
    controller = ctx.register.controller
    country = ctx.jurisdiction.country
    if country is None or country == "GB" or controller.uk_representative is not None:
        return
    if "GB" in controller.subjects_in:
        yield Hit(("controller", "subjects_in"), None, {"controller": controller.name, "country": country})


def _eea_states(ctx: Context) -> frozenset[str]:
    """The EEA member states (the vocabulary's ``eea.yaml``), whatever the controller's law."""
    return country_codes(ctx.vocabulary.extras.get("eea"), "eea")


@rule("GL043", "warning", "eu-safeguard-under-the-uk-gdpr",
      reference="UK GDPR Art. 44, 46; DPA 2018 s. 119A: IDTA and UK Addendum (in force 21 March 2022; "
                "legacy SCCs ended 21 March 2024)",
      url="https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/international-transfers/"
          "international-data-transfer-agreement-and-guidance/")
def eu_safeguard_under_the_uk_gdpr(ctx: Context) -> Iterator[Hit]:
    """A UK controller names an EU tool alone (``regime: eu``): not a UK GDPR transfer tool."""
    if not ctx.jurisdiction.uk:
        return
    for path, activity_id, transfer in stated_transfers(ctx.register):
        term = ctx.vocabulary.get("safeguards", transfer.safeguard or "")
        if term is not None and term.extra.get("regime") == "eu":
            yield Hit((*path, "safeguard"), activity_id, {"safeguard": term.id})
