"""A legal hold that ended names no one by the next sweep (era31).

Since fix31 a subject hold's identity (``email:ana@example.org``) became its keyed digest when staff
released the hold or at its subject's erasure; a hold ended by its date and never released kept the
identity in clear until that erasure, and after it when the erasure did not prove that identity. Now
every retention sweep starts by digesting the subject holds that keep nothing any more and still name
someone in clear (ended since the last sweep, or released before fix31), in a transaction of its own,
audited with their count; the subject's access answer still lists them. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde import audit, retention
from garde.keys import identifier_data_key
from garde.legal_holds import DIGESTED, legal_holds, place_hold
from garde.rights import submit
from garde.rights.intake import get_request
from garde.rights.restriction import ERASED, forget_reasons
from garde.rights.running import run
from garde.rights.tables import requests
from garde.store import connect
from garde.subjects import ensure_subject, identifier_hash, now
from tests.leftovers import in_store, spellings
from tests.test_access_held import _answer
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401  (the fixture)

ANA, BOB = "ana.ended@example.org", "bob.held@example.org"
_ABSENT = object()  # no reason key at all


def _sweep(shop: Shop) -> None:  # noqa: F811
    retention.sweep(shop.store, shop.deployment.datamap, shop.deployment.engines)


def _digested(shop: Shop) -> list[dict[str, object]]:  # noqa: F811
    with shop.store.connect() as conn:
        return [e["payload"] for e in audit.entries(conn) if e["kind"] == "legal_hold.digested"]


def test_a_sweep_digests_a_hold_ended_yesterday_and_the_access_answer_still_lists_it(
        shop: Shop) -> None:  # noqa: F811
    with shop.store.begin() as conn:
        ensure_subject(conn, {"email": ANA})
        ended = place_hold(conn, "subject", f"email:{ANA}", "dispute, settled",
                           ends_at=now() + timedelta(days=30))
        conn.execute(legal_holds.update().where(legal_holds.c.id == ended).values(
            ends_at=now() - timedelta(days=1)))  # its last day was the day before yesterday
        in_force = place_hold(conn, "subject", f"email:{BOB}", "litigation")
        digest = identifier_hash("email", ANA, identifier_data_key(conn))
    assert in_store(shop.store, spellings({"email": ANA}))  # before: legal_holds.scope names her
    _sweep(shop)
    assert in_store(shop.store, spellings({"email": ANA})) == []
    with shop.store.connect() as conn:
        scopes = dict(conn.execute(sa.select(legal_holds.c.id, legal_holds.c.scope)).all())
    assert scopes == {ended: f"email:{DIGESTED}{digest}", in_force: f"email:{BOB}"}  # in force: searched for
    assert _digested(shop) == [{"holds": 1}]
    _sweep(shop)  # idempotent: nothing left to digest, nothing logged
    assert _digested(shop) == [{"holds": 1}]
    request_id = verified(shop, "access", {"email": ANA}, language="en")
    assert run(shop.store, request_id, shop.deployment).status == "completed"
    answer, _, _ = _answer(shop, request_id)
    assert [h["reason"] for h in answer["held"]["legal_holds"]] == ["dispute, settled"]


def test_the_first_sweep_digests_a_hold_released_before_fix31(shop: Shop) -> None:  # noqa: F811
    """Released by an earlier version, which left the identity in clear: no data migration could
    digest it (the migrations run before the store's identifier key is opened; a store older than
    0008 gets its data key after them), the first sweep does."""
    with shop.store.begin() as conn:
        ensure_subject(conn, {"email": ANA})
        hold = place_hold(conn, "subject", f"email:{ANA}", "tax audit")
        conn.execute(legal_holds.update().where(legal_holds.c.id == hold).values(released_at=now()))
    retention.sweep(shop.store, shop.deployment.datamap, shop.deployment.engines, dry_run=True)
    assert in_store(shop.store, spellings({"email": ANA}))  # a dry run changes nothing
    _sweep(shop)
    assert in_store(shop.store, spellings({"email": ANA})) == []
    assert _digested(shop) == [{"holds": 1}]


def test_an_erasure_after_the_sweep_and_one_never_verified_request_s_reason(shop: Shop) -> None:  # noqa: F811
    """After the sweep the erasure reads no hold at its completion; the reason of an objection never
    verified that gave the identity it proved is erased with the subject's own (one statement)."""
    words = "I moved to 3 rue des Ormeaux"
    with shop.store.begin() as conn:
        stray = submit(conn, "objection", {"email": ANA}, language="en",
                       details={"scope": "direct_marketing", "reason": words}).id
        ensure_subject(conn, {"email": ANA})
        hold = place_hold(conn, "subject", f"email:{ANA}", "dispute", ends_at=now() + timedelta(days=1))
        conn.execute(legal_holds.update().where(legal_holds.c.id == hold).values(
            ends_at=now() - timedelta(seconds=1)))
    _sweep(shop)
    erasure = verified(shop, "erasure", {"email": ANA})
    assert run(shop.store, erasure, shop.deployment).status == "completed"
    with shop.store.connect() as conn:
        details = get_request(conn, stray).details
        stored = conn.execute(sa.select(legal_holds.c.scope)).scalar_one()
    assert details == {"scope": "direct_marketing", "reason": ERASED}
    assert stored.startswith(f"email:{DIGESTED}")
    assert words not in json.dumps(details)


# PostgreSQL's text holds no NUL; no text garde stores holds a lone surrogate (its inputs refuse them: 400)
_TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12)
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), _TEXT,
                    st.sampled_from([ERASED, "", "null", '"quoted"', "é ü 中", "a\\\\b"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(details=st.dictionaries(_TEXT.filter(bool), _VALUES, max_size=4),
       reason=st.one_of(st.just(_ABSENT), _VALUES))
def test_the_store_s_json_edit_erases_a_reason_as_python_would(migrated_url: str, details: dict[str, object],
                                                                reason: object) -> None:
    """The requests' reasons are erased by the store's JSON functions (``json_set``, ``jsonb_set``):
    whatever the other keys and the reason's value, the details read back are the Python edit's (a
    reason given and not yet erased becomes ``[erased]``; none, JSON null or one erased is left)."""
    given_details = {k: v for k, v in details.items() if k != "reason"}
    if reason is not _ABSENT:
        given_details["reason"] = reason
    expected = ({**given_details, "reason": ERASED} if given_details.get("reason") not in (None, ERASED)
                else given_details)
    engine = connect(migrated_url)
    try:
        with engine.connect() as conn:
            written = conn.begin()
            request_id = submit(conn, "objection", {"email": ANA}, details=given_details).id
            conn.execute(requests.update().where(requests.c.id == request_id).values(subject_id="s-era31"))
            changed = forget_reasons(conn, ["s-era31"], [])
            assert get_request(conn, request_id).details == expected
            assert changed == (expected != given_details)
            written.rollback()  # the next example's request is alone
    finally:
        engine.dispose()
