"""The documents' words that differ under the UK GDPR (the law, the area data leaves, the authority).

In English, each under its key as its context: message ids of garde's gettext catalogues.
"""

from __future__ import annotations

from garde.i18n import Keyed, keyed

TEXTS: tuple[Keyed, ...] = (
    keyed("uk_gdpr.common.field.transfers", "transfers outside the UK (or that there are none)"),
    keyed("uk_gdpr.common.field.law", "the law this basis rests on (UK GDPR Art. 6(3))"),
    keyed("uk_gdpr.common.word.no_transfer", "No transfer outside the UK (stated by the register)"),
    keyed("uk_gdpr.notice.article", "UK GDPR Art. {article}"),
    keyed("uk_gdpr.notice.section.transfers", "Transfers outside the United Kingdom"),
    keyed("uk_gdpr.notice.text.no_transfer",
          "The record states that no data is transferred outside the United Kingdom."),
    keyed("uk_gdpr.notice.text.sources_intro",
          "For the following activities, the data is not (only) collected from you (UK GDPR Art. 14):"),
    keyed("uk_gdpr.notice.text.rights_intro",
          "You have the following rights over your data (UK GDPR Arts. 15 to 21):"),
    keyed("uk_gdpr.register.heading.controller",
          "Activities {name} carries out as controller (UK GDPR Art. 30(1))"),
    keyed("uk_gdpr.register.heading.processor",
          "Activities {name} carries out as processor (UK GDPR Art. 30(2))"),
    keyed("uk_gdpr.register.column.transfers", "Transfers outside the UK and safeguards"),
)
