"""Data-subject requests (GDPR Arts. 12, 15-21): intake, verification and execution."""

from garde.rights.code_limits import unlock
from garde.rights.deployment import Deployment
from garde.rights.intake import (
    REQUEST_TYPES,
    Request,
    extend,
    get_request,
    list_requests,
    reject,
    submit,
)
from garde.rights.mailer import (
    ConsoleMailer,
    FileMailer,
    Mailer,
    SmsSender,
    SmtpMailer,
    WithSms,
    configured_mailer,
)
from garde.rights.running import run
from garde.rights.verification import check_code, send_code, send_codes, verify_out_of_band

__all__ = [
    "REQUEST_TYPES",
    "ConsoleMailer",
    "Deployment",
    "FileMailer",
    "Mailer",
    "Request",
    "SmsSender",
    "SmtpMailer",
    "WithSms",
    "check_code",
    "configured_mailer",
    "extend",
    "get_request",
    "list_requests",
    "reject",
    "run",
    "send_code",
    "send_codes",
    "submit",
    "unlock",
    "verify_out_of_band",
]
