"""garde.store.transactions.retried on PostgreSQL: a transaction the database aborts with a
deadlock (40P01) or a serialization failure (40001) runs again in a new one, everything the
aborted attempt wrote rolled back, a bounded number of times, each logged; other errors at once.
The aborts are real ones: PostgreSQL raises them with their SQLSTATE."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from garde.store import connect
from garde.store.transactions import ATTEMPTS, retried, sqlstate

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: str) -> Iterator[sa.Engine]:
    engine = connect(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE written (attempt integer)"))
    yield engine
    engine.dispose()


def _aborting(state: str, times: int) -> tuple[list[int], Callable[[sa.Connection], int]]:
    """Work that writes its attempt's number, then is aborted with ``state`` its first ``times`` runs."""
    attempts: list[int] = []

    def work(conn: sa.Connection) -> int:
        attempts.append(len(attempts) + 1)
        conn.execute(sa.text("INSERT INTO written VALUES (:n)"), {"n": attempts[-1]})
        if len(attempts) <= times:
            conn.execute(sa.text(f"DO $$ BEGIN RAISE EXCEPTION 'met another' USING ERRCODE = '{state}'; "
                                 "END $$"))
        return attempts[-1]

    return attempts, work


def _written(store: sa.Engine) -> list[int]:
    with store.connect() as conn:
        return list(conn.execute(sa.text("SELECT attempt FROM written")).scalars())


@pytest.mark.parametrize("state", ["40P01", "40001"])
def test_an_aborted_transaction_runs_again_and_only_the_last_attempt_is_kept(
        store: sa.Engine, state: str, caplog: pytest.LogCaptureFixture) -> None:
    _, work = _aborting(state, 2)
    with caplog.at_level(logging.WARNING, "garde.store.transactions"):
        assert retried(store, work, what="the test's work") == 3
    assert _written(store) == [3]
    assert [r.getMessage() for r in caplog.records] == [
        f"the test's work: aborted by the database (SQLSTATE {state}), attempt {n} of {ATTEMPTS}; "
        "running it again" for n in (1, 2)]


def test_the_attempts_are_bounded(store: sa.Engine) -> None:
    attempts, work = _aborting("40P01", ATTEMPTS)
    with pytest.raises(sa.exc.OperationalError) as raised:
        retried(store, work, what="the test's work")
    assert sqlstate(raised.value) == "40P01" and len(attempts) == ATTEMPTS and _written(store) == []


def test_other_errors_are_not_run_again(store: sa.Engine) -> None:
    attempts, work = _aborting("23505", 1)  # a unique violation: the work itself is at fault
    with pytest.raises(sa.exc.IntegrityError):
        retried(store, work, what="the test's work")
    assert attempts == [1] and _written(store) == []
