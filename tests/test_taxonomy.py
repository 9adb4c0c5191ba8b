"""The vocabulary: complete, consistent, and able to read the seeds' own words.

Every wording below is copied from the seed documents (../shared/seeds/000-004);
a list cell is split on its commas, and on "et"/"e" where it names two things.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from garde.cli import app
from garde.taxonomy import KINDS, LANGS, Term, load_vocabulary, normalise

VOCABULARY = load_vocabulary()
ALL_TERMS = list(VOCABULARY)

# (kind, words as the seed writes them, expected term id)
SEED_WORDINGS: list[tuple[str, str, str]] = [
    # --- seed 000, Dior Couture register (fr): data column
    ("categories", "Informations sur l'identité", "identity"),
    ("categories", "l'historique des conversations", "communication.conversation_history"),
    ("categories", "historique des conversations", "communication.conversation_history"),
    ("categories", "les coordonnées des clients ou des prospects", "contact"),
    ("categories", "préférences en matière de communication et de marketing", "marketing.preferences"),
    ("categories", "Préférences en matière de communication et de marketing", "marketing.preferences"),
    ("categories", "coordonnées", "contact"),
    ("categories", "Coordonnées", "contact"),
    ("categories", "historique des achats et des transactions", "transaction.purchase_history"),
    ("categories", "informations sur les achats et les transactions", "transaction"),
    ("categories", "Préférences", "personal_life.preferences"),
    ("categories", "Séquences de vidéosurveillance", "media.cctv_footage"),
    (
        "categories",
        "Séquences de vidéosurveillance, y compris vidéo et audio le cas échéant et en fonction "
        "du matériel déployé",
        "media.cctv_footage",
    ),
    ("categories", "les profils", "profile"),
    ("categories", "Informations d'identité", "identity"),
    ("categories", "Catégories spécifiques de systèmes de suivi", "online.tracker"),
    ("categories", "informations sur les transactions", "transaction"),
    ("categories", "Coordonnées des fournisseurs", "supplier"),
    ("categories", "coordonnées des clients", "contact"),
    ("categories", "Détails et préférences de personnalisation", "transaction.personalisation"),
    ("categories", "Informations relatives à l'identité", "identity"),
    ("categories", "aux achats et aux transactions", "transaction"),
    ("categories", "commentaires et informations relatives à la demande", "communication.request"),
    ("categories", "Coordonnées des prestataires de services de sécurité", "supplier"),
    ("categories", "Détails de la commande", "transaction.order"),
    # --- seed 001, UK-style notice (fr): data types
    ("categories", "Identité", "identity"),
    ("categories", "Contact", "contact"),
    ("categories", "Financières", "financial"),
    ("categories", "Transaction", "transaction"),
    ("categories", "Technique", "online"),
    ("categories", "Profil", "profile"),
    ("categories", "Utilisation", "online.usage"),
    ("categories", "Marketing et communication", "marketing"),
    ("categories", "Suivi", "online.tracker"),
    (
        "categories",
        "Toute catégorie de données pertinente, selon la nature de l'allégation ou de la réclamation",
        "any",
    ),
    # --- seed 002, NEGOMARKETS register (fr): CNIL groups
    ("categories", "Vie personnelle", "personal_life"),
    ("categories", "Vie professionnelle", "professional_life"),
    ("categories", "Informations économiques", "financial"),
    ("categories", "Localisation", "location"),
    ("categories", "Internet", "online"),
    ("categories", "données de navigation sur notre site internet", "online.browsing_history"),
    # --- seed 003, NET-A-PORTER notice (it)
    (
        "categories",
        "Le registrazioni delle chiamate con il nostro Servizio Clienti",
        "communication.call_recording",
    ),
    ("categories", "i messaggi scambiati all'interno della nostra Live Chat", "communication.chat_message"),
    ("categories", "i dettagli del tuo account e del tuo ordine", "transaction.order"),
    ("categories", "dettagli del tuo account", "account"),
    ("categories", "le pagine che hai visitato", "online.browsing_history"),
    ("categories", "gli articoli nella tua Shopping Bag", "transaction.basket"),
    (
        "categories",
        "qualsiasi altra informazione di contatto da te condivisa con noi durante il corso della "
        "conversazione",
        "contact",
    ),
    ("categories", "Informazioni identificative del cliente", "identity"),
    ("categories", "indirizzi email", "contact.email"),
    ("categories", "dati di navigazione", "online.browsing_history"),
    ("categories", "Dati di navigazione", "online.browsing_history"),
    ("categories", "indirizzi IP", "online.ip_address"),
    ("categories", "cronologia ordini", "transaction.purchase_history"),
    ("categories", "prodotti aggiunti alla Lista dei Desideri o al carrello", "transaction.wishlist"),
    ("categories", "età", "identity.age"),
    ("categories", "sesso", "identity.gender"),
    ("categories", "indirizzi fisici", "contact.postal_address"),
    (
        "categories",
        "informazioni di ricerca di marketing quali approccio alla moda",
        "profile.market_research",
    ),
    ("categories", "servizi richiesti e cifra spesa in capi firmati", "profile.market_research"),
    ("categories", "cifra spesa in capi firmati", "financial.spending"),
    ("categories", "Nome", "identity.name"),
    ("categories", "indirizzo email", "contact.email"),
    ("categories", "articoli salvati nella Shopping Bag", "transaction.basket"),
    ("categories", "indirizzo di fatturazione e di spedizione", "contact.postal_address"),
    ("categories", "indirizzo di fatturazione", "contact.billing_address"),
    ("categories", "numero di telefono", "contact.phone"),
    ("categories", "informazioni di pagamento", "financial.payment"),
    ("categories", "cronologia ordini precedenti", "transaction.purchase_history"),
    ("categories", "prodotti acquistati", "transaction.purchase_history"),
    ("categories", "commenti vari", "communication.feedback"),
    ("categories", "Dati pubblici disponibili sui tuoi social network", "social"),
    ("categories", "nome utente", "identity.username"),
    ("categories", "post", "social.posts"),
    ("categories", "visualizzazioni", "social.audience"),
    ("categories", "seguaci", "social.audience"),
    ("categories", "condivisioni", "social.audience"),
    ("categories", "commenti e bio", "social.public_profile"),
    ("categories", "dettagli di contatto", "contact"),
    ("categories", "indirizzo fisico", "contact.postal_address"),
    ("categories", "categoria industriale", "professional_life.industry"),
    ("categories", "territorio", "location"),
    ("categories", "prodotti preferiti", "personal_life.preferences"),
    ("categories", "altre informazioni pertinenti", "any"),
    ("categories", "posizione lavorativa", "professional_life.job_title"),
    ("categories", "I dati identificativi", "identity"),
    (
        "categories",
        "altri dati personali che possano essere rilevanti per specifiche rivendicazioni legali",
        "any",
    ),
    # --- seed 004, DESKMANAGER notice (fr)
    ("categories", "Coordonnées personnelles", "contact"),
    ("categories", "nom", "identity.name"),
    ("categories", "adresse", "contact.postal_address"),
    ("categories", "adresse e-mail", "contact.email"),
    ("categories", "n° de téléphone", "contact.phone"),
    ("categories", "Données de connexion au compte", "account"),
    ("categories", "nom d'écran", "identity.username"),
    ("categories", "mot de passé recouvrable", "account.password"),
    ("categories", "votre question de sécurité et de la réponse correspondante", "account.security_question"),
    ("categories", "Informations démographiques", "profile.demographics"),
    ("categories", "votre date de naissance", "identity.date_of_birth"),
    ("categories", "votre âge ou tranche d'âge", "identity.age"),
    ("categories", "votre genre", "identity.gender"),
    ("categories", "votre situation géographique", "location"),
    ("categories", "votre code postal", "location.postal_code"),
    ("categories", "vos produits favoris", "personal_life.preferences"),
    ("categories", "vos hobbies et vos intérêts", "personal_life.interests"),
    ("categories", "informations sur votre foyer et votre mode de vie", "personal_life.lifestyle"),
    ("categories", "Informations techniques sur votre ordinateur/dispositif mobile", "online"),
    ("categories", "adresse de protocole Internet (IP)", "online.ip_address"),
    ("categories", "le type de système d'exploitation", "online.browser"),
    ("categories", "type de navigateur et sa version", "online.browser"),
    ("categories", "l'identifiant unique de votre téléphone", "online.device_id"),
    ("categories", "la géolocalisation", "location.geolocation"),
    ("categories", "Informations relatives à l'utilisation des sites web", "online.usage"),
    ("categories", "Feedback des consommateurs", "communication.feedback"),
    ("categories", "Contenu généré par les consommateurs", "media.user_content"),
    ("categories", "Informations collectées sur les réseaux sociaux", "social"),
    ("categories", "liste d'amis", "social.friends"),
    ("categories", "Données financières et de paiement", "financial"),
    ("categories", "Données financières.et de paiement", "financial"),
    ("categories", "données de votre carte de crédit/débit", "financial.payment_card"),
    ("categories", "Fichiers journal", "online.logs"),
    ("categories", "Cookies", "online.tracker"),
    ("categories", "Balises", "online.web_beacon"),
    ("categories", "réactions à nos campagnes publicitaires par e-mail", "marketing.campaign_response"),
    ("categories", "vos données de paiement", "financial.payment"),
    ("categories", "articles précédemment placés dans votre chariot", "transaction.basket"),
    # --- legal bases: seed 000 ("Intérêt légitime Contrat (CG)" holds two bases)
    ("legal_bases", "Intérêt légitime", "legitimate_interests"),
    ("legal_bases", "Contrat (CG)", "contract"),
    ("legal_bases", "Consentement", "consent"),
    ("legal_bases", "Contrat de vente", "contract"),
    ("legal_bases", "Contrat de vente et traitement précontractuel", "contract"),
    ("legal_bases", "Intérêt légitime de Dior", "legitimate_interests"),
    ("legal_bases", "Obligations légales de Dior", "legal_obligation"),
    # seed 001
    ("legal_bases", "Exécution d'un contrat", "contract"),
    ("legal_bases", "Nécessaire pour nos intérêts légitimes", "legitimate_interests"),
    ("legal_bases", "Nécessaire pour répondre à une obligation légale", "legal_obligation"),
    ("legal_bases", "Nécessaire pour répondre à une obligation légale.", "legal_obligation"),
    (
        "legal_bases",
        "Pour la plupart des communications marketing directes, nous vous demanderons votre consentement.",
        "consent",
    ),
    (
        "legal_bases",
        "Nécessaire pour satisfaire à une obligation légale ou contractuelle",
        "legal_obligation",
    ),
    ("legal_bases", "Nécessaire pour présenter ou contester une réclamation", "legitimate_interests"),
    # seed 002 (its typography: ’ and a misplaced accent)
    ("legal_bases", "Intérét légitime", "legitimate_interests"),
    ("legal_bases", "Exécution d’un contrat", "contract"),
    ("legal_bases", "Exécution du contrat", "contract"),
    ("legal_bases", "Obligations légales", "legal_obligation"),
    # seed 003
    ("legal_bases", "legittimo interesse", "legitimate_interests"),
    # --- subjects
    ("subjects", "clients", "customer"),
    ("subjects", "prospects", "prospect"),
    ("subjects", "Candidats", "candidate"),
    ("subjects", "Ambassadeurs et influenceurs", "influencer"),
    ("subjects", "influenceurs", "influencer"),
    ("subjects", "les clients des distributeurs", "distributor_customer"),
    ("subjects", "utilisateur du site web", "visitor"),
    ("subjects", "fournisseurs", "supplier_contact"),
    ("subjects", "prestataires de services de sécurité", "supplier_contact"),
    ("subjects", "consommateurs", "customer"),
    ("subjects", "clienti", "customer"),
    ("subjects", "influencer", "influencer"),
    ("subjects", "professionisti nell'industria della moda", "fashion_professional"),
    # --- recipients: seed 004, seed 000
    ("recipients", "Sociétés de notre groupe", "group_entities"),
    ("recipients", "tout membre de notre groupe, à savoir nos filiales", "group_entities"),
    ("recipients", "Agents et prestataires de services", "service_providers"),
    ("recipients", "Agences de notation du crédit", "credit_agencies"),
    ("recipients", "entités de CDC", "group_entities"),
    ("recipients", "autorités", "authorities"),
    # --- sources: seed 004's "Source d'informations", seed 002, seed 003
    ("sources", "Sites Web DESKMANAGER", "website"),
    ("sources", "Sites/applications mobiles DESKMANAGER", "mobile_app"),
    ("sources", "Courriels, textos et autres messages électroniques", "electronic_messages"),
    ("sources", "Données provenant d'autres sources", "third_party"),
    ("sources", "réseaux sociaux de tiers", "social_network"),
    ("sources", "Market Places", "marketplace"),
    ("sources", "Dati pubblici disponibili sui tuoi social network", "public_source"),
    # --- trigger events: seed 002's retention periods
    ("trigger_events", "à compter de la collecte", "collection"),
    ("trigger_events", "dernier contact pour les prospects", "last_contact"),
    ("trigger_events", "le temps de la relation commerciale", "relationship_end"),
    ("trigger_events", "la fin de la relation avec les clients", "relationship_end"),
    ("trigger_events", "la fin de la relation", "relationship_end"),
    ("trigger_events", "Conservation des factures", "invoice_date"),
    ("trigger_events", "tant que la personne concernée ne se désinscrit pas", "consent_withdrawn"),
    ("trigger_events", "le dernier contact avec le candidat", "last_contact"),
    # seed 004: card data kept no longer than needed "pour finaliser la transaction de paiement"
    ("trigger_events", "finaliser la transaction de paiement", "transaction_end"),
    # --- channels and consent methods: seed 004, seed 000, seed 002
    ("channels", "e-mail", "email"),
    ("channels", "SMS", "sms"),
    ("channels", "mailing postal", "post"),
    ("channels", "par téléphone", "phone"),
    ("channels", "par courrier électronique", "email"),
    ("consent_methods", "par formulaire", "web_form"),
    ("consent_methods", "lien de désinscription intégré aux newsletters", "unsubscribe_link"),
]


# Every key of fideslang 3.x's default taxonomy (data categories under `user`, and data subjects).
_FIDESLANG_KEYS = """
    anonymous_user citizen_voter commuter consultant customer employee job_applicant next_of_kin
    passenger patient prospect shareholder supplier_vendor trainee user user.account
    user.account.settings user.account.username user.authorization user.authorization.biometric
    user.authorization.credentials user.authorization.password user.behavior
    user.behavior.browsing_history user.behavior.media_consumption user.behavior.purchase_history
    user.behavior.search_history user.biometric user.biometric.fingerprint user.biometric.health
    user.biometric.retinal user.biometric.voice user.childrens user.contact user.contact.address
    user.contact.address.city user.contact.address.country user.contact.address.postal_code
    user.contact.address.state user.contact.address.street user.contact.email
    user.contact.fax_number user.contact.organization user.contact.phone_number user.contact.url
    user.content user.content.private user.content.public user.content.self_image
    user.criminal_history user.demographic user.demographic.age_range user.demographic.date_of_birth
    user.demographic.gender user.demographic.language user.demographic.marital_status
    user.demographic.political_opinion user.demographic.profile user.demographic.race_ethnicity
    user.demographic.religious_belief user.demographic.sexual_orientation user.device
    user.device.cookie user.device.cookie_id user.device.device_id user.device.ip_address
    user.financial user.financial.bank_account user.financial.credit_card user.government_id
    user.government_id.birth_certificate user.government_id.drivers_license_number
    user.government_id.immigration user.government_id.national_identification_number
    user.government_id.passport_number user.government_id.vehicle_registration
    user.health_and_medical user.health_and_medical.genetic
    user.health_and_medical.insurance_beneficiary_id user.health_and_medical.record_id
    user.job_title user.location user.location.imprecise user.location.precise user.name
    user.name.first user.name.last user.payment user.privacy_preferences user.sensor user.social
    user.telemetry user.unique_id user.unique_id.pseudonymous user.user_sensor user.workplace
    visitor
    """
FIDESLANG_KEYS = set(_FIDESLANG_KEYS.split())

# The W3C DPV 2.x concepts used here, each checked against DPV's published concept lists
# (pd.csv, entities_*.csv, the eu-gdpr legal-basis modules). Add to it only after checking.
_DPV_CONCEPTS = """
    dpv:Authority dpv:Child dpv:Citizen dpv:Customer dpv:DataProcessor dpv:DataSubjectDataSource
    dpv:Employee dpv:GuardianOfDataSubject dpv:JobApplicant dpv:Member dpv:NationalAuthority
    dpv:ParentOfDataSubject dpv:Patient dpv:PublicDataSource dpv:SpecialCategoryPersonalData
    dpv:Student dpv:ThirdParty dpv:ThirdPartyDataSource dpv:User dpv:Visitor pd:Age pd:BankAccount
    pd:Biometric pd:BirthDate pd:BrowsingBehavior pd:Communication pd:Contact pd:Country
    pd:CreditScore pd:Criminal pd:CurrentEmployment pd:Demographic pd:DeviceBased pd:EmailAddress
    pd:EmailContent pd:EthnicOrigin pd:Financial pd:Friend pd:GPSCoordinate pd:Gender pd:Genetic
    pd:GroupProfile pd:Health pd:Household pd:IPAddress pd:Identifier pd:Identifying pd:Intention
    pd:Interest pd:Job pd:Location pd:Name pd:Nationality pd:OfficialID pd:Opinion pd:Password
    pd:PaymentCard pd:PhysicalAddress pd:Picture pd:PoliticalOpinion pd:Preference
    pd:PrivacyPreference pd:Professional pd:ProfessionalInterview pd:Profile
    pd:PubliclyAvailableSocialMedia pd:Purchase pd:PurchasesAndSpendingHabit pd:ReligiousBelief
    pd:SecretText pd:ServiceConsumptionBehavior pd:Sexual pd:SocialMedia pd:SocialMediaCommunication
    pd:Tax pd:TelephoneNumber pd:Tracking pd:TradeUnionMembership pd:Transaction pd:Transactional
    pd:UserAgent pd:Username pd:VoiceCommunicationRecording pd:WorkHistory
    """
DPV_CONCEPTS = set(_DPV_CONCEPTS.split())


@pytest.mark.parametrize(("kind", "words", "expected"), SEED_WORDINGS, ids=lambda v: str(v)[:40])
def test_seed_wording_resolves(kind: str, words: str, expected: str) -> None:
    assert VOCABULARY.has(kind, expected), f"{expected} is not a {kind} id"
    term = VOCABULARY.resolve(kind, words)
    assert term is not None, f"{words!r} resolves to no {kind} term"
    assert term.id == expected


@pytest.mark.parametrize("term", ALL_TERMS, ids=lambda t: f"{t.kind}:{t.id}")
def test_every_term_has_french_english_and_italian_labels(term: Term) -> None:
    for lang in LANGS:
        assert term.labels.get(lang, "").strip(), f"{term.kind}:{term.id} has no {lang} label"


def test_every_kind_has_a_data_file_with_terms() -> None:
    for kind in KINDS:
        assert VOCABULARY.terms(kind), kind


def test_term_ids_are_unique_and_well_formed() -> None:
    # Duplicates are refused by the loader; this checks the shape of ids.
    for term in ALL_TERMS:
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)*", term.id), term.id


def test_category_parents_exist() -> None:
    for term in VOCABULARY.terms("categories"):
        for ancestor in VOCABULARY.ancestors(term.id):
            assert VOCABULARY.has("categories", ancestor), f"{term.id}: no parent {ancestor}"


def test_no_words_point_at_two_terms_of_one_kind() -> None:
    for kind in KINDS:
        owner: dict[str, str] = {}
        for term in VOCABULARY.terms(kind):
            words = [term.id, *term.labels.values(), *(w for ws in term.synonyms.values() for w in ws)]
            for word in words:
                key = normalise(word)
                assert owner.setdefault(key, term.id) == term.id, (
                    f"{kind}: {word!r} means both {owner[key]} and {term.id}"
                )


def test_dpv_and_fideslang_keys_exist_in_those_vocabularies() -> None:
    for term in ALL_TERMS:
        if term.dpv:
            legal = re.fullmatch(r"eu-gdpr:A(6-1|9-2)-[a-j]|eu-gdpr:A(45-3|46-2-[a-f]|49-1-[a-g])", term.dpv)
            assert legal or term.dpv in DPV_CONCEPTS, f"{term.kind}:{term.id}: unknown DPV concept {term.dpv}"
        if term.fideslang:
            assert term.fideslang in FIDESLANG_KEYS, (
                f"{term.kind}:{term.id}: unknown fideslang key {term.fideslang}"
            )
    email = VOCABULARY.get("categories", "contact.email")
    assert email is not None and (email.dpv, email.fideslang) == ("pd:EmailAddress", "user.contact.email")


def test_existing_extra_keys_are_kept() -> None:
    email = VOCABULARY.get("categories", "contact.email")
    assert email is not None and email.extra == {"cnil": "identity", "origin": "provided"}
    health = VOCABULARY.get("categories", "special.health")
    assert health is not None and health.extra["special"] is True
    consent = VOCABULARY.get("legal_bases", "consent")
    assert consent is not None and consent.extra["article"] == "6(1)(a)"


def test_eea_and_adequacy_countries() -> None:
    eea = VOCABULARY.extras["eea"]
    assert len(eea["eea"]) == 30 == len(set(eea["eea"]))
    assert {"FR", "IT", "DE", "GR", "IS", "LI", "NO"} <= set(eea["eea"])
    assert "GB" not in eea["eea"] and "CH" not in eea["eea"]
    assert {"CH", "GB", "JP", "KR", "US"} <= set(eea["adequacy"])
    assert not set(eea["eea"]) & set(eea["adequacy"])
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in [*eea["eea"], *eea["adequacy"]])


runner = CliRunner()


def test_cli_lists_italian_labels() -> None:
    result = runner.invoke(app, ["taxonomy", "--lang", "it"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for label in ("Indirizzo email", "Dati di navigazione", "Consenso", "Legittimo interesse", "Clienti"):
        assert label in result.output
    assert "E-mail address" not in result.output


def test_cli_one_kind_with_synonyms() -> None:
    result = runner.invoke(
        app, ["taxonomy", "legal_bases", "--lang", "fr", "--synonyms"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "Intérêt légitime" in result.output and "eu-gdpr:A6-1-f" in result.output
    assert "Data categories" not in result.output


def test_cli_unknown_kind_is_a_clear_error() -> None:
    result = runner.invoke(app, ["taxonomy", "categoris"], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "unknown kind 'categoris'" in result.output
    assert "Did you mean 'categories'?" in result.output
    assert "Traceback" not in result.output


def test_cli_unknown_language_is_a_clear_error() -> None:
    result = runner.invoke(app, ["taxonomy", "--lang", "de"], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert "expected one of fr, en, it" in result.output


# Whole cells of the seeds that list several terms, as they are written.
SEED_CELLS: list[tuple[str, str, list[str]]] = [
    ("legal_bases", "Intérêt légitime Contrat (CG)", ["legitimate_interests", "contract"]),
    ("legal_bases", "Contrat de vente et traitement précontractuel", ["contract"]),
    (
        "categories",
        "Identité Contact Financières Transaction Marketing et communication",
        ["identity", "contact", "financial", "transaction", "marketing"],
    ),
    (
        "categories",
        "Identité Contact Profil Utilisation Marketing et communication Technique Suivi",
        ["identity", "contact", "profile", "online.usage", "marketing", "online", "online.tracker"],
    ),
    (
        "categories",
        "Informations sur l'identité, l'historique des conversations, "
        "les coordonnées des clients ou des prospects",
        ["identity", "communication.conversation_history", "contact"],
    ),
    ("categories", "Nome ed indirizzo email.", ["identity.name", "contact.email"]),
    (
        "categories",
        "Nome, indirizzo di fatturazione e di spedizione, indirizzo email, numero di telefono, "
        "informazioni di pagamento, cronologia ordini precedenti.",
        [
            "identity.name",
            "contact.postal_address",
            "contact.email",
            "contact.phone",
            "financial.payment",
            "transaction.purchase_history",
        ],
    ),
]


@pytest.mark.parametrize(("kind", "cell", "expected"), SEED_CELLS, ids=lambda v: str(v)[:40])
def test_seed_cell_resolves_to_every_term_it_lists(kind: str, cell: str, expected: list[str]) -> None:
    terms, unmatched = VOCABULARY.resolve_all(kind, cell)
    assert [term.id for term in terms] == expected
    assert unmatched == []


def test_resolve_all_reports_the_words_it_does_not_know() -> None:
    cell = (
        "Exécution d'un contrat Nécessaire pour nos intérêts légitimes (y compris pour récupérer des dettes)"
    )
    terms, unmatched = VOCABULARY.resolve_all("legal_bases", cell)
    assert [term.id for term in terms] == ["contract", "legitimate_interests"]
    assert "recuperer" in unmatched
