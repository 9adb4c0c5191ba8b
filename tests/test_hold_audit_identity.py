"""A legal hold on a subject names them in the audit log by a keyed digest, never in clear.

Red team of 2026-12-07 (red30, medium). ``legal_hold.placed`` recorded the hold's scope as given,
``email:zoe@example.org``: the address in clear in a log that is append-only and sealed, so that no
erasure can remove it (docs/security.md says the audit log keeps keyed digests of identities, "no
clear value in any payload"), and readable by an ``auditor`` key (`GET /api/v1/audit/export`), a
role trusted with "no request, no subject". Now the entry names the identity's kind and its keyed
digest under the store's identifier data key; the hold itself (the DPO's list, the sweeps, the
subject's access answer) still names the value, which it needs to find the rows it keeps. On SQLite
and PostgreSQL, through the real API.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from garde.keys import identifier_data_key
from garde.legal_holds import DIGESTED, legal_holds, place_hold, release_hold
from garde.rights.running import run
from garde.store import connect
from garde.subjects import ensure_subject, identifier_hash, now
from tests.api_support import api_client, bearer
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)

ZOE, ANA = "Zoe.Held@Example.org", "ana@example.org"


def test_a_subject_hold_names_its_identity_in_the_audit_log_by_its_digest_only(migrated_url: str) -> None:
    engine = connect(migrated_url)
    with engine.begin() as conn:
        ensure_subject(conn, {"email": ZOE})
        digest = identifier_hash("email", ZOE, identifier_data_key(conn))
    with api_client(migrated_url) as (client, keys):
        dpo, auditor = bearer(keys["dpo"]), bearer(keys["auditor"])
        placed = client.post("/api/v1/holds", headers=dpo, json={
            "scope_kind": "subject", "scope": f"email:{ZOE}", "reason": "litigation"})
        assert placed.status_code == 201, placed.text
        assert placed.json()["scope"] == "email:zoe.held@example.org"  # the DPO's own view names it
        table = client.post("/api/v1/holds", headers=dpo, json={
            "scope_kind": "table", "scope": "shop.orders", "reason": "tax audit"})
        assert table.status_code == 201, table.text
        released = client.post(f"/api/v1/holds/{placed.json()['id']}/release", headers=dpo)
        assert released.status_code == 200, released.text
        export = client.get("/api/v1/audit/export", headers=auditor)
        assert export.status_code == 200, export.text
    assert "zoe.held" not in export.text.lower()
    with engine.connect() as conn:
        payloads = [json.loads(p) for p in conn.execute(sa.text(
            "SELECT payload FROM audit_log WHERE kind = 'legal_hold.placed' ORDER BY seq")).scalars()]
        clear = sa.text("SELECT count(*) FROM audit_log WHERE lower(payload) LIKE '%zoe.held%'")
        assert conn.execute(clear).scalar() == 0
    engine.dispose()
    assert payloads[0] == {"hold": placed.json()["id"], "scope_kind": "subject", "identity": "email",
                           "identity_hash": digest, "reason": "litigation", "ends_at": None}
    assert payloads[1]["scope"] == "shop.orders"  # a table or an activity is no one's identity


def test_an_erasure_leaves_no_released_hold_naming_the_subject_in_clear(shop: Shop) -> None:  # noqa: F811
    """Ana was held for a litigation, released; she then asked for her erasure, which completed. The
    released hold's row still says ``email:ana@example.org`` (the DPO's list of all holds, and every
    copy of the store): kept by no rule, since the hold no longer keeps anything."""
    with shop.store.begin() as conn:
        ensure_subject(conn, {"email": ANA})
        release_hold(conn, place_hold(conn, "subject", f"email:{ANA}", "litigation, settled"))
    request_id = verified(shop, "erasure", {"email": ANA})
    assert run(shop.store, request_id, shop.deployment).status == "completed"
    with shop.store.connect() as conn:
        scopes = conn.execute(sa.text("SELECT scope FROM legal_holds")).scalars().all()
    assert scopes and not [scope for scope in scopes if ANA in scope.lower()]


def test_an_erasure_digests_an_ended_hold_and_leaves_one_in_force_to_the_sweep(shop: Shop) -> None:  # noqa: F811
    """A hold ended (its last day passed, never released) keeps nothing: the subject's erasure replaces
    its identity by the keyed digest. One in force keeps the identity in clear, which the sweep
    searches the databases for, until it is released."""
    with shop.store.begin() as conn:
        ensure_subject(conn, {"email": ANA})
        ended = place_hold(conn, "subject", f"email:{ANA}", "dispute, closed")
        conn.execute(legal_holds.update().where(legal_holds.c.id == ended).values(
            ends_at=now() - timedelta(seconds=1)))
        in_force = place_hold(conn, "subject", f"email:{ANA}", "litigation")
        digest = identifier_hash("email", ANA, identifier_data_key(conn))
    request_id = verified(shop, "erasure", {"email": ANA})
    assert run(shop.store, request_id, shop.deployment).status == "completed"
    with shop.store.begin() as conn:
        scopes = dict(conn.execute(sa.select(legal_holds.c.id, legal_holds.c.scope)).all())
        assert scopes == {ended: f"email:{DIGESTED}{digest}", in_force: f"email:{ANA}"}
        release_hold(conn, in_force)
        assert conn.execute(sa.select(legal_holds.c.scope).where(legal_holds.c.id == in_force)).scalar() \
            == f"email:{DIGESTED}{digest}"
