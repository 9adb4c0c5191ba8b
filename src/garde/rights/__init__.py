"""Data-subject requests (GDPR Arts. 12, 15-21): intake, verification and execution."""

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
from garde.rights.mailer import ConsoleMailer, FileMailer, Mailer, SmtpMailer, configured_mailer
from garde.rights.running import run
from garde.rights.verification import check_code, send_code, verify_out_of_band

__all__ = [
    "REQUEST_TYPES",
    "ConsoleMailer",
    "Deployment",
    "FileMailer",
    "Mailer",
    "Request",
    "SmtpMailer",
    "check_code",
    "configured_mailer",
    "extend",
    "get_request",
    "list_requests",
    "reject",
    "run",
    "send_code",
    "submit",
    "verify_out_of_band",
]
