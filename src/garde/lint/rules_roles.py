"""Lint rules of the roles: processor activities (Art. 28, 30(2)) and joint controllers (Art. 26).

A processor activity is checked by these rules (and the transfer rules, which bind
processors too), never by the controller rules: its legal basis, retention and notice
are its clients' to state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from garde.lint.model import Context, Hit, rule
from garde.lint.rules import GDPR, is_empty, reachable
from garde.register.model import Activity
from garde.register.roles import every_controller_authorises


@rule("GL050", "error", "processor-contract-missing", reference="GDPR Art. 28(3), 28(9)",
      url=GDPR.format(28))
def processor_contract_missing(ctx: Context) -> Iterator[Hit]:
    """Processing on behalf of a controller is governed by a contract (or other legal act) in writing."""
    for at, activity in ctx.processor_activities():
        for j, served in enumerate(activity.on_behalf_of):
            if served.contract is None:
                yield Hit((*at, "on_behalf_of", j), activity.id, {"controller": served.name})


@rule("GL051", "error", "sub-processor-authorisation-not-stated", reference="GDPR Art. 28(2), 28(4)",
      url=GDPR.format(28))
def sub_processor_authorisation_not_stated(ctx: Context) -> Iterator[Hit]:
    """A sub-processor engaged without a stated prior written authorisation, specific or general:
    its own ``authorisation``, or that of every controller the activity serves."""
    for at, activity in ctx.processor_activities():
        everyone = every_controller_authorises(activity)
        for k, sub in enumerate(activity.sub_processors):
            if sub.authorisation is None and not everyone:
                yield Hit((*at, "sub_processors", k), activity.id, {"sub_processor": sub.name})


@rule("GL052", "warning", "sub-processor-transfer-not-declared", reference="GDPR Art. 30(2)(c), 44, 28(4)",
      url=GDPR.format(30))
def sub_processor_transfer_not_declared(ctx: Context) -> Iterator[Hit]:
    """A sub-processor outside the EEA (the UK under the UK GDPR) whose country the activity's
    transfers do not list."""
    if ctx.eea is None:  # without the EEA list garde cannot tell where a sub-processor is
        return
    for at, activity in ctx.processor_activities():
        declared = {t.country for t in activity.transfers if t.country}
        for k, sub in enumerate(activity.sub_processors):
            if sub.country and sub.country not in ctx.eea and sub.country not in declared:
                yield Hit((*at, "sub_processors", k, "country"), activity.id,
                          {"sub_processor": sub.name, "country": sub.country, "area": ctx.outside()})


@rule("GL053", "warning", "served-controller-contact-missing", reference="GDPR Art. 30(2)(a)",
      url=GDPR.format(30))
def served_controller_contact_missing(ctx: Context) -> Iterator[Hit]:
    """The processor's register names each controller it acts for with its contact details."""
    for at, activity in ctx.processor_activities():
        for j, served in enumerate(activity.on_behalf_of):
            if not reachable(served.contact):
                yield Hit((*at, "on_behalf_of", j), activity.id, {"controller": served.name})


@rule("GL054", "error", "processing-categories-missing", reference="GDPR Art. 30(2)(b)",
      url=GDPR.format(30))
def processing_categories_missing(ctx: Context) -> Iterator[Hit]:
    """The categories of processing carried out for each controller: the controller's own
    ``processing``, or the activity's ``purposes`` for every controller."""
    for at, activity in ctx.processor_activities():
        if _stated(activity.purposes):
            continue
        if not activity.on_behalf_of:
            yield Hit((*at, "id"), activity.id, {"controller": "-"})
        for j, served in enumerate(activity.on_behalf_of):
            if not _stated(served.processing):
                yield Hit((*at, "on_behalf_of", j), activity.id, {"controller": served.name})


@rule("GL055", "warning", "processor-transfers-not-stated", reference="GDPR Art. 30(2)(c)",
      url=GDPR.format(30))
def processor_transfers_not_stated(ctx: Context) -> Iterator[Hit]:
    """Neither transfers listed nor a statement that there are none (``no_transfer``)."""
    for at, activity in ctx.processor_activities():
        if ctx.register.transfer_state(activity) == "gap":
            yield Hit((*at, "id"), activity.id, {"area": ctx.outside()})


@rule("GL056", "warning", "processor-security-not-described", reference="GDPR Art. 30(2)(d), 32(1)",
      url=GDPR.format(32))
def processor_security_not_described(ctx: Context) -> Iterator[Hit]:
    """Where possible, a general description of the technical and organisational security measures."""
    for at, activity in ctx.processor_activities():
        if not _stated(activity.security_measures):
            yield Hit((*at, "id"), activity.id)


@rule("GL100", "warning", "processor-states-a-legal-basis", reference="GDPR Art. 28(3)(a), 28(10)",
      url=GDPR.format(28))
def processor_states_a_legal_basis(ctx: Context) -> Iterator[Hit]:
    """A processor activity that declares legal bases or a consent capture: the basis is its
    controllers' to state, and ``decide()`` answers it from their instructions alone; a processor
    that determines why the data is processed is a controller for it (Art. 28(10))."""
    for at, activity in ctx.processor_activities():
        if activity.legal_bases or activity.consent is not None:
            yield Hit((*at, "legal_bases" if activity.legal_bases else "consent"), activity.id)


@rule("GL057", "error", "joint-controllers-not-named", reference="GDPR Art. 26(1), 30(1)(a)",
      url=GDPR.format(26))
def joint_controllers_not_named(ctx: Context) -> Iterator[Hit]:
    """A joint-controller activity that names no other controller."""
    for at, activity in _joint(ctx):
        if not activity.joint_controllers:
            yield Hit((*at, "id"), activity.id)


@rule("GL058", "error", "joint-arrangement-essence-missing", reference="GDPR Art. 26(2)",
      url=GDPR.format(26))
def joint_arrangement_essence_missing(ctx: Context) -> Iterator[Hit]:
    """The essence of the arrangement is made available to the data subject: the register gives it
    (``arrangement.essence``) or says where to read it (``arrangement.available_at``)."""
    for at, activity in _joint(ctx):
        arrangement = activity.arrangement
        if arrangement is None or (is_empty(arrangement.essence) and is_empty(arrangement.available_at)):
            yield Hit((*at, "arrangement") if arrangement else (*at, "id"), activity.id)


@rule("GL059", "warning", "joint-controller-contact-missing", reference="GDPR Art. 26(3), 30(1)(a)",
      url=GDPR.format(26))
def joint_controller_contact_missing(ctx: Context) -> Iterator[Hit]:
    """Each joint controller with its contact details: the subject may exercise their rights against
    each of them (Art. 26(3))."""
    for at, activity in _joint(ctx):
        for j, other in enumerate(activity.joint_controllers):
            if not reachable(other.contact):
                yield Hit((*at, "joint_controllers", j), activity.id, {"controller": other.name})


def _joint(ctx: Context) -> Iterator[tuple[tuple[str | int, ...], Activity]]:
    for at, activity in ctx.activities():
        if ctx.register.role_of(activity) == "joint_controller":
            yield at, activity


def _stated(texts: Sequence[object]) -> bool:
    return any(not is_empty(text) for text in texts)
