"""Translations of garde's own words: gettext catalogues managed with Babel.

Every new text garde shows a person (the CLI, documents, mails, later the web)
is a message id in ``src/garde/locale/garde.pot``, translated in
``src/garde/locale/{fr,en,it}/LC_MESSAGES/garde.po``. Plural forms come from
each catalogue's ``Plural-Forms`` header through :func:`translate_plural`, never
"error(s)".

Python code calls :func:`translate` and :func:`translate_plural` (the language first), and
:func:`translate_in` for a text with a context (a lint rule's title or message, msgctxt: its id);
templates call ``gettext`` and ``ngettext``. ``make translations`` extracts both into the
template catalogue and updates the three ``.po`` files (see docs/translations.md).

The ``.po`` files are read as they are (``babel.messages.pofile.read_po``) rather
than compiled to ``.mo``: nothing to build, so a fresh clone, an editable install
and a wheel all read the catalogue a translator last saved, and no stale ``.mo``
can disagree with its ``.po``. Reading the three catalogues takes milliseconds,
once per process.

    >>> translate_plural("fr", "%(num)d error", "%(num)d errors", 0)
    '0 erreur'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import NamedTuple

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "garde"
LANGUAGES = ("fr", "en", "it")


def catalogue_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> Translations:
    """The catalogue of ``lang`` (one of :data:`LANGUAGES`) as gettext translations."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    with catalogue_path(lang).open("rb") as handle:
        catalogue = read_po(handle, locale=lang, domain=DOMAIN)
    image = BytesIO()  # the .mo that `pybabel compile` would write, in memory
    write_mo(image, catalogue)
    image.seek(0)
    return Translations(image, domain=DOMAIN)


def translate(lang: str, message: str, **values: object) -> str:
    """``message`` in ``lang``, with ``%(name)s`` placeholders filled from ``values``."""
    text = translations(lang).gettext(message)
    return text % values if values else text


def translate_in(lang: str, context: str, message: str) -> str:
    """``message`` of ``context`` (its ``msgctxt``, e.g. a lint rule's id) in ``lang``."""
    return str(translations(lang).pgettext(context, message))


class Keyed(NamedTuple):
    """A text of garde's wording known by its place (``rights.mail.subject``): its context."""

    context: str
    text: str  # in English: the message id

    def __call__(self, lang: str) -> str:
        return translate_in(lang, self.context, self.text)


def keyed(context: str, text: str) -> Keyed:
    """Declares ``text`` (English) under ``context`` (``make translations``: ``-k keyed:1c,2``)."""
    return Keyed(context, text)


def translate_plural(lang: str, singular: str, plural: str, num: int, **values: object) -> str:
    """The form of ``singular``/``plural`` that ``num`` takes in ``lang``; ``%(num)d`` is ``num``."""
    return translations(lang).ngettext(singular, plural, num) % {"num": num, **values}


# Accept-Language (RFC 9110 §12.5.4): language ranges (RFC 4647) with optional weights.
ACCEPT_LANGUAGE_MAX = 512  # characters read: a browser sends well under 100
ACCEPT_LANGUAGE_RANGES = 32
_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_WEIGHT = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def _weight(params: list[str]) -> float | None:
    """A range's ``q`` (1 without one), or None when it is not a weight RFC 9110 allows."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _WEIGHT.fullmatch(value) else None
    return 1.0


def preferred_language(accept_language: str, supported: Sequence[str]) -> str:
    """The language of ``supported`` that an ``Accept-Language`` header prefers, else the first.

    The highest weight wins, the earlier range on a tie; a region or script does not matter
    (``fr-CH`` asks for ``fr``), ``*`` asks for the first supported, a weight of 0 refuses. A range
    that is not one, or a weight that is not, is passed over; only the first
    :data:`ACCEPT_LANGUAGE_MAX` characters and :data:`ACCEPT_LANGUAGE_RANGES` ranges are read.

        >>> preferred_language("de-CH, it;q=0.8, fr-CH;q=0.9", ("en", "fr", "it"))
        'fr'
    """
    best, best_weight = supported[0], 0.0
    for part in accept_language[:ACCEPT_LANGUAGE_MAX].split(",")[:ACCEPT_LANGUAGE_RANGES]:
        tag, *params = part.split(";")
        tag = tag.strip()
        weight = _weight(params)
        if weight is None or weight <= best_weight or not _RANGE.fullmatch(tag):
            continue
        primary = supported[0] if tag == "*" else tag.split("-")[0].lower()
        if primary in supported:
            best, best_weight = primary, weight
    return best
