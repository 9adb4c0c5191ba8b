"""Issue 16, round 8: one test per rule written from the kinds of misses the sixth blind set's
summary named (its texts were not read), each on a text of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.analyse.activities import Activity, extract_activities
from garde.analyse.document import from_text
from garde.analyse.readers import read
from tests.heldout3_documents import parse, write_pdf
from tests.test_analyse_round7_rules import assert_verbatim, elements, pairs


def named_pairs(activities: list[Activity]) -> set[tuple[str, str | None, str]]:
    return {(a.purpose.rstrip(" ;,."), a.name, basis) for a in activities for basis in a.legal_bases}


# -- a purpose's section followed by a "Legal basis" heading --------------------------------------

SECTIONS_WITH_BASIS_HEADINGS = (
    "# How the library uses your information\n\n"
    "## Lending books\n\n"
    "We record the items you borrow and when they are due back.\n\n"
    "{basis} Legal basis\n\n"
    "This is necessary for a task carried out in the public interest.\n\n"
    "## Overdue reminders\n\n"
    "We write to you when an item is overdue.\n\n"
    "{basis} Legal basis\n\n"
    "We do this because you agreed to our membership terms, which are a contract with you.\n\n"
    "## Reading groups\n\n"
    "We keep a list of the members of each reading group.\n\n"
    "{basis} Legal basis\n\n"
    "We only do this with your consent.\n")


@pytest.mark.parametrize("level", ["##", "###"])
def test_a_legal_basis_heading_after_a_purpose_s_heading_is_that_purpose_s(level: str) -> None:
    """Beside the purpose's heading (a PDF's headings all read at one level) or under it."""
    document = from_text(SECTIONS_WITH_BASIS_HEADINGS.format(basis=level))
    activities = extract_activities(document, "en")
    assert pairs(activities) == {("Lending books", "public_task"), ("Overdue reminders", "contract"),
                                 ("Reading groups", "consent")}
    assert_verbatim(document, activities)


def test_one_legal_basis_heading_beside_the_others_is_the_document_s() -> None:
    """Not repeated after each purpose nor under a heading: the page's bases, no one section's."""
    document = from_text(
        "# Privacy at the Mill Theatre\n\n"
        "## About us\n\nThe Mill Theatre Trust runs the theatre and its café.\n\n"
        "## Legal basis\n\nWe rely on our legitimate interests for most of what we do.\n\n"
        "## Tickets\n\nWe use your details to sell you tickets, which is necessary for our contract.\n")
    assert {purpose for purpose, _ in pairs(extract_activities(document, "en"))} == {"Tickets"}


def test_a_legal_basis_heading_after_a_heading_of_the_data_ties_nothing() -> None:
    document = from_text(
        "## Information we collect\n\nYour name, address and library card number.\n\n"
        "## Legal basis\n\nWe rely on your consent.\n")
    assert pairs(extract_activities(document, "en")) == set()


def test_a_section_naming_the_data_is_no_purpose() -> None:
    """A list of the data "strictement nécessaires au remboursement" names a basis cue in passing."""
    document = from_text(
        "## Les données que nous traitons\n\n"
        "Vos nom et adresse, et les données de santé strictement nécessaires au remboursement du "
        "contrat de vos soins.\n\n"
        "## Remboursement\n\n"
        "Nous remboursons vos soins ; ce traitement est nécessaire à l'exécution du contrat.\n")
    assert {purpose for purpose, _ in pairs(extract_activities(document, "fr"))} == {"Remboursement"}


# -- Markdown tables whose basis column is named in plain words ------------------------------------

@pytest.mark.parametrize(("header", "language"), [
    ("| What we do with your data | Why we can |", "en"),
    ("| How we use your details | Lawful reason |", "en"),
    ("| Finalité | Ce qui nous y autorise |", "fr"),
    ("| Finalità | Fondamento |", "it"),
])
def test_a_basis_column_named_in_plain_words(header: str, language: str) -> None:
    document = from_text(
        f"{header}\n|:---|:---|\n"
        "| Run the loyalty scheme | Contract |\n"
        "| Birthday vouchers by post | Legitimate interests; consent |\n")
    activities = extract_activities(document, language)
    assert pairs(activities) == {("Run the loyalty scheme", "contract"),
                                 ("Birthday vouchers by post", "legitimate_interests"),
                                 ("Birthday vouchers by post", "consent")}
    assert_verbatim(document, activities)


# -- a clause's title naming the purpose and its basis ---------------------------------------------

def test_a_clause_title_naming_its_purpose_and_basis_in_capitals() -> None:
    document = from_text(
        "5 HOW WE USE YOUR DATA\n\n"
        "5.1 MEMBERSHIP: CONTRACT\n"
        "We use your details to run your membership and take your fees.\n\n"
        "5.2 CCTV: LEGITIMATE INTERESTS\n"
        "We film the entrance to keep members and staff safe.\n\n"
        "5.3 NEWSLETTER – CONSENT\n")
    activities = extract_activities(document, "en")
    assert named_pairs(activities) == {
        ("We use your details to run your membership and take your fees", "MEMBERSHIP", "contract"),
        ("We film the entrance to keep members and staff safe", "CCTV", "legitimate_interests"),
        ("NEWSLETTER", None, "consent")}
    assert_verbatim(document, activities)


def test_a_title_whose_words_are_a_field_s_label_is_no_purpose() -> None:
    """"Legal basis: Consent" is a field, not a purpose named "Legal basis"."""
    document = from_text("Legal basis: Consent\n\nOur legal basis: legitimate interests\n")
    assert pairs(extract_activities(document, "en")) == set()


# -- elements ---------------------------------------------------------------------------------------

def test_a_processor_naming_its_customer_as_controller_generically_names_no_controller() -> None:
    """"Your employer is the controller" says whose processing it is: the payroll bureau's own name,
    address and e-mail identify no controller (Art. 13(1)(a) is the employer's)."""
    found = elements(
        "Paybridge Ltd, 2 Mill Lane, Derby DE1 1AA, runs payroll for employers.\n\n"
        "Your employer is the controller of your payroll data and decides how it is used. Paybridge "
        "processes it only on your employer's behalf.\n\n"
        "Questions about this page: help@paybridge.example.\n")
    assert not found["controller_identity"] and not found["controller_contact"]


@pytest.mark.parametrize(("text", "language"), [
    ("We do not make decisions about you by automated means alone.", "en"),
    ("Aucune décision entièrement automatisée n'est prise à votre égard.", "fr"),
    ("Nessuna decisione interamente automatizzata viene presa nei suoi confronti.", "it"),
])
def test_no_automated_decision_in_other_words(text: str, language: str) -> None:
    assert elements(text, language)["automated_decisions"]


@pytest.mark.parametrize(("text", "language", "right"), [
    ("## Your rights\n\nYou have the right of access to your data. The right to data portability cannot be "
     "exercised for records we keep by law.", "en", "right_portability"),
    ("## Vos droits\n\nVous disposez d'un droit d'accès à vos données. Le droit à l'effacement ne peut pas "
     "être exercé pour les dossiers que la loi nous impose de conserver.", "fr", "right_erasure"),
    ("## I tuoi diritti\n\nHai il diritto di accesso ai tuoi dati. Il diritto alla portabilità non può "
     "essere esercitato per i dati conservati per legge.", "it", "right_portability"),
])
def test_a_right_said_not_to_be_exercisable_is_not_told(text: str, language: str, right: str) -> None:
    """Art. 13(2)(b) asks the notice to tell a right exists: one said not to apply is not told."""
    found = elements(text, language)
    assert found["right_access"] and not found[right]


def test_a_pdf_purpose_then_legal_basis_headings(tmp_path: Path) -> None:
    path = tmp_path / "library.pdf"
    write_pdf(parse(SECTIONS_WITH_BASIS_HEADINGS.format(basis="##")), path)
    document = read(path)
    assert pairs(extract_activities(document, "en")) == {
        ("Lending books", "public_task"), ("Overdue reminders", "contract"), ("Reading groups", "consent")}


# -- purposes listed, then named again with their bases --------------------------------------------

def test_listed_purposes_named_again_where_the_bases_are_stated() -> None:
    """No letter ties them back: the later sentence's subject names the listed purposes in its own
    words (word forms aside), whole or by its parts."""
    document = from_text(
        "Purposes\n"
        "We use your data for:\n"
        "a) the assessment of your application and the opening of your account;\n"
        "b) the checks required by anti-money laundering law;\n"
        "c) sending offers about our savings products;\n"
        "d) surveys of customer satisfaction.\n\n"
        "Legal bases\n"
        "Assessing applications and opening accounts is necessary for the performance of a contract. "
        "Anti-money laundering checks are necessary to comply with a legal obligation. Offers about "
        "savings products and customer surveys are based on your consent.\n")
    activities = extract_activities(document, "en")
    assert pairs(activities) == {
        ("the assessment of your application and the opening of your account", "contract"),
        ("the checks required by anti-money laundering law", "legal_obligation"),
        ("sending offers about our savings products", "consent"),
        ("surveys of customer satisfaction", "consent")}
    assert_verbatim(document, activities)


def test_a_subject_naming_no_listed_purpose_stays_its_own() -> None:
    document = from_text(
        "Nous traitons vos données pour :\n"
        "a) la gestion de votre abonnement ;\n"
        "b) l'envoi de la lettre d'information.\n\n"
        "La vidéosurveillance du hall repose sur notre intérêt légitime à protéger les locaux.\n")
    activities = extract_activities(document, "fr")
    assert pairs(activities) == {("La vidéosurveillance du hall", "legitimate_interests")}


def test_lines_each_naming_a_purpose_and_its_basis() -> None:
    document = from_text("## How we use your data\n\n"
                         "Orders: contract\nNewsletter: consent\nFraud checks: legitimate interests\n")
    activities = extract_activities(document, "en")
    assert pairs(activities) == {("Orders", "contract"), ("Newsletter", "consent"),
                                 ("Fraud checks", "legitimate_interests")}
    assert_verbatim(document, activities)


def test_a_heading_naming_data_whose_prose_states_a_use_is_a_purpose() -> None:
    document = from_text("## CCTV data\n\nWe record images of the car park to keep it safe, in our "
                         "legitimate interests.\n")
    assert pairs(extract_activities(document, "en")) == {("CCTV data", "legitimate_interests")}


@pytest.mark.parametrize(("header", "language"), [
    ("| Cosa facciamo con i tuoi dati | Perché possiamo farlo |", "it"),
    ("| Ce que nous faisons de vos données | Pourquoi nous en avons le droit |", "fr"),
])
def test_a_basis_header_holding_a_purpose_s_word_is_the_basis_column(header: str, language: str) -> None:
    """"Perché possiamo farlo" names the basis: its "perché" is no purpose column's word."""
    document = from_text(f"{header}\n|---|---|\n"
                         "| Creare il tuo profilo | Contratto |\n| Newsletter | Consenso |\n")
    assert pairs(extract_activities(document, language)) == {("Creare il tuo profilo", "contract"),
                                                             ("Newsletter", "consent")}
