"""The analyser's fourth round (issue 16): the kinds of notice the blind sets missed, each on a
document written here from the law, with the edges that must NOT give a pair."""

from __future__ import annotations

import pytest

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from garde.analyse.report import analyse


def pairs(text: str, language: str, name: str = "notice.txt") -> set[tuple[str, tuple[str, ...]]]:
    return {(a.purpose, a.legal_bases) for a in extract_activities(from_text(text, name), language)
            if a.role == "controller"}


def assert_verbatim(text: str, language: str, name: str = "notice.txt") -> None:
    document = from_text(text, name)
    for activity in extract_activities(document, language):
        assert all(text[e.start:e.start + len(e.excerpt)] == e.excerpt for e in activity.evidence)
    assert analyse(document, language).activities


Cases = dict[str, tuple[str, set[tuple[str, tuple[str, ...]]]]]


def check(cases: Cases, language: str, name: str) -> None:
    """The case's text in ``language`` gives exactly its pairs, every excerpt verbatim."""
    text, expected = cases[language]
    assert pairs(text, language, name) == expected
    assert_verbatim(text, language, name)


# Kind 1: a plain-text section "purposes and legal bases", one paragraph per purpose, "<purpose
# (details)> : <a sentence stating its basis>" (lines wrapped as a plain-text file wraps them).
PURPOSE_COLON: Cases = {
    "fr": ("""Politique de confidentialité

Le cabinet Dupont, responsable du traitement, traite vos données personnelles dans les
conditions ci-dessous.

FINALITÉS ET BASES JURIDIQUES DES TRAITEMENTS

Gestion des rendez-vous (prise de rendez-vous en ligne, rappels par SMS, etc.) : le
traitement est nécessaire à l'exécution du contrat de soins.

Facturation des soins (émission des factures, suivi des paiements) : nous sommes tenus
par une obligation légale de conserver les factures.

Mesure d'audience du site (statistiques de fréquentation) : notre intérêt
légitime à améliorer le site.

Vos droits

Vous pouvez retirer votre consentement et accéder à vos données en écrivant à contact@dupont.fr.
""", {("Gestion des rendez-vous (prise de rendez-vous en ligne, rappels par SMS, etc.)", ("contract",)),
      ("Facturation des soins (émission des factures, suivi des paiements)", ("legal_obligation",)),
      ("Mesure d'audience du site (statistiques de fréquentation)", ("legitimate_interests",))}),
    "en": ("""Privacy notice

Harbour Dental Ltd is the controller of your personal data.

1. Purposes of processing and legal bases

Appointment management (online booking, reminders by text message): the processing is
necessary for the performance of our contract with you.

Billing (issuing invoices, recording payments): we are subject to a legal obligation to
keep accounting records.

Newsletter (news of the practice): we send it only with your consent.

2. Your rights

You may withdraw your consent at any time by writing to privacy@harbour.example.
""", {("Appointment management (online booking, reminders by text message)", ("contract",)),
      ("Billing (issuing invoices, recording payments)", ("legal_obligation",)),
      ("Newsletter (news of the practice)", ("consent",))}),
    "it": ("""Informativa sulla privacy

Studio Rossi S.r.l. è il titolare del trattamento.

Finalità e basi giuridiche

Gestione degli appuntamenti (prenotazione online, promemoria via SMS): il trattamento è
necessario per l'esecuzione del contratto di cui lei è parte.

Fatturazione (emissione delle fatture, registrazione dei pagamenti): siamo soggetti a un
obbligo legale di tenuta delle scritture contabili.

I suoi diritti

Può chiedere l'accesso ai suoi dati scrivendo a privacy@rossi.example.
""", {("Gestione degli appuntamenti (prenotazione online, promemoria via SMS)", ("contract",)),
      ("Fatturazione (emissione delle fatture, registrazione dei pagamenti)", ("legal_obligation",))}),
}


def test_a_colon_paragraph_outside_a_purposes_and_bases_section_is_read_as_before() -> None:
    """Under "Your rights" a "<label>: <sentence naming consent>" paragraph is no purpose."""
    text = ("Privacy notice\n\nYour rights\n\nWithdrawal (at any time): you may withdraw your consent "
            "by writing to us.\n")
    assert pairs(text, "en") == set()


# Kind 4: the bases in general, in a sentence or a list of bullets naming only bases.
GENERAL = """Privacy notice

Purposes and legal bases

The law allows us to process your data on these bases: consent, contract, legal obligation and
legitimate interests.

We process your data on the following legal bases:

- your consent;
- the performance of a contract;
- compliance with a legal obligation;
- our legitimate interests.

Newsletter (news of the shop): we send it with your consent.
"""


def test_bases_listed_in_general_give_no_pair() -> None:
    assert pairs(GENERAL, "en") == {("Newsletter (news of the shop)", ("consent",))}
    # under no heading, the general sentence and the bullets still tie no basis to a purpose (the
    # newsletter's paragraph, "we send it with your consent", states its use: it is read whole)
    untitled = pairs(GENERAL.replace("Privacy notice\n\nPurposes and legal bases\n\n", ""), "en")
    assert all(purpose.startswith("Newsletter (news of the shop)") and bases == ("consent",)
               for purpose, bases in untitled), untitled


def test_a_bullet_list_naming_only_bases_gives_no_pair_in_markdown() -> None:
    text = ("# How we use your data\n\nOur legal bases are:\n\n- il consenso;\n"
            "- the performance of a contract;\n- our legitimate interests.\n\n"
            "- sending the newsletter, with your consent.\n")
    assert pairs(text, "en", "n.md") == {("sending the newsletter, with your consent.", ("consent",))}


def test_a_sentence_with_two_purposes_and_two_bases_is_not_a_general_list() -> None:
    text = ("# How we use your data\n\nWe use your address to deliver your orders, based on our contract, "
            "and to send you our catalogue, based on our legitimate interests in promoting our products.\n")
    assert len(pairs(text, "en", "n.md")) == 2


# Kind 2: the purpose as the sentence's subject, the basis in its predicate; "this processing"
# taking its purpose from the sentence before, under a heading announcing purposes.
SUBJECTS: Cases = {
    "en": ("# Privacy notice\n\n## How we use your data\n\nThe billing of your care rests on a legal "
           "obligation. Online booking is necessary for the performance of the contract. Sending our "
           "newsletter responds to your consent.\n\nWe use your e-mail address to send you appointment "
           "reminders. This processing is based on the performance of our contract with you.\n",
           {("The billing of your care", ("legal_obligation",)), ("Online booking", ("contract",)),
            ("Sending our newsletter", ("consent",)),
            ("We use your e-mail address to send you appointment reminders.", ("contract",))}),
    "it": ("# Informativa\n\n## Come utilizziamo i dati\n\nLa fatturazione delle prestazioni si basa su un "
           "obbligo legale. La prenotazione online è necessaria per l'esecuzione del contratto.\n\n"
           "Utilizziamo il suo indirizzo e-mail per inviarle i promemoria degli appuntamenti. Tale "
           "trattamento si basa sull'esecuzione del contratto.\n",
           {("La fatturazione delle prestazioni", ("legal_obligation",)),
            ("La prenotazione online", ("contract",)),
            ("Utilizziamo il suo indirizzo e-mail per inviarle i promemoria degli appuntamenti.",
             ("contract",))}),
    "fr": ("# Politique de confidentialité\n\n## Utilisation de vos données\n\nLa facturation de vos soins "
           "répond à une obligation légale. L'envoi de notre lettre d'information est fondé sur votre "
           "consentement.\n\nNous utilisons votre adresse électronique pour vous envoyer des rappels. Ce "
           "traitement est fondé sur l'exécution du contrat.\n",
           {("La facturation de vos soins", ("legal_obligation",)),
            ("L'envoi de notre lettre d'information", ("consent",)),
            ("Nous utilisons votre adresse électronique pour vous envoyer des rappels.", ("contract",))}),
}


@pytest.mark.parametrize(("kind", "language"), [(k, lang) for k in ("purpose_colon", "subjects")
                                                 for lang in ("en", "fr", "it")])
def test_kinds_1_and_2_give_their_pairs(kind: str, language: str) -> None:
    """Kind 1: "<purpose (details)> : <its basis>" paragraphs in a plain text's "purposes and legal
    bases" section; kind 2: the purpose as subject, and "this processing" referring back."""
    if kind == "purpose_colon":
        check(PURPOSE_COLON, language, "notice.txt")
    else:
        check(SUBJECTS, language, "n.md")


def test_this_processing_under_a_purpose_s_own_heading_is_that_purpose() -> None:
    """Under a heading naming one purpose (not a list of purposes), "this processing" is the heading's."""
    text = ("# Privacy notice\n\n## Newsletter\n\nWe send you our news by e-mail. This processing is based "
            "on your consent.\n")
    assert pairs(text, "en", "n.md") == {("Newsletter", ("consent",))}
