"""Art. 13 elements: found from the law's words in fr, en and it, each with a verbatim excerpt."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garde.analyse.art13 import ELEMENTS, RIGHTS, load_rules
from garde.analyse.document import from_text
from garde.analyse.report import analyse
from garde.taxonomy import load_vocabulary


def present(text: str) -> set[str]:
    report = analyse(from_text(text))
    for element in report.art13.values():
        assert not element.present or element.evidence in text  # never invented
    return {name for name, element in report.art13.items() if element.present}


def test_rights_are_a_taxonomy_kind_with_the_gdpr_wording_and_article() -> None:
    rights = {t.id: t for t in load_vocabulary().terms("rights")}
    assert set(rights) == {"access", "rectification", "erasure", "restriction", "portability", "objection",
                           "withdraw_consent", "complaint"}
    assert rights["erasure"].labels == {"fr": "Droit à l'effacement", "en": "Right to erasure",
                                        "it": "Diritto alla cancellazione"}
    assert rights["complaint"].extra["article"] == "77"
    assert load_vocabulary().resolve("rights", "droit à l'oubli") is rights["erasure"]
    assert {t.extra["element"] for t in rights.values()} == set(RIGHTS)
    assert set(load_rules().elements) == set(ELEMENTS) - {"legal_basis_per_purpose"}


@pytest.mark.parametrize(("text", "element"), [
    ("Acme SAS, dont le siège social est situé 3 rue de la Paix, Paris, est responsable du traitement.",
     "controller_identity"),
    ("Il titolare del trattamento è Quieta S.r.l., con sede legale in Milano.", "controller_identity"),
    ("For any question, contact us at privacy@acme.example.", "controller_contact"),
    ("Our data protection officer can be reached at dpo@acme.example.", "dpo_contact"),
    ("Vous pouvez joindre notre délégué à la protection des données à dpo@acme.example.", "dpo_contact"),
    ("We use your personal data to deliver your orders.", "purposes"),
    ("La base juridique du traitement est l'exécution du contrat.", "legal_basis_any"),
    ("We rely on your consent to send you our newsletter.", "legal_basis_per_purpose"),
    ("È nel nostro legittimo interesse prevenire le frodi sui pagamenti effettuati online.",
     "legitimate_interests_described"),
    ("Nous partageons vos données avec nos prestataires de livraison.", "recipients"),
    ("Your data may be transferred outside the European Economic Area.", "transfers_outside_eea"),
    ("Such transfers are covered by the standard contractual clauses of the European Commission.",
     "transfer_safeguards"),
    ("Les factures sont conservées pendant 10 ans.", "retention"),
    ("We keep your account data for 3 years after your last order.", "retention"),
    ("Hai il diritto di accesso ai tuoi dati personali.", "right_access"),
    ("You have the right to rectification of inaccurate personal data.", "right_rectification"),
    ("Vous disposez d'un droit à l'effacement de vos données.", "right_erasure"),
    ("You have the right to restriction of processing.", "right_restriction"),
    ("Hai il diritto di opporti al trattamento per finalità di marketing.", "right_objection"),
    ("Vous disposez du droit à la portabilité des données.", "right_portability"),
    ("You may withdraw your consent at any time.", "withdraw_consent"),
    ("Vous pouvez introduire une réclamation auprès de la CNIL.", "complaint_to_authority"),
    ("Il conferimento dei dati è obbligatorio per concludere il contratto.",
     "statutory_or_contractual_requirement"),
    ("We do not make decisions based solely on automated processing that produce legal effects.",
     "automated_decisions"),
    ("Nous collectons votre nom, votre adresse e-mail et votre numéro de téléphone.", "data_categories"),
    ("Some data is obtained from publicly available sources.", "source_of_data"),
])
def test_each_element_from_the_law_s_wording(text: str, element: str) -> None:
    assert element in present(text)


@pytest.mark.parametrize(("text", "element"), [
    ("Intérêt légitime", "legitimate_interests_described"),  # named, not described
    ("You can access our shop from any device.", "right_access"),  # "access" outside a passage on rights
    ("Our offices are in the United Kingdom.", "transfers_outside_eea"),  # a place, no transfer
    ("Nous nous opposons à toute forme de spam.", "right_objection"),
    # an authority, no complaint
    ("Durée recommandée par la CNIL pour les cookies.", "complaint_to_authority"),
    ("Legal basis: consent.", "legal_basis_per_purpose"),  # a basis tied to no purpose
    ("Our DPO can be reached at dpo@acme.example.", "controller_contact"),  # the DPO's, not the controller's
])
def test_words_out_of_their_context_are_not_elements(text: str, element: str) -> None:
    assert element not in present(text)


def test_a_rights_heading_scopes_the_short_words_under_it() -> None:
    text = ("# Your rights\n\n- Access: ask for a copy of your data.\n- Rectification of what is wrong.\n"
            "- Portability.\n\n# Cookies\n\n- Access to our pages is measured.\n")
    found = present(text)
    assert {"right_access", "right_rectification", "right_portability"} <= found
    report = analyse(from_text(text))
    assert report.art13["right_access"].evidence == "Access: ask for a copy of your data."


def test_a_table_of_contents_is_not_content() -> None:
    """Headings with nothing under them (a table of contents of sections never written) show nothing."""
    text = "# Durée de conservation\n\n# Vos droits\n\n# Transferts hors UE\n"
    assert present(text) == set()


def test_a_register_table_shows_purposes_bases_per_purpose_and_categories() -> None:
    text = ("Finalité\tDonnées\tBase juridique\tDurée de conservation\n"
            "Gestion des commandes\tNom, adresse\tExécution du contrat\t10 ans\n"
            "Lettre d'information\tAdresse e-mail\tConsentement\tJusqu'au désabonnement\n")
    report = analyse(from_text(text))
    assert report.kind == "register"
    assert report.art13["legal_basis_per_purpose"].evidence == "Exécution du contrat"
    assert report.art13["retention"].evidence == "10 ans"
    assert report.art13["purposes"].evidence == "Gestion des commandes"
    assert report.art13["data_categories"].evidence in ("Nom, adresse", "Adresse e-mail")


_WORDS = st.sampled_from([
    "droit d'accès", "right to erasure", "diritto di rettifica", "legitimate interest", "CNIL", "XXX",
    "privacy@acme.example", "10 ans", "United States", "Privacy Shield", "\t", "\n", "\n\n", "# ", "- ",
    "| ", "vous", "nous", "conservons", "consentement", "the", "données", ".", ",", "  ", "é", "’",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, max_size=60).map(" ".join))
def test_every_evidence_is_a_verbatim_excerpt_of_the_input(text: str) -> None:
    report = analyse(from_text(text), lang="fr")
    document_text = text
    for element in report.art13.values():
        assert element.present == bool(element.evidence)
        assert element.evidence in document_text
    for finding in report.findings:
        assert finding.evidence in document_text


def test_a_draft_s_not_stated_lines_and_a_contents_list_are_no_evidence() -> None:
    text = ("# Contents\n\n- Data protection officer\n- How long we keep your data\n\n"
            "# Data protection officer\n\nNot stated in the register: data protection officer.\n\n"
            "# How long we keep your data\n\nDurée de conservation : à compléter.\n")
    assert present(text) & {"dpo_contact", "retention"} == set()


def test_a_heading_s_evidence_is_the_text_under_it() -> None:
    text = "# Recipients of your data\n\nOur carriers receive your address to deliver your parcels.\n"
    report = analyse(from_text(text))
    assert report.art13["recipients"].evidence == "Our carriers receive your address to deliver your parcels."


@pytest.mark.parametrize(("text", "found"), [
    ("This notice is issued by Hollowmere Outdoor Limited.", True),
    ("Quieta Salute S.r.l. tratta i tuoi dati.", True),
    ("Elle a parlé à sa mère de sa commande.", False),  # "sa" is no legal form in lower case
])
def test_a_company_name_with_its_legal_form_identifies_the_controller(text: str, found: bool) -> None:
    assert ("controller_identity" in present(text)) is found


def test_withdrawing_consent_is_the_right_only_when_the_person_may_do_it() -> None:
    kept = "Newsletter data: kept until consent is withdrawn, then deleted."
    assert "withdraw_consent" not in present(kept)
    assert "withdraw_consent" in present("Where we rely on your consent, you may withdraw it at any time.")


def test_a_basis_under_a_purposes_heading_is_tied_to_that_purpose() -> None:
    text = ("## How we use your information\n\n"
            "- To deliver your orders (this is necessary to perform our contract with you).\n")
    assert "legal_basis_per_purpose" in present(text)


def test_a_plain_text_title_line_scopes_the_paragraphs_after_it() -> None:
    text = "Your rights\nYou can ask us for a copy of your data.\n\nYou can also ask us to correct it.\n"
    report = analyse(from_text(text))
    assert report.art13["right_rectification"].evidence == "You can also ask us to correct it."
    assert report.art13["right_access"].evidence == "You can ask us for a copy of your data."
