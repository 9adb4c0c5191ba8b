"""Which lint rule answers each gap a document prints: lint and the documents agree.

A document prints a visible gap (:meth:`Wording.gap`, ``common.field.<key>``; a role's gap,
``roles.field.<key>``, as ``roles.<key>``) where the register says nothing. Every such gap is
also a lint finding, so a register that lints clean publishes no gap. The key names the gap;
the value the rule (or rules: any one of them) that fires on the same register whenever the
gap shows. ``tests/test_lint_documents_agree.py`` renders every repository register to hold
lint and documents to this table both ways, and fails on a gap key with no rule here.
"""

from __future__ import annotations

GAP_RULES: dict[str, tuple[str, ...]] = {
    "sources": ("GL092",),
    "updated": ("GL095",),
    "purposes": ("GL017", "GL054"),  # a controller's purposes; what a processor does for a client
    "legal_basis": ("GL001",),
    "legitimate_interest": ("GL002",),
    "data_subjects": ("GL014",),
    "data_categories": ("GL015",),
    "art9_condition": ("GL009",),
    "recipients": ("GL091",),
    "safeguard": ("GL010",),
    "transfers": ("GL093", "GL055"),  # a controller activity; a processor activity (Art. 30(2)(c))
    "retention": ("GL006",),
    "archive_end": ("GL070",),
    "security": ("GL060", "GL056"),
    "dpia": ("GL012", "GL094"),  # with Art. 35(3) triggers; without
    "on_behalf_of": ("GL020",),
    "controller_contact": ("GL018",),
    "dpo": ("GL019",),
    "rights_contact": ("GL034",),
    "withdrawal": ("GL005",),
    "consent_capture": ("GL004",),
    "supervisory_authority": ("GL097",),
    "country_for_age": ("GL040",),
    "national_age": ("GL099",),
    "parental_consent": ("GL041",),
    "law": ("GL030", "GL003"),  # the law alone missing; a legal obligation naming nothing at all
    "provision": ("GL031",),
    "provision_consequences": ("GL031",),
    "automated_decisions": ("GL033",),
    "automated_consequences": ("GL032",),
    "automated_means": ("GL096",),
    "automated_logic": ("GL032",),
    "tracker_provider": ("GL077",),
    "tracker_purpose": ("GL077",),
    "tracker_lifetime": ("GL077",),
    "tracker_category": ("GL077",),
    "tracker_activity": ("GL077",),
    "roles.served_contact": ("GL053",),
    "roles.contract": ("GL050",),
    "roles.sub_processors": ("GL098",),
    "roles.sub_processor_authorisation": ("GL051",),
    "roles.joint_controllers": ("GL057",),
    "roles.joint_contact": ("GL059",),
    "roles.essence": ("GL058",),
}

# A register text missing in a language the notice is published in: shown as written and marked
# "not translated" (not a gap marker), answered by GL090.
UNTRANSLATED_RULE = "GL090"

# Rules that answer a gap but also fire where no gap shows, with why: for them a finding does not
# imply the gap (the other rules of GAP_RULES do: their finding means the document prints it).
WIDER_RULES: dict[str, str] = {
    "GL040": "no country: national checks are skipped too; the age gap shows only with minors' data",
}
