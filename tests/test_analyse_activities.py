"""The activities the analyser reads from a document's tables and prose, never invented."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.analyse.activities import Activity, extract_activities, retention_rule, stated_for_all
from garde.analyse.document import Document, from_text
from tests.analyse_pairs import fixture_cases, seed_cases


def bases_by_purpose(document: Document, language: str) -> dict[str, tuple[str, ...]]:
    return {a.purpose: a.legal_bases for a in extract_activities(document, language)}


def assert_verbatim(document: Document, activities: list[Activity]) -> None:
    for activity in activities:
        assert activity.evidence, activity
        for evidence in activity.evidence:
            assert evidence.excerpt, evidence
            assert document.text[evidence.start:evidence.start + len(evidence.excerpt)] == evidence.excerpt
    for evidence in stated_for_all(document, document.language or "en"):
        assert document.text[evidence.start:evidence.start + len(evidence.excerpt)] == evidence.excerpt


def test_every_excerpt_of_the_seeds_and_fixtures_is_in_the_document() -> None:
    for case in seed_cases() + fixture_cases():
        assert_verbatim(case.document, extract_activities(case.document, case.language))


PIECES = [
    "# Purposes of processing\n",
    "## Newsletter\n",
    "## Legal basis\n",
    "- To send you our newsletter, on the basis of your consent.\n",
    "- Pour gérer vos commandes : exécution du contrat.\n",
    "- Per la gestione degli ordini, sulla base del contratto.\n",
    "We rely on our legitimate interests to keep the site secure.\n",
    "Nous nous fondons sur votre consentement.\n",
    "| Purpose | Legal basis | Retention |\n|---|---|---|\n",
    "| Orders | Contract | 10 years after invoice date |\n",
    "| Security | | |\n",
    "Finalité\tBase juridique\tDonnées\nGestion des clients\tIntérêt légitime\tIdentité, Coordonnées\n",
    "\t\tConsentement\n",
    "Scopo\tDati\nMarketing sulla base del consenso\tNome, email\n",
    "**Legal basis**: Consent\n",
    "Intérêt légitime\n",
    "   \n",
    "Plain prose, with é, ’ and tabs\tinside.\n",
]


@given(st.lists(st.sampled_from(PIECES), max_size=12),
       st.lists(st.sampled_from(["", "\n", "\r\n", "  "]), max_size=12))
def test_every_excerpt_is_a_substring_of_the_text(pieces: list[str], glue: list[str]) -> None:
    text = "".join(p + (glue[i] if i < len(glue) else "") for i, p in enumerate(pieces))
    document = from_text(text)
    for language in ("en", "fr", "it", ""):
        assert_verbatim(document, extract_activities(document, language))


def test_a_basis_stated_once_for_everything_is_tied_to_no_purpose() -> None:
    document = from_text(
        "# How we use your data\n\n"
        "- To deliver your orders\n"
        "- To answer your questions\n\n"
        "# Legal basis\n\n"
        "The legal basis for all our processing is our legitimate interest.\n"
    )
    activities = extract_activities(document, "en")
    assert [a.purpose for a in activities] == ["To deliver your orders", "To answer your questions"]
    assert all(a.legal_bases == () for a in activities)
    [stated] = stated_for_all(document, "en")
    assert stated.value == "legitimate_interests"
    assert stated.excerpt == "The legal basis for all our processing is our legitimate interest."


def test_a_basis_named_near_a_purpose_but_not_tied_to_it_stays_empty() -> None:
    document = from_text(
        "# Purposes\n\n"
        "- Sending our newsletter\n"
        "- Measuring the audience of the site\n\n"
        "# Your rights\n\n"
        "You may withdraw your consent at any time; this does not affect processing based on consent "
        "before its withdrawal.\n"
    )
    assert bases_by_purpose(document, "en") == {
        "Sending our newsletter": (), "Measuring the audience of the site": ()}
    assert stated_for_all(document, "en") == []


def test_bases_stated_in_prose_in_each_language() -> None:
    english = from_text(
        "## Newsletter\n\nWe send you our newsletter on the basis of your consent.\n\n"
        "## Orders\n\nWe process your orders because it is necessary for the performance of a contract "
        "with you.\n"
    )
    assert bases_by_purpose(english, "en") == {"Newsletter": ("consent",), "Orders": ("contract",)}
    french = from_text(
        "## Lettre d'information\n\nPour vous adresser notre lettre, nous nous fondons sur votre "
        "consentement.\n\n## Vidéoprotection\n\nCe traitement repose sur notre intérêt légitime à "
        "protéger nos locaux.\n"
    )
    assert bases_by_purpose(french, "fr") == {
        "Lettre d'information": ("consent",), "Vidéoprotection": ("legitimate_interests",)}
    italian = from_text(
        "## Finalità del trattamento\n\n"
        "- Invio della newsletter, sulla base del consenso dell'interessato.\n"
        "- Fatturazione, per adempiere a un obbligo di legge (base giuridica: obbligo legale).\n"
    )
    assert bases_by_purpose(italian, "it") == {
        "Invio della newsletter, sulla base del consenso dell'interessato.": ("consent",),
        "Fatturazione, per adempiere a un obbligo di legge (base giuridica: obbligo legale).":
            ("legal_obligation",),
    }


def test_a_denied_basis_is_not_read() -> None:
    document = from_text("## Loyalty card\n\nThis processing does not rely on consent: it is based on "
                         "the performance of a contract.\n")
    assert bases_by_purpose(document, "en") == {"Loyalty card": ("contract",)}


def test_a_bullet_led_by_its_basis() -> None:
    document = from_text("## What we use your data for\n\n- Consent: to send the newsletter\n"
                         "- Legitimate interest: to secure the site\n")
    assert bases_by_purpose(document, "en") == {
        "to send the newsletter": ("consent",), "to secure the site": ("legitimate_interests",)}


def test_an_intro_states_the_basis_of_the_bullets_after_it() -> None:
    document = from_text("## Uses\n\nWith your consent, and on that basis only, we process your data to:\n\n"
                         "- send the newsletter\n- show you tailored offers\n")
    assert bases_by_purpose(document, "en") == {
        "send the newsletter": ("consent",), "show you tailored offers": ("consent",)}


def test_a_markdown_table_with_a_purpose_spanning_rows() -> None:
    document = from_text(
        "| Purpose | Legal basis | Data | Retention |\n"
        "|---|---|---|---|\n"
        "| Order management | Contract | Name, e-mail | 10 years after invoice date |\n"
        "| | Legal obligation | Invoices | |\n"
        "| Newsletter | Consent | E-mail | until consent withdrawn |\n"
    )
    orders, newsletter = extract_activities(document, "en")
    assert orders.purpose == "Order management"
    assert orders.legal_bases == ("contract", "legal_obligation")
    assert "contact.email" in orders.categories
    assert orders.retention is not None and orders.retention.rule == "10 years after invoice_date"
    assert newsletter.legal_bases == ("consent",)
    assert newsletter.retention is not None and newsletter.retention.rule == "until consent_withdrawn"


def test_a_tab_separated_table_with_a_wrapped_cell() -> None:
    document = from_text(
        "Finalité\tDonnées\tBase juridique\n"
        "Gestion des commandes\tIdentité\tExécution du contrat\n"
        "\t\tObligation légale\n"
        "Prospection\tCoordonnées\tConsentement\n"
    )
    assert bases_by_purpose(document, "fr") == {
        "Gestion des commandes": ("contract", "legal_obligation"), "Prospection": ("consent",)}


def test_a_table_without_a_basis_column_keeps_the_basis_its_purpose_states() -> None:
    document = from_text(
        "Scopo\tDati personali\n"
        "Inviarti la newsletter.\tNome, email\n"
        "Controlli antifrode: è nel nostro legittimo interesse prevenire le frodi.\tNome, pagamenti\n"
    )
    assert bases_by_purpose(document, "it") == {
        "Inviarti la newsletter.": (),
        "Controlli antifrode: è nel nostro legittimo interesse prevenire le frodi.":
            ("legitimate_interests",),
    }


def test_retention_in_garde_form_when_it_reads_as_one() -> None:
    assert retention_rule("3 ans à compter du dernier contact") == "3 years after last_contact"
    assert retention_rule("Fatture: 10 anni dalla data della fattura.") == "10 years after invoice_date"
    assert retention_rule("as long as necessary") is None
    assert retention_rule("13 mois") is None  # no event: kept in words, never guessed


DOCUMENTS = Path(__file__).parent / "analyse_documents"


@pytest.mark.parametrize(("name", "language", "expected"), [
    ("uk-table.md", "en", {
        "To register you as a new customer": ("contract",),
        "To process and deliver your order including managing payments": ("contract", "legitimate_interests"),
        "To manage our relationship with you": ("contract", "legal_obligation"),
        "To send you our newsletter": ("consent",),
    }),
    ("it-list.md", "it", {
        "gestione degli ordini e delle consegne (base giuridica: art. 6, par. 1, lett. b) del GDPR);":
            ("contract",),
        "adempimento degli obblighi fiscali e contabili (art. 6, par. 1, lett. c) GDPR);":
            ("legal_obligation",),
        "invio di comunicazioni commerciali, previo consenso dell'interessato (art. 6(1)(a) GDPR);":
            ("consent",),
        "sicurezza del sito web, sulla base del legittimo interesse del titolare.": ("legitimate_interests",),
    }),
    ("fr-sections.md", "fr", {
        "Gestion de votre compte client": ("contract",),
        "Prospection commerciale": ("consent",),
        "Vidéoprotection du magasin": ("legitimate_interests",),
    }),
])
def test_notices_of_other_layouts(name: str, language: str, expected: dict[str, tuple[str, ...]]) -> None:
    """Small notices written for these tests in layouts the seeds do not use: an ICO-style lawful-basis
    table, an Italian numbered list citing Art. 6(1) points, French sections per purpose."""
    document = from_text((DOCUMENTS / name).read_text(encoding="utf-8"), name)
    assert bases_by_purpose(document, language) == expected
    assert_verbatim(document, extract_activities(document, language))


def test_paragraphs_led_by_a_bold_name() -> None:
    document = from_text((DOCUMENTS / "en-paragraphs.md").read_text(encoding="utf-8"))
    activities = extract_activities(document, "en")
    assert [(a.name, a.legal_bases) for a in activities] == [
        ("Orders", ("contract",)), ("Marketing e-mails", ("consent",)),
        ("Fraud prevention", ("legitimate_interests",))]
    # "Where we rely on legitimate interests..." in the Legal basis section: for no one purpose
    assert [e.value for e in stated_for_all(document, "en")] == ["legitimate_interests"]


def test_the_title_and_the_sections_about_recipients_state_no_purpose() -> None:
    document = from_text(
        "# Privacy notice\n\n"
        "Our processing is based on our legitimate interest in running the shop.\n\n"
        "## Newsletter\n\nWe send it on the basis of your consent.\n\n"
        "## Who we share your data with\n\n"
        "Our hosting provider processes it on the basis of a contract with us.\n"
    )
    assert bases_by_purpose(document, "en") == {"Newsletter": ("consent",)}
    assert [e.value for e in stated_for_all(document, "en")] == ["legitimate_interests"]


def test_articles_and_possessives_do_not_make_a_wording_self_standing() -> None:
    """"il tuo consenso" is one word of meaning: alone, without a phrase stating a basis, it ties
    nothing ("the law requires your consent"); "con il tuo consenso" states it."""
    document = from_text("## Strumenti di misura\n\nLa legge richiede il tuo consenso per ogni strumento.\n\n"
                         "## Newsletter\n\nTi inviamo la newsletter con il tuo consenso.\n")
    assert bases_by_purpose(document, "it") == {"Newsletter": ("consent",)}


def test_a_record_table_with_its_labels_in_the_first_column() -> None:
    """The CNIL's model register: one table per activity, a label and its value per row."""
    document = from_text(
        "Nom du traitement\tGestion de la clientèle\n"
        "Finalité principale\tGérer les commandes et la facturation\n"
        "Base légale\tExécution d'un contrat ; obligation légale (conservation des factures)\n"
        "Catégories de données\tÉtat civil, identité ; coordonnées\n"
        "Durée de conservation\t10 ans à compter de la date de la facture\n"
    )
    [activity] = extract_activities(document, "fr")
    assert activity.name == "Gestion de la clientèle"
    assert activity.purpose == "Gérer les commandes et la facturation"
    assert activity.legal_bases == ("contract", "legal_obligation")
    assert activity.retention is not None and activity.retention.rule == "10 years after invoice_date"
    assert_verbatim(document, [activity])


def test_labelled_fields_one_group_per_purpose() -> None:
    document = from_text(
        "## Nos traitements\n\n"
        "Finalité : Envoi de la lettre d'information\n"
        "Base légale : consentement\n\n"
        "Finalité : Vidéoprotection des locaux\n"
        "Base légale : intérêt légitime\n"
    )
    assert bases_by_purpose(document, "fr") == {
        "Envoi de la lettre d'information": ("consent",),
        "Vidéoprotection des locaux": ("legitimate_interests",),
    }


def test_a_column_or_field_holding_the_purpose_and_its_basis() -> None:
    table = from_text("| Purpose and legal basis | Data |\n|---|---|\n| Newsletter (consent) | E-mail |\n"
                      "| Orders: performance of a contract | Name |\n")
    assert bases_by_purpose(table, "en") == {
        "Newsletter (consent)": ("consent",), "Orders: performance of a contract": ("contract",)}
    fields = from_text("Finalità e base giuridica: invio della newsletter, consenso\n")
    assert bases_by_purpose(fields, "it") == {"invio della newsletter, consenso": ("consent",)}


def test_a_lettered_list_inside_a_paragraph() -> None:
    """Plain text (or a PDF's text layer) writes its lists as lines of one paragraph."""
    document = from_text(
        "## Finalità del trattamento\n\n"
        "I Suoi dati personali sono trattati per le seguenti finalità:\n"
        "a) esecuzione del contratto di acquisto e consegna dei prodotti,\n"
        "   sulla base del contratto;\n"
        "b) invio di comunicazioni promozionali, previo Suo consenso;\n"
        "c) prevenzione delle frodi, nel nostro legittimo interesse.\n"
    )
    activities = extract_activities(document, "it")
    assert [a.legal_bases for a in activities] == [("contract",), ("consent",), ("legitimate_interests",)]
    assert activities[0].purpose == ("esecuzione del contratto di acquisto e consegna dei prodotti,\n"
                                     "   sulla base del contratto;")
    assert_verbatim(document, activities)


def test_a_basis_given_as_a_label_beside_its_purpose() -> None:
    document = from_text(
        "## Pourquoi utilisons-nous vos données ?\n\n"
        "- pour gérer vos commandes (exécution du contrat) ;\n"
        "- pour vous envoyer notre lettre d'information (consentement) ;\n"
        "- pour sécuriser le site – intérêt légitime\n"
        "- pour répondre à vos questions\n"
    )
    assert [a.legal_bases for a in extract_activities(document, "fr")] == [
        ("contract",), ("consent",), ("legitimate_interests",), ()]


def test_the_data_subjects_column_is_not_the_data_column() -> None:
    document = from_text("| Processing activity | Categories of data subjects | Categories of personal "
                         "data | Lawful basis |\n|---|---|---|---|\n| Payroll | Employees | Bank account "
                         "details | Legal obligation |\n")
    [activity] = extract_activities(document, "en")
    assert activity.categories == ("financial.bank_account",)


def test_without_headings_a_paragraph_stating_a_use_and_its_basis_is_a_purpose() -> None:
    document = from_text(
        "This notice explains how we handle your data. Our processing is based on our legitimate "
        "interest in running the shop.\n\n"
        "We use your e-mail address to send you the newsletter, on the basis of your consent.\n"
    )
    [activity] = extract_activities(document, "en")
    assert activity.purpose.startswith("We use your e-mail address to send you the newsletter")
    assert activity.legal_bases == ("consent",)
    assert [e.value for e in stated_for_all(document, "en")] == ["legitimate_interests"]
