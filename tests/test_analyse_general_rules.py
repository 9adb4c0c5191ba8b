"""Art. 13 elements from the law's words and the structure of notices (issue 16): each rule found
on texts written here, not on the held-out documents' wording."""

from __future__ import annotations

import pytest

from garde.analyse.document import from_text
from garde.analyse.readers import read
from garde.analyse.report import analyse
from tests.conftest import SEEDS


def found(text: str) -> dict[str, str]:
    """The elements found in ``text``, with their evidence (checked verbatim)."""
    report = analyse(from_text(text))
    for element in report.art13.values():
        assert not element.present or element.evidence in text  # never invented
    return {name: element.evidence for name, element in report.art13.items() if element.present}


# -- controller identity: a named entity in a controller context ------------------------------


def test_a_company_named_inside_a_data_cell_does_not_identify_the_controller() -> None:
    """Seed 003: a column of personal data mentioning "il gruppo NET-A-PORTER Ltd" is no statement
    of who the controller is (GDPR Art. 13(1)(a): the identity of the controller)."""
    path = SEEDS / "003_03460e3539a4cedd.txt"
    if not path.exists():
        pytest.skip("shared/seeds is not beside the repository")
    assert not analyse(read(path)).art13["controller_identity"].present
    cell = ("Scopo\tDati trattati\nRaccogliere informazioni sugli autori.\tProfili pubblici, a cui il gruppo "
            "Zeta Media Ltd potrà aggiungere il numero di telefono e altre informazioni pertinenti.\n")
    assert "controller_identity" not in found(cell)


@pytest.mark.parametrize("text", [
    "Controller: Fenwick Tools Ltd, 3 Mill Lane, Leeds.",
    "Orsetti Viaggi S.p.A. è il titolare del trattamento dei tuoi dati.",
    "Responsable du traitement : Brasserie du Port SARL, 4 quai Est, 56100 Lorient.",
    "Le site est édité par Paul Marchal, entrepreneur individuel, 3 rue Haute, 21000 Dijon.",
    "Fenwick Tools Ltd (\"we\", \"us\") sells hand tools online.",
])
def test_a_named_controller_in_a_controller_context(text: str) -> None:
    assert "controller_identity" in found(text)


# -- fields on their own lines ----------------------------------------------------------------


def test_labelled_fields_on_consecutive_lines_are_read_one_by_one() -> None:
    text = ("Titolare del trattamento: Studio Verdi, Via Roma 1, Bologna - info@studioverdi.example\n"
            "Responsabile della protezione dei dati: non nominato\n"
            "Aggiornato il 1/2/2025\n")
    got = found(text)
    assert got["controller_contact"].endswith("info@studioverdi.example")
    assert "dpo_contact" not in got


# -- register columns in the words of Art. 30(1) ----------------------------------------------


def test_register_columns_for_transfers_and_time_limits_for_erasure() -> None:
    text = ("Purpose\tLegal basis\tTransfers to a third country\tTime limits for erasure\n"
            "Payroll\tLegal obligation\tNone\t6 years after the end of employment\n"
            "Newsletter\tConsent\tCanada (adequacy decision)\tUntil you unsubscribe\n")
    got = found(text)
    assert got["transfers_outside_eea"] == "Canada (adequacy decision)"
    assert "retention" in got
    italian = ("Finalità\tBase giuridica\tTermini di cancellazione\n"
               "Buste paga\tObbligo legale\tcinque anni dalla fine del rapporto\n")
    assert found(italian)["retention"] == "cinque anni dalla fine del rapporto"


# -- rights -------------------------------------------------------------------------------------


def test_a_right_said_not_to_apply_is_not_a_right_the_notice_gives() -> None:
    got = found("Vos droits\n\nLe droit à la portabilité n'est pas applicable à ces traitements.\n")
    assert "right_portability" not in got
    got = found("Your rights\n\nThe right to data portability does not apply here.\n")
    assert "right_portability" not in got


def test_rights_named_by_their_gdpr_articles() -> None:
    got = found("You may exercise your rights under Articles 15 to 21 GDPR by writing to us.")
    assert {"right_access", "right_rectification", "right_erasure", "right_restriction", "right_portability",
            "right_objection"} <= set(got)
    got = found("Puoi esercitare i diritti di cui agli artt. 15-18 del GDPR.")
    assert {"right_access", "right_rectification", "right_erasure", "right_restriction"} <= set(got)
    assert "right_portability" not in got


def test_portability_by_the_law_s_words_and_access_by_consulting() -> None:
    assert "right_portability" in found("Vos droits\n\nVous pouvez obtenir les données que vous nous avez "
                                        "transmises dans un format structuré.\n")
    assert "right_access" in found("Vos droits\n\nVous pouvez demander à consulter les informations "
                                   "vous concernant.\n")


# -- what the law asks about, in the notice's own sentences ---------------------------------------


@pytest.mark.parametrize("text", [
    "If you do not give us your phone number, we will not be able to arrange the delivery.",
    "Si vous ne nous indiquez pas votre adresse, nous ne pourrons pas traiter votre demande.",
    "Se non ci fornisci il tuo indirizzo, non potremo spedire l'ordine.",
])
def test_the_consequence_of_not_providing_data(text: str) -> None:
    assert "statutory_or_contractual_requirement" in found(text)


@pytest.mark.parametrize("text", [
    "Nous utilisons des traceurs publicitaires afin de mesurer l'efficacité de nos campagnes.",
    "We use your postcode to work out the delivery charge.",
    "Utilizziamo il tuo numero di telefono per avvisarti della consegna.",
])
def test_a_use_stated_for_an_end_is_a_purpose(text: str) -> None:
    assert "purposes" in found(text)


def test_data_named_in_an_enumeration_are_data_categories() -> None:
    assert "data_categories" in found("Nous utilisons votre nom, votre adresse postale et votre numéro "
                                      "de téléphone.")
    assert "data_categories" not in found("Nous utilisons des cookies.")


@pytest.mark.parametrize("text", [
    "Payments are handled by a payment service that acts on our behalf.",
    "Les envois sont confiés à un routeur qui agit pour notre compte.",
    "Le spedizioni sono affidate a un corriere che opera per nostro conto.",
])
def test_a_processor_acting_on_our_behalf_is_a_recipient(text: str) -> None:
    assert "recipients" in found(text)


def test_legitimate_interests_named_but_not_described() -> None:
    assert "legitimate_interests_described" not in found(
        "Les traitements de ce site reposent sur votre consentement ou, à défaut, sur notre intérêt "
        "légitime.")
    assert "legitimate_interests_described" in found(
        "We rely on our legitimate interest in preventing fraudulent orders on the shop.")


def test_a_source_other_than_the_person() -> None:
    assert "source_of_data" in found("We also obtain your credit rating from a credit reference agency.")


def test_a_dpo_not_designated_is_no_dpo_contact() -> None:
    assert "dpo_contact" not in found("Data protection officer: not designated. Contact: hello@shop.example")


@pytest.mark.parametrize("text", [
    "L'association Les Jardins Partagés, dont le siège est situé 2 rue Verte à Rennes, tient ce fichier.",
    "Circolo Remiero Arno, con sede in Pisa, via del Porto 4, gestisce le iscrizioni.",
])
def test_an_association_or_a_body_presented_with_its_seat(text: str) -> None:
    assert "controller_identity" in found(text)


def test_rights_in_past_participles() -> None:
    got = found("Your rights\n\nYou can ask to have your details corrected or erased.\n")
    assert {"right_rectification", "right_erasure"} <= set(got)


def test_a_processor_named_by_us_is_not_the_controller() -> None:
    assert "controller_identity" not in found("We use Parcelwise Ltd to print our shipping labels.")
    assert "controller_identity" not in found("Nous utilisons les services de Routeo SAS pour nos envois.")


@pytest.mark.parametrize("text", [
    "Your rights\n\nYou may also contact the Information Commissioner if you are unhappy.\n",
    "Your rights\n\nIf you live in Ireland you can raise a concern with the Data Protection Commission.\n",
    "I tuoi diritti\n\nPuoi rivolgerti al Garante se ritieni violati i tuoi diritti.\n",
])
def test_a_complaint_named_through_the_authority(text: str) -> None:
    assert "complaint_to_authority" in found(text)


@pytest.mark.parametrize("text", [
    "Account data is stored for the duration of your subscription and then deleted.",
    "Les données des adhérents sont gardées pendant toute la durée de l'adhésion.",
    "I dati dei soci sono mantenuti per tutta la durata dell'iscrizione.",
])
def test_retention_stated_as_criteria(text: str) -> None:
    assert "retention" in found(text)


def test_a_refusal_of_something_else_is_no_consequence_of_not_providing_data() -> None:
    assert "statutory_or_contractual_requirement" not in found(
        "If you do not want our emails, you cannot be added to the list twice: just untick the box.")


@pytest.mark.parametrize("text", [
    "I dati degli ospiti sono comunicati alla Prefettura come prevede la legge.",
    "Les justificatifs sont communiqués aux services fiscaux sur leur demande.",
])
def test_recipients_after_an_articulated_preposition(text: str) -> None:
    assert "recipients" in found(text)


def test_an_authority_beside_a_contact_outside_the_rights_is_no_complaint() -> None:
    """Seed 002: a retention cell citing the CNIL's period "after the last contact"."""
    assert "complaint_to_authority" not in found(
        "Prospects\tDurée recommandée par la CNIL : 3 ans après le dernier contact\n")


def test_a_register_stating_no_transfer_in_its_column() -> None:
    """Art. 13(1)(f) asks whether data go outside the EEA: a transfers column of "None" says no."""
    text = ("Purpose\tLegal basis\tTransfers outside the EEA\n"
            "Payroll\tLegal obligation\tNone\nNewsletter\tConsent\tNone\n")
    assert found(text)["transfers_outside_eea"] == "None"
    assert "transfers_outside_eea" not in found("Purpose\tLegal basis\nPayroll\tLegal obligation\n")
