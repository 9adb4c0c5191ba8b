"""The documents' words: the Art. 13/14 privacy notice's sections, layout and sentences.

In English, each under its key as its context: message ids of garde's gettext catalogues.
"""

from __future__ import annotations

from garde.i18n import Keyed, keyed

TEXTS: tuple[Keyed, ...] = (
    keyed("notice.title", "Privacy notice"),
    keyed("notice.intro",
          "This notice describes how {controller} processes your personal data. It is drawn from its "
          "record of processing activities; whatever the record does not state is marked as such."),
    keyed("notice.article", "GDPR Art. {article}"),
    keyed("notice.section.controller", "Who is responsible for your data"),
    keyed("notice.section.dpo", "Data protection officer"),
    keyed("notice.section.purposes", "Purposes and legal bases"),
    keyed("notice.section.sources", "Data not collected from you"),
    keyed("notice.section.recipients", "Recipients of your data"),
    keyed("notice.section.transfers", "Transfers outside the European Economic Area"),
    keyed("notice.section.retention", "How long your data is kept"),
    keyed("notice.section.rights", "Your rights"),
    keyed("notice.section.consent", "Withdrawing your consent"),
    keyed("notice.section.complaint", "Complaint to a supervisory authority"),
    keyed("notice.section.children", "Children"),
    keyed("notice.section.automated", "Profiling and automated decisions"),
    keyed("notice.label.purposes", "Purposes"),
    keyed("notice.label.legal_bases", "Legal basis"),
    keyed("notice.label.legitimate_interest", "legitimate interest pursued"),
    keyed("notice.label.data_categories", "Data processed"),
    keyed("notice.label.data_subjects", "Whose data"),
    keyed("notice.label.provision", "Providing the data"),
    keyed("notice.label.sources", "Where the data comes from"),
    keyed("notice.label.address", "Address"),
    keyed("notice.label.email", "E-mail"),
    keyed("notice.label.phone", "Telephone"),
    keyed("notice.label.url", "Website"),
    keyed("notice.label.parental_consent", "A parent's consent"),
    keyed("notice.label.channels", "Channels"),
    keyed("notice.label.activities_concerned", "Activities concerned"),
    keyed("notice.label.logic", "logic involved"),
    keyed("notice.label.consequences", "significance and envisaged consequences for you"),
    keyed("notice.label.if_not_provided", "if you do not provide it"),
    keyed("notice.requirement.statutory", "Providing the data is a statutory requirement"),
    keyed("notice.requirement.contractual", "Providing the data is a contractual requirement"),
    keyed("notice.requirement.contract_entry", "Providing the data is necessary to enter into the contract"),
    keyed("notice.requirement.not_required", "Providing the data is not required"),
    keyed("notice.right_name.access", "Access"),
    keyed("notice.right_name.rectification", "Rectification"),
    keyed("notice.right_name.erasure", "Erasure"),
    keyed("notice.right_name.restriction", "Restriction"),
    keyed("notice.right_name.portability", "Portability"),
    keyed("notice.right_name.objection", "Objection"),
    keyed("notice.text.no_transfer",
          "The record states that no data is transferred outside the European Economic Area."),
    keyed("notice.text.sources_intro",
          "For the following activities, the data is not (only) collected from you (GDPR Art. 14):"),
    keyed("notice.text.rights_intro", "You have the following rights over your data (GDPR Arts. 15 to 21):"),
    keyed("notice.text.right_access",
          "Access: confirmation that your data is processed, a copy of it and information about its "
          "processing (Art. 15)."),
    keyed("notice.text.right_rectification",
          "Rectification: have inaccurate or incomplete data corrected or completed (Art. 16)."),
    keyed("notice.text.right_erasure",
          "Erasure: have your data deleted in the cases the law provides (Art. 17)."),
    keyed("notice.text.right_restriction",
          "Restriction: have the use of your data suspended, for example while its accuracy is checked "
          "(Art. 18)."),
    keyed("notice.text.right_portability",
          "Portability: receive the data you provided, where the processing rests on your consent or a "
          "contract, in a structured, machine-readable format, or have it sent to another controller "
          "(Art. 20)."),
    keyed("notice.text.right_objection",
          "Objection: object, on grounds relating to your particular situation, to processing based on a "
          "task carried out in the public interest or on legitimate interests (Art. 21(1))."),
    keyed("notice.text.right_objection_marketing",
          "You may object at any time to direct marketing, including related profiling; it then stops, "
          "without conditions (Art. 21(2) and (3))."),
    keyed("notice.text.exercise", "To exercise these rights, send your request to: "),
    keyed("notice.text.deadline",
          "You will receive an answer within one month, which may be extended by two further months "
          "given the complexity or number of requests; you are then told so within the first month (Art. "
          "12(3))."),
    keyed("notice.text.consent",
          "Where processing rests on your consent, you may withdraw it at any time, as easily as you "
          "gave it; withdrawing does not affect the lawfulness of the processing before it (Arts. 7(3) "
          "and 13(2)(c)). Activities concerned:"),
    keyed("notice.text.complaint",
          "If you consider that the processing of your data infringes the law, you may lodge a complaint "
          "with: "),
    keyed("notice.text.automated",
          "For each activity, what the record states about decisions based solely on automated "
          "processing, including profiling (Arts. 13(2)(f) and 22):"),
    keyed("notice.text.no_automated",
          "no decision based solely on automated processing (stated by the record)"),
    keyed("notice.text.automated_yes", "decisions based solely on automated processing"),
    keyed("notice.text.handled_by", ": requests are handled by another controller, "),
    keyed("notice.text.answer_time", "The controller undertakes to answer within {period}."),
    keyed("notice.text.profiling", "profiling"),
    keyed("notice.text.children",
          "Where a service offered online directly to a child rests on consent, a child under {age} can "
          "consent only with the consent or authorisation of a holder of parental responsibility "
          "({reference}); the controller makes reasonable efforts to check it (Art. 8(2)). Activities "
          "that concern children:"),
    keyed("notice.text.children_no_consent", "does not rest on consent"),
    keyed("notice.layout.draft",
          "Draft — this notice is not ready to publish. Points not stated in the register: {gaps}; "
          "passages not translated: {untranslated}."),
    keyed("notice.layout.untranslated", "[not translated]"),
    keyed("notice.layout.version", "Version"),
    keyed("notice.layout.updated", "Last updated"),
    keyed("notice.layout.summary", "At a glance"),
    keyed("notice.layout.summary_label",
          "Summary: purpose, legal basis and retention period of each activity"),
    keyed("notice.layout.activity", "Activity"),
    keyed("notice.layout.purpose", "Purpose"),
    keyed("notice.layout.legal_basis", "Legal basis"),
    keyed("notice.layout.retention", "Retention"),
    keyed("notice.layout.contents", "Contents"),
    keyed("notice.layout.trackers_label", "List of cookies and trackers"),
    keyed("notice.layout.privacy_center", "Manage your data and your choices: "),
    keyed("notice.layout.cookie_settings", "Change your cookie choices: "),
    keyed("notice.layout.right_post_mortem",
          "Instructions after death: you may set instructions on how your data is kept, erased and "
          "communicated after your death (French Data Protection Act, art. 85)."),
)
