"""The documents' words: the words about the controller's roles (processor, joint controller).

In English, each under its key as its context: message ids of garde's gettext catalogues.
"""

from __future__ import annotations

from garde.i18n import Keyed, keyed

TEXTS: tuple[Keyed, ...] = (
    keyed("roles.field.served_contact", "this controller's contact details"),
    keyed("roles.field.contract", "processing contract (Art. 28(3))"),
    keyed("roles.field.sub_processors", "sub-processors (or that there are none)"),
    keyed("roles.field.sub_processor_authorisation",
          "the controller's specific or general written authorisation (Art. 28(2))"),
    keyed("roles.field.joint_controllers", "the other joint controllers"),
    keyed("roles.field.joint_contact", "this joint controller's contact details"),
    keyed("roles.field.essence", "the essence of the joint controllers' arrangement (Art. 26(2))"),
    keyed("roles.authorisation.general", "sub-processors: general written authorisation"),
    keyed("roles.authorisation.specific", "sub-processors: specific written authorisation"),
    keyed("roles.word.dpo", "DPO"),
    keyed("roles.word.dated", "dated"),
    keyed("roles.word.no_sub_processor", "No sub-processor (stated by the register)"),
    keyed("roles.label.joint_controllers", "Joint controllers"),
    keyed("roles.label.essence", "Essence of the arrangement"),
    keyed("roles.label.available_at", "Where to read it"),
    keyed("roles.label.contact_point", "Contact point for data subjects"),
    keyed("roles.label.reference", "Arrangement document"),
    keyed("roles.notice.section", "Joint controllers"),
    keyed("roles.notice.joint",
          "For the processing below, {controller} determines the purposes and means jointly with other "
          "controllers. Whatever their arrangement says, you may exercise your rights in respect of and "
          "against each of them."),
    keyed("roles.notice.processor",
          "{controller} also acts as a processor, on behalf of other controllers; this notice does not "
          "cover that processing, which those controllers explain."),
    keyed("roles.notice.services", "Services concerned"),
    keyed("roles.notice.service_separator", "; "),
)
