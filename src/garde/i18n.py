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
