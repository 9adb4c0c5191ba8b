"""Audience exports as jobs: the CSV written to the ``exports`` folder of whoever runs the job.

On PostgreSQL a worker runs it, maybe on another machine: the submitter's output path would mean
nothing there, so the job gets only a file name, chosen by the submitter (who can then tell
where it will be), and writes ``<exports>/<name>`` owner-only, first as ``<name>.part``, renamed
when complete: a file under its name is always whole. A worker killed mid-export leaves a
``.part`` file the retried job writes again from the start (the audience is then computed, and
audited, once per attempt).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from garde.audience import write_contacts_csv
from garde.consent.recording import check_activity
from garde.datasets import connect_datamap, load_datamap
from garde.decide.model import DecisionModel
from garde.jobs.kinds import job
from garde.private_files import open_private
from garde.problems import GardeError
from garde.settings import get_settings

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.csv")


def export_name(activity: str, channel: str) -> str:
    """A new export's file name: the activity, the channel and a random part (never reused)."""
    plain = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{activity}-{channel}")[:100]
    return f"audience-{plain}-{uuid.uuid4().hex[:12]}.csv"


def export_path(folder: Path, name: str) -> Path:
    """``name`` in ``folder``; a name that is not a plain ``.csv`` file name is refused."""
    if not NAME.fullmatch(name):
        raise GardeError(f"{name!r} is not an export file name (letters, digits, . _ -, ending in .csv)")
    return folder / name


@job("audience.export", queue="exports", retry=3)
def audience_export(store: Engine, activity: str, channel: str, name: str,
                    actor: str = "garde worker") -> dict[str, Any]:
    """Write who ``activity`` may contact on ``channel`` (addresses, as ``garde audience``)."""
    settings = get_settings()
    path = export_path(settings.exports, name)
    model = DecisionModel.load(settings.registers)
    check_activity(model, activity)
    datamap = load_datamap(settings.datasets)
    engines = connect_datamap(datamap)
    partial = path.with_name(path.name + ".part")
    try:
        with open_private(partial, newline="") as handle:
            count = write_contacts_csv(handle, store, model, datamap, engines, activity, channel, actor=actor,
                                       exports=settings.exports)
        partial.replace(path)
    finally:
        for engine in engines.values():
            engine.dispose()
    return {"file": str(path), "count": count}
