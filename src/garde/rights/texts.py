"""The words of garde's answers to data-subject requests, in English: message ids of garde's
gettext catalogues.

The one-time code mail and SMS, the access report and the mails telling a subject what became
of their request (``rights/notify.py``). Each text is :func:`garde.i18n.keyed` with its place
(``rights.mail.subject``) as its context (``msgctxt``), translated in
``src/garde/locale/{fr,en,it}/LC_MESSAGES/garde.po``; :func:`garde.rights.wording.strings`
reads them in a language. ``{name}`` placeholders are filled in by the code (``str.format``).
The rights paragraphs and the complaint route come from the notice's catalogue, so both say
the same.
"""

from __future__ import annotations

from typing import Any

from garde.i18n import keyed

TEXTS: dict[str, Any] = {
    "mail": {
        "subject": keyed("rights.mail.subject", "Your verification code"),
        "body": keyed(
            "rights.mail.body",
            "Hello,\n"
            "\n"
            "We have received a request about your personal data (reference {request}).\n"
            "To confirm it comes from you, enter this code: {code}\n"
            "It is valid for {minutes} minutes.\n"
            "\n"
            "If you did not make this request, ignore this message.\n"),
    },
    "sms": keyed(
        "rights.sms",
        "Your verification code for request {request}: {code} (valid {minutes} minutes). If you did not "
        "make this request, ignore this message."),
    # The code sent to the new e-mail or phone a rectification would write (rights/new_identity.py):
    # its holder may not be the requester, so it says what happens if they do nothing.
    "confirm_mail": {
        "subject": keyed("rights.confirm_mail.subject", "Confirm your new e-mail address"),
        "body": keyed(
            "rights.confirm_mail.body",
            "Hello,\n"
            "\n"
            "We have received a request (reference {request}) to record this address as the contact "
            "address of a customer.\n"
            "If you made it, confirm the address with this code: {code}\n"
            "It is valid for {minutes} minutes.\n"
            "\n"
            "If you did not make this request, ignore this message: this address will not be recorded.\n"),
    },
    "confirm_sms": keyed(
        "rights.confirm_sms",
        "Code to confirm this number as your new contact number (request {request}): {code} (valid "
        "{minutes} minutes). If you did not ask for it, ignore this message: the number will not be "
        "recorded."),
    # A consent the shop recorded for an identity it did not check (consent/confirmations.py): its
    # holder confirms it by signing in to the privacy center; no code or secret in the message.
    "consent_confirm_mail": {
        "subject": keyed("rights.consent_confirm_mail.subject", "Confirm your consent"),
        "body": keyed(
            "rights.consent_confirm_mail.body",
            "Hello,\n"
            "\n"
            "{controller} was asked to record this address's consent to: {activity}.\n"
            "If you asked for it, confirm it within {days} days: sign in to the privacy center "
            "({where}) with this address and give this consent under \"My consents\".\n"
            "\n"
            "If you did not ask for it, ignore this message: no consent is recorded for this address.\n"),
    },
    "consent_confirm_sms": keyed(
        "rights.consent_confirm_sms",
        "{controller} was asked to record this number's consent to: {activity}. If you asked for it, "
        "confirm it within {days} days in the privacy center ({where}); if not, ignore this message."),
    "consent_confirm_where": keyed("rights.consent_confirm_where", "ask {controller} for its address"),
    # The code of a data subject's session (rights/sessions.py): no request yet, no reference.
    "session_mail": {
        "subject": keyed("rights.session_mail.subject", "Your sign-in code"),
        "body": keyed(
            "rights.session_mail.body",
            "Hello,\n"
            "\n"
            "To see your requests and consents, enter this code: {code}\n"
            "It is valid for {minutes} minutes.\n"
            "\n"
            "If you did not ask for it, ignore this message.\n"),
    },
    "session_sms": keyed(
        "rights.session_sms",
        "Your sign-in code: {code} (valid {minutes} minutes). If you did not ask for it, ignore this "
        "message."),
    "report": {
        "title": keyed("rights.report.title", "Your personal data"),
        "intro": keyed(
            "rights.report.intro",
            "Answer to your access request (GDPR Art. 15), reference {request}, received on {received}. "
            "Here is all the data about you that {controller} holds, then the information on how it is "
            "processed."),
        "by_category": keyed("rights.report.by_category", "Your data, by category"),
        "by_activity": keyed("rights.report.by_activity", "How your data is processed"),
        "where": keyed("rights.report.where", "Where we keep it"),
        "field": keyed("rights.report.field", "Field"),
        "value": keyed("rights.report.value", "Value"),
        "secret": keyed("rights.report.secret", "kept, not shown for your security"),
        "purposes": keyed("rights.report.purposes", "Purposes"),
        "legal_bases": keyed("rights.report.legal_bases", "Legal basis"),
        "categories": keyed("rights.report.categories", "Your data used"),
        "recipients": keyed("rights.report.recipients", "Recipients"),
        "retention": keyed("rights.report.retention", "Retention"),
        "sources": keyed("rights.report.sources", "Source"),
        "transfers": keyed("rights.report.transfers", "Transfers outside the EEA"),
        "not_stated": keyed("rights.report.not_stated", "not stated in the register"),
        "rights": keyed("rights.report.rights", "Your rights"),
        "complaint": keyed("rights.report.complaint", "Complaint"),
        "identities": keyed("rights.report.identities", "How we found your data"),
        "identities_intro": keyed(
            "rights.report.identities_intro",
            "We searched with the identities you proved are yours, then with those our records of "
            "reference (checked by us) tie to you. Other identities met on the way were not used to "
            "search: they may belong to someone else."),
        "identity": keyed("rights.report.identity", "Identity"),
        "how": keyed("rights.report.how", "How it was matched"),
        "how_given": keyed("rights.report.how_given", "given by you and verified"),
        "how_linked": keyed(
            "rights.report.how_linked",
            "found in {record} ({field} field), a record of reference we check, reached from {via}"),
        "how_not_followed": keyed(
            "rights.report.how_not_followed",
            "an identity of this kind appears in {record} ({field} field); nothing proves it is yours: it "
            "was not used to search and is not shown"),
        "how_not_followed_yours": keyed(
            "rights.report.how_not_followed_yours",
            "appears in {record} ({field} field), one of your records; nobody checked it: it was not used "
            "to search elsewhere"),
        "withheld": keyed("rights.report.withheld", "kept, not shown: nothing proves it is yours"),
        "identity_kinds": {
            "email": keyed("rights.report.identity_kinds.email", "E-mail address"),
            "phone": keyed("rights.report.identity_kinds.phone", "Phone number"),
            "customer_id": keyed("rights.report.identity_kinds.customer_id", "Customer number"),
            "loyalty_card": keyed("rights.report.identity_kinds.loyalty_card", "Loyalty card"),
            "cookie_id": keyed("rights.report.identity_kinds.cookie_id", "Cookie identifier"),
        },
        "archived": keyed("rights.report.archived", "archived on {archived} (intermediate archive)"),
        "archived_until": keyed("rights.report.archived_until", ", to be deleted on {deleted}"),
        "no_data": keyed(
            "rights.report.no_data",
            "{controller} holds no data about you, apart from this request and the record of how it was "
            "handled, kept to prove that we answered it. If you think otherwise, you may lodge a complaint "
            "with {authority}."),
        # Data held as a processor (rights/held_as_processor.py): the controller's name and contact come
        # from the register's ``on_behalf_of``; garde says only what the law makes of it (Art. 28(3)(e)).
        "processed_for_title": keyed("rights.report.processed_for_title",
                                     "Data we process on behalf of another controller"),
        "processed_for": keyed(
            "rights.report.processed_for",
            "Some data about you is processed by us on behalf of {controller}, which decides why and how "
            "it is processed (GDPR Art. 28). We do not answer for it as our own: we pass your request on "
            "to {controller}, which is responsible for answering it (GDPR Art. 12 and 28(3)(e))."),
        "processed_for_contact": keyed(
            "rights.report.processed_for_contact",
            "You may also address your request to it directly: {contact}."),
        "no_authority": keyed(
            "rights.report.no_authority",
            "the supervisory authority (not stated in the register)"),
        "answer_yes": keyed("rights.report.answer_yes", "yes"),
        "answer_no": keyed("rights.report.answer_no", "no"),
        "held": {
            "title": keyed("rights.report.held.title", "What we keep of your choices and requests"),
            "intro": keyed(
                "rights.report.held.intro",
                "Besides the data above, our personal-data management tool keeps this information about "
                "you."),
            "consents": keyed("rights.report.held.consents", "Your consents and their history"),
            "objections": keyed("rights.report.held.objections", "Your objections"),
            "suppression": keyed("rights.report.held.suppression", "Do-not-contact list"),
            "requests": keyed("rights.report.held.requests", "Your requests and their steps"),
            "legal_holds": keyed("rights.report.held.legal_holds", "Legal holds naming you"),
            "audit": keyed("rights.report.held.audit", "Log of what was done concerning you"),
            # consent/confirmations.py: a shop's form named the subject's identity without checking it
            "confirmations": keyed("rights.report.held.confirmations", "Consent confirmations asked of you"),
            "asked_by": keyed("rights.report.held.asked_by", "Asked by (the shop's integration)"),
            "answered": keyed("rights.report.held.answered", "Answered on"),
            "not_answered": keyed("rights.report.held.not_answered", "not answered"),
            "none": keyed("rights.report.held.none", "none"),
            "date": keyed("rights.report.held.date", "Date"),
            "activity": keyed("rights.report.held.activity", "Processing"),
            "channel": keyed("rights.report.held.channel", "Channel"),
            "choice": keyed("rights.report.held.choice", "Choice"),
            "how": keyed("rights.report.held.how", "How"),
            "expires": keyed("rights.report.held.expires", "Expires on"),
            "scope": keyed("rights.report.held.scope", "Scope"),
            "reason": keyed("rights.report.held.reason", "Reason"),
            "identity": keyed("rights.report.held.identity", "Identifier"),
            "request": keyed("rights.report.held.request", "Request"),
            "received": keyed("rights.report.held.received", "Received on"),
            "status": keyed("rights.report.held.status", "Status"),
            "steps": keyed("rights.report.held.steps", "Steps"),
            "this_request": keyed("rights.report.held.this_request", "this request"),
            "from": keyed("rights.report.held.from", "Since"),
            "until": keyed("rights.report.held.until", "Until"),
            "released": keyed("rights.report.held.released", "Released on"),
            "what": keyed("rights.report.held.what", "What was done"),
            "actions": {
                "given": keyed("rights.report.held.actions.given", "given"),
                "withdrawn": keyed("rights.report.held.actions.withdrawn", "withdrawn"),
                "refused": keyed("rights.report.held.actions.refused", "refused"),
            },
            "types": {
                "access": keyed("rights.report.held.types.access", "access"),
                "portability": keyed("rights.report.held.types.portability", "portability"),
                "rectification": keyed("rights.report.held.types.rectification", "rectification"),
                "erasure": keyed("rights.report.held.types.erasure", "erasure"),
                "restriction": keyed("rights.report.held.types.restriction", "restriction"),
                "objection": keyed("rights.report.held.types.objection", "objection"),
            },
            "statuses": {
                "received": keyed("rights.report.held.statuses.received", "received"),
                "verified": keyed("rights.report.held.statuses.verified", "identity verified"),
                "in_progress": keyed("rights.report.held.statuses.in_progress", "in progress"),
                "failed": keyed("rights.report.held.statuses.failed", "interrupted"),
                "completed": keyed("rights.report.held.statuses.completed", "answered"),
                "rejected": keyed("rights.report.held.statuses.rejected", "refused"),
                "cancelled": keyed("rights.report.held.statuses.cancelled", "cancelled"),
                "extended": keyed("rights.report.held.statuses.extended", "deadline extended"),
                "notified": keyed("rights.report.held.statuses.notified", "told by mail"),
            },
            "kinds": {
                "decision": keyed("rights.report.held.kinds.decision", "decision to use your data"),
                "consent.given": keyed("rights.report.held.kinds.consent.given", "consent given"),
                "consent.withdrawn": keyed("rights.report.held.kinds.consent.withdrawn", "consent withdrawn"),
                "consent.refused": keyed("rights.report.held.kinds.consent.refused", "consent refused"),
                "objection": keyed("rights.report.held.kinds.objection", "objection"),
                "subject.objected": keyed("rights.report.held.kinds.subject.objected", "objection"),
                "subject.restricted": keyed(
                    "rights.report.held.kinds.subject.restricted",
                    "processing restricted"),
                "legal_hold.placed": keyed("rights.report.held.kinds.legal_hold.placed", "legal hold placed"),
                "legal_hold.released": keyed(
                    "rights.report.held.kinds.legal_hold.released",
                    "legal hold released"),
                "request.code_sent": keyed(
                    "rights.report.held.kinds.request.code_sent",
                    "verification code sent"),
                "request.notified": keyed("rights.report.held.kinds.request.notified", "mail sent"),
                "request.subject_found": keyed(
                    "rights.report.held.kinds.request.subject_found",
                    "your data searched"),
                "request.code_rejected": keyed(
                    "rights.report.held.kinds.request.code_rejected",
                    "wrong verification code"),
                "request.rectified": keyed("rights.report.held.kinds.request.rectified", "data rectified"),
                "request.erasure_planned": keyed(
                    "rights.report.held.kinds.request.erasure_planned",
                    "erasure planned"),
                "request.erasure_applied": keyed(
                    "rights.report.held.kinds.request.erasure_applied",
                    "data erased"),
                "request.copies_removed": keyed(
                    "rights.report.held.kinds.request.copies_removed",
                    "copies removed"),
                "subject.erased": keyed("rights.report.held.kinds.subject.erased", "erasure completed"),
                "subject_session.started": keyed("rights.report.held.kinds.subject_session.started",
                                                 "sign-in code asked for"),
                "subject_session.confirmed": keyed("rights.report.held.kinds.subject_session.confirmed",
                                                   "signed in"),
                "subject_session.locked": keyed("rights.report.held.kinds.subject_session.locked",
                                                "sign-in locked (wrong codes)"),
                "subject_session.refused": keyed("rights.report.held.kinds.subject_session.refused",
                                                 "sign-in code asked for, not sent (too many asked)"),
                "subject_session.ended": keyed("rights.report.held.kinds.subject_session.ended",
                                               "signed out"),
            },
        },
    },
    "notify": {
        "no_authority": keyed("rights.notify.no_authority", "the supervisory authority of your country"),
        "where_reply": keyed(
            "rights.notify.where_reply",
            "  by replying to this message, quoting reference {request}"),
        "extended": {
            "subject": keyed(
                "rights.notify.extended.subject",
                "Your request {request}: more time needed to answer"),
            "body": keyed(
                "rights.notify.extended.body",
                "Hello,\n"
                "\n"
                "We received your {type} request (reference {request}) on {received}.\n"
                "We need more time to answer it, for this reason:\n"
                "\n"
                "  {reason}\n"
                "\n"
                "We will answer by {due} at the latest (GDPR Article 12(3)).\n"
                "\n"
                "{controller}\n"),
        },
        "rejected": {
            "subject": keyed("rights.notify.rejected.subject", "Your request {request}: we cannot act on it"),
            "body": keyed(
                "rights.notify.rejected.body",
                "Hello,\n"
                "\n"
                "We cannot act on your {type} request received on {received} (reference {request}), for "
                "this reason:\n"
                "\n"
                "  {reason}\n"
                "\n"
                "If you disagree, you have the right to lodge a complaint with a supervisory authority, "
                "{authority}, and to seek a judicial remedy (GDPR Articles 12(4), 77 and 79).\n"
                "\n"
                "{controller}\n"),
        },
        "answered_data": {
            "subject": keyed(
                "rights.notify.answered_data.subject",
                "Your request {request}: your answer is ready"),
            "body": keyed(
                "rights.notify.answered_data.body",
                "Hello,\n"
                "\n"
                "We have answered your {type} request received on {received} (reference {request}).\n"
                "For your security, this message holds none of your data. You can obtain your answer:\n"
                "\n"
                "{where}\n"
                "\n"
                "{controller}\n"),
        },
        "answered_done": {
            "subject": keyed(
                "rights.notify.answered_done.subject",
                "Your request {request} has been carried out"),
            "body": keyed(
                "rights.notify.answered_done.body",
                "Hello,\n"
                "\n"
                "We have carried out your {type} request received on {received} (reference {request}).\n"
                "For the detail of what was done, you can write to us:\n"
                "\n"
                "{where}\n"
                "\n"
                "{controller}\n"),
        },
    },
}
