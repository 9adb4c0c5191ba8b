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

import pytest
import sqlalchemy as sa

from garde.problems import GardeError
from garde.rights.running import run
from garde.subjects import ensure_subject, find_subject
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
    assert outcomes[second].startswith("refused"), outcomes
