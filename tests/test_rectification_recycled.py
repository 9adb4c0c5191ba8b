"""A recycled identifier opens nothing of its former holder (red team 2026-12-06, residual fixed).

Ana rectifies ana@example.org to ana.new@example.net. Before, garde's store still linked the old
address to Ana's subject and listed her requests by the identity they were made with: whoever got
ana@example.org next (a mail provider recycling the mailbox) proved it by code and saw Ana's requests,
answer files and consents. Now the completed rectification moves the link to the new address (proven
for the request, and held by no other subject in garde's store) and a session lists only what its
identity is linked to today.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.consent.ledger import record_consent
from garde.problems import GardeError
from garde.rights.intake import get_request, submit
from garde.rights.rectification import LINKED, NOT_LINKED
from garde.rights.running import run
from garde.settings import Settings
from garde.subjects import ensure_subject, find_subject, record_objection
from garde.suppression import is_suppressed
from tests.api_support import Client, bearer, subject_token
from tests.test_rights_requests import Shop, new_values_checked, shop, verified  # noqa: F401
from tests.test_web_privacy import _sign_in
from tests.web_support import deployment_settings

ANA, NEW = "ana@example.org", "ana.new@example.net"


def _settings(shop: Shop, tmp_path: Path) -> Settings:  # noqa: F811
    url = shop.store.url.render_as_string(hide_password=False)
    return deployment_settings(url, tmp_path / "web").model_copy(
        update={"datasets": tmp_path / "datasets", "results": tmp_path / "results"})


def _rectified(shop: Shop, old: str, new: str) -> dict[str, str]:  # noqa: F811
    """A rectification of the e-mail ``old`` to ``new``, both proven (staff's checks), run; the
    result's ``new_identities``."""
    request_id = verified(shop, "rectification", {"email": old}, corrections={"contact.email": new})
    new_values_checked(shop, request_id, "email")
    done = run(shop.store, request_id, shop.deployment)
    assert done.status == "completed", done.result
    return dict(done.result["new_identities"])


def _anas_history(shop: Shop) -> tuple[str, str]:  # noqa: F811
    """Ana's answered access request (its answer files written) and her consent; the request's id and
    Ana's subject."""
    first = verified(shop, "access", {"email": ANA})
    assert run(shop.store, first, shop.deployment).status == "completed"
    with shop.store.begin() as conn:
        subject = ensure_subject(conn, {"email": ANA})
        record_consent(conn, subject, "newsletter", "given", channel="email")
    return first, subject


def _sees(client: Client, token: str) -> tuple[list[str], list[str], int]:
    """What a subject session's API answers: its requests' ids, its answer files' requests, its consent
    events."""
    headers = bearer(token)
    listed = client.get("/api/v1/me/requests", headers=headers)
    files = client.get("/api/v1/me/files", headers=headers)
    consents = client.get("/api/v1/me/consents", headers=headers)
    assert listed.status_code == files.status_code == consents.status_code == 200
    return ([r["id"] for r in listed.json()], sorted({f["request_id"] for f in files.json()}),
            len(consents.json()["history"]))


def test_whoever_proves_the_old_address_next_sees_nothing_of_ana(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    from garde.api.app import create_app

    first, subject = _anas_history(shop)
    outbox = tmp_path / "web" / "outbox"
    with Client(create_app(_settings(shop, tmp_path))).running() as client:
        before = subject_token(client, ANA, outbox)  # Ana's own session, open across the move
        assert _sees(client, before)[0] == [first]
        assert _rectified(shop, ANA, NEW) == {"email": LINKED}
        with shop.store.connect() as conn:
            assert find_subject(conn, {"email": NEW}) == subject
            assert find_subject(conn, {"email": ANA}) is None
        # The session opened with the old address sees nothing of Ana at its next request.
        assert _sees(client, before) == ([], [], 0)
        # Whoever proves the old address now: the subject API ...
        recycled = subject_token(client, ANA, outbox)
        assert _sees(client, recycled) == ([], [], 0)
        headers = bearer(recycled)
        assert client.get(f"/api/v1/me/requests/{first}", headers=headers).status_code == 404
        download = client.get(f"/api/v1/me/requests/{first}/files/access.json", headers=headers)
        assert download.status_code == 404
        # ... and the privacy center.
        _sign_in(client, ANA, outbox)
        page = client.get("/privacy/me")
        assert page.status_code == 200 and first not in page.text
        assert client.get(f"/privacy/me/requests/{first}").status_code == 404
        assert client.get(f"/privacy/me/requests/{first}/files/access.json").status_code == 404
        # Ana, with the address she proved, keeps her whole history.
        ana = subject_token(client, NEW, outbox)
        requests, files, consents = _sees(client, ana)
        assert (requests[0], len(requests), files, consents) == (first, 2, [first], 1)
        assert client.get(f"/api/v1/me/requests/{first}/files/access.json",
                          headers=bearer(ana)).status_code == 200
        # Ana rectifies back: the link follows again, the other address opens nothing.
        assert _rectified(shop, NEW, ANA) == {"email": LINKED}
        assert _sees(client, ana) == ([], [], 0)
        requests, files, consents = _sees(client, recycled)  # the address is Ana's again: linked now
        assert (requests[0], len(requests), files, consents) == (first, 3, [first], 1)


def test_a_new_address_another_subject_came_to_hold_is_not_linked(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """Zoe becomes known to garde (a consent) while Ana's rectification to Zoe's address, proven by staff
    and checked free before the run, writes it: the address stays Zoe's in garde's store, Ana's
    refusals apply to it, and the old address is Ana's no more (her rows do not hold it); the result
    says so."""
    first, subject = _anas_history(shop)
    zoe = "zoe@example.net"
    zoes: list[str] = []

    def zoe_consents(*_: object) -> None:
        if not zoes:
            with shop.store.begin() as conn:
                zoes.append(ensure_subject(conn, {"email": zoe}))

    with shop.store.begin() as conn:
        record_objection(conn, subject, "direct_marketing")
    sa.event.listen(shop.deployment.engines["shop"], "before_cursor_execute", zoe_consents)
    try:
        assert _rectified(shop, ANA, zoe) == {"email": NOT_LINKED}
    finally:
        sa.event.remove(shop.deployment.engines["shop"], "before_cursor_execute", zoe_consents)
    with shop.store.connect() as conn:
        assert find_subject(conn, {"email": zoe}) == zoes[0]
        assert find_subject(conn, {"email": ANA}) is None
        assert get_request(conn, first).subject_id == subject
        assert is_suppressed(conn, {"email": zoe})
        rows = conn.execute(sa.text("SELECT count(*) FROM subject_identifiers WHERE subject_id = :s"),
                            {"s": subject}).scalar_one()
    assert rows == 0


def test_the_next_holders_access_answer_holds_nothing_of_ana(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """The next holder of the old address asks for their data: garde's own records in the answer are
    theirs alone; once they are a subject of garde's, Ana cannot take the address back into her link."""
    from garde.api.app import create_app

    first, _ = _anas_history(shop)
    assert _rectified(shop, ANA, NEW) == {"email": LINKED}
    with Client(create_app(_settings(shop, tmp_path))).running() as client:
        recycled = bearer(subject_token(client, ANA, tmp_path / "web" / "outbox"))
        asked = client.post("/api/v1/me/requests", json={"type": "access"}, headers=recycled)
        assert asked.status_code == 201, asked.text
    theirs = asked.json()["id"]
    assert run(shop.store, theirs, shop.deployment).status == "completed"
    answer = (tmp_path / "results" / theirs / "access.json").read_text()
    assert first not in answer
    with pytest.raises(GardeError, match="already belongs to another person"):
        _rectified(shop, NEW, ANA)


def _unverified(shop: Shop, email: str) -> str:  # noqa: F811
    """A request naming ``email`` that nobody proved (a form filled in, its code never typed)."""
    with shop.store.begin() as conn:
        return submit(conn, "erasure", {"email": email}).id


def _access_answer_requests(shop: Shop, tmp_path: Path, token: str, client: Client) -> list[str]:  # noqa: F811
    """The ids of garde's own request records in the access answer the session's holder asks for."""
    asked = client.post("/api/v1/me/requests", json={"type": "access"}, headers=bearer(token))
    assert asked.status_code == 201, asked.text
    theirs = asked.json()["id"]
    assert run(shop.store, theirs, shop.deployment).status == "completed"
    answer = json.loads((tmp_path / "results" / theirs / "access.json").read_text())
    return sorted(r["id"] for r in answer["held"]["requests"] if r["id"] != theirs)


def test_a_request_never_verified_before_the_address_changed_hands_is_not_the_next_holders(
        shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """GDPR Art. 5(1)(f), 15: a request belongs to the person who made it. One that named the old
    address unproven before the move was made by its former holder (or someone posing as them): its
    next holder sees it nowhere (listing, page, access answer). One that named the new address before
    Ana took it is not Ana's either. What the next holder asks afterwards is theirs."""
    from garde.api.app import create_app

    _anas_history(shop)
    before_old = _unverified(shop, ANA)
    before_new = _unverified(shop, NEW)  # NEW's former holder (a recycled mailbox Ana is given)
    assert _rectified(shop, ANA, NEW) == {"email": LINKED}
    after = _unverified(shop, ANA)
    outbox = tmp_path / "web" / "outbox"
    with Client(create_app(_settings(shop, tmp_path))).running() as client:
        recycled = subject_token(client, ANA, outbox)
        assert _sees(client, recycled)[0] == [after]
        assert client.get(f"/api/v1/me/requests/{before_old}", headers=bearer(recycled)).status_code == 404
        assert client.get(f"/api/v1/me/requests/{after}", headers=bearer(recycled)).status_code == 200
        _sign_in(client, ANA, outbox)
        page = client.get("/privacy/me")
        assert page.status_code == 200 and before_old not in page.text and after in page.text
        assert client.get(f"/privacy/me/requests/{before_old}").status_code == 404
        assert _access_answer_requests(shop, tmp_path, recycled, client) == [after]
        ana = subject_token(client, NEW, outbox)
        assert before_new not in _sees(client, ana)[0]
        assert client.get(f"/api/v1/me/requests/{before_new}", headers=bearer(ana)).status_code == 404
        assert before_new not in _access_answer_requests(shop, tmp_path, ana, client)


def test_a_one_column_rectification_unlinks_the_value_it_replaced(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """Ana changes the address of her account only (``shop.customers.email``); the CRM's contact row
    still holds the old one. She said it is hers no more: the link moves (whoever holds it next opens
    nothing of hers), the CRM's copy is left as asked and the result names where the old value stays."""
    from garde.api.app import create_app

    first, subject = _anas_history(shop)
    request_id = verified(shop, "rectification", {"email": ANA}, corrections={"shop.customers.email": NEW})
    new_values_checked(shop, request_id, "email")
    done = run(shop.store, request_id, shop.deployment)
    assert done.status == "completed", done.result
    assert done.result["changed"] == {"shop.customers.email": 1}
    assert done.result["new_identities"] == {"email": LINKED}
    assert done.result["old_values_left_in"] == {"email": ["crm.contacts.email"]}
    with shop.deployment.engines["crm"].connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalar_one() == ANA
    with shop.store.connect() as conn:
        assert find_subject(conn, {"email": ANA}) is None
        assert find_subject(conn, {"email": NEW}) == subject
    with Client(create_app(_settings(shop, tmp_path))).running() as client:
        recycled = subject_token(client, ANA, tmp_path / "web" / "outbox")
        assert _sees(client, recycled) == ([], [], 0)
        assert client.get(f"/api/v1/me/requests/{first}", headers=bearer(recycled)).status_code == 404


def test_a_new_address_linked_by_another_transaction_during_the_move_is_left_to_it(shop: Shop) -> None:  # noqa: F811
    """PostgreSQL, a real race: while Ana's completed rectification links her new address, another
    transaction (Zoe's own request proving it, not yet committed) links it to Zoe. Ana's insert waits
    for Zoe's commit and meets the key; the move runs again, finds Zoe and leaves the address hers.
    Before, the unique violation failed Ana's request after her shop rows were written."""
    if shop.store.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock orders the two transactions: no race")
    first, subject = _anas_history(shop)
    zoe = "zoe@example.net"
    held: list[sa.Connection] = []
    committing: list[threading.Thread] = []

    def zoe_links(*_: object) -> None:  # Zoe's transaction, uncommitted, before Ana's store transaction
        if not held:
            conn = shop.store.connect()
            conn.begin()
            ensure_subject(conn, {"email": zoe})
            held.append(conn)

    def zoe_commits_later(conn: object, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SUBJECT_IDENTIFIERS") and held \
                and conn is not held[0] and not committing:
            def commit() -> None:
                time.sleep(0.3)  # Ana's INSERT waits on Zoe's uncommitted key meanwhile
                held[0].commit()
            committing.append(threading.Thread(target=commit))
            committing[0].start()

    sa.event.listen(shop.deployment.engines["shop"], "before_cursor_execute", zoe_links)
    sa.event.listen(shop.store, "before_cursor_execute", zoe_commits_later)
    try:
        assert _rectified(shop, ANA, zoe) == {"email": NOT_LINKED}
    finally:
        sa.event.remove(shop.deployment.engines["shop"], "before_cursor_execute", zoe_links)
        sa.event.remove(shop.store, "before_cursor_execute", zoe_commits_later)
        for thread in committing:
            thread.join()
        for conn in held:
            conn.close()
    assert committing, "Ana's move never met Zoe's uncommitted link"
    with shop.store.connect() as conn:
        assert find_subject(conn, {"email": zoe}) not in (None, subject)
        assert find_subject(conn, {"email": ANA}) is None
        assert get_request(conn, first).subject_id == subject
