"""Settings in one place: defaults, then ``garde.toml``, then ``GARDE_*`` variables.

Every setting has help text; ``garde.toml`` in the working directory (or the
file named by ``GARDE_CONFIG``) may set any of them, e.g.::

    database_url = "postgresql+psycopg://garde@localhost/garde"
    mailer = "smtp"
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """garde's settings; each is overridable by ``GARDE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GARDE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///.garde/garde.db",
        description="The engine's own store (SQLAlchemy URL). SQLite by default, PostgreSQL in production.",
    )
    registers: Path = Field(
        default=Path("registers/reference-shop.yaml"),
        description="The deployment's register, which decisions, consents and audiences apply "
        "(a file, or a folder of registers whose activity ids do not clash).",
    )
    datasets: Path = Field(default=Path("datasets"), description="Dataset map file or folder.")
    identifier_key: str = Field(
        default="garde-demo-key-change-me",
        description="Secret key protecting the store's hashed subject identifiers (it encrypts the "
        "store's HMAC data key; see docs/keys.md). The default is public: set a long random key in "
        "production, and change it only with `garde keys rotate-identifier`.",
    )
    mailer: Literal["file", "console", "smtp"] = Field(
        default="file", description="How one-time codes and notifications are sent."
    )
    outbox: Path = Field(default=Path(".garde/outbox"), description="Folder the file mailer writes to.")
    smtp_host: str = Field(default="localhost", description="SMTP server, when mailer = smtp.")
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_user: str | None = Field(default=None, description="SMTP user name, if the server needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_sender: str = Field(default="privacy@example.com", description="From address of garde's mail.")
    results: Path = Field(default=Path(".garde/results"), description="Where request results are written.")
    audit_batch_size: int = Field(default=500, description="Audit entries buffered before one write.")
    audit_batch_rows: bool = Field(
        default=True,
        description="The audit writer stores decision entries as batch rows of at most 128 entries, hashed "
        "once (docs/audit.md); false: one row an entry, as before migration 0037. Both read alike.")
    sms_gateway: str = Field(
        default="",
        description="SMS gateway for the one-time codes of telephone numbers: `package.module:factory`, "
        "a callable taking no argument and returning an object with `send_sms(to, body)`. Empty: the file "
        "mailer writes texts as .sms files, the console mailer prints them, smtp sends none (an agent "
        "then checks the phone out of band).",
    )
    discovery_read_ahead: bool | None = Field(
        default=None,
        description="Read a subject's rows in one statement per database before the walk from table to "
        "table: true on every database. Unset or false: the walk alone (measured faster end to end on "
        "SQLite and, with PostgreSQL's default plan cache, on PostgreSQL too). The rows found are the "
        "same.",
    )
    allow_demo_key: bool = Field(
        default=False,
        description="Let a PostgreSQL store run with the public demo identifier key (a throw-away "
        "database only: anyone can test which identifiers such a store holds).",
    )
    audit_key: str | None = Field(
        default=None,
        description="Secret key sealing the audit log (HMAC-SHA256), kept outside the store: without it, "
        "a rewrite of the whole log by someone with write access to the database cannot be detected. "
        "At least 16 characters; unset: entries are written unsealed and `garde audit verify` warns.",
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="File of audit keys, one a line: the first seals new entries (unless audit_key is set), "
        "all verify. Keep the retired keys in it after a rotation.",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only file (JSON lines, created 0600) of audit checkpoints, outside the store: "
        "`garde audit checkpoint` and the end of each retention sweep and erasure append the log's head, "
        "`garde audit verify` checks the log against every line.",
    )
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="How mail to the SMTP server is encrypted: `starttls` (upgrade the connection; a server "
        "that does not offer it is refused), `tls` (TLS from the start, SMTPS, usually port 465) or `none` "
        "(needs smtp_allow_plaintext). Certificates are always verified.",
    )
    smtp_allow_plaintext: bool = Field(
        default=False,
        description="Allow one-time codes and the SMTP password to go in clear (smtp_tls = none, or a server "
        "without STARTTLS), e.g. to a relay on the same host.",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the authorities that sign the SMTP server's certificate, when not the "
        "system's (a company CA).",
    )
    subject_session_minutes: int = Field(
        default=30, ge=1, le=24 * 60,
        description="How long a data subject's session token lives after its one-time code is confirmed "
        "(`/api/v1/me`); logging out ends it sooner.",
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description="Addresses (or networks, `10.0.0.0/8`) of the reverse proxies in front of `garde serve`. "
        "Only a connection from one of them has its client address read from `X-Forwarded-For` (for rate "
        "limits); any other caller could write that header to pass as anyone. Empty: the connection's peer.",
    )

    allowed_origins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(lambda v: _origins(v))] = Field(
        default=(),
        description="Web origins allowed to call garde from a browser (CORS), comma-separated, each exactly "
        "`scheme://host[:port]` (e.g. `https://shop.example,https://www.shop.example`): the shop pages that "
        "embed the cookie banner, the privacy center's site. Empty: no cross-origin access at all.",
    )
    consent_unchecked_identities: Literal["link", "confirm"] | None = Field(
        default=None,
        description="What the consent API does with an identity a call does not mark `checked` (a visitor "
        "may have typed it, maybe someone else's): `confirm` records a consent for it only once its holder "
        "confirms it in the privacy center (a mail or text asks them; double opt-in) and never links it to "
        "the other identities of the call; `link` takes it as the shop's checked word, as before this "
        "setting. Unset: `link`, and `garde serve` warns; new deployments set `confirm` (docs/consent.md).",
    )
    cookie_consent_months: int = Field(
        default=13, ge=1, le=13,
        description="How long the cookie banner remembers a visitor's choice before asking again, in months "
        "(at most 13: CNIL délibération 2020-092, the reference lifetime of a tracker consent).",
    )
    dpo_session_hours: int = Field(
        default=8, ge=1, le=24,
        description="How long a DPO stays logged in to the dashboard (`/dpo/`) after pasting their key: "
        "the session then ends and the key must be pasted again (1-24 hours).",
    )
    decision_threads: int = Field(
        default=4, ge=1, le=64,
        description="Threads of each `garde serve` worker that answer `POST /api/v1/decisions`; each keeps "
        "two connections to the store open (its key check and its decisions) for as long as the server runs.",
    )
    api_key_mail_and_requests_per_hour: int = Field(
        default=120, ge=1, le=100_000,
        description="How many data-subject requests one staff API key may submit, and separately how many "
        "verification codes, and invitations to confirm a consent, it may have mailed, per hour "
        "(`POST /api/v1/requests`, OpenDSR, `send-code`; `POST /api/v1/consents/give`: past it the "
        "invitation is not sent, the call answered as before); "
        "past it the key gets 429 until the hour has passed. Raise it for a shop whose systems forward "
        "many requests through one key.",
    )
    dpo_email: str | None = Field(
        default=None,
        description="Where `garde request remind` mails the DPO the requests due soon and overdue. Unset: "
        "the register's `controller.dpo.email`.",
    )
    reminder_days: int = Field(
        default=7, ge=0, le=31,
        description="The DPO's deadline reminder lists the open requests due within this many days, and "
        "every overdue one (GDPR Art. 12(3): one month from receipt, extendable by two).",
    )
    unverified_request_days: int = Field(
        default=90, ge=0, le=3650,
        description="A request whose identity nobody proved within this many days of receipt is closed by "
        "the DPO's daily reminder (cancelled, its raw identities dropped: GDPR Art. 5(1)(c), (e), 12(6)); "
        "0 keeps them open until staff close them. 90: past the longest Art. 12(3) deadline.",
    )
    consent_renewal_days: int = Field(
        default=30, ge=0, le=366,
        description="`garde consent renewals` lists the consents that lapse within this many days, and those "
        "that lapsed within as many days before and were not renewed since, unless told `--within`.",
    )
    consent_renewal_periods: Annotated[dict[str, str], AfterValidator(lambda v: _periods(v))] = Field(
        default={},
        description="Renewal period per consent channel, for the renewal list (`email = \"3 years\"`, "
        "`cookie.analytics = \"6 months\"`; `cookie` covers every cookie.* channel): a consent is listed "
        "when the first of its own expiry, its activity's `consent.expiry` and this period ends. A cookie "
        "consent never lasts longer than cookie_consent_months (CNIL: 13 months).",
    )
    audit_head_url: str | None = Field(
        default=None,
        description="HTTPS address `garde audit export-head` POSTs the audit log's head to (one JSON "
        "checkpoint), e.g. a log service another team runs; http:// only to this machine (127.0.0.1, "
        "::1, localhost).",
    )
    audit_head_timeout: float = Field(
        default=10.0, gt=0, le=300,
        description="Seconds `garde audit export-head` waits for audit_head_url to answer before it fails.",
    )
    consent_renewal_file: Path | None = Field(
        default=None,
        description="Where `garde consent renewals` (and its periodic job) writes the renewal list, "
        "owner-only (CSV, or JSON when the name ends in .json), replacing the previous one; `--output` "
        "overrides it.",
    )
    retention_sweep_schedule: str = Field(
        default="30 2 * * *",
        description="When the workers sweep retention (a cron string, UTC; PostgreSQL only): nightly at "
        "02:30 by default; empty: never on a schedule (`garde retention sweep` still works).",
    )
    reminder_schedule: str = Field(
        default="0 7 * * *",
        description="When the workers mail the DPO the requests due within reminder_days and the overdue "
        "ones (`garde request remind`; a cron string, UTC; PostgreSQL only): daily at 07:00 by default; "
        "empty: never on a schedule.",
    )
    consent_renewal_schedule: str = Field(
        default="",
        description="When the workers write the consent renewal list to consent_renewal_file (`garde consent "
        "renewals`; a cron string, UTC; PostgreSQL only), e.g. '0 6 * * 1' weekly; empty (the default): "
        "never on a schedule.",
    )
    audit_head_schedule: str = Field(
        default="45 2 * * *",
        description="When the workers export the audit log's verified head to audit_checkpoint_file and/or "
        "audit_head_url (`garde audit export-head`; a cron string, UTC; PostgreSQL only): daily at 02:45 by "
        "default; empty: never on a schedule.",
    )
    jobs_stalled_schedule: str = Field(
        default="* * * * *",
        description="How often the workers look for the jobs of a worker that died (killed, machine lost) "
        "and queue them again (a cron string, UTC; a sixth field counts seconds).",
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0, gt=0, le=3600,
        description="How often each `garde worker` tells the queue it is alive.",
    )
    worker_stalled_seconds: float = Field(
        default=30.0, gt=0, le=86400,
        description="A worker silent for this long is taken for dead and its running jobs are queued "
        "again (keep it several heartbeats long).",
    )
    exports: Path = Field(
        default=Path(".garde/exports"),
        description="Folder where export jobs (`garde audience --job`) write their files, owner-only: on "
        "PostgreSQL, on the machine of the worker that runs the job.",
    )
    jobs_cleanup_schedule: str = Field(
        default="15 3 * * *",
        description="When the workers delete the queue's finished jobs older than jobs_keep_days (`garde "
        "jobs prune`; a cron string, UTC; PostgreSQL only): daily at 03:15 by default; empty: never on a "
        "schedule.",
    )
    jobs_keep_days: int = Field(
        default=30, ge=1, le=3650,
        description="How many days the queue keeps a finished job (succeeded, failed, cancelled, aborted) "
        "after its last change, with its arguments (request ids, file names) and history. 30 days: a "
        "failed job stays long enough to be seen and retried after a holiday or a monthly review, and "
        "the jobs of a request stay inspectable for the month the GDPR gives to answer it; after that "
        "they are deleted (storage limitation, Art. 5(1)(e): the audit log, not the queue, is the record "
        "of what was done).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=os.environ.get("GARDE_CONFIG", "garde.toml"))
        return (init_settings, env_settings, toml)


def _origins(value: Any) -> tuple[str, ...]:
    """``allowed_origins`` as browsers send ``Origin``: scheme and host in lower case, a default port
    dropped; anything else (a path, a wildcard, a user, a query) is refused, naming the value."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(dict.fromkeys(_origin(str(item).strip()) for item in items if str(item).strip()))


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def _origin(text: str) -> str:
    why = "not scheme://host[:port] (http or https, no path, no wildcard)"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"allowed_origins: {text!r} is {why}") from None
    if (parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname or "*" in text or parts.username
            or parts.password or parts.path or parts.query or parts.fragment or text.endswith("?")):
        raise ValueError(f"allowed_origins: {text!r} is {why}")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    elif not _HOST.fullmatch(host):  # a browser sends a host name in ASCII (an IDN as xn--...)
        raise ValueError(f"allowed_origins: {text!r} is {why}: the host is not an ASCII host name")
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def _periods(value: dict[str, str]) -> dict[str, str]:
    """``consent_renewal_periods``: each value a period such as ``13 months``; the error names the channel."""
    from garde.periods import Period

    for channel, text in value.items():
        try:
            Period.parse(text)
        except ValueError as exc:
            raise ValueError(f"consent_renewal_periods[{channel!r}]: {exc}") from None
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
