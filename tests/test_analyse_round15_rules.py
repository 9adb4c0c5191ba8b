"""Issue 16, round 15: how notices word a legal basis and tie it to a purpose (docs/analyse.md, "Round
15"). Texts of our own, written from GDPR Art. 6(1) and 9(2) in their fr/en/it texts and how the CNIL,
the Garante and the ICO word the bases; none from a blind set."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.wording import find_terms, tied_bases


def tied(sentence: str, language: str) -> list[str]:
    return [m.term for m in tied_bases(sentence, language)]


# -- the contract said indirectly (Art. 6(1)(b)) ------------------------------------------------------

CONTRACT = [
    ("en", "Keeping your locker booking is part of your membership contract."),
    ("en", "We process your details as part of our agreement with you."),
    ("en", "We use your address to take steps at your request before entering into a contract."),
    ("en", "The data of your staff is processed for executing the agreement signed with your company."),
    ("en", "Support requests are handled in the frame of the maintenance contract you signed."),
    ("en", "We need it for a contract to which you are party."),
    ("fr", "L'envoi des relevés fait partie des prestations prévues par votre contrat."),
    ("fr", "Ce traitement correspond à des mesures précontractuelles prises à votre demande."),
    ("fr", "La gestion des inscriptions est nécessaire au contrat auquel vous êtes partie."),
    ("it", "Trattiamo i dati di contatto nell'ambito del rapporto contrattuale con lei."),
    ("it", "La gestione dell'abbonamento rientra nel contratto sottoscritto."),
    ("it", "Il preventivo riguarda misure precontrattuali adottate su sua richiesta."),
]


@pytest.mark.parametrize(("language", "sentence"), CONTRACT)
def test_a_contract_said_indirectly_is_the_contract(language: str, sentence: str) -> None:
    assert tied(sentence, language) == ["contract"]


# -- consent said as an action or a condition (Art. 6(1)(a)) -------------------------------------------

CONSENT = [
    ("en", "Photos of the match are posted online only after you give permission."),
    ("en", "Analytics cookies are set only if you accept them."),
    ("en", "Recordings are published only upon your agreement."),
    ("fr", "La géolocalisation n'est activée que si vous l'acceptez."),
    ("fr", "Les cookies publicitaires ne sont déposés que si vous les acceptez."),
    ("fr", "Votre témoignage n'est publié que si vous nous y autorisez."),
    ("fr", "Nous publions votre avis après avoir recueilli votre consentement."),
    ("it", "Pubblichiamo la foto solo se ci autorizza."),
    ("it", "I cookie di marketing sono installati solo se li accetti."),
    ("it", "Ricevi gli sconti spuntando l'apposita casella."),
    ("it", "Le inviamo gli inviti solo previa sua autorizzazione."),
]


@pytest.mark.parametrize(("language", "sentence"), CONSENT)
def test_consent_said_as_an_action_or_a_condition_is_consent(language: str, sentence: str) -> None:
    assert tied(sentence, language) == ["consent"]


# -- legitimate interests named with the purpose, the soft opt-in (Art. 6(1)(f)) ----------------------

INTERESTS = [
    ("en", "We keep access logs for the legitimate interest of the company to protect its systems."),
    ("en", "We may e-mail you about similar products and services you might like; you can opt out."),
    ("en", "Customers receive news of similar products (soft opt-in)."),
    ("fr", "Nous pouvons vous adresser des offres sur des produits ou services analogues."),
    ("fr", "Ce traitement est justifié par l'intérêt légitime de l'association."),
    ("it", "Possiamo inviarle comunicazioni su servizi analoghi a quelli acquistati."),
    ("it", "Le e-mail promozionali ai clienti rientrano nel cosiddetto soft spam."),
    ("it", "Conserviamo i registri per il legittimo interesse del titolare alla sicurezza."),
]


@pytest.mark.parametrize(("language", "sentence"), INTERESTS)
def test_legitimate_interests_and_the_soft_opt_in(language: str, sentence: str) -> None:
    assert tied(sentence, language) == ["legitimate_interests"]


def test_similar_products_with_consent_are_consent() -> None:
    assert tied("With your consent we send you offers on similar products.", "en") == ["consent"]
    assert tied("Avec votre consentement, nous vous envoyons des offres sur des produits analogues.",
                "fr") == ["consent"]


# -- what is no contract of the person's ------------------------------------------------------------

NOT_THEIRS = [
    "Public task: we run the clinic under our NHS contract with the Integrated Care Board",
    "Nos prestataires agissent dans le cadre d'un contrat de sous-traitance.",
    "La software house è nominata responsabile con contratto ai sensi dell'art. 28 del Regolamento.",
    "The council delivers the service under a contract with the trust.",
]


@pytest.mark.parametrize("text", NOT_THEIRS)
def test_a_contract_with_another_party_is_no_basis(text: str) -> None:
    assert "contract" not in [m.term for m in find_terms("legal_bases", text)]


@pytest.mark.parametrize("text", [
    "We hold it as part of the contract with the data subject.",
    "Nous en avons besoin dans le cadre du contrat avec le client.",
    "You enter into a contract with us when you book.",
    "Trattiamo i dati sulla base del contratto con l'interessato.",
])
def test_a_contract_with_the_person_stays_one(text: str) -> None:
    assert "contract" in [m.term for m in find_terms("legal_bases", text)]


@given(st.sampled_from(["the Integrated Care Board", "the local council", "our hosting company",
                        "a payroll bureau", "its suppliers"]),
       st.sampled_from(["Public task", "Legal obligation", "Legitimate interests"]))
def test_a_basis_cell_naming_a_funding_contract_keeps_its_own_basis_only(party: str, basis: str) -> None:
    """A basis cell saying under which agreement with another body the service runs names no contract
    with the person (Art. 6(1)(b) is a contract the person is party to)."""
    cell = f"{basis}: we provide this service under our contract with {party}"
    assert [m.term for m in find_terms("legal_bases", cell)] == [
        {"Public task": "public_task", "Legal obligation": "legal_obligation",
         "Legitimate interests": "legitimate_interests"}[basis]]


# -- rights and recipients paragraphs naming consent or a contract tie nothing -----------------------

def test_rights_and_recipients_paragraphs_are_no_pairs() -> None:
    text = ("# Privacy notice\n\n## Bookings\n\nWe take your booking as part of our agreement with you.\n\n"
            "## Who we share it with\n\nOur booking platform acts under contract with us, as part of our "
            "agreement with it.\n\n## Your rights\n\nYou may withdraw your consent at any time, and ask for "
            "your data in a portable format where we process it as part of a contract.\n")
    activities = extract_activities(from_text(text, "n.md"), "en")
    assert [(a.purpose, a.legal_bases) for a in activities] == [("Bookings", ("contract",))]


def test_a_short_label_in_english_words_is_no_translation_of_the_paragraph_before() -> None:
    """An Italian notice's uses labelled "Ordini: ..." then "Account cliente: ..." with the same basis:
    the second is a use of its own, not the first one translated (its label is too short for a
    language to be told)."""
    text = ("Finalità e basi giuridiche\n\n"
            "Ordini: trattiamo i dati per dare esecuzione al contratto di vendita.\n\n"
            "Account cliente: la gestione del suo account rientra nell'esecuzione delle condizioni d'uso del "
            "sito.\n")
    activities = extract_activities(from_text(text, "n.txt"), "it")
    assert [(a.purpose, a.legal_bases) for a in activities] == [("Ordini", ("contract",)),
                                                               ("Account cliente", ("contract",))]
