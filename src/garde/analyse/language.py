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


#: Below this confidence of lingua in the language it finds, the text alone does not settle it
#: (a short form's labels among English page chrome), and the language the file declares decides...
UNSURE = 0.9
#: ... provided the text gives that language at least this confidence (a page declaring "en" over
#: French text stays French).
DECLARED_FLOOR = 0.1


def detect_language(text: str, default: str = "en", declared: str = "") -> str:
    """``fr``, ``en`` or ``it``: the language most of ``text`` is in (``default`` when it has no words).
    ``declared``: the language the file declares for it (an HTML page's ``lang``), evidence that
    decides where the text is unsure (:data:`UNSURE`, :data:`DECLARED_FLOOR`)."""
    sample = text[:SAMPLE]
    if not any(c.isalpha() for c in sample):
        return declared if declared in LANGUAGES else default
    if declared in LANGUAGES:
        values = {str(v.language.iso_code_639_1.name).lower(): v.value
                  for v in _detector().compute_language_confidence_values(sample)}
        best = max(values, key=values.__getitem__)
        if values[best] < UNSURE and values.get(declared, 0.0) >= DECLARED_FLOOR:
            return declared
        return best
    found = _detector().detect_language_of(sample)
    if found is None:
        return default
    return str(found.iso_code_639_1.name).lower()


def check_language(lang: str) -> str:
    """``lang`` when it is one the analyser reads; a clear error otherwise."""
    if lang not in LANGUAGES:
        raise GardeError(f"unknown language {lang!r}; garde analyse reads {', '.join(LANGUAGES)}")
    return lang
