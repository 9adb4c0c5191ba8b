"""Every change to the enforced register is an audit entry; reloading the same one adds nothing."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from garde import audit
from garde.register import parse_register
from garde.register.versions import note_register, register_hash
from garde.store import connect, migrate

TEXT = """
controller: {name: Shop}
activities:
  - {id: newsletter, name: Newsletter, legal_bases: [consent]}
  - {id: orders, name: Orders, legal_bases: [contract]}
"""


def test_changes_are_recorded_once_with_what_changed(engine: sa.Engine) -> None:
    first = parse_register(TEXT, "shop.yaml").register
    changed = parse_register(TEXT.replace("[contract]", "[legitimate_interests]")
                             .replace("  - {id: newsletter, name: Newsletter, legal_bases: [consent]}\n", "")
                             + "  - {id: ads, name: Ads, legal_bases: [consent]}\n", "shop.yaml").register
    with engine.begin() as conn:
        assert note_register(conn, first, "registers/shop.yaml")
        assert not note_register(conn, first, "registers/shop.yaml")
        assert note_register(conn, changed, "registers/shop.yaml")
        entries = list(audit.entries(conn, kind="register.changed"))
        assert audit.verify(conn).ok
    assert len(entries) == 2
    last = entries[-1]["payload"]
    assert (last["added"], last["removed"], last["changed"]) == (["ads"], ["newsletter"], ["orders"])
    assert last["previous_hash"] == register_hash(first)


def test_the_hash_ignores_formatting_but_not_content() -> None:
    a = parse_register(TEXT, "a.yaml").register
    b = parse_register(TEXT.replace("name: Newsletter", "name:   'Newsletter'"), "b.yaml").register
    c = parse_register(TEXT.replace("name: Newsletter", "name: News"), "c.yaml").register
    assert register_hash(a) == register_hash(b) != register_hash(c)


def test_a_register_level_statement_changes_the_activities_that_inherit_it(engine: sa.Engine) -> None:
    # A recipient added for the whole register changes what applies to every activity that does not
    # override it: the audit entry says which activities, not an empty list.
    first = parse_register(TEXT, "shop.yaml").register
    changed = parse_register(
        TEXT.replace("activities:\n", "recipients: [service_providers]\nactivities:\n")
        .replace("legal_bases: [contract]}", "legal_bases: [contract], overrides: [recipients]}"),
        "shop.yaml").register
    with engine.begin() as conn:
        assert note_register(conn, first, "registers/shop.yaml")
        assert note_register(conn, changed, "registers/shop.yaml")
        last = list(audit.entries(conn, kind="register.changed"))[-1]["payload"]
    assert last["changed"] == ["newsletter", "orders"]  # orders: its own `overrides` changed
    measures = TEXT.replace("activities:\n", "security_measures: [Backups]\nactivities:\n")
    only_register = parse_register(measures, "shop.yaml").register
    with engine.begin() as conn:
        assert note_register(conn, only_register, "registers/shop.yaml")
        last = list(audit.entries(conn, kind="register.changed"))[-1]["payload"]
    assert last["changed"] == ["newsletter", "orders"]


@pytest.mark.postgres
def test_two_processes_noting_the_same_new_register_at_once_record_it_once(postgres_url: str) -> None:
    """Two workers starting their first request together (found by the throughput benchmark): both
    read "never recorded", the second waits for the log's lock, then inserted the same source again
    and its request failed on the unique key. Now the second sees the first's version and adds
    nothing."""
    engine = connect(postgres_url, create=True)
    migrate(engine)
    register = parse_register(TEXT, "shop.yaml").register
    outcome: list[object] = []
    try:
        with engine.connect() as first, engine.connect() as watcher:
            first.begin()
            assert note_register(first, register, "registers/shop.yaml")
            pid = first.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]

            def second() -> None:
                try:
                    with engine.begin() as conn:
                        outcome.append(note_register(conn, register, "registers/shop.yaml"))
                except Exception as exc:  # the outcome is the test's
                    outcome.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            # The second has read the versions and waits for the lock the first holds (no sleep race).
            waiting = sa.text("SELECT count(*) FROM pg_locks w JOIN pg_locks h ON h.pid = :pid AND h.granted "
                              "AND w.transactionid = h.transactionid WHERE NOT w.granted")
            for _ in range(10_000):
                if watcher.execute(waiting, {"pid": pid}).scalar():
                    break
                watcher.rollback()
            else:
                raise AssertionError("the second never waited for the first")
            first.commit()
            thread.join(30)
        assert outcome == [False]
        with engine.connect() as conn:
            assert len(list(audit.entries(conn, kind="register.changed"))) == 1
            assert audit.verify(conn).ok
    finally:
        engine.dispose()
