"""Issue 16, round 12: one test per rule written from the kinds of layout the tenth blind set's summary
named (its texts and labels were not read), each on a text of its own: sections headed by lines in
capitals, run-in bold labels, subjects pointing back to their heading, headings naming only the
processing, an Art. 9 condition's consent, and bases in other words.
"""

from __future__ import annotations

import io

import docx
import pytest

from garde.analyse.activities import extract_activities
from garde.analyse.document import Document, from_text
from garde.analyse.readers import read_bytes
from tests.test_analyse_round7_rules import assert_verbatim, elements, pairs


def _pairs(document: Document, language: str) -> set[tuple[str, str]]:
    activities = extract_activities(document, language)
    assert_verbatim(document, activities)
    return pairs(activities)


# -- a plain text headed by lines in capitals ----------------------------------------------------------------

CAPITALS = {
    "en": ("SMALL PRINT FOR MEMBERS\n\nWe are Hollin Rowing Club.\n\nBOAT BOOKINGS\n\nWe record who takes "
           "out each boat; this is necessary for the performance of our membership "
           "contract.\n\nRACE PHOTOGRAPHS\n\nWe publish race photographs only with your consent.\n\n"
           "HOW LONG WE KEEP IT\n\nTwo years after you leave.\n\nYOUR RIGHTS\n\nYou can ask for a copy.\n"),
    "fr": ("MENTIONS POUR LES ADHÉRENTS\n\nNous sommes le club d'aviron de Hollin.\n\nRÉSERVATION DES "
           "BATEAUX\n\nNous notons qui sort chaque bateau, en exécution du contrat d'adhésion.\n\n"
           "PHOTOS DES COURSES\n\nNous publions les photos des courses avec votre consentement.\n\n"
           "DURÉE DE CONSERVATION\n\nDeux ans après votre départ.\n\nVOS DROITS\n\nVous pouvez demander "
           "une copie.\n"),
    "it": ("NOTE PER I SOCI\n\nSiamo il circolo di canottaggio di Hollin.\n\nPRENOTAZIONE DELLE BARCHE\n\n"
           "Annotiamo chi usa ogni barca, per l'esecuzione del contratto associativo.\n\nFOTO DELLE GARE\n\n"
           "Pubblichiamo le foto delle gare solo con il tuo consenso.\n\nPERIODO DI CONSERVAZIONE\n\nDue "
           "anni dopo l'uscita dal circolo.\n\nI TUOI DIRITTI\n\nPuoi chiedere una copia.\n"),
}
FIRST = {"en": ("BOAT BOOKINGS", "contract"), "fr": ("RÉSERVATION DES BATEAUX", "contract"),
         "it": ("PRENOTAZIONE DELLE BARCHE", "contract")}
SECOND = {"en": ("RACE PHOTOGRAPHS", "consent"), "fr": ("PHOTOS DES COURSES", "consent"),
          "it": ("FOTO DELLE GARE", "consent")}


@pytest.mark.parametrize("language", ["en", "fr", "it"])
def test_a_plain_text_heads_its_uses_with_lines_in_capitals(language: str) -> None:
    """Its known sections ("YOUR RIGHTS", "HOW LONG WE KEEP IT") are headed in capitals, so its other
    capitals lines standing alone head sections too, each naming its use (seen failing: no such pair)."""
    found = _pairs(from_text(CAPITALS[language]), language)
    assert FIRST[language] in found
    assert SECOND[language] in found


def test_capitals_lines_are_no_headings_where_the_known_ones_are_not_in_capitals() -> None:
    """A text whose sections are headed in ordinary case keeps a lone line in capitals as a paragraph: the
    heading style is the text's own, not any capitals line's."""
    text = ("Your rights\n\nYou can ask for a copy.\n\nHow long we keep it\n\nTwo years.\n\n"
            "IMPORTANT NOTE\n\nWe publish race photographs only with your consent.\n")
    assert not any(purpose == "IMPORTANT NOTE" for purpose, _ in _pairs(from_text(text), "en"))


# -- a run-in bold label opening a paragraph -----------------------------------------------------------------


def _html(body: str) -> Document:
    page = f"<html lang='en'><body><main><h2>What we do with your information</h2>{body}</main></body></html>"
    return read_bytes(page.encode(), ".html", "notice.html")


def test_an_html_paragraphs_bold_label_names_its_use() -> None:
    """"<p><strong>No-show protection.</strong> ...": the label names the paragraph's purpose, whatever its
    sentences take as subject (seen failing: no pair for it; the bold was lost as inline text)."""
    document = _html(
        "<p><strong>No-show protection.</strong> We keep a card token and may charge a fee for a missed "
        "appointment. This protects our staff's time and is in our legitimate interest in keeping the "
        "diary full.</p>"
        "<p><b>Invoices:</b> We keep invoices because tax law requires us to keep them.</p>")
    names = {a.name for a in extract_activities(document, "en")}
    assert {"No-show protection", "Invoices"} <= names
    assert_verbatim(document, extract_activities(document, "en"))


@pytest.mark.parametrize("body", [
    "<p>We keep a card token, <strong>always.</strong> It is in our legitimate interest in fairness.</p>",
    "<p><strong>Please read this part carefully before you decide to book with us, as it matters.</strong> "
    "We keep a card token; it is in our legitimate interest in keeping the diary full.</p>",
    "<p><strong>No-show protection</strong> We keep a card token in our legitimate interest in fairness.</p>",
])
def test_bold_that_is_no_run_in_label_names_nothing(body: str) -> None:
    """Bold inside the paragraph, a long bold sentence, or bold with no closing "." or ":" is emphasis."""
    document = _html(body)
    assert all(block.lead == 0 for block in document.blocks)


# -- a subject pointing back, a pronoun after a comma --------------------------------------------------------


@pytest.mark.parametrize(("text", "language", "purpose", "basis"), [
    ("## Plot tenancies\n\nWe keep your signed tenancy. Keeping these records is necessary to perform the "
     "tenancy agreement with you.\n", "en", "Plot tenancies", "contract"),
    ("## Enquête de satisfaction\n\nNous vous adressons un questionnaire. Cet envoi relève de notre intérêt "
     "légitime à améliorer l'accueil.\n", "fr", "Enquête de satisfaction", "legitimate_interests"),
    ("## Dossier de soins\n\nLe praticien note les soins. La tenue de ce dossier nous est imposée par le "
     "code de la santé publique.\n", "fr", "Dossier de soins", "legal_obligation"),
    ("## Progress notes\n\nTutors write a note after each lesson. Recording progress is part of the service, "
     "so it is necessary for our contract with you.\n", "en", "Progress notes", "contract"),
])
def test_a_subject_pointing_back_leaves_the_heading_as_the_purpose(text: str, language: str, purpose: str,
                                                                   basis: str) -> None:
    """"Keeping these records", "Cet envoi", ", so it": the subject names what the heading named (seen
    failing: the subject was taken as the purpose)."""
    assert (purpose, basis) in _pairs(from_text(text), language)


# -- a heading naming only the processing --------------------------------------------------------------------


def test_a_heading_naming_only_the_processing_announces_the_uses_of_its_paragraphs() -> None:
    """"Processing this data" names no purpose: its paragraphs' uses are the purposes, "we only do this
    with your consent" taking the sentence before (seen failing: the heading or the subject was the
    purpose, the consent untied)."""
    text = ("## Processing this data\n\nOnce a term we send parents news about holiday courses. We only do "
            "this with your consent.\n\nWe record online lessons to settle complaints. This is in our "
            "legitimate interest in handling complaints fairly.\n")
    found = _pairs(from_text(text), "en")
    assert ("Once a term we send parents news about holiday courses", "consent") in found
    assert any(purpose.startswith("We record online lessons") and basis == "legitimate_interests"
               for purpose, basis in found)
    assert not any(purpose.startswith("Processing") for purpose, _ in found)


# -- an Art. 9 condition's consent ---------------------------------------------------------------------------


def test_explicit_consent_named_as_the_art9_condition_is_no_art6_consent() -> None:
    """Seen failing: the paragraph was a consent pair."""
    text = ("## Health information\n\nHealth information is special category data: the condition under "
            "Article 9 that we rely on to record it is your explicit consent.\n")
    assert not any(basis == "consent" for _, basis in _pairs(from_text(text), "en"))


def test_a_contract_named_beside_the_art9_condition_stays_a_basis() -> None:
    text = ("## Treating you\n\nThe record is processed under our contract with you and, for health "
            "information, Article 9(2)(h) of the UK GDPR.\n")
    assert ("Treating you", "contract") in _pairs(from_text(text), "en")


# -- bases in other words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language", "purpose", "basis"), [
    ("## Reminder texts\n\nIf you tick the reminder box when booking, we text you the day before.\n",
     "en", "Reminder texts", "consent"),
    ("## Rappels\n\nNous vous envoyons un SMS si vous avez coché la case prévue.\n",
     "fr", "Rappels", "consent"),
    ("## Inviti\n\nTi invitiamo ai laboratori se spunti la seconda casella.\n", "it", "Inviti", "consent"),
    ("## Fatturazione\n\nConserviamo le fatture per dieci anni perché lo impone la normativa fiscale.\n",
     "it", "Fatturazione", "legal_obligation"),
    ("## Payroll\n\nWe send your pay details to HMRC because HMRC requires it.\n",
     "en", "Payroll", "legal_obligation"),
    ("## Billetterie\n\nNous enregistrons votre commande. Ce traitement est nécessaire à l'exécution de "
     "votre achat.\n", "fr", "Billetterie", "contract"),
    ("## Photos\n\nNous publions des photos uniquement avec l'accord écrit des parents.\n",
     "fr", "Photos", "consent"),
])
def test_a_basis_worded_without_its_name(text: str, language: str, purpose: str, basis: str) -> None:
    """Seen failing: every case gave no pair."""
    assert (purpose, basis) in _pairs(from_text(text), language)


# -- Art. 13 elements in other words ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language", "element"), [
    ("Nothing is sent abroad.", "en", "transfers_outside_eea"),
    ("Aucune donnée ne quitte l'Union européenne.", "fr", "transfers_outside_eea"),
    ("Nessun dato lascia l'Unione europea.", "it", "transfers_outside_eea"),
    ("Nous envoyons un SMS si vous l'avez demandé. Le consentement peut être retiré à tout moment depuis "
     "votre espace.", "fr", "withdraw_consent"),
    ("Nous publions les photos avec l'accord des parents. Cet accord peut être retiré à tout moment.", "fr",
     "withdraw_consent"),
    ("You can ask to see your information and to have mistakes put right.", "en", "right_rectification"),
    ("## Vos droits\n\nVous pouvez recevoir les données que vous nous avez fournies dans un format "
     "réutilisable.", "fr", "right_portability"),
    ("If you do not tell us about an allergy, we may not be able to place your child in the class.", "en",
     "statutory_or_contractual_requirement"),
    ("Sans coordonnées d'un parent, nous ne pouvons pas accueillir l'enfant.", "fr",
     "statutory_or_contractual_requirement"),
    ("We do not use profiling.", "en", "automated_decisions"),
    ("Non effettuiamo alcuna profilazione.", "it", "automated_decisions"),
    ("Nous ne faisons pas de profilage.", "fr", "automated_decisions"),
])
def test_an_element_worded_in_other_words(text: str, language: str, element: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)[element]


def test_a_section_on_who_receives_the_data_names_recipients() -> None:
    """A bare list under "Qui reçoit vos données" (seen failing)."""
    text = ("## Qui reçoit vos données\n\nLes praticiens du cabinet, notre secrétariat téléphonique et notre "
            "expert-comptable.\n")
    assert elements(text, "fr")["recipients"]


def test_a_docx_paragraphs_bold_label_names_its_use() -> None:
    """Word's bold run opening a paragraph is its run-in label, as HTML's <strong> is (seen failing: the
    paragraph's subject was the purpose)."""
    word = docx.Document()
    word.add_heading("How we use your information", 2)
    runs = [("Lesson recordings.", " We record online lessons to settle complaints. This is in our "
                                   "legitimate interest in handling complaints fairly."),
            ("Invoices.", " We keep invoices because tax law requires us to keep them.")]
    for label, rest in runs:
        paragraph = word.add_paragraph()
        paragraph.add_run(label).bold = True
        paragraph.add_run(rest)
    data = io.BytesIO()
    word.save(data)
    document = read_bytes(data.getvalue(), ".docx", "notice.docx")
    activities = extract_activities(document, "en")
    assert {"Lesson recordings", "Invoices"} <= {a.name for a in activities}
    assert_verbatim(document, activities)


def test_a_capitals_heading_with_its_text_on_the_next_line() -> None:
    """"WAITING LIST" then its text on the lines right after it, no blank line between: the heading is
    split from its paragraph (seen failing: the whole paragraph, heading included, was one purpose or
    none)."""
    text = ("ALLOTMENT NOTICE\n\nWAITING LIST\nWe put your name on our waiting list because you asked "
            "us to.\n\nSITE WALKS\nWe note hazards on each plot in our legitimate interest in keeping the "
            "site safe.\n\nHOW LONG WE KEEP IT\nTwo years.\n\nYOUR RIGHTS\nYou can ask for a copy.\n")
    found = _pairs(from_text(text), "en")
    assert ("WAITING LIST", "contract") in found
    assert any(purpose == "SITE WALKS" or purpose.startswith("We note hazards")
               for purpose, basis in found if basis == "legitimate_interests")


def test_a_sections_heading_names_the_purpose_its_prose_words_otherwise() -> None:
    """Under a heading naming its use, a sentence whose subject is a clause of its own gives the purpose;
    the heading is its name (seen failing: no name)."""
    document = from_text("## Instrument safety\n\nThe loans register lets us know who has each instrument, "
                         "on the basis of our legitimate interest in protecting the school's property.\n")
    activities = extract_activities(document, "en")
    assert [a.name for a in activities] == ["Instrument safety"]


# -- accordions' titles, and a heading naming its basis -----------------------------------------------------


def test_an_accordion_button_titles_its_panel() -> None:
    """Bootstrap's accordion: "<h3><button aria-controls=...>Orders</button></h3>" and a bare toggle
    button title their panel (seen failing: the button was skipped as a form control, the heading
    empty)."""
    document = _html(
        "<div class='accordion'><h3><button type='button' aria-expanded='false' aria-controls='a'>Deliveries"
        "</button></h3><div id='a'><div>We give your address to the courier. This is necessary to perform "
        "our contract with you.</div></div>"
        "<button type='button' data-bs-toggle='collapse' aria-controls='b'>Newsletter</button><div id='b'>"
        "<p>We send offers by e-mail, with your consent.</p></div></div>")
    found = _pairs(document, "en")
    assert {("Deliveries", "contract"), ("Newsletter", "consent")} <= found


def test_a_forms_button_is_still_no_text() -> None:
    document = _html("<form><label>Your e-mail</label><button type='submit'>Send</button></form>")
    assert "Send" not in document.text


@pytest.mark.parametrize(("heading", "purpose", "basis"), [
    ("Orders and delivery (contract)", "Orders and delivery", "contract"),
    ("Newsletter – consent", "Newsletter", "consent"),
    ("Fraud checks: legitimate interests", "Fraud checks", "legitimate_interests"),
])
def test_a_heading_naming_its_basis_over_prose_naming_none(heading: str, purpose: str, basis: str) -> None:
    """An accordion's title or a heading "<use> (<basis>)" over prose stating no basis (seen failing:
    no pair)."""
    document = _html(f"<details><summary>{heading}</summary><p>We do this every month for our "
                     "customers.</p></details>")
    assert (purpose, basis) in _pairs(document, "en")


@pytest.mark.parametrize(("text", "language", "purpose"), [
    ("## Ateliers pour enfants\n\nCes informations sont nécessaires à l'exécution du contrat "
     "d'inscription.\n", "fr", "Ateliers pour enfants"),
    ("## Swimming lessons for children\n\nWe need a parent's number; this is necessary to perform our "
     "contract with you.\n", "en", "Swimming lessons for children"),
])
def test_a_service_for_children_is_a_use_not_a_section_on_childrens_data(text: str, language: str,
                                                                        purpose: str) -> None:
    """Seen failing: the section was skipped as one about children's data (structure.yaml
    `other_sections`)."""
    assert (purpose, "contract") in _pairs(from_text(text), language)


def test_a_section_on_childrens_data_is_still_no_purpose() -> None:
    text = ("## Children\n\nWe do not knowingly collect data from children under 13 without their parents' "
            "consent.\n")
    assert not _pairs(from_text(text), "en")
