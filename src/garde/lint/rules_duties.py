"""Lint rules from specific provisions: terms in the register's own words, employees' consent,
the data-protection officer (Art. 37), national identification numbers (Art. 87) and the
legal minimum retention periods of the controller's country.
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.minimum_periods import load_minimum_periods, short_rules
from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR
from garde.register import free_terms
from garde.taxonomy import TERM_NOUNS

EDPB_CONSENT = ("https://www.edpb.europa.eu/our-work-tools/our-documents/guidelines/"
                "guidelines-052020-consent-under-regulation-2016679_en")
# Art. 88 and EDPB 05/2020 §21-24: the employment relationship; job applicants are in it too.
_EMPLOYMENT = ("employee", "candidate")


@rule("GL080", "info", "free-text-term",
      reference="GDPR Art. 30(1)(c)-(d), 12(1); garde vocabulary (taxonomy/data/*.yaml)")
def free_text_term(ctx: Context) -> Iterator[Hit]:
    """A term written in the register's own words (``{other: ...}``): published as written.

    Rules that read vocabulary terms (special categories, reference periods, trackers) cannot
    tell what it means; a vocabulary term whose words match is suggested, never substituted.
    """
    for kind, term, path in free_terms(ctx.register):
        activity = ctx.register.activities[int(path[1])].id if path[:1] == ("activities",) else None
        known = ctx.vocabulary.resolve(kind, str(term))
        suggestion = f" (`{known.id}`: {known.label(ctx.lang)}?)" if known else ""
        yield Hit(path, activity, {"noun": TERM_NOUNS[kind], "wording": str(term), "suggestion": suggestion})


@rule("GL081", "warning", "consent-of-employees",
      reference="GDPR Art. 4(11), 7(4), 88; EDPB Guidelines 05/2020 on consent, §21-24 (imbalance of power)",
      url=EDPB_CONSENT)
def consent_of_employees(ctx: Context) -> Iterator[Hit]:
    """Employees' or job applicants' data on consent: rarely freely given (the employer's power).

    EDPB 05/2020 §21-24: employees can seldom refuse without fear of detriment, so consent is
    valid only in exceptional cases with no consequence at all on refusal; another basis fits
    most processing at work (contract, legal obligation, legitimate interests).
    """
    for at, activity in ctx.activities():
        subjects = [s for s in activity.data_subjects if s in _EMPLOYMENT]
        if subjects and "consent" in activity.bases():
            yield Hit((*at, "legal_bases"), activity.id, {"subjects": ", ".join(subjects)})


@rule("GL082", "warning", "national-identification-number",
      reference="GDPR Art. 87 (national conditions for a national identification number)",
      url=GDPR.format(87))
def national_identification_number(ctx: Context) -> Iterator[Hit]:
    """A category the vocabulary marks ``national_rules``: the controller's country sets conditions.

    Art. 87 is an opening for Member States: a UK controller is not checked against it.
    """
    if ctx.jurisdiction.uk:
        return
    country = ctx.jurisdiction.country or "?"
    for at, activity in ctx.activities():
        for j, category in enumerate(activity.data_categories):
            rules = _national_rules(ctx, category)
            if rules:
                yield Hit((*at, "data_categories", j), activity.id,
                          {"category": category, "rules": rules, "country": country})


def _national_rules(ctx: Context, category: str) -> str | None:
    for term_id in (category, *ctx.vocabulary.ancestors(category)):
        term = ctx.vocabulary.get("categories", term_id)
        if term is not None and term.extra.get("national_rules"):
            return str(term.extra["national_rules"])
    return None


@rule("GL083", "error", "dpo-required-public-body", reference="GDPR Art. 37(1)(a)", url=GDPR.format(37))
def dpo_required_public_body(ctx: Context) -> Iterator[Hit]:
    """A public authority or body (``controller.public_body``) designates a DPO, whatever it processes
    (courts acting in their judicial capacity excepted)."""
    controller = ctx.register.controller
    if controller.public_body and controller.dpo is None:
        yield Hit(("controller", "public_body"), None, {"controller": controller.name})


@rule("GL084", "warning", "dpo-required-large-scale", reference="GDPR Art. 37(1)(b)-(c); WP243 rev.01",
      url=GDPR.format(37))
def dpo_required_large_scale(ctx: Context) -> Iterator[Hit]:
    """Large-scale regular and systematic monitoring, or large-scale Art. 9 / Art. 10 data, and no DPO.

    Art. 37(1)(b)-(c) require a DPO when these are the controller's *core* activities: garde
    cannot tell whether they are, hence a warning to justify or fix.
    """
    if ctx.register.controller.dpo is not None:
        return
    for at, activity in ctx.activities():
        if activity.large_scale_monitoring:
            yield Hit((*at, "large_scale_monitoring"), activity.id, {"point": "(b)"})
        elif activity.large_scale and any(ctx.is_special(c) for c in activity.data_categories):
            yield Hit((*at, "large_scale"), activity.id, {"point": "(c)"})


@rule("GL085", "info", "dpo-national-law",
      reference="GDPR Art. 37(4); Bundesdatenschutzgesetz (BDSG) § 38(1)",
      url="https://www.gesetze-im-internet.de/bdsg_2018/__38.html")
def dpo_national_law(ctx: Context) -> Iterator[Hit]:
    """A German controller without a DPO: BDSG § 38(1) requires one beyond Art. 37(1) (20 persons
    constantly processing personal data automatically; processing needing a DPIA; commercial
    transfer or market research), which the register cannot show."""
    if ctx.jurisdiction.country == "DE" and ctx.register.controller.dpo is None:
        yield Hit(("controller",), None, {"controller": ctx.register.controller.name})


@rule("GL086", "warning", "retention-below-legal-minimum",
      reference="GDPR Art. 6(1)(c), 17(3)(b); the controller's national law (data/minimum_periods.yaml)",
      url=GDPR.format(17))
def retention_below_legal_minimum(ctx: Context) -> Iterator[Hit]:
    """A rule keeps records for less than the law of the controller's country obliges it to."""
    minimums = load_minimum_periods()
    for at, activity in ctx.activities():
        for short in short_rules(activity, ctx.jurisdiction.country, minimums, ctx.vocabulary):
            retention = activity.retention[short.rule_index]
            yield Hit((*at, "retention", short.rule_index), activity.id,
                      {"rule": str(retention.rule), "category": short.category,
                       "minimum": str(short.minimum.minimum), "law": short.minimum.law},
                      f"GDPR Art. 6(1)(c), 17(3)(b); {short.minimum.law}", short.minimum.url)
