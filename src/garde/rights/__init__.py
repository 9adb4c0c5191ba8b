"""Data-subject requests (GDPR Arts. 12, 15-21): intake, verification and execution."""

from garde.rights.answers import AnswerFile, answer_file, answer_files
from garde.rights.cancellation import cancel
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
from garde.rights.submission import Receipt, receive
from garde.rights.verification import (
    WrongCode,
    check_code,
    confirm_code,
    send_code,
    send_codes,
    verify_out_of_band,
)

__all__ = [
    "REQUEST_TYPES",
    "AnswerFile",
    "ConsoleMailer",
    "Deployment",
    "FileMailer",
    "Mailer",
    "Receipt",
    "Request",
    "SmsSender",
    "SmtpMailer",
    "WithSms",
    "WrongCode",
    "answer_file",
    "answer_files",
    "cancel",
    "check_code",
    "configured_mailer",
    "confirm_code",
    "extend",
    "get_request",
    "list_requests",
    "receive",
    "reject",
    "run",
    "send_code",
    "send_codes",
    "submit",
    "unlock",
    "verify_out_of_band",
]
