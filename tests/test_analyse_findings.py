"""Findings (GA001...): each triggered by what it is about, and not by what merely looks like it."""

from __future__ import annotations

from datetime import date

import pytest

from garde.analyse.document import from_text
from garde.analyse.findings import load_finding_rules
from garde.analyse.report import analyse


def codes(text: str, lang: str = "auto", today: date = date(2026, 1, 1)) -> list[str]:
    return [f.code for f in analyse(from_text(text), lang, today).findings]


@pytest.mark.parametrize(("text", "code"), [
    ("En visitant le site, vous déclarez accepter la présente notice.", "GA001"),
    ("By continuing to use this website, you consent to this policy.", "GA001"),
    ("Proseguendo la navigazione acconsenti al trattamento dei tuoi dati.", "GA001"),
    ("Pour en savoir plus, cf. notre Politique en matière de Cookies [INSERER LE LIEN].", "GA002"),
    ("The controller is [Company name], registered in England.", "GA002"),
    ("Contact: XXX", "GA002"),
    ("Lorem ipsum dolor sit amet.", "GA002"),
    ("Scrivi a <nome> per esercitare i tuoi diritti.", "GA002"),
    ("Il peut s'agir de votre identifiant, mot de passe recouvrable et question de sécurité.", "GA003"),
    ("If you forget it, we can send you your password by e-mail.", "GA003"),
    ("Your data is never transferred outside the EEA.\n\n"
     "Our hosting provider stores it in the United States.", "GA004"),
    ("Les données ne sont pas transférées hors de l'Union européenne.\n\n"
     "Notre sous-traitant est établi en Inde.", "GA004"),
    ("Transfers to the US rely on the EU-US Privacy Shield.", "GA005"),
    ("I trasferimenti si basano sul Safe Harbor.", "GA005"),
])
def test_each_finding_is_found(text: str, code: str) -> None:
    assert code in codes(text)


@pytest.mark.parametrize("text", [
    "Vous pouvez accepter ou refuser les cookies à tout moment.",  # a real choice, not browsing as consent
    "By using the unsubscribe link you stop our e-mails.",
    "See reference [1] and Art. 6 [EU].",  # brackets that are no placeholder
    "You can reset your password from the sign-in page; we never send passwords by e-mail.",
    "Our hosting provider stores your data in the United States under standard contractual clauses.",
    "Your data is never transferred outside the EEA. Our offices are in Paris.",
    # per activity: no transfer for one, a transfer under safeguards for another
    "Newsletter: no transfer outside the EEA.\n\n"
    "Analytics: our provider in the United States, under standard contractual clauses.",
    "We rely on the EU-US Data Privacy Framework.",
])
def test_look_alikes_are_not_findings(text: str) -> None:
    assert codes(text, lang="en") == []


def test_an_invalidated_mechanism_is_one_only_after_its_end_date() -> None:
    text = "Transfers to the US rely on the EU-US Privacy Shield."
    assert "GA005" not in codes(text, today=date(2019, 1, 1))
    assert "GA005" in codes(text, today=date(2021, 1, 1))


def test_messages_in_the_document_s_language_with_reference_and_evidence() -> None:
    report = analyse(from_text("En naviguant sur ce site, vous acceptez la présente notice."))
    (finding,) = report.findings
    assert finding.code == "GA001" and finding.severity == "error" and finding.rule == "browsing-as-consent"
    assert finding.message.startswith("La navigation")
    assert "Art" in finding.reference
    assert finding.evidence == "En naviguant sur ce site, vous acceptez la présente notice."
    rules = load_finding_rules().rules
    assert all({"en", "fr", "it"} <= set(rule.messages) for rule in rules.values())
    assert sorted(rules) == ["GA001", "GA002", "GA003", "GA004", "GA005", "GA006"]
