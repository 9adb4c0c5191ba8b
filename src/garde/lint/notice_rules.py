"""Lint rules on what the privacy notice must tell and only the register can say.

Art. 6(3) (the law behind a legal obligation or public task), 13(2)(e)
(whether providing the data is required), 13(2)(f) and 22 (automated
decisions) and 12(2) (a route to exercise the rights). Each concerns the
activities carried out as controller: a processor's are its clients' to explain.
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.model import Context, Hit, rule
from garde.lint.reference_periods import period_may_exceed
from garde.lint.rules import GDPR, is_empty
from garde.periods import Period
from garde.register.model import LAW_BASED, REQUIRING


@rule("GL030", "warning", "law-not-named",
      reference="GDPR Art. 6(1)(c), 6(1)(e), 6(3); WP29 Guidelines on transparency (WP260 rev.01), annex",
      url=GDPR.format(6))
def law_not_named(ctx: Context) -> Iterator[Hit]:
    """A legal obligation or public task whose law is not named (``law``); a legal obligation that
    names nothing at all is GL003 alone."""
    for at, activity in ctx.activities():
        for j, basis in enumerate(activity.legal_bases):
            if basis.basis not in LAW_BASED or (basis.law and not is_empty(basis.law.text)):
                continue
            if basis.basis == "legal_obligation" and is_empty(basis.obligation):
                continue  # GL003
            yield Hit((*at, "legal_bases", j), activity.id, {"basis": basis.basis})


@rule("GL031", "warning", "provision-not-stated", reference="GDPR Art. 13(2)(e)", url=GDPR.format(13))
def provision_not_stated(ctx: Context) -> Iterator[Hit]:
    """Whether providing the data is required, and the consequences of not providing it."""
    direct = ctx.vocabulary.direct_sources()
    for at, activity in ctx.activities():
        provision = activity.provision
        if not ctx.register.effective(activity).collects_from_subject(direct):
            continue  # Art. 14: no provision to speak of when the data comes from elsewhere
        if provision is None:
            yield Hit((*at, "id"), activity.id, {"missing": "provision"})
            continue
        if not is_empty(provision.wording):
            continue  # stated in the register's own words: printed as they are
        if provision.requirement is None:
            yield Hit((*at, "provision"), activity.id, {"missing": "provision.requirement"})
        elif provision.requirement in REQUIRING and is_empty(provision.consequences):
            yield Hit((*at, "provision"), activity.id, {"missing": "provision.consequences"})


@rule("GL032", "error", "automated-decision-not-explained", reference="GDPR Art. 13(2)(f), 22",
      url=GDPR.format(13))
def automated_decision_not_explained(ctx: Context) -> Iterator[Hit]:
    """An automated decision without the logic involved or its significance and consequences."""
    for at, activity in ctx.activities():
        decisions = activity.automated_decisions
        if decisions is None or not decisions.exists:
            continue
        missing = [name for name in ("logic", "consequences") if is_empty(getattr(decisions, name))]
        if missing:
            yield Hit((*at, "automated_decisions"), activity.id,
                      {"missing": ", ".join(f"automated_decisions.{m}" for m in missing)})


@rule("GL033", "info", "automated-decisions-not-stated", reference="GDPR Art. 13(2)(f), 22",
      url=GDPR.format(22))
def automated_decisions_not_stated(ctx: Context) -> Iterator[Hit]:
    """The register does not say whether there are automated decisions (yes or no)."""
    for at, activity in ctx.activities():
        if activity.automated_decisions is None:
            yield Hit((*at, "id"), activity.id)


@rule("GL034", "warning", "no-rights-route", reference="GDPR Art. 12(2), 13(2)(b)", url=GDPR.format(12))
def no_rights_route(ctx: Context) -> Iterator[Hit]:
    """No postal address, e-mail or form to send a request to (distinct from the DPO's contact)."""
    if not any(True for _ in ctx.activities()):
        return
    rights = ctx.register.rights
    route = rights.route if rights else None
    if route is None or not (route.email or route.url or route.phone or not is_empty(route.address)):
        yield Hit(("rights", "route") if route else ("rights",) if rights else ("controller",), None)


ONE_MONTH = Period(1, "month")


@rule("GL035", "error", "answer-time-beyond-law", reference="GDPR Art. 12(3)", url=GDPR.format(12))
def answer_time_beyond_law(ctx: Context) -> Iterator[Hit]:
    """The answer time the register promises may end after the law's one month (the two-month
    extension is for complex or numerous requests, told to the person within the first month)."""
    rights = ctx.register.rights
    if rights and rights.answer_time and period_may_exceed(rights.answer_time, ONE_MONTH):
        yield Hit(("rights", "answer_time"), None, {"answer_time": str(rights.answer_time)})
