"""Legal bases and rights in the register: the law behind a basis, the source's wording and condition,
whether providing the data is required, automated decisions, and the route to exercise rights.

Each field loads with a clear error naming the file, line and field, and comes back unchanged
through ``garde register show --format json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garde.cli import app
from garde.problems import InputError
from garde.register import parse_register

FULL = """
controller: {name: Boutique, country: FR, dpo: {email: dpo@boutique.example}}
rights:
  route: {address: "1 rue de la Paix, Paris", email: droits@boutique.example, url: "https://boutique.example/droits"}
  answer_time: 15 days
  handled_by:
    - {rights: [portability], controller: Plateforme SA, contact: {email: dpo@plateforme.example},
       activities: [invoices]}
activities:
  - id: invoices
    name: Factures
    legal_bases:
      - basis: legal_obligation
        obligation: Conserver les factures
        law: {text: "Code de commerce, art. L123-22", reference: "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000019961014"}
        wording: Obligation légale
        condition: si nécessaire
      - {basis: public_task, law: Loi n° 78-17}
      - {basis: public_task, law: {fr: "Code du patrimoine, art. L212-2"}}
    provision: {requirement: statutory, consequences: "Sans adresse de facturation, pas de facture"}
    automated_decisions: {exists: true, logic: Score de fraude, consequences: Commande bloquée}
    automated_means: true
  - id: newsletter
    name: Newsletter
    legal_bases: [consent]
    provision: La fourniture de l'adresse e-mail est facultative.
    automated_decisions: false
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_register(text, "shop.yaml")
    return [str(p) for p in info.value.problems]


def test_new_fields_load_with_their_short_forms() -> None:
    register = parse_register(FULL, "shop.yaml").register
    invoices, newsletter = register.activities
    obligation, task, archives = invoices.legal_bases
    assert archives.law is not None and archives.law.text == {"fr": "Code du patrimoine, art. L212-2"}
    assert obligation.law is not None and obligation.law.reference and obligation.condition == "si nécessaire"
    assert task.law is not None and task.law.text == "Loi n° 78-17"
    assert invoices.provision is not None and invoices.provision.requirement == "statutory"
    assert newsletter.provision is not None and newsletter.provision.requirement is None
    assert newsletter.provision.wording == "La fourniture de l'adresse e-mail est facultative."
    assert invoices.automated_decisions is not None and invoices.automated_decisions.exists
    assert newsletter.automated_decisions is not None and not newsletter.automated_decisions.exists
    assert register.rights is not None and str(register.rights.answer_time) == "15 days"


def test_automated_decisions_not_stated_stays_not_stated() -> None:
    register = parse_register(FULL.replace("    automated_decisions: false\n", ""), "shop.yaml").register
    assert register.activities[1].automated_decisions is None
    assert "automated_decisions" not in register.to_data()["activities"][1]


def test_show_json_round_trips_the_new_fields(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(FULL, encoding="utf-8")
    result = CliRunner().invoke(app, ["register", "show", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rights"]["answer_time"] == "15 days"
    assert data["activities"][0]["legal_bases"][0]["condition"] == "si nécessaire"
    assert data["activities"][1]["automated_decisions"] == {"exists": False}
    again = parse_register(result.stdout, "shop.json").register
    assert again == parse_register(FULL, "shop.yaml").register


@pytest.mark.parametrize(("change", "expected"), [
    (("requirement: statutory", "requirement: mandatory"),
     "shop.yaml:20: activities[0].provision.requirement: expected 'statutory', 'contractual', "
     "'contract_entry' or 'not_required'"),
    (("logic: Score de fraude", "logik: Score de fraude"),
     "shop.yaml:21: activities[0].automated_decisions.logik: unknown field (did you mean `logic`?)"),
    (("{basis: public_task, law: Loi n° 78-17}", "{basis: public_task, law: {txt: Loi}}"),
     "shop.yaml:18: activities[0].legal_bases[1].law.txt: unknown field (did you mean `text`?)"),
    (("answer_time: 15 days", "answer_time: soon"),
     "shop.yaml:5: rights.answer_time: 'soon' is not a period such as '13 months' or '3 years'"),
    (("rights: [portability]", "rights: [portabilty]"),
     "shop.yaml:7: rights.handled_by[0].rights[0]: expected 'access', 'rectification', 'erasure', "
     "'restriction', 'portability' or 'objection'"),
    (("activities: [invoices]", "activities: [invoice]"),
     "shop.yaml:2: rights.handled_by names unknown activity ids: invoice"),
    (("automated_decisions: false", "automated_decisions: {exist: true}"),
     "shop.yaml:27: activities[1].automated_decisions.exist: unknown field (did you mean `exists`?)"),
    (("provision: La fourniture", "provision: {requirment: statutory}\n    notes: La fourniture"),
     "shop.yaml:26: activities[1].provision.requirment: unknown field (did you mean `requirement`?)"),
    (("automated_means: true", "automated_means: often"),
     "shop.yaml:22: activities[0].automated_means: expected true or false"),
])
def test_a_wrong_value_names_file_line_and_field(change: tuple[str, str], expected: str) -> None:
    # A missing `text` may be reported beside its typo: at most two problems, the expected one among them.
    found = problems_of(FULL.replace(*change))
    assert expected in found and len(found) <= 2, found
