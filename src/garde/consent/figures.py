"""Consent figures for the DPO: per activity and channel, the ledger's events month by month
and the consents standing today.

Counted in SQL over the ledger (one grouped query for the months, one per activity and channel
for today's standing consents through :func:`garde.consent.ledger.latest_per_key`, the rule
decisions and audiences apply), never by reading events into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from garde.consent.ledger import consent_events, latest_per_key
from garde.consent.state import ACTIONS
from garde.periods import add_months
from garde.store import is_postgres
from garde.subjects import now


@dataclass
class ChannelFigures:
    activity: str
    channel: str | None
    #: per month of :attr:`ConsentFigures.months`: events given, withdrawn, refused
    by_month: list[dict[str, int]] = field(default_factory=list)
    #: subjects whose consent on this channel stands given today (not expired)
    standing: int = 0


@dataclass
class ConsentFigures:
    months: list[str]  # "2026-01", oldest first
    rows: list[ChannelFigures]


def _month(conn: sa.Connection, column: sa.ColumnElement[datetime]) -> sa.ColumnElement[str]:
    if is_postgres(conn):
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def consent_figures(conn: sa.Connection, *, months: int = 12, today: date | None = None) -> ConsentFigures:
    """The last ``months`` months (this one included) of events, per activity and channel."""
    moment = now()
    today = today or moment.date()
    first = add_months(today.replace(day=1), -(months - 1))
    labels = [add_months(first, n).strftime("%Y-%m") for n in range(months)]
    e = consent_events
    month = _month(conn, e.c.at).label("month")
    counted = (sa.select(e.c.activity, e.c.channel, month, e.c.action, sa.func.count().label("n"))
               .where(e.c.at >= datetime(first.year, first.month, 1))
               .group_by(e.c.activity, e.c.channel, month, e.c.action))
    rows: dict[tuple[str, str | None], ChannelFigures] = {}
    for activity, channel in conn.execute(sa.select(e.c.activity, e.c.channel).distinct()):
        rows[(activity, channel)] = ChannelFigures(activity, channel,
                                                   [dict.fromkeys(ACTIONS, 0) for _ in labels])
    for row in conn.execute(counted):
        if row.month in labels:
            rows[(row.activity, row.channel)].by_month[labels.index(row.month)][row.action] = int(row.n)
    for (activity, channel), figures in rows.items():
        latest = latest_per_key(activity, channel)
        figures.standing = int(conn.execute(
            sa.select(sa.func.count()).select_from(latest)
            .where(latest.c.rank == 1, latest.c.action == "given",
                   sa.or_(latest.c.expires_at.is_(None), latest.c.expires_at > moment))).scalar_one())
    ordered = sorted(rows.values(), key=lambda f: (f.activity, f.channel or ""))
    return ConsentFigures(labels, ordered)
