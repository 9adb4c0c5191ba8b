"""What the app holds for its routes: the store, the register's decision model, the audit writer,
and the threads that make the decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from fastapi import Request

from garde.audit import AuditWriter
from garde.decide.model import DecisionModel
from garde.settings import Settings

if TYPE_CHECKING:
    from garde.api.decision_threads import DecisionThreads


@dataclass
class Service:
    settings: Settings
    engine: sa.Engine
    model: DecisionModel
    audit: AuditWriter
    decisions: DecisionThreads


def service(request: Request) -> Service:
    held: Service = request.app.state.garde
    return held


def store(request: Request) -> sa.Engine:
    return service(request).engine
