"""What the dashboard's pages show, computed by the library: consent figures per activity and
channel month by month (SQL on SQLite and PostgreSQL), the retention outlook week by week, the
request queue's standing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from garde.consent import give, withdraw
from garde.consent.figures import consent_figures
from garde.retention.holds import Holds
from garde.retention.outlook import outlook
from garde.retention.plan import Plan, Step
from garde.rights import submit
from garde.rights.queue import queue
from garde.subjects import ensure_subject
from garde.web.charts import count_ticks


def test_consent_figures_count_each_month_and_the_consents_standing_today(engine: sa.Engine) -> None:
    today = datetime.now(UTC)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(hour=12)
    with engine.begin() as conn:
        ana, bo, cy = (ensure_subject(conn, {"email": f"{name}@example.com"}) for name in ("ana", "bo", "cy"))
        for subject in (ana, bo, cy):
            give(conn, subject, "newsletter", channel="email", at=last_month)
        withdraw(conn, bo, "newsletter", channel="email")
        give(conn, ana, "newsletter", channel="sms")
        give(
            conn, cy, "newsletter", channel="email", at=last_month - timedelta(days=400)
        )  # before the window
    with engine.connect() as conn:
        figures = consent_figures(conn, months=3)
    assert figures.months[-1] == today.strftime("%Y-%m") and len(figures.months) == 3
    rows = {(row.activity, row.channel): row for row in figures.rows}
    email = rows[("newsletter", "email")]
    assert email.by_month[-2] == {"given": 3, "withdrawn": 0, "refused": 0}
    assert email.by_month[-1] == {"given": 0, "withdrawn": 1, "refused": 0}
    assert email.standing == 2  # ana and cy; bo withdrew
    assert (rows[("newsletter", "sms")].standing, rows[("newsletter", "sms")].by_month[-1]["given"]) == (1, 1)


def test_the_outlook_counts_rows_becoming_due_week_by_week() -> None:
    today = date(2026, 3, 2)
    # 4 rows due today, 2 more from day 3, 5 more from day 10: the plan counts what is due on each day
    by_day = [
        (today + timedelta(days=n), 4 + (2 if n >= 3 else 0) + (5 if n >= 10 else 0)) for n in range(1, 15)
    ]
    delete = Step("shop.orders", "delete", ["orders"], [], 4, by_day)
    quiet = Step("shop.carts", "mask", ["carts"], [], 0, [(d, 0) for d, _ in by_day])
    result = outlook(Plan(today, 14, [delete, quiet], Holds(), []))
    assert result.weeks == [today, today + timedelta(days=7)]
    assert result.by_operation == {"delete": [6, 5]}  # today's backlog and day 3, then day 10
    assert [s.step.table for s in result.steps] == ["shop.orders"]
    assert result.steps[0].due == [4, 6, 11, 11]  # today, in 7 days, in 30 (the horizon), in 14


def test_the_queue_puts_overdue_then_this_week_first(engine: sa.Engine) -> None:
    received = datetime.now(UTC)
    with engine.begin() as conn:
        later = submit(conn, "access", {"email": "a@example.com"}, received_at=received)
        overdue = submit(
            conn, "access", {"email": "b@example.com"}, received_at=received - timedelta(days=45)
        )
        soon = submit(conn, "erasure", {"email": "c@example.com"}, received_at=received - timedelta(days=25))
    with engine.connect() as conn:
        entries = queue(conn)
    assert [(e.request.id, e.standing) for e in entries] == [
        (overdue.id, "overdue"),
        (soon.id, "this_week"),
        (later.id, "later"),
    ]
    assert entries[0].days_left < 0 <= entries[1].days_left <= 7 < entries[2].days_left


def test_chart_axes_count_in_whole_numbers() -> None:
    assert count_ticks({"a": [1, 1, 0]}, stacked=True) == [0, 1]
    assert count_ticks({"a": [100, 3], "b": [59, 0]}, stacked=True) == [0, 50, 100, 150, 200]
    assert count_ticks({"a": [7], "b": [3]}, stacked=False) == [0, 2, 4, 6, 8]
    assert count_ticks({}, stacked=True) == [0]
