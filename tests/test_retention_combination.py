"""How several rules of one activity combine, and the rules the sweep cannot evaluate.

"first reached" (the default): the activity is done with the data once one
of its rules has expired; "latest of" (stated by the register): once every
one has, and never while a rule it cannot evaluate might still keep it. A
range is due at its upper bound. A criterion or a condition in words is never
guessed: the plan lists it as not executable. A ``review`` rule is never
swept; the plan counts the rows due for review.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import retention
from garde.cli.retention import render_plan
from garde.datasets import DataMap, connect_datamap, load_datamap, sql_table
from garde.periods import Period
from garde.retention.forecast import limits_day
from garde.retention.policy import ColumnPolicy, build_policy, registers_for
from garde.retention.predicate import Predicates
from garde.retention_rule import RetentionPeriod
from garde.store import open_store

P3Y = Period(3, "year")
Day = date | None
TODAY = date(2025, 6, 1)

ACTIVITY = """
controller: {{name: Lists}}
activities:
  - id: newsletter
    name: Newsletter
    purposes: [Send the newsletter]
    data_subjects: [prospect]
    data_categories: [contact.email]
    legal_bases: [consent]
    {combination}
    retention: {rules}
"""

# One table, one column, one activity: what the rules say is all that decides.
DATASET = """
{database: lists, url: "sqlite://", register: register.yaml, tables: {subscribers: {
  subject: prospect, primary_key: id, identities: {email: email},
  timestamps: {collection: subscribed_at, consent_withdrawn: unsubscribed_at, last_contact: last_contact_at},
  columns: {email: {category: contact.email, activities: [newsletter], erase: null}}}}}
"""

CREATE = ("CREATE TABLE subscribers (id INTEGER PRIMARY KEY, email TEXT, subscribed_at TIMESTAMP, "
          "unsubscribed_at TIMESTAMP, last_contact_at DATE)")


def datamap_for(folder: Path, rules: str, combination: str | None = None) -> DataMap:
    line = f"retention_combination: {combination}" if combination else ""
    (folder / "register.yaml").write_text(ACTIVITY.format(rules=rules, combination=line))
    (folder / "lists.yaml").write_text(DATASET)
    return load_datamap(folder / "lists.yaml")


def email_policy(datamap: DataMap) -> ColumnPolicy:
    policy = build_policy(datamap, registers_for(datamap))
    return policy.table(datamap.table(("lists", "subscribers")).ref).columns["email"]


UNTIL, THREE_YEARS = RetentionPeriod("consent_withdrawn"), RetentionPeriod("last_contact", P3Y)
BOTH = "[until consent_withdrawn, 3 years after last_contact]"


def test_first_reached_is_one_limit_and_latest_of_one_limit_per_rule(tmp_path: Path) -> None:
    first = email_policy(datamap_for(tmp_path, BOTH))
    assert first.limits() == ((THREE_YEARS, UNTIL),)
    stated = email_policy(datamap_for(tmp_path, BOTH, "first_reached"))
    assert stated.limits() == first.limits()
    latest = email_policy(datamap_for(tmp_path, BOTH, "latest_of"))
    assert set(latest.limits()) == {(THREE_YEARS,), (UNTIL,)}
    assert latest.to_data()["due_when"] == ["3 years after last_contact", "until consent_withdrawn"]


# -- the SQL predicate and the forecast against the definitions, dates at the edges (hypothesis) ----------

def _expired(period: Period | None, start: date | None, today: date) -> bool:
    if start is None:
        return False
    return (start if period is None else period.after(start)) <= today


@st.composite
def edge_rows(draw: st.DrawFn, today: date) -> list[tuple[date | None, date | None]]:
    """(unsubscribed, last contact) per row: missing, on the due day, a day either side, or anywhere."""
    def around(due_start: date) -> st.SearchStrategy[date | None]:
        return st.none() | st.sampled_from([due_start + timedelta(days=d) for d in (-1, 0, 1)]) \
            | st.dates(date(2010, 1, 1), date(2030, 12, 31))
    last_edge = P3Y.before(today)  # the latest last contact whose 3 years have ended by today
    return draw(st.lists(st.tuples(around(today), around(last_edge)), min_size=1, max_size=8))


@st.composite
def days_and_rows(draw: st.DrawFn) -> tuple[date, list[tuple[date | None, date | None]]]:
    today = draw(st.sampled_from([date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1), date(2025, 12, 31)])
                 | st.dates(date(2016, 1, 1), date(2028, 12, 31)))
    return today, draw(edge_rows(today))


@pytest.fixture(scope="module")
def subscribers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, sa.Engine]]:
    folder = tmp_path_factory.mktemp("lists")
    engine = sa.create_engine(f"sqlite:///{folder}/lists.db")
    with engine.begin() as conn:
        conn.execute(sa.text(CREATE))
    yield folder, engine
    engine.dispose()


@pytest.mark.parametrize("combination", ["first_reached", "latest_of"])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=days_and_rows())
def test_due_exactly_when_the_combination_says(subscribers: tuple[Path, sa.Engine], combination: str,
                                               case: tuple[date, list[tuple[Day, Day]]]) -> None:
    folder, engine = subscribers
    today, rows = case
    datamap = datamap_for(folder, BOTH, combination)
    policy = build_policy(datamap, registers_for(datamap))
    table = policy.table(datamap.table(("lists", "subscribers")).ref)
    column = table.columns["email"]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM subscribers"))
        conn.execute(sa.text("INSERT INTO subscribers VALUES "
                             "(:id, 'a@example.com', '2010-01-01', :unsub, :last)"),
                     [{"id": i, "last": last,
                       "unsub": None if u is None else datetime(u.year, u.month, u.day, 23, 59)}
                      for i, (u, last) in enumerate(rows)])
    t = sql_table(table.table)
    predicates = Predicates(policy, today, "sqlite")
    query = sa.select(sa.case((predicates.column_due(table, column, t), 1), else_=0)).order_by(t.c.id)
    with engine.connect() as conn:
        found = [bool(r[0]) for r in conn.execute(query)]
    for (unsubscribed, last_contact), due in zip(rows, found, strict=True):
        expired = [_expired(None, unsubscribed, today), _expired(P3Y, last_contact, today)]
        # "latest of" never deletes while one of its rules still keeps the data
        assert due == (all(expired) if combination == "latest_of" else any(expired))
        day = limits_day(column.limits(), {"consent_withdrawn": unsubscribed, "last_contact": last_contact})
        assert (day is not None and day <= today) == due


@given(count=st.integers(1, 10), extra=st.integers(1, 10), unit=st.sampled_from(["day", "month", "year"]),
       start=st.dates(date(2000, 1, 1), date(2030, 12, 31)))
def test_a_range_is_due_at_its_upper_bound_and_not_a_day_before(count: int, extra: int, unit: str,
                                                                 start: date) -> None:
    rule = RetentionPeriod.parse(f"between {count} and {count + extra} {unit}s after last_contact")
    upper = Period(count + extra, unit)  # type: ignore[arg-type]
    assert rule.period == upper
    due = upper.after(start)
    assert limits_day(((rule,),), {"last_contact": start}) == due


# -- rules the sweep cannot evaluate ----------------------------------------------------------------------

CRITERION = "[{criterion: 'as long as the account is active, then the limitation period of claims'}]"
CONDITIONAL = "[until consent_withdrawn, 3 years after last_contact where the prospect asked for news]"


def test_a_criterion_only_rule_is_never_swept_and_says_why(tmp_path: Path) -> None:
    column = email_policy(datamap_for(tmp_path, CRITERION))
    assert not column.sweepable
    assert column.blocked == ("newsletter: 'criterion: as long as the account is active, then the limitation "
                              "period of claims': not executable: criterion in words",)


def test_first_reached_sweeps_on_the_other_rules_beside_a_condition_in_words(tmp_path: Path) -> None:
    column = email_policy(datamap_for(tmp_path, CONDITIONAL))
    assert column.sweepable and column.limits() == ((UNTIL,),)
    assert column.to_data()["not_executable_rules"] == [
        "newsletter: 3 years after last_contact where the prospect asked for news (delete): "
        "not executable: condition in words"]


def test_latest_of_keeps_what_a_rule_in_words_might_still_keep(tmp_path: Path) -> None:
    column = email_policy(datamap_for(tmp_path, CONDITIONAL, "latest_of"))
    assert not column.sweepable
    assert "cannot be evaluated here" in column.blocked[0]


def test_latest_of_keeps_what_an_undated_rule_might_still_keep(tmp_path: Path) -> None:
    rules = "[until consent_withdrawn, 10 years after invoice_date]"
    assert email_policy(datamap_for(tmp_path, rules)).sweepable  # first reached: the dated rule decides
    column = email_policy(datamap_for(tmp_path, rules, "latest_of"))
    assert not column.sweepable and "'10 years after invoice_date'" in column.blocked[0]


# -- plan and sweep, on SQLite and PostgreSQL ------------------------------------------------------------

def _run(tmp_path: Path, database_url: str, rules: str, combination: str | None = None,
         ) -> tuple[retention.Plan, set[int]]:
    datamap = datamap_for(tmp_path, rules, combination)
    engines = connect_datamap(datamap, {"lists": database_url}, create=True)
    old, recent = datetime(2020, 1, 1), datetime(2025, 1, 1)
    with engines["lists"].begin() as conn:
        conn.execute(sa.text(CREATE))
        conn.execute(sa.text("INSERT INTO subscribers VALUES (:id, :email, :sub, :unsub, :last)"), [
            {"id": 1, "email": "gone@example.com", "sub": old, "unsub": old, "last": old.date()},
            {"id": 2, "email": "unsubscribed@example.com", "sub": old, "unsub": old, "last": recent.date()},
            {"id": 3, "email": "silent@example.com", "sub": old, "unsub": None, "last": old.date()},
            {"id": 4, "email": "active@example.com", "sub": old, "unsub": None, "last": recent.date()},
        ])
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        plan = retention.plan(store, datamap, engines, today=TODAY)
        retention.sweep(store, datamap, engines, today=TODAY)
        with engines["lists"].connect() as conn:
            kept = set(conn.execute(sa.text("SELECT id FROM subscribers")).scalars())
    finally:
        store.dispose()
        engines["lists"].dispose()
    return plan, kept


@pytest.mark.parametrize(("combination", "kept"), [(None, {4}), ("latest_of", {2, 3, 4})])
def test_the_sweep_deletes_at_the_first_or_at_the_latest(tmp_path: Path, database_url: str,
                                                         combination: str | None, kept: set[int]) -> None:
    _, found = _run(tmp_path, database_url, BOTH, combination)
    assert found == kept


def test_the_sweep_never_applies_a_criterion_and_the_plan_says_so(tmp_path: Path, database_url: str) -> None:
    plan, kept = _run(tmp_path, database_url, CRITERION)
    assert kept == {1, 2, 3, 4}
    (entry,) = plan.kept
    assert entry["column"] == "email" and "not executable: criterion in words" in entry["why"][0]


def test_the_plan_lists_a_condition_in_words_beside_the_rules_it_sweeps_on(tmp_path: Path,
                                                                          database_url: str) -> None:
    plan, kept = _run(tmp_path, database_url, CONDITIONAL)
    assert kept == {3, 4}  # gone at unsubscription; the 3 years hold only where the condition does
    (entry,) = plan.to_data()["not_executable"]
    assert entry["rules"] == ["newsletter: 3 years after last_contact where the prospect asked for news "
                              "(delete): not executable: condition in words"]


def test_review_is_never_swept_and_the_plan_counts_the_rows_due_for_review(
        tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    plan, kept = _run(tmp_path, database_url, "[{rule: 3 years after last_contact, action: review}]")
    assert kept == {1, 2, 3, 4}
    assert plan.reviews == [{"table": "lists.subscribers", "activity": "newsletter",
                             "rule": "3 years after last_contact", "columns": ["email"], "due_for_review": 2}]
    assert "due for review" in plan.kept[0]["why"][0]
    render_plan(plan)
    text = " ".join(capsys.readouterr().out.split())
    assert ("Due for review (a person decides; never swept): lists.subscribers (email) — newsletter: "
            "3 years after last_contact: rows due for review: 2") in text


def test_the_text_plan_shows_the_rules_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = "[until consent_withdrawn, {rule: 3 years after last_contact where asked, action: review}]"
    plan, _ = _run(tmp_path, f"sqlite:///{tmp_path / 'lists.db'}", rules)
    render_plan(plan)
    text = " ".join(capsys.readouterr().out.split())
    assert ("Rules in words, not executable (the activity's other rules decide): lists.subscribers.email: "
            "newsletter: 3 years after last_contact where asked (review): not executable: condition in words"
            in text)
