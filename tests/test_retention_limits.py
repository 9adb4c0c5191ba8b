"""Several rules of one activity are alternative limits; across activities the longest applies.

A column is due when, for every activity using it, at least one of that
activity's rules (for the column's category, with a date on the table) has
expired. Checked three ways: the policy's limits, the SQL predicate against
``Period.after`` over random dates (hypothesis), and a sweep of the
reference shop's newsletter ("until consent_withdrawn" + "3 years after
last_contact": until unsubscription, at most 3 years after the last contact).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from garde import retention
from garde.datasets import DataMap, connect_datamap, load_datamap, sql_table
from garde.periods import Period
from garde.retention.forecast import limits_day
from garde.retention.policy import build_policy, minimal_limits, registers_for
from garde.retention.predicate import Predicates
from garde.retention_rule import RetentionPeriod
from garde.shop.schema import crm
from garde.store import open_store

ROOT = Path(__file__).resolve().parents[1]
P3Y, P13M, P10Y = Period(3, "year"), Period(13, "month"), Period(10, "year")

REGISTER = """
controller: {name: Limits}
activities:
  - id: newsletter
    name: Newsletter
    purposes: [Send the newsletter]
    data_subjects: [prospect]
    data_categories: [contact.email, marketing.preferences]
    legal_bases: [consent]
    retention:
      - until consent_withdrawn
      - 3 years after last_contact
      - rule: 10 years after invoice_date
  - id: security
    name: Abuse prevention
    purposes: [Detect abuse of the sign-up form]
    data_subjects: [prospect]
    data_categories: [contact.email]
    legal_bases: [contract]
    retention: [13 months after collection]
"""

DATASET = """
database: lists
url: sqlite://
register: register.yaml
tables:
  subscribers:
    subject: prospect
    primary_key: id
    identities: {email: email}
    timestamps: {collection: subscribed_at, consent_withdrawn: unsubscribed_at, last_contact: last_contact_at}
    columns:
      email: {category: contact.email, activities: [newsletter, security], erase: null}
      topics: {category: marketing.preferences, activities: [newsletter], erase: null}
"""


@pytest.fixture(scope="module")
def subscribers() -> Iterator[tuple[DataMap, sa.Engine]]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "register.yaml").write_text(REGISTER)
        (Path(folder) / "lists.yaml").write_text(DATASET)
        datamap = load_datamap(Path(folder) / "lists.yaml")
        engine = sa.create_engine(f"sqlite:///{folder}/lists.db")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE subscribers (id INTEGER PRIMARY KEY, email TEXT, topics TEXT, "
                                 "subscribed_at TIMESTAMP, unsubscribed_at TIMESTAMP, last_contact_at DATE)"))
        yield datamap, engine
        engine.dispose()


def test_an_activity_s_rules_are_alternatives_and_activities_add_up(
        subscribers: tuple[DataMap, sa.Engine]) -> None:
    datamap, _ = subscribers
    policy = build_policy(datamap, registers_for(datamap))
    table = policy.table(datamap.table(("lists", "subscribers")).ref)
    until, three_years = RetentionPeriod("consent_withdrawn"), RetentionPeriod("last_contact", P3Y)
    # `10 years after invoice_date` has no date on the table: the newsletter's other rules decide
    assert table.columns["topics"].limits() == ((three_years, until),)
    assert [str(g) for g in table.columns["topics"].undated] == [
        "newsletter: 10 years after invoice_date (delete)"]
    assert table.columns["topics"].sweepable
    assert set(table.columns["email"].limits()) == {(three_years, until),
                                                    (RetentionPeriod("collection", P13M),)}
    assert table.columns["email"].to_data()["due_when"] == [
        "13 months after collection", "3 years after last_contact or until consent_withdrawn"]
    # the row is due when both columns are: `topics`' limit is one of `email`'s
    assert set(table.row_limits()) == set(table.columns["email"].limits())


def test_a_limit_that_contains_another_is_redundant() -> None:
    a, b, c = (RetentionPeriod("collection", P13M), RetentionPeriod("consent_withdrawn"),
               RetentionPeriod("last_contact", P3Y))
    assert minimal_limits([(a, b), (a,), (b, c), (c, b), (a, c)]) == ((a,), (c, b))


def _expired(period: Period | None, start: date | None, today: date) -> bool:
    if start is None:
        return False
    return (start if period is None else period.after(start)) <= today


days = st.dates(date(2012, 1, 1), date(2028, 12, 31))
rows = st.lists(st.tuples(days, st.none() | days, st.none() | days), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(rows=rows, today=st.dates(date(2016, 1, 1), date(2026, 12, 31)))
def test_predicate_matches_period_after_row_by_row(subscribers: tuple[DataMap, sa.Engine],
                                                    rows: list[tuple[date, date | None, date | None]],
                                                    today: date) -> None:
    datamap, engine = subscribers
    policy = build_policy(datamap, registers_for(datamap))
    table = policy.table(datamap.table(("lists", "subscribers")).ref)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM subscribers"))
        conn.execute(sa.text("INSERT INTO subscribers VALUES "
                             "(:id, 'a@example.com', 'news', :sub, :unsub, :last)"),
                     [{"id": i, "sub": datetime(s.year, s.month, s.day, 23, 59), "last": last,
                       "unsub": None if u is None else datetime(u.year, u.month, u.day, 8)}
                      for i, (s, u, last) in enumerate(rows)])
    t = sql_table(table.table)
    predicates = Predicates(policy, today, "sqlite")
    query = sa.select(t.c.id, *(sa.case((predicates.column_due(table, table.columns[name], t), 1), else_=0)
                               for name in ("email", "topics")),
                      sa.case((predicates.row_due(table, t), 1), else_=0)).order_by(t.c.id)
    with engine.connect() as conn:
        found = [tuple(r[1:]) for r in conn.execute(query)]
    expected = []
    for subscribed, unsubscribed, last_contact in rows:
        newsletter_done = _expired(None, unsubscribed, today) or _expired(P3Y, last_contact, today)
        security_done = _expired(P13M, subscribed, today)
        email = newsletter_done and security_done
        expected.append((int(email), int(newsletter_done), int(email and newsletter_done)))
    assert found == expected
    # the plan's forecast dates rows in Python (first day due): due today exactly when the SQL says so
    for (subscribed, unsubscribed, last_contact), due in zip(rows, found, strict=True):
        events = {"collection": subscribed, "consent_withdrawn": unsubscribed, "last_contact": last_contact}
        for limits, sql_due in ((table.columns["email"].limits(), due[0]),
                                (table.columns["topics"].limits(), due[1])):
            day = limits_day(limits, events)
            assert (day is not None and day <= today) == bool(sql_due)


# -- the reference shop's newsletter -------------------------------------------------------------------

TODAY = date(2025, 6, 1)


def test_newsletter_goes_at_unsubscription_or_three_years_after_the_last_contact(tmp_path: Path) -> None:
    datamap = load_datamap(ROOT / "datasets" / "crm.yaml")
    policy = build_policy(datamap, registers_for(datamap))
    newsletter = policy.table(datamap.table(("crm", "newsletter_subscriptions")).ref)
    assert newsletter.columns["email"].limits() == (
        (RetentionPeriod("last_contact", P3Y), RetentionPeriod("consent_withdrawn")),)
    assert newsletter.deletes_rows

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engines = connect_datamap(datamap, {"crm": url}, create=True)
    crm.create_all(engines["crm"])
    recent, old = datetime(2024, 9, 1), datetime(2021, 5, 31)  # 3 years after 2021-05-31 is 2024-05-31
    contacts: list[dict[str, Any]] = [
        {"id": 1, "email": "recent@example.com", "last_contact_at": recent},
        {"id": 2, "email": "old@example.com", "last_contact_at": old},
        {"id": 3, "email": "edge@example.com", "last_contact_at": datetime(2022, 6, 1, 9)},  # due 2025-06-01
        {"id": 4, "email": "later@example.com", "last_contact_at": datetime(2022, 6, 2)},
    ]
    subscriptions: list[dict[str, Any]] = [
        {"id": 10, "contact_id": 1, "unsubscribed_at": None},                       # stays: subscribed
        {"id": 11, "contact_id": 1, "unsubscribed_at": datetime(2025, 5, 31)},      # goes: unsubscribed
        {"id": 12, "contact_id": 1, "unsubscribed_at": datetime(2025, 6, 2)},       # stays: not yet
        {"id": 13, "contact_id": 2, "unsubscribed_at": None},                       # goes: 3 years passed
        {"id": 14, "contact_id": 3, "unsubscribed_at": None},                       # goes: 3 years today
        {"id": 15, "contact_id": 4, "unsubscribed_at": None},                       # stays until tomorrow
    ]
    with engines["crm"].begin() as conn:
        conn.execute(crm.tables["contacts"].insert(), [{**c, "created_at": old} for c in contacts])
        conn.execute(crm.tables["newsletter_subscriptions"].insert(),
                     [{**s, "email": f"s{s['id']}@example.com", "subscribed_at": old} for s in subscriptions])
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        plan = retention.plan(store, datamap, engines, today=TODAY, days=1)
        result = retention.sweep(store, datamap, engines, today=TODAY)
        with engines["crm"].connect() as conn:
            kept = set(conn.execute(sa.text("SELECT id FROM newsletter_subscriptions")).scalars())
            kept_contacts = set(conn.execute(sa.text("SELECT id FROM contacts")).scalars())
    finally:
        store.dispose()
        engines["crm"].dispose()
    assert kept == {10, 12, 15}
    assert result.affected["crm.newsletter_subscriptions:delete"] == 3
    step = next(s for s in plan.steps
                if s.table == "crm.newsletter_subscriptions" and s.operation == "delete")
    assert (step.today, step.by_day) == (3, [(TODAY + timedelta(days=1), 5)])
    # prospection: 3 years after last_contact; contacts 2 and 3 have nothing left pointing at them
    assert kept_contacts == {1, 4}


@pytest.mark.parametrize("strategy", ["hash", "null", "fixed", "anonymise"])
def test_erasure_and_retention_share_one_fixed_point_per_masking(strategy: str, sqlite_url: str) -> None:
    """Masking an already masked value changes nothing, whichever of erasure or retention did it."""
    from garde.datasets import Masking
    from garde.datasets.sql import _prepare_sqlite, is_masked, masked_once
    from garde.store import connect

    masking = Masking(strategy, value="-" if strategy == "fixed" else None)
    engine = connect(sqlite_url, create=True)
    sa.event.listen(engine, "connect", _prepare_sqlite)  # what connect_dataset() does
    cell = sa.literal_column("v")
    with engine.connect() as conn:
        once = conn.execute(sa.select(masked_once(masking, cell, "sqlite"))
                            .select_from(sa.text("(SELECT 'ana@example.org' AS v)"))).scalar()
        twice = conn.execute(sa.select(masked_once(masking, cell, "sqlite"))
                             .select_from(sa.text(f"(SELECT {'NULL' if once is None else repr(once)} AS v)"))
                             ).scalar()
        masked = conn.execute(sa.select(is_masked(masking, cell, "sqlite"))
                              .select_from(sa.text(f"(SELECT {'NULL' if once is None else repr(once)} AS v)"))
                              ).scalar()
    engine.dispose()
    assert once != "ana@example.org" and twice == once and masked
