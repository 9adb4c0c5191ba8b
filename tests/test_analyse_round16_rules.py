"""Issue 16, round 16: one test per rule written from the kinds of Art. 13/14 elements the blind sets'
summary says are missed (their texts and labels were not read), each on a text of its own: where data
not obtained from the person comes from, withdrawal said without the word, the duty to provide data and
what it is not, automated decisions described or denied, a company's letterhead, a page's footer,
rights named by what they give, plain texts headed by numbered lines or lines in capitals.
"""

from __future__ import annotations

import pytest

from garde.analyse.readers import read_bytes
from garde.analyse.report import analyse
from tests.test_analyse_round7_rules import elements

# -- Art. 14(2)(f): another party handing the data over ------------------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("When a landlord asks us to manage a property, the landlord passes your tenancy file to us.", "en"),
    ("If you registered through a reseller, the reseller sends us your name and your billing address.", "en"),
    ("Le montant de vos droits nous est communiqué par la caisse de retraite chaque trimestre.", "fr"),
    ("Votre dossier peut aussi nous être transmis par votre ancien bailleur.", "fr"),
    ("Se prenota tramite un portale, il portale ci trasmette il suo nome e il suo numero.", "it"),
    ("I dati catastali li ricaviamo dalle visure dell'Agenzia delle Entrate.", "it"),
])
def test_a_source_said_as_what_the_other_party_does(text: str, language: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)["source_of_data"]


@pytest.mark.parametrize(("text", "language"), [
    ("Tell us if you would rather we did not share your details with our partners.", "en"),
    ("Les données que vous nous communiquez servent à traiter votre demande.", "fr"),
    ("I dati che ci comunica servono a rispondere alla sua richiesta.", "it"),
])
def test_what_the_person_gives_is_no_other_source(text: str, language: str) -> None:
    assert not elements(text, language)["source_of_data"]


def test_a_registers_origin_column_states_the_source() -> None:
    """Seen failing: a register's "Origine des données" cells were read as no element."""
    tsv = ("Traitement\tFinalités\tOrigine des données\tDurée de conservation\n"
           "Paie\tVerser les salaires\tSalariés ; organismes sociaux\t5 ans\n"
           "Recrutement\tChoisir les candidats\tSites d'emploi\t2 ans\n")
    result = analyse(read_bytes(tsv.encode(), ".tsv", "registre.tsv"), "fr").art13["source_of_data"]
    assert result.present and result.evidence == "Salariés ; organismes sociaux"


# -- Art. 7(3): withdrawal without the word ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("Reminders are sent with your consent, and you can stop them whenever you like.", "en"),
    ("Every newsletter has an unsubscribe link at the bottom.", "en"),
    ("You can change your cookie settings at any time from the page footer.", "en"),
    ("Vous pouvez revenir sur votre choix à tout moment depuis votre compte.", "fr"),
    ("Le inviamo offerte solo con il suo consenso e può opporsi in qualsiasi momento a questi invii.", "it"),
])
def test_withdrawal_said_without_the_word(text: str, language: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)["withdraw_consent"]


def test_stopping_a_use_in_a_rights_list_is_an_objection_not_a_withdrawal() -> None:
    found = elements("You have the right to ask us to stop using your data for our legitimate interests.")
    assert found["right_objection"] and not found["withdraw_consent"]


# -- Art. 13(2)(e): the duty to provide data, and what is not it ---------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("If you do not tell us about your allergies we could not serve you safely.", "en"),
    ("If any of them is missing we will have to postpone the booking.", "en"),
    ("Les champs marqués sont indispensables : à défaut, nous ne pourrons pas ouvrir votre compte.", "fr"),
])
def test_the_consequence_of_not_providing_data(text: str, language: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)["statutory_or_contractual_requirement"]


@pytest.mark.parametrize(("text", "language"), [
    ("Les vaccinations obligatoires sont vérifiées à l'admission de l'enfant.", "fr"),
    ("Le istruzioni obbligatorie per la preparazione all'esame sono sul foglio di prenotazione.", "it"),
    ("Wearing a helmet is compulsory on every ride.", "en"),
])
def test_an_obligation_to_do_something_else_is_no_duty_to_provide_data(text: str, language: str) -> None:
    """Seen failing: every case ("obligatoire" alone was the element)."""
    assert not elements(text, language)["statutory_or_contractual_requirement"]


@pytest.mark.parametrize(("text", "language"), [
    ("Providing your e-mail address is mandatory.", "en"),
    ("Les champs obligatoires sont signalés dans le formulaire.", "fr"),
    ("Il nome e il numero di telefono sono obbligatori.", "it"),
])
def test_an_obligation_to_provide_data_still_counts(text: str, language: str) -> None:
    assert elements(text, language)["statutory_or_contractual_requirement"]


# -- Art. 13(2)(f), 22: automated decisions described or denied ----------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("No decision about your claim is made by a computer on its own.", "en"),
    ("The system never rejects an application on its own: an adviser reviews every one.", "en"),
    ("Our software gives each application a score from your income and your credit file.", "en"),
    ("Aucune candidature n'est écartée par le logiciel seul : un consultant lit chaque dossier.", "fr"),
    ("Nessuna domanda viene respinta dal sistema da solo: un operatore esamina ogni pratica.", "it"),
])
def test_automated_decisions_described_or_denied(text: str, language: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)["automated_decisions"]


def test_a_decision_and_a_system_are_not_enough() -> None:
    found = elements("Our booking system records the decision you make about your seat.")
    assert not found["automated_decisions"]


# -- the controller's identity in a letterhead, a footer, a register's cell ----------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("Birchwood Veterinary Surgery LLP · 2 Mill Road, Ely · 01353 555 210\n\nWe keep your pet's records.",
     "en"),
    ("Studio Verdi S.r.l. – via Roma 3, Parma – info@studioverdi.example\n\nTrattiamo i dati dei clienti.",
     "it"),
])
def test_a_letterhead_names_the_controller(text: str, language: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)["controller_identity"]


def test_a_pages_footer_statement_is_read() -> None:
    """A page-level footer's sentence naming who runs the site is read; its menus are not (seen
    failing: the footer was left out whole)."""
    page = ("<html><body><main><h1>Privacy</h1><p>We use your e-mail to send the newsletter.</p></main>"
            "<footer><ul><li><a href='/c'>Contact us</a></li></ul>"
            "<p>Larkspur Books is a trading name of Larkspur Retail Limited, registered in England and Wales "
            "no. 08123456.</p></footer></body></html>")
    document = read_bytes(page.encode(), ".html", "page.html")
    assert any("Larkspur Retail Limited" in b.text for b in document.blocks)
    assert not any(b.text == "Contact us" for b in document.blocks)
    assert analyse(document, "en").art13["controller_identity"].present


# -- rights named by what they give --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language", "element"), [
    ("Your rights: you can download your account data as a CSV file.", "en", "right_portability"),
    ("You have the right to receive the information you gave us in a format you can take to another bank.",
     "en", "right_portability"),
    ("Your rights: if something we hold is wrong, tell us and we will put it right.", "en",
     "right_rectification"),
    ("Your rights: you can ask what we hold about you.", "en", "right_access"),
    ("Your rights: you can ask us to stop using your details.", "en", "right_objection"),
])
def test_a_right_named_by_what_it_gives(text: str, language: str, element: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)[element]


# -- plain texts' headings -----------------------------------------------------------------------------------


def test_numbered_lines_standing_alone_head_a_plain_texts_sections() -> None:
    """ "7. Qui reçoit vos données" over its paragraph heads the recipients' section (seen failing: the
    numbered line was a list item, the paragraph under no heading)."""
    text = ("Politique de confidentialité\n\n1. Données traitées\nVos nom et adresse.\n\n"
            "2. Qui reçoit vos données\nNotre comptable et notre banque.\n")
    assert elements(text, "fr")["recipients"]


def test_lines_in_capitals_over_their_text_head_sections() -> None:
    """Known sections headed in capitals, the text on the next line: the others in capitals head
    sections too (seen failing: "WHO RECEIVES IT" stayed a sentence of its paragraph)."""
    text = ("PRIVACY AT THE CLUB\n\nHOW LONG WE KEEP IT\nTwo years after you leave.\n\n"
            "WHO RECEIVES IT\nThe county federation and our insurer.\n\n"
            "YOUR RIGHTS\nYou can ask for a copy of your record.\n")
    assert elements(text, "en")["recipients"]


# -- a supplier's country in a recipients sentence, safeguards without "transfer", recipients --------------


@pytest.mark.parametrize(("text", "language"), [
    ("Our booking software is supported from India by the supplier's engineers.", "en"),
    ("Le support technique de notre logiciel est assuré depuis le Maroc.", "fr"),
])
def test_a_suppliers_country_outside_the_eea(text: str, language: str) -> None:
    """Seen failing: both cases."""
    assert elements(text, language)["transfers_outside_eea"]


@pytest.mark.parametrize(("text", "language"), [
    ("Where a supplier holds data in the United States we rely on the UK-US data bridge.", "en"),
    ("Our host in the United States is covered by the UK's adequacy regulations.", "en"),
])
def test_safeguards_named_without_transfer(text: str, language: str) -> None:
    """Seen failing: both cases."""
    assert elements(text, language)["transfer_safeguards"]


def test_data_that_can_be_communicated_to_others_names_recipients() -> None:
    """Seen failing."""
    assert elements("Your details can be communicated to the county federation.")["recipients"]


def test_no_decision_without_a_person_looking_at_it() -> None:
    """Seen failing."""
    assert elements("No decision is taken without a person looking at it.")["automated_decisions"]
