"""The fr/en/it words of request answers, from garde's gettext catalogues.

The texts are declared in English in :mod:`garde.rights.texts`, each under its place
(``rights.mail.subject``) as its ``msgctxt``, and translated in
``src/garde/locale/{fr,en,it}/LC_MESSAGES/garde.po`` (see docs/translations.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from garde.i18n import Keyed
from garde.rights.texts import TEXTS


def _pick(node: Any, lang: str) -> Any:
    if isinstance(node, Keyed):
        return node(lang)
    return {key: _pick(child, lang) for key, child in node.items()}


@lru_cache(maxsize=4)
def strings(lang: str) -> dict[str, Any]:
    """Every text of the request answers and mails in ``lang``, keyed as in :data:`TEXTS`."""
    return dict(_pick(TEXTS, lang))
