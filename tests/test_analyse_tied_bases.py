"""(purpose, legal basis) pairs from the way notices tie a basis to a purpose (issue 16): the
purpose as the subject of the sentence stating the basis, a condition ("only if you consented"),
a basis stated for the whole page tied to none. Texts written here, not the held-out wording."""

from __future__ import annotations

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.report import analyse


def pairs(text: str, language: str) -> set[tuple[str, str]]:
    document = from_text(text)
    return {(a.purpose, basis) for a in extract_activities(document, language) for basis in a.legal_bases}


def per_purpose(text: str) -> bool:
    element = analyse(from_text(text)).art13["legal_basis_per_purpose"]
    assert not element.present or element.evidence in text
    return element.present


def test_a_sentence_whose_subject_is_the_purpose_ties_its_basis() -> None:
    text = ("Fondements\n\n"
            "La gestion des abonnements, ainsi que le service après-vente, sont nécessaires à l'exécution du "
            "contrat. La diffusion de notre lettre mensuelle repose sur votre consentement. La tenue de la "
            "comptabilité répond à une obligation légale.\n")
    got = pairs(text, "fr")
    assert ("La gestion des abonnements", "contract") in got
    assert ("le service après-vente", "contract") in got
    assert ("La diffusion de notre lettre mensuelle", "consent") in got
    assert ("La tenue de la comptabilité", "legal_obligation") in got
    assert per_purpose(text)


def test_italian_bases_after_articulated_prepositions() -> None:
    text = ("Finalità e base giuridica\n\n"
            "a) Invio di offerte via SMS: il trattamento si basa sul tuo consenso.\n"
            "b) Tutela in giudizio: il trattamento si fonda sul legittimo interesse del titolare.\n")
    got = pairs(text, "it")
    assert ("Invio di offerte via SMS", "consent") in {(p.split(":")[0], b) for p, b in got}


def test_consent_stated_as_a_condition() -> None:
    text = ("Pourquoi utilisons-nous vos données ?\n\n"
            "- l'envoi de nos actualités par SMS, seulement si vous y avez consenti ;\n"
            "- la gestion des réservations : ce traitement relève de l'exécution du contrat.\n")
    got = {b for _, b in pairs(text, "fr")}
    assert {"consent", "contract"} <= got


def test_a_basis_stated_for_the_whole_page_is_tied_to_no_purpose() -> None:
    text = ("# Cookies\n\n## Mesure d'audience\n\nNous mesurons la fréquentation du site.\n\n"
            "Les traitements décrits sur cette page reposent sur votre consentement.\n")
    assert pairs(text, "fr") == set()
    assert not per_purpose(text)


def test_a_legal_obligation_met_by_a_named_activity() -> None:
    text = ("# Registres\n\nLa conservation des registres du personnel répond à une obligation légale prévue "
            "par le code du travail.\n")
    assert ("La conservation des registres du personnel", "legal_obligation") in pairs(text, "fr")



def test_a_basis_after_an_elided_preposition() -> None:
    """"all'esecuzione del contratto", "à l'exécution du contrat": the elision is a word of its own."""
    text = ("Finalità\n\n1. gestione degli abbonamenti annuali, necessaria all'esecuzione del contratto;\n"
            "2. invio della rivista, previo consenso.\n")
    assert {b for _, b in pairs(text, "it")} == {"contract", "consent"}


def test_a_table_whose_header_is_in_another_language() -> None:
    text = ("| Purpose | Base légale | Durée |\n|---|---|---|\n"
            "| Gestion des inscriptions aux ateliers | Contrat | 3 ans |\n"
            "| Envoi du programme | Consentement | Jusqu'au retrait |\n")
    assert pairs(text, "fr") == {("Gestion des inscriptions aux ateliers", "contract"),
                                 ("Envoi du programme", "consent")}


def test_a_basis_stated_by_this_is_or_under_a_law() -> None:
    text = ("## Why we use it\n\n- Collecting business rates: this is a legal obligation under the Local "
            "Government Finance Act.\n")
    assert {b for _, b in pairs(text, "en")} == {"legal_obligation"}


def test_a_basis_in_the_sentence_after_the_use_it_bases() -> None:
    text = ("Nous utilisons votre adresse pour livrer vos paniers de légumes. Ce traitement est nécessaire "
            "à l'exécution du contrat.\n\nNous utilisons votre courriel pour vous envoyer la lettre de la "
            "ferme. Ce traitement repose sur votre consentement.\n")
    assert pairs(text, "fr") == {
        ("Nous utilisons votre adresse pour livrer vos paniers de légumes.", "contract"),
        ("Nous utilisons votre courriel pour vous envoyer la lettre de la ferme.", "consent")}


def test_the_data_as_subject_names_no_purpose_and_a_heading_does() -> None:
    text = ("# Politique\n\n## Lettre des adhérents\n\nVos données sont traitées sur la base de votre "
            "consentement.\n\n## Rappels d'entretien\n\nLes rappels d'entretien sont envoyés sur la base de "
            "notre intérêt légitime à assurer votre sécurité.\n")
    assert pairs(text, "fr") == {("Lettre des adhérents", "consent"),
                                 ("Les rappels d'entretien sont envoyés", "legitimate_interests")}


def test_purposes_read_from_a_list_of_bases_are_purposes() -> None:
    text = ("## Our legal bases\n\n- Contract: to repair the bikes you leave with us.\n"
            "- Consent: to send offers.\n")
    assert "purposes" in {name for name, e in analyse(from_text(text)).art13.items() if e.present}
