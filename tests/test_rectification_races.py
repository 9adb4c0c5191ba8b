"""Two rectifications of one subject's e-mail at the same moment (residual closed 2026-12-07).

Ana asks twice, to two new addresses, and both requests run at once. Each read her rows holding
ana@example.org, each wrote its new value, and each moved her link in garde's store: both new
addresses ended linked to Ana while her rows kept only the last one written, so the holder of the
other (an address nobody of hers holds) could sign in and read Ana's requests and answers. Now a
rectification of a subject holds that subject's rectification lock from the moment it reads her rows
until its move is committed: the second waits, then finds no row holding the address it was made
with, and fails without linking anything.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.jobs.requests import run_request
from garde.problems import GardeError
from garde.rights.intake import get_request
from garde.rights.running import run
from garde.subjects import ensure_subject, find_subject
from tests.jobs_support import garde_worker, wait_for_job
from tests.test_rights_requests import Shop, new_values_checked, shop, verified  # noqa: F401

ANA, FIRST, SECOND = "ana@example.org", "ana.first@example.net", "ana.second@example.net"


def _rectification(shop: Shop, new: str) -> str:  # noqa: F811
    request_id = verified(shop, "rectification", {"email": ANA}, corrections={"contact.email": new})
    new_values_checked(shop, request_id, "email")
    return request_id


def _held(shop: Shop) -> set[str]:  # noqa: F811
    """The addresses Ana's rows hold in the shop and the CRM."""
    with shop.deployment.engines["shop"].connect() as conn:
        held = set(conn.execute(sa.text("SELECT email FROM customers WHERE id = 1")).scalars())
    with shop.deployment.engines["crm"].connect() as conn:
        held |= set(conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalars())
    return held


@pytest.mark.parametrize("round_", range(5))
def test_two_rectifications_at_once_leave_linked_only_what_the_rows_hold(shop: Shop, round_: int) -> None:  # noqa: F811
    """A real race (SQLite files and PostgreSQL): the second run starts while the first is writing
    Ana's shop row (its transaction open), and is given time to read her rows before the first commits.
    Before, both new addresses ended linked to Ana; now exactly the one her rows hold is."""
    with shop.store.begin() as conn:
        subject = ensure_subject(conn, {"email": ANA})
    first, second = _rectification(shop, FIRST), _rectification(shop, SECOND)
    outcomes: dict[str, str] = {}
    racing: list[threading.Thread] = []

    def second_run() -> None:
        try:
            outcomes[second] = run(shop.store, second, shop.deployment).status
        except GardeError as error:
            outcomes[second] = f"refused: {error}"

    def second_starts(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and not racing:
            racing.append(threading.Thread(target=second_run))
            racing[0].start()
            time.sleep(0.6)  # the second run reads Ana's rows meanwhile (before: they still held ANA)

    sa.event.listen(shop.deployment.engines["shop"], "before_cursor_execute", second_starts)
    try:
        outcomes[first] = run(shop.store, first, shop.deployment).status
    finally:
        sa.event.remove(shop.deployment.engines["shop"], "before_cursor_execute", second_starts)
        for thread in racing:
            thread.join(timeout=60)
    assert racing, "the first run never wrote the shop"
    held = _held(shop)
    with shop.store.connect() as conn:
        linked = {address for address in (FIRST, SECOND) if find_subject(conn, {"email": address}) == subject}
        assert find_subject(conn, {"email": ANA}) is None
    assert linked == held == {FIRST}, (outcomes, linked, held)
    assert outcomes[first] == "completed"
    assert outcomes[second].startswith("refused: no row holds the identities the request gave"), outcomes


def test_two_queued_rectifications_run_by_a_worker_at_once_leave_one_linked(
        shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """PostgreSQL, the queued path: a real `garde worker` (two jobs at once) runs both rectifications
    while this test holds Ana's shop row (a real row lock), so both runs are under way before either
    writes; then the row is let go. Before, both read her rows, both wrote, both linked their address;
    now the second waits for the subject's lock, reads the first's address and fails."""
    if shop.store.dialect.name != "postgresql":
        pytest.skip("runs are queued on PostgreSQL only")
    with shop.store.begin() as conn:
        subject = ensure_subject(conn, {"email": ANA})
    first, second = _rectification(shop, FIRST), _rectification(shop, SECOND)
    url = shop.store.url.render_as_string(hide_password=False)
    databases = [shop.store.url.database, sa.make_url(shop.urls["shop"]).database]
    env = {"GARDE_DATASETS": str(tmp_path / "datasets"), "GARDE_RESULTS": str(tmp_path / "results")}
    with garde_worker(url, tmp_path / "worker.log", "--concurrency", "2", env=env), \
            shop.deployment.engines["shop"].connect() as holding:
        holding.begin()
        holding.execute(sa.text("SELECT id FROM customers WHERE id = 1 FOR UPDATE"))
        jobs = [run_request(shop.store, request_id).job_id for request_id in (first, second)]
        end = time.monotonic() + 60
        with shop.store.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # fresh stats
            while time.monotonic() < end and conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = ANY(:databases)"), {"databases": databases}).scalar_one() < 2:
                time.sleep(0.05)
        holding.rollback()
        states = [wait_for_job(url, job_id) for job_id in jobs if job_id is not None]
    assert len(states) == 2
    held = _held(shop)
    with shop.store.connect() as conn:
        linked = {address for address in (FIRST, SECOND) if find_subject(conn, {"email": address}) == subject}
        statuses = sorted(get_request(conn, request_id).status for request_id in (first, second))
    assert len(held) == 1 and linked == held, (statuses, linked, held)
    assert statuses == ["completed", "failed"], statuses
