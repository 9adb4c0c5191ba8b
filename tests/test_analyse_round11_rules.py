"""Issue 16, round 11: one test per rule written from the kinds of misses the ninth blind set's
summary named (its texts and labels were not read), each on a text of its own.
"""

from __future__ import annotations

import pytest

from garde.analyse.activities import extract_activities
from garde.analyse.document import from_text
from tests.test_analyse_round7_rules import assert_verbatim, elements, pairs

# -- withdrawal of consent worded as the way to stop (Art. 7(3), 13(2)(c)) ----------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("We text you a reminder each evening if you said yes. Reply STOP to any reminder and we send no more.",
     "en"),
    ("Taking part in the study is your choice, and you can pull out of the study whenever you like.", "en"),
    ("With your permission the app uses your location during the trip; turn it off in the app whenever you "
     "wish.", "en"),
    ("Si vous l'autorisez, l'application suit votre position. Vous pouvez la désactiver dans les réglages "
     "de votre téléphone.", "fr"),
    ("Pour ne plus recevoir nos SMS, répondez STOP.", "fr"),
    ("Le inviamo offerte via SMS solo con il suo accordo; può disattivarle in qualsiasi momento.", "it"),
    ("Ti mandiamo promemoria via SMS: rispondi STOP per non riceverne più.", "it"),
])
def test_withdrawal_worded_as_the_way_to_stop(text: str, language: str) -> None:
    """A consent-based message the reader can stop informs of withdrawal (seen failing: every case)."""
    assert elements(text, language)["withdraw_consent"]


def test_opting_out_of_marketing_is_still_no_withdrawal() -> None:
    """Round 10's line kept: an objection to marketing is Art. 21, not Art. 7(3)."""
    assert not elements("You can opt out of marketing at any time.")["withdraw_consent"]


# -- the Art. 13(2)(e) statement in other words ------------------------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("Participation is voluntary, and your care is the same whatever you decide.", "en"),
    ("If you refuse to wear the tracker we cannot include you in the study.", "en"),
    ("Nous avons besoin de votre numéro avant de réserver une place ; sans lui, la réservation est "
     "impossible.", "fr"),
    ("Si vous refusez de répondre, nous ne pourrons pas traiter votre demande.", "fr"),
    ("La partecipazione è facoltativa.", "it"),
    ("Se rifiuti di indicare l'indirizzo non potremo consegnare l'ordine.", "it"),
])
def test_a_requirement_worded_as_refusal_or_participation(text: str, language: str) -> None:
    """Seen failing: every case."""
    assert elements(text, language)["statutory_or_contractual_requirement"]


def test_taking_part_in_a_survey_up_to_you_is_no_requirement_statement() -> None:
    """A consent-based survey's "taking part is up to you" says nothing of providing data (dev8)."""
    text = "We rely on your consent to invite you to surveys. Taking part is entirely up to you."
    assert not elements(text)["statutory_or_contractual_requirement"]


# -- bases in other words: consent as agreement or permission, duties, terms of use ------------------------


@pytest.mark.parametrize(("text", "language", "purpose", "basis"), [
    ("## Reminders by text\n\nWith your permission we send you a text each evening.\n\n"
     "## Safety\n\nWe log each device; this is in our legitimate interests.\n",
     "en", "Reminders by text", "consent"),
    ("## Position en temps réel\n\nSi vous l'autorisez, l'application suit votre position.\n\n"
     "## Fraude\n\nNous vérifions les comptes, ce qui relève de notre intérêt légitime.\n",
     "fr", "Position en temps réel", "consent"),
    ("## Offerte\n\nLe inviamo offerte via SMS solo con il suo accordo.\n\n"
     "## Videosorveglianza\n\nPer il nostro legittimo interesse a proteggere i beni.\n",
     "it", "Offerte", "consent"),
    ("## Study records\n\nWe are legally obliged to keep the study records for five years.\n\n"
     "## Safety\n\nWe log each device; this is in our legitimate interests.\n",
     "en", "Study records", "legal_obligation"),
    ("## Mise en relation\n\nC'est nécessaire à l'exécution des conditions d'utilisation que vous "
     "acceptez.\n\n"
     "## Fraude\n\nNous vérifions les comptes, ce qui relève de notre intérêt légitime.\n",
     "fr", "Mise en relation", "contract"),
])
def test_a_basis_worded_without_its_name(text: str, language: str, purpose: str, basis: str) -> None:
    """Seen failing: every case gave no pair for the first section."""
    document = from_text(text)
    activities = extract_activities(document, language)
    assert (purpose, basis) in pairs(activities)
    assert_verbatim(document, activities)


def test_a_sources_section_names_no_purpose() -> None:
    """Seen failing while "with your agreement" was a basis cue (dev7; the cue was dropped for a false
    pair in the sixth blind set): under "Where your information comes from" it made the heading a
    purpose with consent (the platform's sharing, not a use of ours)."""
    document = from_text(
        "## Newsletter\n\nWe send our newsletter with your consent.\n\n"
        "## Where your information comes from\n\nIf you donate through a fundraising platform, we receive "
        "your details from it, with your agreement.\n")
    found = pairs(extract_activities(document, "en"))
    assert ("Newsletter", "consent") in found
    assert not any(purpose.startswith("Where") for purpose, _ in found)
