"""Consent imports as jobs: the CSV staged in the store, encrypted (:mod:`garde.jobs.staging`), and
imported by a worker with the same parser as ``garde consent import``.

Importing again adds nothing twice (the importer's own rule), so a worker killed mid-import
leaves work the retried job finishes; the staged file is deleted once imported. The report
(rows added, refused and why, without the refused values) is in the worker's log: the job's result is
not kept by the queue.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.consent.importing import import_csv_bytes
from garde.decide.model import DecisionModel
from garde.jobs.kinds import job
from garde.jobs.staging import discard, job_staging, unstaged
from garde.settings import get_settings

logger = logging.getLogger(__name__)


def _discard_staged(conn: sa.Connection, job_id: int, arguments: dict[str, Any], actor: str) -> None:
    """A cancelled import's staged file, which no job will read any more, is deleted."""
    staged = arguments.get("staged")
    if isinstance(staged, str):
        conn.execute(job_staging.delete().where(job_staging.c.staged == staged))


@job("consent.import", queue="imports", retry=3, on_cancel=_discard_staged)
def consent_import(store: Engine, staged: str, name: str, source: str, columns: dict[str, str],
                   activity: str | None = None, channel: str | None = None,
                   actor: str = "garde worker") -> dict[str, Any]:
    """Import the staged CSV ``name`` (its problems name its lines, as the command's do)."""
    model = DecisionModel.load(get_settings().registers)
    report = import_csv_bytes(store, unstaged(store, staged, name), name, source=source, columns=columns,
                              defaults={"activity": activity, "channel": channel},
                              activities=dict(model.validity()), actor=actor)
    discard(store, staged)
    problems = [without_values(problem) for problem in report.problems]
    logger.info("consent import %s (%s): %s rows read, %s added, %s already there, %s refused: %s",
                name, source, report.read, report.added, report.already_there, len(problems),
                "; ".join(problems[:20]))
    # the queue logs the result too: counts, and lines without their values (notes quote none)
    return {**asdict(report), "problems": problems}


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def without_values(problem: str) -> str:
    """A refused row's problem as the worker logs it: its line and reason, the values quoted in it masked
    (a mistyped e-mail address is still someone's, and logs are kept and shipped)."""
    return _QUOTED.sub("'…'", problem)
