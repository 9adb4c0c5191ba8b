"""The language a document is written in: French, English or Italian, told by lingua.

lingua's detector is built for these three languages only (its models ship inside the wheel: no
download), lazily, once per process: building it loads the models, which costs far more than
detecting. Only the document's first :data:`SAMPLE` characters are read: enough to tell three
languages apart, and the time stays flat however long the document.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from garde.problems import GardeError

LANGUAGES = ("fr", "en", "it")
SAMPLE = 20_000


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH, Language.ITALIAN).build()


def detect_language(text: str, default: str = "en") -> str:
    """``fr``, ``en`` or ``it``: the language most of ``text`` is in (``default`` when it has no words)."""
    sample = text[:SAMPLE]
    if not any(c.isalpha() for c in sample):
        return default
    found = _detector().detect_language_of(sample)
    if found is None:
        return default
    return str(found.iso_code_639_1.name).lower()


def check_language(lang: str) -> str:
    """``lang`` when it is one the analyser reads; a clear error otherwise."""
    if lang not in LANGUAGES:
        raise GardeError(f"unknown language {lang!r}; garde analyse reads {', '.join(LANGUAGES)}")
    return lang
