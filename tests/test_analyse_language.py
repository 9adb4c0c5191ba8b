"""The document's language: French, English or Italian, detected by lingua, or as --lang says."""

from __future__ import annotations

import pytest

from garde.analyse.document import from_text
from garde.analyse.language import _detector, check_language, detect_language
from garde.analyse.report import analyse
from garde.problems import GardeError


@pytest.mark.parametrize(("text", "language"), [
    ("Nous traitons vos données personnelles pour gérer vos commandes et vous envoyer notre lettre.", "fr"),
    ("We process your personal data to manage your orders and send you our newsletter.", "en"),
    ("Trattiamo i tuoi dati personali per gestire i tuoi ordini e inviarti la nostra newsletter.", "it"),
])
def test_each_language_is_detected(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert analyse(from_text(text)).language == language


def test_the_detector_is_built_once_per_process() -> None:
    assert _detector() is _detector()


def test_lang_overrides_detection_and_a_text_without_words_falls_back() -> None:
    text = "We process your personal data to manage your orders."
    assert analyse(from_text(text), lang="it").language == "it"
    assert detect_language("1234 — 5678") == "en"
    with pytest.raises(GardeError, match="unknown language 'de'"):
        check_language("de")
