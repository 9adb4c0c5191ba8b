"""Settings in one place: defaults, then ``garde.toml``, then ``GARDE_*`` variables.

Every setting has help text; ``garde.toml`` in the working directory (or the
file named by ``GARDE_CONFIG``) may set any of them, e.g.::

    database_url = "postgresql+psycopg://garde@localhost/garde"
    mailer = "smtp"
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
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
    sms_gateway: str = Field(
        default="",
        description="SMS gateway for the one-time codes of telephone numbers: `package.module:factory`, "
        "a callable taking no argument and returning an object with `send_sms(to, body)`. Empty: the file "
        "mailer writes texts as .sms files, the console mailer prints them, smtp sends none (an agent "
        "then checks the phone out of band).",
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
    dpo_session_hours: int = Field(
        default=8, ge=1, le=24,
        description="How long a DPO stays logged in to the dashboard (`/dpo/`) after pasting their key: "
        "the session then ends and the key must be pasted again (1-24 hours).",
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
