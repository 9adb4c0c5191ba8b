"""A request's run holds the audit log's head locked for its append's round trip, not until the
caller gets round to committing.

Every append locks the chain's head row until its transaction ends, so another worker's completion
waits for it. The run's start and completion end with their append, which on PostgreSQL sends the
``COMMIT`` with its last statement: when the caller's own commit comes, the head is free already
(a second connection takes its row lock without waiting). The chain stays whole and in order.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from garde import audit
from garde.audit.verification import verify
from garde.jobs.queue import conninfo
from garde.rights.intake import get_request
from garde.rights.running import run
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401 (fixture)

pytestmark = pytest.mark.postgres


def test_the_audit_head_is_free_when_a_runs_transactions_commit(shop: Shop) -> None:  # noqa: F811
    if shop.store.dialect.name != "postgresql":
        pytest.skip("the head's row lock is PostgreSQL's (SQLite locks the whole file)")
    request_id = verified(shop, "access", {"email": "ana@example.org"})
    with shop.store.connect() as conn:
        before = max(entry["seq"] for entry in audit.entries(conn))
    seen: list[str] = []
    with psycopg.connect(conninfo(shop.store.url), autocommit=True) as probe:

        def when_committing(_conn: Any) -> None:  # the caller's commit, about to be sent
            try:
                probe.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")
                seen.append("free")
            except psycopg.errors.LockNotAvailable:
                seen.append("locked")

        sa.event.listen(shop.store, "commit", when_committing)
        try:
            run(shop.store, request_id, shop.deployment)
        finally:
            sa.event.remove(shop.store, "commit", when_committing)
    assert "locked" not in seen and len(seen) >= 2  # the start and the completion at least
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "completed"
        kinds = [entry["kind"] for entry in audit.entries(conn) if entry["seq"] > before]
        verdict = verify(conn)  # every link recomputed: no entry missing, reordered or altered
    assert verdict.ok, verdict.reason
    assert kinds[-1] == "request.completed"
    assert kinds.index("request.in_progress") < kinds.index("request.subject_found") < len(kinds) - 1
