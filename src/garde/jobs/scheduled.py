"""The scheduled work of docs/deploy.md as periodic jobs (:data:`garde.jobs.periodic.PERIODIC`):
the DPO's deadline reminders, the consent renewal list and the audit head's export, each the
library function its command runs, with the worker's settings. Each is idempotent for the day
(a claim in ``scheduled_runs``), so a second tick or a retried job does no double work."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from garde.audit.head_export import export_head
from garde.consent.renewal import renewals
from garde.problems import GardeError
from garde.rights.reminders import remind
from garde.settings import get_settings


def remind_dpo(store: Engine) -> dict[str, Any]:
    """`garde request remind`: the requests due soon and overdue, mailed to the DPO once a day."""
    return remind(store, get_settings()).to_data()


def renewal_list(store: Engine) -> dict[str, Any]:
    """`garde consent renewals` written to ``consent_renewal_file`` (a list nobody reads is not
    kept: without that setting the job fails, and says so, until it is set or the schedule emptied)."""
    settings = get_settings()
    if settings.consent_renewal_file is None:
        raise GardeError("consent_renewal_schedule is set but consent_renewal_file is not: set "
                         "GARDE_CONSENT_RENEWAL_FILE, or GARDE_CONSENT_RENEWAL_SCHEDULE='' to stop the job")
    listed = renewals(store, settings)
    data: dict[str, Any] = {**listed.to_data(), "consents": []}  # the list is in the file, not the queue
    return data


def audit_head(store: Engine) -> dict[str, Any]:
    """`garde audit export-head`: the verified head appended to ``audit_checkpoint_file`` and/or
    POSTed to ``audit_head_url``."""
    return export_head(store, get_settings()).to_data()
