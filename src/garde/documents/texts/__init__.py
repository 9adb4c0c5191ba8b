"""The words of the published documents (notices, Art. 30 registers, lint report headers...), in
English, each under its key (``common.gap.field``) as its context (``msgctxt``): message ids of
garde's gettext catalogues, translated in ``src/garde/locale/{fr,en,it}/LC_MESSAGES/garde.po``.

One module per part: ``common`` (words every document uses), ``notice``, ``register`` (Art.
30), ``roles``, ``trackers``,
``banner`` (the cookie banner's own words), and ``uk_gdpr`` (only the keys whose words differ under the UK
GDPR). ``{name}`` placeholders are filled by the code (``str.format``).
"""

from __future__ import annotations

from garde.documents.texts import banner, common, notice, register, roles, trackers, uk_gdpr
from garde.i18n import Keyed

TEXTS: tuple[Keyed, ...] = (*banner.TEXTS,
                            *common.TEXTS, *notice.TEXTS, *register.TEXTS, *roles.TEXTS, *trackers.TEXTS,
                            *uk_gdpr.TEXTS)
