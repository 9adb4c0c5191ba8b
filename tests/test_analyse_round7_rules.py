"""Issue 16, round 7: one test per rule written from the kinds of misses the fifth blind set's
summary named (its texts were not read), each on a text of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from garde.analyse.activities import Activity, extract_activities
from garde.analyse.art13 import detect_elements
from garde.analyse.cues import PLACEHOLDER_DURATION
from garde.analyse.document import Document, from_text
from garde.analyse.passages import passages
from garde.analyse.readers import read
from garde.analyse.report import analyse
from tests.heldout3_documents import parse, write_pdf


def pairs(activities: list[Activity]) -> set[tuple[str, str]]:
    return {(a.purpose.rstrip(" ;,."), basis) for a in activities for basis in a.legal_bases}


def assert_verbatim(document: Document, activities: list[Activity]) -> None:
    for activity in activities:
        for evidence in activity.evidence:
            assert document.text[evidence.start:evidence.start + len(evidence.excerpt)] == evidence.excerpt


def test_purposes_lettered_then_bases_tied_back_by_their_letters() -> None:
    document = from_text(
        "## What we use your details for\n\n"
        "a) running your membership;\n"
        "b) keeping the accounts the law asks us to keep;\n"
        "c) sending you our events bulletin;\n"
        "d) filming matches to show on our website.\n\n"
        "## Legal bases\n\n"
        "For purposes a) and b) we rely on the membership contract. Purpose c) is based on your consent. "
        "For d) the basis is our legitimate interest in promoting the club.\n")
    activities = extract_activities(document, "en")
    assert pairs(activities) == {
        ("running your membership", "contract"), ("keeping the accounts the law asks us to keep", "contract"),
        ("sending you our events bulletin", "consent"),
        ("filming matches to show on our website", "legitimate_interests")}
    # no sentence of the bases section is a purpose of its own
    assert not [a for a in activities if a.purpose.startswith(("For ", "Purpose "))]
    assert_verbatim(document, activities)


def test_a_range_of_letters_and_a_basis_stated_before_the_reference() -> None:
    document = from_text(
        "Finalità del trattamento:\n"
        "a) gestione delle prenotazioni;\n"
        "b) emissione delle fatture;\n"
        "c) assistenza ai clienti;\n"
        "d) invio di offerte promozionali.\n\n"
        "Il trattamento per le finalità di cui alle lettere da a) a c) si basa sull'esecuzione del "
        "contratto. Trattiamo i dati sulla base del Suo consenso per la finalità di cui alla lettera d).\n")
    activities = extract_activities(document, "it")
    assert pairs(activities) == {
        ("gestione delle prenotazioni", "contract"), ("emissione delle fatture", "contract"),
        ("assistenza ai clienti", "contract"), ("invio di offerte promozionali", "consent")}
    assert_verbatim(document, activities)


def test_numbered_points_referred_to_after_a_noun() -> None:
    document = from_text(
        "Nous pouvons organiser :\n\n"
        "1. des enquêtes auprès de nos adhérents ;\n"
        "2. un tirage au sort annuel ;\n"
        "3. des ateliers de découverte.\n\n"
        "Les données collectées aux fins visées aux points 1 et 3 sont traitées sur le fondement de "
        "notre intérêt légitime à connaître l'avis des adhérents. Celles collectées aux fins visées au "
        "point 2 sont traitées avec votre consentement.\n")
    activities = extract_activities(document, "fr")
    assert pairs(activities) == {
        ("des enquêtes auprès de nos adhérents", "legitimate_interests"),
        ("un tirage au sort annuel", "consent"),
        ("des ateliers de découverte", "legitimate_interests")}
    assert_verbatim(document, activities)


def test_a_letter_of_the_law_s_own_citation_is_no_reference() -> None:
    """"art. 6, par. 1, lett. b) GDPR" names a point of the Regulation, not purpose b) of the list."""
    document = from_text(
        "Finalità:\n"
        "a) gestione del contratto;\n"
        "b) invio della newsletter.\n\n"
        "Per la finalità a) la base giuridica è l'art. 6, par. 1, lett. b) del GDPR (esecuzione del "
        "contratto).\n")
    activities = extract_activities(document, "it")
    assert ("invio della newsletter", "contract") not in pairs(activities)
    assert ("gestione del contratto", "contract") in pairs(activities)


def test_bases_tied_respectively_in_one_sentence() -> None:
    document = from_text(
        "## Legal bases\n\n"
        "La gestione dei tesseramenti e la videosorveglianza della palestra si basano, rispettivamente, "
        "sul contratto e sul nostro legittimo interesse alla sicurezza.\n\n"
        "We process your data to deliver your orders and to send you our catalogue, based respectively "
        "on the contract and on your consent.\n")
    activities = extract_activities(document, "it") + extract_activities(document, "en")
    found = pairs(activities)
    assert ("La gestione dei tesseramenti", "contract") in found
    assert ("la videosorveglianza della palestra", "legitimate_interests") in found
    assert ("to deliver your orders", "contract") in found
    assert ("to send you our catalogue", "consent") in found
    assert ("La gestione dei tesseramenti", "legitimate_interests") not in found
    assert_verbatim(document, activities)


def test_numbered_clauses_each_hold_a_purpose_and_its_basis() -> None:
    document = from_text(
        "# Terms of service\n\n"
        "## 7. Personal data\n\n"
        "7.1 The Supplier uses the Customer's contact details to provide the support service; this is "
        "necessary for the performance of the contract.\n\n"
        "7.2 The Supplier keeps invoices for six years because it is required to do so by law; this "
        "processing is necessary to comply with a legal obligation.\n")
    activities = extract_activities(document, "en")
    assert [a.legal_bases for a in activities] == [("contract",), ("legal_obligation",)]
    assert activities[0].purpose.startswith("7.1 The Supplier uses")
    assert_verbatim(document, activities)


ROWSPAN = """<table>
<tr><th>Purpose</th><th>Lawful basis</th><th>Retention</th></tr>
<tr><td>Taking bookings</td><td rowspan="2">Contract</td><td>2 years</td></tr>
<tr><td>Taking payments</td><td>6 years</td></tr>
<tr><td>Newsletter</td><td>Consent</td><td>Until you unsubscribe</td></tr>
</table>"""


def test_a_basis_cell_spanning_rows_is_each_row_s(tmp_path: Path) -> None:
    path = tmp_path / "register.html"
    path.write_text(ROWSPAN, encoding="utf-8")
    document = read(path)
    activities = extract_activities(document, "en")
    assert [(a.purpose, a.legal_bases) for a in activities] == [
        ("Taking bookings", ("contract",)), ("Taking payments", ("contract",)), ("Newsletter", ("consent",))]
    # the row's own cells keep their columns: the second row's retention is its own
    assert activities[1].retention is not None and activities[1].retention.text == "6 years"
    assert_verbatim(document, activities)


@pytest.mark.parametrize("text", ["kept for XXX years", "conservées [X] ans", "conservati per __ mesi",
                                  "kept for [number] months", "kept for … years"])
def test_a_placeholder_period_is_no_retention(text: str) -> None:
    assert PLACEHOLDER_DURATION.search(text)
    document = from_text(f"We keep your booking records: they are {text} after your last visit.\n")
    assert not detect_elements(passages(document))["retention"].present


@pytest.mark.parametrize("text", ["kept for 6 years", "kept for six years", "Box 12 years"])
def test_a_period_in_figures_or_words_is_no_placeholder(text: str) -> None:
    assert not PLACEHOLDER_DURATION.search(text)


def elements(text: str, language: str = "en") -> dict[str, bool]:
    return {name: element.present for name, element in analyse(from_text(text), language).art13.items()}


def test_a_notice_speaking_only_as_a_processor_names_no_controller() -> None:
    """Art. 13(1)(a)-(b) are the controller's: a booking platform's own name, address and e-mail, in a
    notice about what it does for the gyms it serves, identify no controller."""
    found = elements(
        "Kitebook Ltd runs the booking pages of climbing gyms and processes your data on behalf of the "
        "gym you book with, as a processor for its customers.\n\n"
        "We store your name, email address and the sessions you booked.\n\n"
        "Kitebook Ltd, 4 Dock Street, Hull HU1 3AA, company number 11112222. Questions: "
        "hello@kitebook.example.\n")
    assert not found["controller_identity"] and not found["controller_contact"]


def test_a_processor_that_is_also_a_controller_keeps_its_identity() -> None:
    found = elements(
        "Kitebook Ltd is the data controller of the accounts gyms open with us.\n\n"
        "When members book a session, we process their data on behalf of our customers.\n\n"
        "Contact us at hello@kitebook.example.\n")
    assert found["controller_identity"] and found["controller_contact"]


def test_a_register_s_header_fields_run_on_in_one_line() -> None:
    """A PDF joins a register's header lines: "Controller: ... Contact: ... Data Protection Officer: ..."."""
    found = elements(
        "Controller: Tarnbeck Veterinary Partnership, 2 Lake Road, Ambleside LA22 0AD. Contact: "
        "reception@tarnbeck.example. Data Protection Officer: Ann Hale, dpo@tarnbeck.example.\n")
    assert found["controller_identity"] and found["controller_contact"] and found["dpo_contact"]


@pytest.mark.parametrize("text", [
    "Our payment provider handles card payments and our mailing house posts the newsletter.",
    "Gift Aid claims are sent to HM Revenue and Customs once a month.",
    "Les déclarations sont transmises à l'administration fiscale chaque année.",
])
def test_recipients_named_without_the_word(text: str) -> None:
    assert elements(text + "\n", "fr" if "déclarations" in text else "en")["recipients"]


def test_a_kind_of_recipient_named_with_no_passing_on_is_no_recipients_statement() -> None:
    assert not elements("We are a payment provider based in Leeds.\n")["recipients"]


MERGED_PDF = """| Purpose | Lawful basis | Retention |
| Booking appointments | Contract | 2 years |
| Keeping treatment notes | ^ | 8 years |
| Taking payments | ^ | 6 years |
| Reporting to the regulator | Legal obligation | 5 years |
| Sending reminders | Consent | Until withdrawn |
"""


def test_a_pdf_basis_cell_merged_over_rows_is_each_row_s(tmp_path: Path) -> None:
    """A PDF draws a merged cell once, in its first row: the rows under it, blank in that column, share it."""
    path = tmp_path / "register.pdf"
    write_pdf(parse(MERGED_PDF), path)
    document = read(path)
    activities = extract_activities(document, "en")
    assert [a.legal_bases for a in activities] == [
        ("contract",), ("contract",), ("contract",), ("legal_obligation",), ("consent",)]
    assert_verbatim(document, activities)


def test_a_pdf_basis_column_left_blank_from_some_row_on_stays_blank(tmp_path: Path) -> None:
    path = tmp_path / "register.pdf"
    write_pdf(parse(MERGED_PDF.replace("| Legal obligation |", "| |").replace("| Consent |", "| |")), path)
    activities = extract_activities(read(path), "en")
    assert [a.legal_bases for a in activities][3:] == [(), ()]


ORDERED = """<h2>Why we use your data</h2>
<p>We use your personal data for the following purposes:</p>
<ol type="a"><li>managing your season ticket;</li><li>selling match tickets online;</li>
<li>sending you the club newsletter;</li><li>keeping the stadium safe with CCTV.</li></ol>
<h2>What you can choose</h2>
<ul><li>your seat</li><li>your payment method</li></ul>
<h2>Legal bases</h2>
<p>Purposes (a) and (b) are necessary for the performance of our contract with you. Purpose (c) is based
on your consent. Purpose (d) rests on our legitimate interest in the safety of spectators, as
Art. 6(1)(f) allows.</p>"""


def test_letters_the_format_draws_answer_to_the_items_in_order(tmp_path: Path) -> None:
    """An HTML <ol> (or Word's numbering) draws its letters: the n-th item is purpose (n)."""
    path = tmp_path / "notice.html"
    path.write_text(ORDERED, encoding="utf-8")
    document = read(path)
    activities = extract_activities(document, "en")
    assert pairs(activities) == {
        ("managing your season ticket", "contract"), ("selling match tickets online", "contract"),
        ("sending you the club newsletter", "consent"),
        ("keeping the stadium safe with CCTV", "legitimate_interests")}
    assert_verbatim(document, activities)


def test_a_list_not_introduced_as_purposes_answers_to_no_letter() -> None:
    document = from_text("## Your choices\n\n- your seat\n- your payment method\n\n"
                         "## Legal bases\n\nFor purposes (a) and (b) we rely on the contract.\n")
    purposes = [a.purpose for a in extract_activities(document, "en")]
    assert "your seat" not in purposes and "your payment method" not in purposes


def test_respectively_after_the_bases() -> None:
    document = from_text("Your data is processed for marketing and analytics purposes, on the basis of your "
                         "consent and our legitimate interests respectively.\n")
    activities = extract_activities(document, "en")
    assert pairs(activities) == {("for marketing", "consent"), ("analytics purposes", "legitimate_interests")}
    assert_verbatim(document, activities)


def test_items_introduced_by_a_use_answer_to_their_numbers() -> None:
    document = from_text("We use your information to:\n\n- run your loyalty account;\n- send you offers by "
                         "email.\n\nPurpose 1 is necessary for the performance of our contract with you; "
                         "purpose 2 is based on your consent.\n")
    activities = extract_activities(document, "en")
    assert pairs(activities) == {("run your loyalty account", "contract"),
                                 ("send you offers by email", "consent")}


def test_a_table_s_purpose_cell_naming_listed_purposes_by_letter() -> None:
    document = from_text(
        "Finalità del trattamento:\n"
        "a) gestione delle iscrizioni ai corsi;\n"
        "b) fatturazione delle quote;\n"
        "c) invio della newsletter.\n\n"
        "| Finalità | Base giuridica |\n|---|---|\n| a) e b) | Esecuzione del contratto |\n"
        "| c) | Consenso |\n")
    activities = extract_activities(document, "it")
    assert pairs(activities) == {
        ("gestione delle iscrizioni ai corsi", "contract"), ("fatturazione delle quote", "contract"),
        ("invio della newsletter", "consent")}
    assert_verbatim(document, activities)


def test_numbers_in_parentheses_after_a_noun() -> None:
    document = from_text(
        "We process your data for these purposes:\n\n(1) handling your claim;\n(2) detecting fraud.\n\n"
        "Purpose (1) is necessary for the performance of your insurance contract. Purpose (2) relies on "
        "our legitimate interest in preventing fraudulent claims.\n")
    activities = extract_activities(document, "en")
    assert pairs(activities) == {("handling your claim", "contract"),
                                 ("detecting fraud", "legitimate_interests")}
