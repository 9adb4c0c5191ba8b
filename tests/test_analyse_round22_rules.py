"""Issue 16, round 22: pairs in prose paragraphs and FAQ answers, and Art. 13 elements said without their
usual words (docs/analyse.md, "Round 22"). Texts of our own, written from GDPR Arts. 6(1), 13, 14(2)(f)
and 22 in their fr/en/it texts and the CNIL's, the Garante's and the ICO's guidance; none from a blind
set."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.analyse.document import from_text
from garde.analyse.duties import duty_spans
from garde.analyse.report import analyse
from garde.analyse.wording import tied_bases
from tests.test_analyse_round7_rules import elements


def activities(text: str, language: str) -> list[dict[str, Any]]:
    return list(analyse(from_text(text, "notice.md"), language).to_data()["activities"])


def named(activity: dict[str, Any]) -> str:
    """What the blind sets' harness reads as the activity's purpose: its purpose and its name."""
    return f"{activity['purpose']} {activity['name'] or ''}"


# -- 1. "the law obliges us to A and to B": a purpose per duty ---------------------------------------------

@pytest.mark.parametrize(("text", "language", "first", "second"), [
    ("The law obliges us to keep accounting records of every charge paid, and to answer requests from the "
     "police about vehicles seen on our sites.", "en", "keep accounting records", "answer requests"),
    ("La loi du 10 juillet 1965 nous oblige à tenir le registre des procès-verbaux et à conserver les "
     "factures des fournisseurs pendant dix ans.", "fr", "tenir le registre", "conserver les factures"),
    ("La legge ci impone di emettere la fattura per ogni visita e di trasmetterne i dati al Sistema Tessera "
     "Sanitaria.", "it", "emettere la fattura", "trasmetterne i dati"),
    ("We are required to keep records of the policies we sell and to report suspected money laundering.",
     "en", "keep records", "report suspected"),
])
def test_two_duties_are_two_spans(text: str, language: str, first: str, second: str) -> None:
    spans = [text[a:b] for a, b in duty_spans(text, language)]
    assert len(spans) == 2 and first in spans[0] and second in spans[1] and second not in spans[0]


@pytest.mark.parametrize(("text", "language"), [
    ("The law requires us to send your details to the tax office and to the police.", "en"),
    ("La loi nous oblige à transmettre ces données à la CAF et à la mairie.", "fr"),
    ("La legge ci obbliga a comunicare i dati all'INPS e all'Agenzia delle Entrate.", "it"),
    ("We keep invoices and answer the police's requests.", "en"),
])
def test_one_duty_towards_two_parties_is_one(text: str, language: str) -> None:
    assert duty_spans(text, language) == []


def test_each_duty_is_an_activity_on_a_legal_obligation() -> None:
    """Seen failing: one activity for both duties (the second one's pair missed)."""
    found = activities("## What we use it for\n\nThe law obliges us to keep accounting records of every "
                       "charge "
                       "paid, and to answer requests from the police about vehicles seen on our sites. Both "
                       "rest on a legal obligation.\n", "en")
    duties = [a for a in found if "legal_obligation" in a["legal_bases"]]
    assert len(duties) == 2
    assert "accounting records" in named(duties[0]) and "police" in named(duties[1])
    assert "police" not in named(duties[0])


@given(st.text(alphabet="abcdefghij ,.;:àé'", max_size=80))
def test_duty_spans_lie_within_the_text(text: str) -> None:
    for language in ("en", "fr", "it"):
        for a, b in duty_spans("The law obliges us to " + text + " and to " + text, language):
            assert 0 <= a < b


# -- 2. the processing named by its own words, not by the heading or a demonstrative ------------------------

def test_a_section_paragraph_names_its_processing_beside_the_heading() -> None:
    """Seen failing: the heading alone ("Helping you with your case") named the activity."""
    found = activities(
        "## Helping you with your case\n\nWhen you ask me for help, my caseworkers open a file with your "
        "name and address. We use it to take up your case with the organisation concerned, as part of my "
        "functions, a task carried out in the public interest.\n", "en")
    assert len(found) == 1 and found[0]["legal_bases"] == ["public_task"]
    assert found[0]["purpose"] == "Helping you with your case" and "take up your case" in found[0]["name"]


@pytest.mark.parametrize(("text", "language", "words"), [
    ("La legge ci impone di emettere la fattura per ogni visita e di trasmetterne i dati al Sistema Tessera "
     "Sanitaria: questi trattamenti sono necessari per adempiere un obbligo legale.", "it", "trasmetterne"),
    ("Compiliamo e trasmettiamo all'INPS la Dichiarazione Sostitutiva Unica, su incarico che ci conferisce "
     "firmando il mandato: il trattamento è quindi necessario all'esecuzione di tale incarico.", "it",
     "Dichiarazione Sostitutiva"),
    ("Gestiamo il tesseramento, le iscrizioni ai corsi e gli ingressi in piscina con il badge: tutto questo "
     "serve a eseguire il contratto associativo.", "it", "tesseramento"),
])
def test_the_use_before_a_colon_is_the_purpose_its_pointer_names(text: str, language: str,
                                                                words: str) -> None:
    """Seen failing, all three: "questi trattamenti" read as the whole page's, "il trattamento è quindi"
    and "tutto questo serve a" tying nothing."""
    found = activities(f"## Cosa facciamo\n\n{text}\n\nAltro paragrafo senza base.\n", language)
    assert found and any(words in named(a) for a in found) and all(a["legal_bases"] for a in found)


def test_a_long_subject_opening_with_a_demonstrative_points_back() -> None:
    """Seen failing: "cet affichage sert l'organisation de la section et" was the purpose."""
    found = activities(
        "## À quoi servent ces informations ?\n\nNous tenons le dossier de chaque enfant en exécution du "
        "contrat d'accueil.\n\nLes parents acceptent lors de l'inscription que l'équipe affiche le prénom de "
        "l'enfant sur son porte-manteau ; cet affichage sert l'organisation de la section et repose sur "
        "notre intérêt légitime.\n", "fr")
    interests = [a for a in found if "legitimate_interests" in a["legal_bases"]]
    assert interests and "porte-manteau" in named(interests[0])


# -- 3. bases in plain words -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "language", "basis"), [
    ("All of this is part of the subscription you take out with us.", "en", "contract"),
    ("Ce service fait partie de l'abonnement que vous avez souscrit.", "fr", "contract"),
    ("Ces missions découlent du mandat de syndic : c'est notre base contractuelle.", "fr", "contract"),
    ("Il trattamento è necessario all'esecuzione di tale incarico.", "it", "contract"),
    ("This is what we need to do to enforce the parking contract, and that contract is our basis.", "en",
     "contract"),
])
def test_plain_words_tie_a_basis(text: str, language: str, basis: str) -> None:
    """Seen failing, all five."""
    assert basis in {m.term for m in tied_bases(text, language)}


# -- 4. someone's agreement is no consent beside another basis ---------------------------------------------

@pytest.mark.parametrize(("text", "language", "basis"), [
    ("If your problem is for another constituency, with your agreement we pass it to the MP for that area. "
     "Passing it on is part of the same casework, carried out in the public interest.", "en", "public_task"),
    ("Avec votre accord, l'artisan choisi peut vous rappeler par téléphone ; cet appel sert à préparer le "
     "devis et relève de l'exécution du service.", "fr", "contract"),
])
def test_an_agreement_beside_another_basis_is_no_consent(text: str, language: str, basis: str) -> None:
    """Seen failing: the second (consent and contract)."""
    assert {m.term for m in tied_bases(text, language)} == {basis}


def test_consent_stays_where_the_processing_rests_on_it() -> None:
    text = ("We send our newsletter only with your consent; we process orders to perform our contract "
            "with you.")
    assert {m.term for m in tied_bases(text, "en")} == {"consent", "contract"}


# -- 5.-8. elements said without their usual words ---------------------------------------------------------

@pytest.mark.parametrize(("text", "language", "element"), [
    ("Your weighings come from your connected scale's app once a day.", "en", "source_of_data"),
    ("Le pesate arrivano dall'app della bilancia connessa che le abbiamo consegnato.", "it",
     "source_of_data"),
    ("Vos revenus ne nous sont pas donnés par vous : nous lisons votre quotient familial sur le service CDAP "
     "de la CAF.", "fr", "source_of_data"),
    ("Il suo reddito non ce lo dà lei: li leggiamo nella dichiarazione precompilata dell'Agenzia delle "
     "Entrate.", "it", "source_of_data"),
    ("Si vous êtes arrivé par le site d'un partenaire, ce partenaire nous a transmis votre adresse "
     "électronique.", "fr", "source_of_data"),
    ("C'est le parent qui signe le contrat qui nous donne les informations de l'enfant.", "fr",
     "source_of_data"),
    ("La Federazione ci restituisce il numero di tessera dopo il tesseramento.", "it", "source_of_data"),
    ("Each Monday your calorie targets are adjusted automatically from your weighings; a dietitian reviews "
     "them on request.", "en", "automated_decisions"),
    ("Un compte est clôturé automatiquement après trois contrôles échoués ; l'artisan peut demander qu'un "
     "membre de notre équipe réexamine la clôture.", "fr", "automated_decisions"),
    ("Your premium is worked out by our rating software from your answers. An underwriter checks every quote "
     "before it is offered.", "en", "automated_decisions"),
    ("Votre carte Vitale est indispensable au remboursement : à défaut, vous réglez la totalité de la "
     "séance.", "fr", "statutory_or_contractual_requirement"),
    ("Le code de la santé publique fait des vaccinations obligatoires une condition de l'admission en "
     "collectivité.", "fr", "statutory_or_contractual_requirement"),
    ("No. Nothing leaves the European Union: our servers are in Frankfurt.", "en", "transfers_outside_eea"),
    ("## I miei dati escono dall'Unione europea?\n\nNo, il gestionale e le copie sono ospitati in Italia.",
     "it", "transfers_outside_eea"),
    ("## Que nous demandez-vous à l'inscription ?\n\nPour l'enfant : ses nom et prénom, sa date de naissance "
     "et ses allergies.", "fr", "data_categories"),
])
def test_elements_said_in_plain_words(text: str, language: str, element: str) -> None:
    """Seen failing, all fifteen."""
    assert elements(text, language)[element]


@pytest.mark.parametrize(("text", "language", "element"), [
    ("Most of the information comes from you when you sign up.", "en", "source_of_data"),
    ("Cookies are set automatically when you visit; our team reviews the list each year.", "en",
     "automated_decisions"),
    ("Your account is closed when you ask us to; a member of staff checks the request.", "en",
     "automated_decisions"),
    ("Vaccinations obligatoires, allergies, médecin traitant.", "fr", "statutory_or_contractual_requirement"),
    ("Nothing in this notice limits your rights.", "en", "transfers_outside_eea"),
])
def test_the_same_words_elsewhere_show_nothing(text: str, language: str, element: str) -> None:
    assert not elements(text, language)[element]
