"""An erasure that cannot be written fails cleanly: never left ``in_progress``, never half-done.

A database may refuse a write the data map knows nothing about (a table
outside the map still points at a row). That database's transaction rolls
back; the databases before it committed. The request becomes ``failed``
with the reason, the committed steps are recorded ``done`` and audited, and
running it again once the cause is removed resumes with the rest.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights import get_request
from garde.rights.running import run
from garde.subjects import subject_state
from tests.test_rights_requests import Shop, others_checksum, shop, verified  # noqa: F401


def _rows(engine: sa.Engine) -> list[tuple[str, tuple[object, ...]]]:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return [(t.name, tuple(r)) for t in meta.sorted_tables
                for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]


def test_a_refused_write_marks_the_erasure_failed_and_running_it_again_resumes(shop: Shop) -> None:  # noqa: F811
    shop_db, crm_db = shop.deployment.engines["shop"], shop.deployment.engines["crm"]
    with shop_db.begin() as conn:  # outside the data map: a gift card still points at Ana's address
        conn.execute(sa.text("CREATE TABLE gift_cards (id INTEGER PRIMARY KEY, "
                             "address_id INTEGER NOT NULL REFERENCES addresses (id))"))
        conn.execute(sa.text("INSERT INTO gift_cards VALUES (1, 1)"))
    shop_before, crm_before = _rows(shop_db), _rows(crm_db)
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    with pytest.raises(GardeError, match="could not be written"):
        run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    with shop.store.begin() as conn:
        request = get_request(conn, request_id)
        steps = dict(conn.execute(sa.text(
            "SELECT dataset, min(status) || '/' || max(status) FROM erasure_steps GROUP BY dataset")).all())
        entries = [e for e in audit.entries(conn) if e["payload"].get("request") == request_id]
        assert audit.verify(conn).ok
        assert subject_state(conn, request.subject_id or "") != "erased"
    assert request.status == "failed" and request.is_open
    assert "foreign key" in (request.result or {})["error"].lower()
    assert "foreign key" in (request.steps[-1]["note"] or "").lower()
    assert steps == {"crm": "done/done", "shop": "planned/planned"}
    kinds = [e["kind"] for e in entries]
    assert kinds[-2:] == ["request.erasure_applied", "request.failed"]
    assert entries[-2]["payload"]["database"] == "crm"
    assert _rows(shop_db) == shop_before  # the refused database's transaction rolled back whole
    assert _rows(crm_db) != crm_before
    report = json.loads((shop.deployment.results / request_id / "erasure.json").read_text())
    assert report["status"] == "failed" and "foreign key" in report["error"].lower()

    crm_after_failure = _rows(crm_db)
    with shop_db.begin() as conn:
        conn.execute(sa.text("DELETE FROM gift_cards"))
    done = run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    assert done.status == "completed"
    assert _rows(crm_db) == crm_after_failure  # crm's steps were done: not run twice
    with shop_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM addresses WHERE customer_id = 1")).scalar() == 0
    with shop.store.begin() as conn:
        assert conn.execute(sa.text("SELECT DISTINCT status FROM erasure_steps")).scalars().all() == ["done"]
        assert subject_state(conn, done.subject_id or "") == "erased"
        assert [s["status"] for s in done.steps][-4:] == ["in_progress", "failed", "in_progress", "completed"]


def test_a_copy_garde_cannot_remove_fails_the_erasure_with_what_was_applied(shop: Shop,  # noqa: F811
                                                                            tmp_path: Path) -> None:
    """Every database committed, then removing one of garde's own copies failed: before, the
    request failed with nothing of what the databases committed in its audit."""
    access_id = verified(shop, "access", {"email": "ana@example.org"})
    assert run(shop.store, access_id, shop.deployment).status == "completed"
    blocking = tmp_path / "published-elsewhere"
    (blocking / "inside").mkdir(parents=True)  # a folder where a published copy was recorded
    (shop.deployment.results / access_id / "copies.json").write_text(json.dumps([str(blocking)]))
    request_id = verified(shop, "erasure", {"email": "ana@example.org"})
    with pytest.raises(GardeError, match="could not be completed"):
        run(shop.store, request_id, shop.deployment, today=date(2025, 3, 1))
    with shop.store.begin() as conn:
        request = get_request(conn, request_id)
        kinds = [e["kind"] for e in audit.entries(conn) if e["payload"].get("request") == request_id]
    assert request.status == "failed"
    assert kinds.count("request.erasure_applied") == 2 and kinds[-1] == "request.failed"
