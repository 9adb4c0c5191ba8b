"""The general rules of the analyser's third round (issue 16), each on a text of its own, with the
edges that must NOT trigger them (docs/analyse-activities.md, docs/analyse.md)."""

from __future__ import annotations

from pathlib import Path

from garde.analyse.activities import extract_activities
from garde.analyse.art13 import detect_elements
from garde.analyse.cues import named_pattern
from garde.analyse.document import from_text
from garde.analyse.draft import draft_register
from garde.analyse.passages import passages
from garde.analyse.report import analyse
from garde.register.loading import parse_register


def pairs(text: str, language: str = "en") -> set[tuple[str, tuple[str, ...]]]:
    return {(a.purpose, a.legal_bases) for a in extract_activities(from_text(text, "n.md"), language)
            if a.role == "controller"}


def test_one_sentence_two_purposes_each_with_its_basis() -> None:
    text = ("# How we use your data\n\nWe use your address to deliver your orders, based on our contract "
            "with you, and to send you our catalogue, based on our legitimate interest in promoting our "
            "products.\n")
    assert pairs(text) == {("We use your address to deliver your orders", ("contract",)),
                           ("to send you our catalogue", ("legitimate_interests",))}


def test_two_bases_of_one_purpose_stay_together() -> None:
    """No words of its own after "and for": a second basis of the same purpose, not a new purpose."""
    text = ("# How we use your data\n\nWe keep your invoices on the basis of our contract and for compliance "
            "with our legal obligations.\n")
    assert [bases for _, bases in pairs(text)] == [("contract", "legal_obligation")]


def test_a_hedge_keeps_both_bases_and_is_a_finding() -> None:
    text = ("We may rely on our legitimate interests or on your consent to show you recommendations on "
            "our website.\n")
    assert pairs(text) == {(text.strip(), ("legitimate_interests", "consent"))}
    analysis = analyse(from_text(text, "n.md"), "en")
    assert [f.code for f in analysis.findings] == ["GA006"]
    assert analysis.findings[0].evidence in text
    document = from_text(text, "n.md")
    draft = draft_register(document, extract_activities(document, "en"), "en")
    assert "# the document offers «our legitimate interests» or «your consent»" in draft
    assert "basis: legitimate_interests" in draft and "basis: consent" in draft


def test_two_bases_for_two_purposes_are_no_hedge() -> None:
    text = ("We use your e-mail address to confirm your orders, based on our contract, and to send you our "
            "newsletter, based on your consent.\n")
    assert [f.code for f in analyse(from_text(text, "n.md"), "en").findings] == []


def test_a_hedge_in_a_basis_cell_is_a_finding() -> None:
    text = "| Purpose | Legal basis |\n|---|---|\n| Analytics | Consent or legitimate interests |\n"
    assert [f.code for f in analyse(from_text(text, "r.md"), "en").findings] == ["GA006"]


PROCESSOR = """# Privacy notice

## When we are the controller

We use the e-mail addresses of our customers' administrators to bill their subscription, on the
basis of our contract.

## When we act as a processor

- hosting our customers' files, on the basis of our service contract;
- sending their newsletters.
"""


def test_a_processor_section_s_processing_has_no_basis_and_is_drafted_as_a_processor_s() -> None:
    document = from_text(PROCESSOR, "n.md")
    activities = extract_activities(document, "en")
    roles = {a.purpose: (a.role, a.legal_bases) for a in activities}
    assert roles["hosting our customers' files, on the basis of our service contract;"] == ("processor", ())
    assert roles["sending their newsletters."] == ("processor", ())
    assert [a.legal_bases for a in activities if a.role == "controller"] == [("contract",)]
    # issue 16, round 13: drafted as `role: processor` activities of the Art. 30(2) record, no basis
    register = parse_register(draft_register(document, activities, "en")).register
    drafted = {a.name: a for a in register.as_processor()}
    assert drafted["sending their newsletters."].legal_bases == []
    assert drafted["sending their newsletters."].purposes == ["sending their newsletters."]
    assert [a.bases() for a in register.as_controller()] == [{"contract"}]


def test_on_behalf_of_customers_in_a_purpose_section_is_a_processor_s() -> None:
    text = ("# How we use data\n\nWe store the documents our customers upload, on behalf of our customers "
            "and on the basis of our contract with them.\n\nWe send you invoices, on the basis of our "
            "contract.\n")
    activities = extract_activities(from_text(text, "n.md"), "en")
    assert [(a.role, a.legal_bases) for a in activities] == [("processor", ()), ("controller", ("contract",))]


def test_a_heading_naming_the_controller_or_its_processors_is_no_processor_section() -> None:
    for heading in ("We as the controller, and as a processor", "Our processors"):
        text = f"# Notice\n\n## {heading}\n\n- Orders, on the basis of our contract.\n"
        assert [a.role for a in extract_activities(from_text(text, "n.md"), "en")] == ["controller"]


def test_a_role_column_naming_the_processor_routes_its_rows() -> None:
    text = ("| Finalità | Base giuridica | Ruolo |\n|---|---|---|\n"
            "| Fatturazione dei canoni | Obbligo legale | Titolare |\n"
            "| Conservazione delle fatture dei Clienti | Contratto | Responsabile |\n")
    activities = extract_activities(from_text(text, "r.md"), "it")
    assert [(a.purpose, a.role, a.legal_bases) for a in activities] == [
        ("Fatturazione dei canoni", "controller", ("legal_obligation",)),
        ("Conservazione delle fatture dei Clienti", "processor", ())]


def test_public_bodies_and_we_named_identify_the_controller() -> None:
    for text in ("Harlow Vale County Council issues parking permits.",
                 "The University of Eastbrook keeps in touch with its alumni.",
                 "Il Comune di Roccalta gestisce la biblioteca.",
                 "L'Université de Val-de-Loire attribue des bourses.",
                 "We, Pebblenote, make a note-taking app.",
                 "Nous, la librairie Les Deux Rives, vendons des livres.",
                 'Pebblenote ("we", "us") makes a note-taking app.',
                 "Bottega Sarti (“noi”) vende ceramiche."):
        element = detect_elements(passages(from_text(text + "\n", "n.txt")))["controller_identity"]
        assert element.present and element.evidence in text, text


def test_names_need_their_capitals_and_their_setting() -> None:
    council = named_pattern("{Name} Council")
    assert council.search("The Council meets monthly.") is None
    assert council.search("the council said so") is None
    assert named_pattern("We, {Name},").search("We, the undersigned, agree.") is None
    assert named_pattern("Comune di {Name}").search("il tuo comune di residenza") is None


def test_the_structures_documents_are_in_their_folder() -> None:
    folder = Path(__file__).parent / "data" / "analyse" / "structures"
    assert sum(len(list(folder.glob(f"*.{kind}"))) for kind in ("md", "txt", "html")) == 10
