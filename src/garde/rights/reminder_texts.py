"""The words of the DPO's deadline reminder (:mod:`garde.rights.reminders`), in English: message
ids of garde's gettext catalogues, each :func:`garde.i18n.keyed` with its place as its context,
translated in ``src/garde/locale/{fr,en,it}/LC_MESSAGES/garde.po``. ``{name}`` placeholders are
filled in by the code (``str.format``). No plural is needed: counts follow a colon."""

from __future__ import annotations

from garde.i18n import keyed

SUBJECT = keyed("rights.reminder.subject",
                "Data-subject requests to answer — overdue: {overdue}, due within {days} days: {soon}")
BODY = keyed(
    "rights.reminder.body",
    "Hello,\n"
    "\n"
    "These data-subject requests are overdue or due within {days} days. GDPR Article 12(3): an answer "
    "is due one month after receipt, extendable by two further months if the subject is told why "
    "within the first month.\n"
    "\n"
    "{lines}\n"
    "\n"
    "The DPO dashboard and `garde request list` show them. This message names no data subject.\n"
    "\n"
    "{controller}\n")
OVERDUE = keyed("rights.reminder.overdue",
                "- {request}: {type}, received on {received}, due on {due}, OVERDUE (days past: {days})")
SOON = keyed("rights.reminder.soon",
             "- {request}: {type}, received on {received}, due on {due} (days left: {days})")
