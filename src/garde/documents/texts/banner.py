"""The cookie banner's own words (``garde/web/banner/banner.js`` shows them; the register gives
the rest). CNIL délibération 2020-092: refusing is as easy as accepting, the purposes are named
before the choice, and the choice can be changed at any time as easily as it was given.

In English, each under its key as its context: message ids of garde's gettext catalogues.
"""

from __future__ import annotations

from garde.i18n import Keyed, keyed

TEXTS: tuple[Keyed, ...] = (
    keyed("banner.title", "Your cookie choices"),
    keyed("banner.intro",
          "This site would like to use the cookies and trackers below for the purposes shown. You can accept "
          "them all, refuse them all or choose purpose by purpose, and change your mind at any time from the "
          "\"Cookies\" link."),
    keyed("banner.accept_all", "Accept all"),
    keyed("banner.refuse_all", "Refuse all"),
    keyed("banner.customise", "Customise"),
    keyed("banner.save", "Save my choices"),
    keyed("banner.close", "Close (refuses all)"),
    keyed("banner.necessary", "Always on: needed by the site, no consent asked"),
    keyed("banner.choice", "Accept"),
    keyed("banner.trackers", "Cookies and trackers"),
    keyed("banner.reopen", "Cookies"),
    keyed("banner.saved", "Your choices are saved."),
)
