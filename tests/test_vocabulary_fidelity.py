"""The vocabulary's labels say exactly what a term means: a document printing a label must not
say more than the register (a service provider is not thereby a processor), nor less."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from garde.documents import export_register
from garde.register import load_register
from garde.taxonomy import load_vocabulary

VOCABULARY = load_vocabulary()
REGISTERS = Path(__file__).parents[1] / "registers"


def test_a_service_provider_is_not_labelled_a_processor() -> None:
    term = VOCABULARY.get("recipients", "service_providers")
    assert term is not None
    for lang in ("fr", "en", "it"):
        label = term.label(lang).casefold()
        assert "sous-traitant" not in label and "processor" not in label and "responsabil" not in label
    assert term.dpv is None  # a service provider may be a controller or a processor


def test_the_seed_service_providers_are_not_printed_as_processors() -> None:
    # Seed 004 says "sociétés externes dont nous louons les services": nothing about Art. 28.
    register = load_register(REGISTERS / "deskmanager.yaml")
    rows = list(csv.DictReader(io.StringIO(export_register(register, "csv", "fr",
                                                           today=date(2025, 3, 14)).decode("utf-8"))))
    recipients = " ".join(row["Destinataires"] for row in rows)
    assert "Prestataires de services" in recipients
    assert "Sous-traitants" not in recipients and "(sous-traitants)" not in recipients


def test_processors_are_their_own_kind() -> None:
    term = VOCABULARY.resolve("recipients", "Sous-traitants")
    assert term is not None and term.id == "processors" and term.dpv == "dpv:DataProcessor"
    assert VOCABULARY.resolve("recipients", "Prestataires de services").id == "service_providers"  # type: ignore[union-attr]


@pytest.mark.parametrize(("words", "expected"), [
    ("Douanes", "customs"),
    ("Customs", "customs"),
    ("Administration fiscale", "tax_authorities"),
    ("Commissaires aux comptes", "auditors"),
    ("Avocats", "legal_advisers"),
    ("Partenaires commerciaux", "business_partners"),
    ("Régies publicitaires", "marketing_partners"),
])
def test_a_recipient_wording_is_read_as_the_kind_it_names(words: str, expected: str) -> None:
    term = VOCABULARY.resolve("recipients", words)
    assert term is not None and term.id == expected


def test_recipient_labels_do_not_join_two_kinds_the_vocabulary_tells_apart() -> None:
    lawyers = VOCABULARY.get("recipients", "legal_advisers")
    tax = VOCABULARY.get("recipients", "tax_authorities")
    assert lawyers is not None and tax is not None
    assert "auditor" not in lawyers.label("en").casefold()
    assert "commissaire" not in lawyers.label("fr").casefold()
    assert "custom" not in tax.label("en").casefold() and "douane" not in tax.label("fr").casefold()


@pytest.mark.parametrize(("kind", "term_id", "dpv", "fideslang"), [
    ("subjects", "minor", "dpv:Child", None),
    ("subjects", "citizen", "dpv:Citizen", None),
    ("subjects", "public_service_user", "dpv:User", None),
    ("subjects", "student", "dpv:Student", None),
    ("subjects", "patient", "dpv:Patient", "patient"),
    ("subjects", "family_member", None, "next_of_kin"),
    ("subjects", "tenant", None, None),  # DPV 2.x and fideslang have no tenant
    ("subjects", "landlord", None, None),
    ("categories", "identity.national_id", "pd:OfficialID",
     "user.government_id.national_identification_number"),
    ("categories", "online.device_settings", "pd:DeviceBased", "user.device"),
    ("categories", "communication.ai_prompt", None, "user.content"),
    ("categories", "case_file", None, None),
])
def test_terms_real_registers_need(kind: str, term_id: str, dpv: str | None, fideslang: str | None) -> None:
    term = VOCABULARY.get(kind, term_id)
    assert term is not None, f"{kind}:{term_id} is missing"
    assert (term.dpv, term.fideslang) == (dpv, fideslang)


@pytest.mark.parametrize(("words", "expected"), [
    ("NIR", "identity.national_id"),
    ("Codice fiscale", "identity.national_id"),
    ("Usagers", "public_service_user"),
    ("Locataires", "tenant"),
    ("Inquilini", "tenant"),
])
def test_national_wordings_resolve(words: str, expected: str) -> None:
    kind = "categories" if "." in expected else "subjects"
    term = VOCABULARY.resolve(kind, words)
    assert term is not None and term.id == expected


def test_a_national_identification_number_is_marked_for_national_rules() -> None:
    term = VOCABULARY.get("categories", "identity.national_id")
    assert term is not None and term.extra["national_rules"] == "GDPR Art. 87"
