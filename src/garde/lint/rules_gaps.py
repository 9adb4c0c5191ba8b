"""Lint rules for what the documents would print as a gap (GL091-GL099).

A published document never fills in what the register leaves out: it prints a visible gap
(``Wording.gap``). Each such gap is also a lint finding, so a register that lints clean
publishes no gap; :data:`garde.documents.gaps.GAP_RULES` says which rule answers which gap,
and ``tests/test_lint_documents_agree.py`` renders every repository register to hold both
sides to it. Each rule here reads the register exactly as the document does.
"""

from __future__ import annotations

from collections.abc import Iterator

from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR, dpia_triggers
from garde.register.jurisdiction import jurisdiction, supervisory_authority

# Portability (Art. 20(1)(a)) covers processing based on consent or a contract; the notice
# lists those activities (garde.documents.notice_rights).
PORTABILITY_BASES = frozenset({"consent", "contract"})


@rule("GL091", "warning", "recipients-not-stated",
      reference="GDPR Art. 13(1)(e), 14(1)(e), 30(1)(d): the recipients or categories of recipients",
      url=GDPR.format(30))
def recipients_not_stated(ctx: Context) -> Iterator[Hit]:
    """No recipient of the activity's own nor of the register's: both documents print a gap."""
    for at, activity in ctx.activities():
        if not ctx.register.effective(activity).recipient_list():
            yield Hit((*at, "id"), activity.id)


@rule("GL092", "warning", "sources-not-stated",
      reference="GDPR Art. 13 or 14 (which applies depends on the source), 14(2)(f): the source of "
                "the data", url=GDPR.format(14))
def sources_not_stated(ctx: Context) -> Iterator[Hit]:
    """No source: the notice cannot tell Art. 13 (from the person) from Art. 14 (obtained
    elsewhere) and prints a gap rather than assume either."""
    for at, activity in ctx.activities():
        if not ctx.register.effective(activity).source_list():
            yield Hit((*at, "id"), activity.id)


@rule("GL093", "warning", "transfers-not-stated",
      reference="GDPR Art. 13(1)(f), 14(1)(f), 30(1)(e): transfers to a third country, or that "
                "there are none", url=GDPR.format(13))
def transfers_not_stated(ctx: Context) -> Iterator[Hit]:
    """Neither transfers nor "no transfer" (the activity's or the register's ``no_transfer``)."""
    for at, activity in ctx.activities():
        if ctx.register.transfer_state(activity) == "gap":
            yield Hit((*at, "id"), activity.id)


@rule("GL094", "info", "dpia-decision-not-recorded",
      reference="GDPR Art. 35(1), 35(3); WP29 Guidelines on DPIA (WP248 rev.01): record the "
                "decision, even that none is needed", url=GDPR.format(35))
def dpia_decision_not_recorded(ctx: Context) -> Iterator[Hit]:
    """No ``dpia`` on an activity that shows none of the Art. 35(3) triggers (GL012 covers those).

    A processor activity is left out: the DPIA is its controller's duty, and its Art. 30(2) record
    has no DPIA column."""
    for at, activity in ctx.activities():
        if activity.dpia is None and not dpia_triggers(activity):
            yield Hit((*at, "id"), activity.id)


@rule("GL095", "warning", "last-update-not-stated",
      reference="GDPR Art. 12(1), 13(3); WP29 Guidelines on transparency (WP260 rev.01) § 29: the "
                "date the notice was last updated", url=GDPR.format(12))
def last_update_not_stated(ctx: Context) -> Iterator[Hit]:
    """No ``updated`` date: the notice does not print the build date in its place."""
    if ctx.register.updated is None:
        yield Hit(("controller",), None)


@rule("GL096", "warning", "automated-means-not-stated",
      reference="GDPR Art. 13(2)(b), 20(1)(b): portability applies where the processing is "
                "carried out by automated means", url=GDPR.format(20))
def automated_means_not_stated(ctx: Context) -> Iterator[Hit]:
    """An activity on consent or a contract that does not say whether it is automated."""
    for at, activity in ctx.activities():
        if activity.bases() & PORTABILITY_BASES and activity.automated_means is None:
            yield Hit((*at, "id"), activity.id)


@rule("GL097", "warning", "supervisory-authority-not-stated",
      reference="GDPR Art. 13(2)(d), 14(2)(e), 77: the right to lodge a complaint with a "
                "supervisory authority", url=GDPR.format(77))
def supervisory_authority_not_stated(ctx: Context) -> Iterator[Hit]:
    """Neither ``controller.supervisory_authority`` nor a country whose authority garde knows."""
    controller = ctx.register.controller
    if supervisory_authority(controller.supervisory_authority, controller.country) is None:
        yield Hit(("controller",), None, {"controller": controller.name})


@rule("GL098", "warning", "sub-processors-not-stated",
      reference="GDPR Art. 28(2), 28(4), 30(2)(a): the processor's sub-processors, or that there "
                "are none", url=GDPR.format(28))
def sub_processors_not_stated(ctx: Context) -> Iterator[Hit]:
    """A processor activity naming no sub-processor and not saying ``no_sub_processor``."""
    for at, activity in ctx.processor_activities():
        if not activity.sub_processors and not activity.no_sub_processor:
            yield Hit((*at, "id"), activity.id)


@rule("GL099", "warning", "national-age-unknown",
      reference="GDPR Art. 8(1): the Member State's age of digital consent (13 to 16)",
      url=GDPR.format(8))
def national_age_unknown(ctx: Context) -> Iterator[Hit]:
    """Minors' data and a controller country whose age of digital consent garde does not hold."""
    law = jurisdiction(ctx.register.controller.country)
    if law.country is None or law.age_known:
        return
    if any("minor" in activity.data_subjects for _, activity in ctx.activities()):
        yield Hit(("controller", "country"), None, {"country": law.country})
