"""The lint rules: one function per rule, each registered with its code and reference.

Codes are stable: a code is never reused for another check, so CI baselines
and SARIF dashboards keep their meaning. Severity: ``error`` when the GDPR
requires the thing outright, ``warning`` for regulator guidance or a likely
mistake, ``info`` for what garde cannot decide alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from garde.lint.model import Context, Hit, Rule, add_rule, rule
from garde.lint.reference_periods import applicable, load_reference_periods
from garde.register import term_problems
from garde.register.inherit import stated_transfers
from garde.register.model import Activity, Contact, Transfer
from garde.yamlsource import FieldPath

GDPR = "https://gdpr-info.eu/art-{}-gdpr/"

# Findings built by the runner from a file that cannot be read as a register.
add_rule(Rule("GL000", "error", "invalid-register", "GDPR Art. 30(3): the register is in writing",
              GDPR.format(30), None))


def is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict):
        return not any(isinstance(v, str) and v.strip() for v in value.values())
    return False


def reachable(contact: Contact | None) -> bool:
    """A contact with an address, e-mail, telephone or URL."""
    return contact is not None and any(
        not is_empty(getattr(contact, name)) for name in ("address", "email", "phone", "url"))


@rule("GL001", "error", "missing-legal-basis", reference="GDPR Art. 6(1), 13(1)(c)",
      url=GDPR.format(6))
def missing_legal_basis(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if not activity.legal_bases:
            yield Hit((*at, "id"), activity.id)


@rule("GL002", "error", "legitimate-interest-not-stated", reference="GDPR Art. 6(1)(f), 13(1)(d)",
      url=GDPR.format(13))
def legitimate_interest_not_stated(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        for j, basis in enumerate(activity.legal_bases):
            if basis.basis == "legitimate_interests" and is_empty(basis.legitimate_interest):
                yield Hit((*at, "legal_bases", j), activity.id)


@rule("GL003", "warning", "legal-obligation-not-named", reference="GDPR Art. 6(1)(c), 6(3)",
      url=GDPR.format(6))
def legal_obligation_not_named(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        for j, basis in enumerate(activity.legal_bases):
            if basis.basis == "legal_obligation" and is_empty(basis.obligation) \
                    and (basis.law is None or is_empty(basis.law.text)):
                yield Hit((*at, "legal_bases", j), activity.id)


@rule("GL004", "error", "consent-not-captured", reference="GDPR Art. 7(1)", url=GDPR.format(7))
def consent_not_captured(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if "consent" in activity.bases() and (activity.consent is None or not activity.consent.capture):
            yield Hit((*at, "consent") if activity.consent else (*at, "legal_bases"), activity.id)


@rule("GL005", "error", "consent-withdrawal-missing", reference="GDPR Art. 7(3), 13(2)(c)",
      url=GDPR.format(7))
def consent_withdrawal_missing(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if "consent" in activity.bases() and (activity.consent is None
                                              or not activity.consent.withdrawal):
            yield Hit((*at, "consent") if activity.consent else (*at, "legal_bases"), activity.id)


@rule("GL006", "error", "missing-retention", reference="GDPR Art. 5(1)(e), 13(2)(a), 30(1)(f)",
      url=GDPR.format(5))
def missing_retention(ctx: Context) -> Iterator[Hit]:
    """No retention rule, or rules that each name their categories and leave some out: the
    documents print a gap for those (``retention_lines``)."""
    for at, activity in ctx.activities():
        if not activity.retention:
            yield Hit((*at, "id"), activity.id, {"categories": ""})
        elif all(rule.categories for rule in activity.retention):
            named = [c for rule in activity.retention for c in rule.categories]
            left = [c for c in activity.data_categories
                    if not any(ctx.vocabulary.covers(n, c) for n in named)]
            if left:
                yield Hit((*at, "retention"), activity.id,
                          {"categories": " (" + ", ".join(f"`{c}`" for c in left) + ")"})


def _reference_hits(ctx: Context, wanted: str) -> Iterator[Hit]:
    # Several rules of one activity over the same data are alternative limits: by default the data
    # goes at the first one reached ("until unsubscription, at most 3 years after the last
    # contact"), so when one of them (holding whatever the case: no condition) is within the
    # reference period, the activity is. Under "latest of" every rule must be. A range is compared
    # by its upper bound (``period``), up to which the register allows keeping the data; a
    # criterion in words (no period) and a rule kept without limit (GL027) are not compared.
    periods = load_reference_periods()
    for at, activity in ctx.activities():
        verdicts = []
        for found in applicable(activity, ctx.register.controller.country, periods):
            retention = activity.retention[found.rule_index]
            if retention.rule is not None and not retention.rule.indefinite:
                verdicts.append((found, retention, periods.compare(retention.rule, found.reference.maximum)))
        first_reached = activity.retention_combination == "first_reached"
        within = {found.reference.id for found, retention, verdict in verdicts
                  if first_reached and verdict == "within" and retention.condition is None}
        for found, retention, verdict in verdicts:
            reference = found.reference
            if verdict == wanted and reference.id not in within:
                params = {"rule": retention.summary(), "maximum": str(reference.maximum),
                          "authority": reference.authority, "period": reference.id}
                yield Hit((*at, "retention", found.rule_index), activity.id, params,
                          reference.citation, reference.url)


@rule("GL007", "warning", "retention-beyond-reference",
      reference="GDPR Art. 5(1)(e); regulator reference periods (data/reference_periods.yaml)",
      url=GDPR.format(5))
def retention_beyond_reference(ctx: Context) -> Iterator[Hit]:
    yield from _reference_hits(ctx, "longer")


@rule("GL008", "info", "retention-not-comparable",
      reference="GDPR Art. 5(1)(e); regulator reference periods (data/reference_periods.yaml)",
      url=GDPR.format(5))
def retention_not_comparable(ctx: Context) -> Iterator[Hit]:
    yield from _reference_hits(ctx, "not_comparable")


@rule("GL009", "error", "special-category-without-art9", reference="GDPR Art. 9(1)-(2)",
      url=GDPR.format(9))
def special_category_without_art9(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if activity.art9_condition:
            continue
        for j, category in enumerate(activity.data_categories):
            if ctx.is_special(category):
                yield Hit((*at, "data_categories", j), activity.id, {"category": category})


@rule("GL010", "error", "transfer-without-safeguard", reference="GDPR Art. 44-46, 13(1)(f), 30(1)(e)",
      url=GDPR.format(46))
def transfer_without_safeguard(ctx: Context) -> Iterator[Hit]:
    for path, activity_id, transfer in stated_transfers(ctx.register):
        country = (transfer.country or "").upper()
        if transfer.safeguard or (ctx.eea is not None and country in ctx.eea):
            continue
        if country in ctx.adequacy:  # Art. 45: an adequacy decision needs no further safeguard
            continue
        yield Hit(path, activity_id, {"country": country or _region(transfer)})


@rule("GL011", "warning", "undeclared-transfer", reference="GDPR Art. 30(1)(e), 44",
      url=GDPR.format(44))
def undeclared_transfer(ctx: Context) -> Iterator[Hit]:
    """A recipient outside the EEA with no transfer to its country among those that apply.

    A register-level recipient undeclared for every activity that inherits it is one finding
    (on the register's line, no activity named), not one per activity."""
    if ctx.eea is None:  # without the EEA list garde cannot tell where a recipient is
        return
    register_wide: dict[FieldPath, list[Hit]] = {}
    inheriting = 0
    for _, activity in ctx.activities():
        applies = ctx.register.effective(activity)  # the register's recipients and transfers too
        inheriting += applies.inherits("recipients")
        declared = {t.country.upper() for t in applies.transfer_list() if t.country}
        for stated in applies.recipients:
            country = (stated.value.country or "").upper()
            if country and country not in ctx.eea and country not in declared:
                hit = Hit(applies.path(stated), activity.id,
                          {"country": country, "recipient": stated.value.kind, "area": ctx.outside()})
                if stated.register_wide:
                    register_wide.setdefault(hit.path, []).append(hit)
                else:
                    yield hit
    for path, hits in register_wide.items():
        if len(hits) == inheriting:  # every activity that inherits it: one finding, the register's
            yield Hit(path, None, hits[0].params)
        else:
            yield from hits


def _dpia_triggers(activity_categories: list[str], profiling: bool, monitoring: bool,
                   decides: bool = False) -> list[str]:
    triggers = []
    if profiling:
        triggers.append("profiling")
    if decides:  # Art. 35(3)(a); WP248 rev.01 criterion 2: automated decisions with legal or similar effect
        triggers.append("automated_decisions")
    if monitoring:
        triggers.append("large_scale_monitoring")
    if any(c == "media.cctv_footage" or c.startswith("media.cctv_footage.")
           for c in activity_categories):
        triggers.append("media.cctv_footage")
    return triggers


def dpia_triggers(activity: Activity) -> list[str]:
    """The Art. 35(3) criteria the activity shows (GL012 asks for a DPIA decision when any does)."""
    decides = activity.automated_decisions is not None and activity.automated_decisions.exists
    return _dpia_triggers(activity.data_categories, activity.profiling, activity.large_scale_monitoring,
                          decides)


@rule("GL012", "warning", "dpia-decision-missing",
      reference="GDPR Art. 35(1), 35(3), 35(4) (and the list of the controller's authority)",
      url=GDPR.format(35))
def dpia_decision_missing(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        triggers = dpia_triggers(activity)
        if triggers and activity.dpia is None:
            yield Hit((*at, "id"), activity.id, {"triggers": ", ".join(triggers)})


@rule("GL013", "warning", "dpia-not-done", reference="GDPR Art. 35(1): prior to the processing",
      url=GDPR.format(35))
def dpia_not_done(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if activity.dpia is not None and activity.dpia.required and not activity.dpia.done:
            yield Hit((*at, "dpia"), activity.id)


@rule("GL014", "error", "no-data-subjects", reference="GDPR Art. 30(1)(c)", url=GDPR.format(30))
def no_data_subjects(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if not activity.data_subjects:
            yield Hit((*at, "id"), activity.id)


@rule("GL015", "error", "no-data-categories", reference="GDPR Art. 30(1)(c)", url=GDPR.format(30))
def no_data_categories(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if not activity.data_categories:
            yield Hit((*at, "id"), activity.id)


_ACTIVITY_FIELD = re.compile(r"^activities\[(\d+)\]")


@rule("GL016", "error", "unknown-term", reference="garde vocabulary (taxonomy/data/*.yaml)")
def unknown_term(ctx: Context) -> Iterator[Hit]:
    for problem in term_problems(ctx.loaded, ctx.vocabulary):
        match = _ACTIVITY_FIELD.match(problem.field)
        activity = ctx.register.activities[int(match.group(1))].id if match else None
        suggestion = f" (did you mean `{problem.suggestion}`?)" if problem.suggestion else ""
        yield Hit((), activity, {"field": problem.field, "problem": problem.message,
                                 "suggestion": suggestion}, line=problem.line)


@rule("GL017", "error", "no-purpose", reference="GDPR Art. 5(1)(b), 30(1)(b)", url=GDPR.format(30))
def no_purpose(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        if not any(not is_empty(purpose) for purpose in activity.purposes):
            yield Hit((*at, "id"), activity.id)


@rule("GL018", "warning", "no-controller-contact", reference="GDPR Art. 13(1)(a), 30(1)(a)",
      url=GDPR.format(13))
def no_controller_contact(ctx: Context) -> Iterator[Hit]:
    if not reachable(ctx.register.controller.contact):
        yield Hit(("controller",), None, {"controller": ctx.register.controller.name})


@rule("GL019", "info", "no-dpo-contact", reference="GDPR Art. 13(1)(b), 37", url=GDPR.format(37))
def no_dpo_contact(ctx: Context) -> Iterator[Hit]:
    # No DPO at all; a DPO named without a contact is GL079 (a warning: Art. 37(7)).
    if ctx.register.controller.dpo is None:
        yield Hit(("controller",), None, {"controller": ctx.register.controller.name})


@rule("GL020", "error", "processor-without-controller", reference="GDPR Art. 30(2)(a)",
      url=GDPR.format(30))
def processor_without_controller(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.processor_activities():
        if not activity.on_behalf_of:
            yield Hit((*at, "role"), activity.id)


@rule("GL021", "warning", "retention-category-not-processed", reference="GDPR Art. 30(1)(c), (f)",
      url=GDPR.format(30))
def retention_category_not_processed(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            for k, category in enumerate(retention.categories):
                if not any(ctx.vocabulary.covers(declared, category) or
                           ctx.vocabulary.covers(category, declared)
                           for declared in activity.data_categories):
                    yield Hit((*at, "retention", j, "categories", k), activity.id,
                              {"category": category})


@rule("GL022", "warning", "automated-decision-without-basis", reference="GDPR Art. 22(2), 13(2)(f)",
      url=GDPR.format(22))
def automated_decision_without_basis(ctx: Context) -> Iterator[Hit]:
    # Art. 22(2): only (a) contract necessity, (b) Union or Member State law, (c) explicit consent.
    for at, activity in ctx.activities():
        if activity.automated_decisions is None or not activity.automated_decisions.exists:
            continue
        if not activity.bases() & {"contract", "consent", "legal_obligation"}:
            yield Hit((*at, "automated_decisions"), activity.id)


@rule("GL023", "warning", "electronic-prospection-without-consent",
      reference="Directive 2002/58/EC Art. 13 (as transposed in the controller's country)",
      url="https://eur-lex.europa.eu/eli/dir/2002/58/oj")
def electronic_prospection_without_consent(ctx: Context) -> Iterator[Hit]:
    # E-mail and SMS prospection of non-customers needs prior consent; the
    # "soft opt-in" for similar products covers customers only.
    for at, activity in ctx.activities():
        channels = sorted(set(activity.channels) & {"email", "sms"})
        if (activity.direct_marketing and channels and "prospect" in activity.data_subjects
                and "consent" not in activity.bases()):
            yield Hit((*at, "legal_bases"), activity.id, {"channels": ", ".join(channels)})



_TRACKERS = ("online.cookie_id", "online.tracker", "online.web_beacon")


@rule("GL024", "warning", "trackers-without-consent",
      reference="Directive 2002/58/EC Art. 5(3) (as transposed in the controller's country)",
      url="https://eur-lex.europa.eu/eli/dir/2002/58/oj")
def trackers_without_consent(ctx: Context) -> Iterator[Hit]:
    # Reading or writing on the user's device needs consent unless strictly necessary for the
    # service asked for. Where the register lists its trackers, each one not stated as strictly
    # necessary must be served by an activity that rests on consent; an activity whose listed
    # trackers are all exempt is not reported. Otherwise garde cannot tell: a warning per activity.
    register = ctx.register
    listed = {t.activity for t in register.trackers if t.activity}
    for at, activity in ctx.activities():
        if "consent" in activity.bases() or activity.id in listed:
            continue
        for j, category in enumerate(activity.data_categories):
            if any(category == t or category.startswith(t + ".") for t in _TRACKERS):
                yield Hit((*at, "data_categories", j), activity.id, {"category": category})
                break
    for i, tracker in enumerate(register.trackers):
        served = register.activity(tracker.activity) if tracker.activity else None
        if tracker.needs_consent and (served is None or "consent" not in served.bases()):
            yield Hit(("trackers", i), tracker.activity, {"category": tracker.name})


def _region(transfer: Transfer) -> str:
    region = transfer.region
    return (region if isinstance(region, str) else next(iter((region or {}).values()), "")) or "?"


@rule("GL025", "error", "transfer-safeguard-invalid",
      reference="GDPR Art. 44-46; CJEU C-311/18 (Schrems II, 16 July 2020)", url=GDPR.format(46))
def transfer_safeguard_invalid(ctx: Context) -> Iterator[Hit]:
    """The safeguard does not count on the day of the check, or does not cover the country."""
    for path, activity_id, transfer in stated_transfers(ctx.register):
        term = ctx.vocabulary.get("safeguards", transfer.safeguard or "")
        if term is None:
            continue
        countries = [str(c).upper() for c in term.extra.get("countries") or []]
        if term.id == "adequacy":  # Art. 45: only where the Commission has decided (eea.yaml)
            countries = sorted(ctx.decided)
        country = (transfer.country or "").upper()
        outside = bool(countries) and country not in countries
        if not term.valid_on(ctx.today) or outside:
            start, end = term.extra.get("valid_from"), term.extra.get("valid_until")
            validity = f"{start or '…'} – {end or '…'}"
            yield Hit((*path, "safeguard"), activity_id,
                      {"safeguard": term.id, "validity": validity,
                       "covers": ", ".join(countries) or "*", "country": country or _region(transfer),
                       "day": ctx.today.isoformat()})


@rule("GL026", "info", "transfer-certification-to-check",
      reference="GDPR Art. 45(3); Commission Implementing Decision (EU) 2023/1795 (EU-US DPF)",
      url="https://www.dataprivacyframework.gov/list")
def transfer_certification_to_check(ctx: Context) -> Iterator[Hit]:
    """A framework that covers certified recipients only: the register cannot prove the certification."""
    for path, activity_id, transfer in stated_transfers(ctx.register):
        term = ctx.vocabulary.get("safeguards", transfer.safeguard or "")
        if term is not None and term.extra.get("certified_recipients") is True \
                and term.valid_on(ctx.today):
            yield Hit(path, activity_id, {"safeguard": term.id})


@rule("GL027", "error", "retention-without-limit", reference="GDPR Art. 5(1)(e), 13(2)(a)",
      url=GDPR.format(5))
def retention_without_limit(ctx: Context) -> Iterator[Hit]:
    for at, activity in ctx.activities():
        for j, retention in enumerate(activity.retention):
            if retention.rule is not None and retention.rule.indefinite:
                yield Hit((*at, "retention", j, "rule"), activity.id, {"rule": str(retention.rule)})


@rule("GL028", "error", "transfer-contradicts-statement", reference="GDPR Art. 30(1)(e), 13(1)(f)",
      url=GDPR.format(30))
def transfer_contradicts_statement(ctx: Context) -> Iterator[Hit]:
    """``no_transfer`` (the activity's or the register's) while transfers apply to the activity.

    The register's own contradiction (``no_transfer`` beside register-level ``transfers``) is one
    finding, not one per activity that inherits both; an activity that overrides the register's
    transfers (``overrides: [transfers]``) is not bound by the register's ``no_transfer``."""
    register = ctx.register
    if register.no_transfer and register.transfers:
        yield Hit(("no_transfer",), None, {"count": str(len(register.transfers)), "area": ctx.outside()})
    for at, activity in ctx.every_activity():
        applies = register.effective(activity)
        own = [s for s in applies.transfers if not s.register_wide]
        if activity.no_transfer and own:
            yield Hit((*at, "no_transfer"), activity.id, {"count": str(len(own)), "area": ctx.outside()})
        elif register.no_transfer and applies.inherits("transfers") and own:
            yield Hit(("no_transfer",), activity.id, {"count": str(len(own)), "area": ctx.outside()})


@rule("GL029", "error", "safeguard-of-another-law",
      reference="GDPR Art. 44, 46; UK GDPR Art. 46 (ICO: IDTA and Addendum, 21 March 2022)",
      url=GDPR.format(46))
def safeguard_of_another_law(ctx: Context) -> Iterator[Hit]:
    """A UK GDPR transfer tool named by a controller the EU GDPR governs (not established in the UK)."""
    country = ctx.register.controller.country
    if country is None or ctx.jurisdiction.uk:  # no country: which law governs is unknown (GL040)
        return
    for path, activity_id, transfer in stated_transfers(ctx.register):
        term = ctx.vocabulary.get("safeguards", transfer.safeguard or "")
        if term is not None and term.extra.get("regime") == "uk":
            yield Hit((*path, "safeguard"), activity_id,
                      {"safeguard": term.id, "controller_country": country})
