"""Lint rules on the register's cookies and trackers (``trackers:``), and on contacts named without details.

Reading or writing on a user's device needs consent unless it is strictly necessary for
the service the user asked for (Directive 2002/58/EC Art. 5(3)); which categories may be
exempt is vocabulary data (``exempt`` of the ``cookie.*`` channels). The lifetime limit is
a regulator's reference period (``data/reference_periods.yaml``: the CNIL's 13 months),
so it applies by the controller's country only. GL024 (trackers without consent) lives in
:mod:`garde.lint.rules` and reads the tracker list too.
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.model import Context, Hit, rule
from garde.lint.reference_periods import ReferencePeriod, load_reference_periods, period_longer
from garde.lint.rules import GDPR, is_empty
from garde.register.model import Contact
from garde.register.trackers import Tracker

EPRIVACY = "https://eur-lex.europa.eu/eli/dir/2002/58/oj"
_TRACKER_CATEGORIES = frozenset({"online.tracker", "online.cookie_id"})


def exemption(ctx: Context, tracker: Tracker) -> str | None:
    """``always``, ``conditional`` or ``never``: whether the tracker's category may be exempt."""
    term = ctx.vocabulary.get("channels", tracker.category or "")
    value = term.extra.get("exempt") if term is not None else None
    return str(value) if value else None


def _lifetime_references(country: str | None) -> list[ReferencePeriod]:
    """The reference periods on trackers that apply to the controller's country (CNIL: FR)."""
    return [p for p in load_reference_periods().periods
            if set(p.applies_to.categories) & _TRACKER_CATEGORIES and p.maximum.period is not None
            and (not p.applies_to.countries or (country or "") in p.applies_to.countries)]


@rule("GL075", "warning", "tracker-lifetime-beyond-reference",
      reference="Directive 2002/58/EC Art. 5(3); the authority's reference lifetime of trackers "
                "(data/reference_periods.yaml)", url=EPRIVACY)
def tracker_lifetime_beyond_reference(ctx: Context) -> Iterator[Hit]:
    """A tracker that needs consent, or is exempt only under the authority's conditions (audience
    measurement), lives longer than the authority's reference (CNIL: 13 months)."""
    references = _lifetime_references(ctx.register.controller.country)
    for i, tracker in enumerate(ctx.register.trackers):
        lifetime = tracker.lifetime_period
        if lifetime is None or (not tracker.needs_consent and exemption(ctx, tracker) == "always"):
            continue
        for reference in references:
            maximum = reference.maximum.period
            if maximum is not None and period_longer(lifetime, maximum):
                yield Hit(("trackers", i, "lifetime"), tracker.activity,
                          {"tracker": tracker.name, "lifetime": str(lifetime), "maximum": str(maximum),
                           "authority": reference.authority}, reference.citation, reference.url)


@rule("GL076", "error", "tracker-exemption-not-allowed",
      reference="Directive 2002/58/EC Art. 5(3); WP29 Opinion 04/2012 on Cookie Consent Exemption",
      url=EPRIVACY)
def tracker_exemption_not_allowed(ctx: Context) -> Iterator[Hit]:
    """Claimed strictly necessary, in a category that never is (advertising, social networks)."""
    for i, tracker in enumerate(ctx.register.trackers):
        if tracker.strictly_necessary and exemption(ctx, tracker) == "never":
            yield Hit(("trackers", i, "strictly_necessary"), tracker.activity,
                      {"tracker": tracker.name, "category": tracker.category or ""})


@rule("GL077", "warning", "tracker-incomplete",
      reference="Directive 2002/58/EC Art. 5(3) (clear and comprehensive information); "
                "GDPR Art. 13(1)(a), (c), (e), 13(2)(a)", url=EPRIVACY)
def tracker_incomplete(ctx: Context) -> Iterator[Hit]:
    """A tracker whose provider (a third party's name), purpose, lifetime, category or the activity it
    serves is not stated: what a visitor is told before consenting, what the cookie banner groups
    by, and the processing (and so the legal basis) the tracker belongs to."""
    for i, tracker in enumerate(ctx.register.trackers):
        missing = []
        provider = tracker.provider
        if provider is None or (provider.party == "third" and is_empty(provider.name)):
            missing.append("provider")
        if is_empty(tracker.purpose):
            missing.append("purpose")
        if tracker.lifetime is None:
            missing.append("lifetime")
        if tracker.category is None:
            missing.append("category")
        if tracker.activity is None:
            missing.append("activity")
        if missing:
            yield Hit(("trackers", i), tracker.activity,
                      {"tracker": tracker.name, "missing": ", ".join(missing)})


@rule("GL078", "info", "tracker-exemption-to-check",
      reference="Directive 2002/58/EC Art. 5(3); WP29 Opinion 04/2012 on Cookie Consent Exemption",
      url=EPRIVACY)
def tracker_exemption_to_check(ctx: Context) -> Iterator[Hit]:
    """Claimed strictly necessary in a category exempt only under conditions garde cannot see
    (audience measurement for the site's own statistics; an interface personalisation the user
    chose), or in no category at all."""
    for i, tracker in enumerate(ctx.register.trackers):
        if tracker.strictly_necessary and exemption(ctx, tracker) in ("conditional", None):
            yield Hit(("trackers", i, "strictly_necessary"), tracker.activity,
                      {"tracker": tracker.name, "category": tracker.category or "?"})


@rule("GL079", "warning", "named-without-contact", reference="GDPR Art. 13(1)(a)-(b), 27, 37(7)",
      url=GDPR.format(13))
def named_without_contact(ctx: Context) -> Iterator[Hit]:
    """A DPO or a representative is named but no way to reach them is given: the notice gives the
    contact details of the representative (Art. 13(1)(a)) and of the DPO (13(1)(b); 37(7): published)."""
    controller = ctx.register.controller
    for field in ("dpo", "representative", "uk_representative"):
        contact: Contact | None = getattr(controller, field)
        if contact is not None and not (contact.email or contact.phone or contact.url
                                        or not is_empty(contact.address)):
            yield Hit(("controller", field), None,
                      {"controller": controller.name, "field": f"controller.{field}"})
