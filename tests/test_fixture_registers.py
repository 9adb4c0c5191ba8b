"""The four fixture registers of issue 10 lint with the findings a DPO would agree with, and no other.

Each finding the fixtures may have is listed with why it is right (or which part of the format it
waits for). A finding outside these lists is a false positive to fix in the rule, or a real finding
to add here with its reason; a finding that disappears (the format learnt to say it) is fine.
"""

from __future__ import annotations

import pytest

from garde.lint import lint_paths

from .conftest import REGISTERS

# The register's own words for a term the vocabulary lacks ({other: ...}): an info by design, so that a
# DPO sees which rules cannot read it (GL080).
FREE_TERM = "a term in the register's own words, which no rule can read: the info says so"

# (code, activity) -> why the finding is right.
EXPECTED: dict[str, dict[tuple[str, str | None], str]] = {
    "commune-valbrune": {
        ("GL080", "mediatheque-inscription"): FREE_TERM,  # library card number, loan history
        ("GL080", "lettre-information"): FREE_TERM,  # newsletter subscribers
        ("GL080", "videoprotection"): FREE_TERM,  # passers-by
        ("GL080", "etat-civil"): FREE_TERM,  # people named in an act; marginal notes
        # The loan history is kept until the book comes back, or until a late fee is paid: no period,
        # a condition in words; the sweep cannot apply it, and the info says so.
        ("GL065", "mediatheque-inscription"): "retention given as criteria in words, as the register does",
        ("GL067", "mediatheque-inscription"): "retention with a condition in words, as the register does",
        # Civil-status registers are public archives kept permanently (archives définitives, Code du
        # patrimoine L211-4, L212-1; GDPR Art. 5(1)(e) and 89 allow it): not an intermediate archive with
        # an end, so the register's "no limit" stays, and the error asks the DPO to confirm it.
        ("GL027", "etat-civil"): "public archives kept permanently by law; the format has no such form",
    },
    "parloir-software": {
        ("GL026", "customer-accounts"): "the DPF covers certified recipients only: check the list",
        ("GL080", "helpdesk-hosting"): FREE_TERM,  # the customers' end users
    },
    "hollowmere-outdoor": {
        ("GL019", None): "no DPO designated; the format cannot say that none is required",
    },
    "quieta-salute": {
        ("GL026", "analisi-app"): "the DPF covers certified recipients only: check the list",
        ("GL080", "account"): FREE_TERM,  # the app's users
        ("GL080", "diario"): FREE_TERM,  # the app's users, the diary's contents
        ("GL080", "teleconsulto"): FREE_TERM,  # the app's users, the doctors as recipients
        ("GL080", "analisi-app"): FREE_TERM,  # the app's users
        # The codice fiscale on invoices: Art. 87 leaves its conditions to Italian law, which a DPO
        # checks (here: the invoicing law requires it, D.P.R. 633/1972 art. 21).
        ("GL082", "fatturazione"): "a national identification number, whose national conditions to check",
    },
}

# Findings of GL091-GL099 answer a gap the documents print (garde.documents.gaps): the register says
# nothing there, so the finding is true whatever the fixture's seed says; filling the field in is
# the fixture's business. Tolerated on any activity of these registers.
PRINTED_GAPS: dict[str, dict[str, str]] = {
    name: {
        "GL092": "no source stated: the notice cannot choose between Art. 13 and Art. 14",
        "GL094": "no DPIA decision recorded: the Art. 30 register prints a gap",
        "GL095": "no `updated` date: the notice prints a gap for its last update",
    } for name in EXPECTED
}
PRINTED_GAPS["parloir-software"]["GL098"] = "helpdesk-hosting names no sub-processor, nor that there is none"
PRINTED_GAPS["quieta-salute"]["GL091"] = "teleconsulto names no recipient"
PRINTED_GAPS["hollowmere-outdoor"]["GL077"] = (
    "the consent-choice cookie names no activity: the register has no activity for its cookie banner, "
    "and the Art. 30 register prints the gap")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_fixture_register_has_no_finding_a_dpo_would_dispute(name: str) -> None:
    findings = lint_paths([REGISTERS / f"{name}.yaml"])
    unexpected = sorted(f"{f.code} {f.activity}: {f.message}" for f in findings
                        if (f.code, f.activity) not in EXPECTED[name] and f.code not in PRINTED_GAPS[name])
    assert not unexpected, "\n".join(unexpected)
