"""A rectified e-mail or phone is proven, by a code sent to it, before garde writes it (red team 2026-12-06).

Ana proved ana@example.org and asks to rectify it to zoe@example.net. Before, the run wrote
zoe@example.net into the shop's customer and CRM rows at once: the shop would mail Zoe Ana's order
confirmations and password resets, and Zoe signing in would find Ana's rows. Now the new value
waits for the code mailed to it (or a staff member's recorded check), and a value that is already
another person's is never written, without the requester learning so.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.rights import FileMailer, check_code, verify_out_of_band
from garde.rights.code_limits import MAX_ATTEMPTS
from garde.rights.intake import get_request
from garde.rights.running import run
from garde.rights.self_service import request_view
from garde.rights.tables import verification_codes
from garde.settings import Settings
from tests.api_support import Client, bearer, subject_token
from tests.conftest import mailed_code
from tests.test_rights_requests import Shop, shop, verified  # noqa: F401
from tests.test_web_privacy import _sign_in
from tests.web_support import csrf_of, deployment_settings, log_in, web_client

ZOE = "zoe@example.net"


def emails(shop: Shop) -> tuple[str, str]:  # noqa: F811
    """Ana's e-mail in the shop's customer row and in the CRM's contact row."""
    with shop.deployment.engines["shop"].connect() as conn:
        customer = conn.execute(sa.text("SELECT email FROM customers WHERE id = 1")).scalar_one()
    with shop.deployment.engines["crm"].connect() as conn:
        contact = conn.execute(sa.text("SELECT email FROM contacts WHERE id = 1")).scalar_one()
    return customer, contact


def to_zoe(shop: Shop) -> str:  # noqa: F811
    """Ana's rectification of her proven e-mail to Zoe's address, verified."""
    return verified(shop, "rectification", {"email": "ana@example.org"}, corrections={"contact.email": ZOE})


def waiting_run(shop: Shop, request_id: str, mailer: FileMailer | None) -> str:  # noqa: F811
    """Run the request; it must refuse to start, and change nothing; the error's text."""
    with pytest.raises(GardeError, match="does not run yet") as refused:
        run(shop.store, request_id, shop.deployment, mailer=mailer)
    assert emails(shop) == ("ana@example.org", "ana@example.org")
    with shop.store.connect() as conn:
        assert get_request(conn, request_id).status == "verified"
    return str(refused.value)


def test_ana_cannot_have_zoes_address_written_without_zoes_code(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    outbox = tmp_path / "outbox"
    request_id = to_zoe(shop)
    assert "new e-mail address to be proven" in waiting_run(shop, request_id, FileMailer(outbox))
    (mail,) = FileMailer(outbox).messages()
    assert mail["To"] == ZOE and "will not be recorded" in mail.get_body().get_content()  # type: ignore[union-attr]
    waiting_run(shop, request_id, FileMailer(outbox))  # run again: still waiting, no second code
    assert len(FileMailer(outbox).messages()) == 1
    with shop.store.connect() as conn:
        request = get_request(conn, request_id)
    assert request.awaiting == ["email"]
    # The subject's own view says it waits, and nothing of anyone else.
    view = request_view(request, steps=True)
    assert view["steps"][-1] == {"at": view["steps"][-1]["at"], "status": "awaiting",
                                 "note": "waits for the new e-mail address to be confirmed"}
    assert ZOE not in str(view)


def test_a_wrong_or_expired_code_for_the_new_address_is_refused_and_bounded(shop: Shop,  # noqa: F811
                                                                           tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    request_id = to_zoe(shop)
    waiting_run(shop, request_id, FileMailer(outbox))
    code = mailed_code(outbox)
    with shop.store.begin() as conn:  # expired: refused, and the right code does not help
        conn.execute(verification_codes.update().values(expires_at=datetime(2020, 1, 1, tzinfo=UTC)))
        assert not check_code(conn, request_id, code, kind="new_email").verified
    waiting_run(shop, request_id, FileMailer(outbox))  # a new code, the expired one gone
    code = mailed_code(outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(MAX_ATTEMPTS):
        with shop.store.begin() as conn:
            assert not check_code(conn, request_id, wrong, kind="new_email").verified
    with shop.store.begin() as conn:  # locked: even the right code is refused now
        check = check_code(conn, request_id, code, kind="new_email")
    assert not check.verified and "locked" in check.message
    waiting_run(shop, request_id, None)


def test_once_proven_the_new_address_reaches_every_copy_and_the_chain_verifies(shop: Shop,  # noqa: F811
                                                                              tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    request_id = to_zoe(shop)
    waiting_run(shop, request_id, FileMailer(outbox))
    with shop.store.begin() as conn:
        assert check_code(conn, request_id, mailed_code(outbox), kind="new_email").verified
        assert get_request(conn, request_id).awaiting == []
    done = run(shop.store, request_id, shop.deployment)
    assert done.status == "completed"
    assert emails(shop) == (ZOE, ZOE)
    with shop.store.connect() as conn:
        assert audit.verify(conn).ok


def test_a_staff_check_stands_for_the_code_and_is_audited_with_its_reason(shop: Shop) -> None:  # noqa: F811
    request_id = to_zoe(shop)
    with shop.store.begin() as conn:
        verify_out_of_band(conn, request_id, "Ana called from the number on file and spelled the new address",
                           actor="dpo", identities=["new_email"])
    assert run(shop.store, request_id, shop.deployment).status == "completed"
    assert emails(shop) == (ZOE, ZOE)
    with shop.store.connect() as conn:
        proven = list(audit.entries(conn, kind="request.proven"))
    assert proven[-1]["payload"]["identities"] == ["new_email"]
    assert proven[-1]["payload"]["note"] == "Ana called from the number on file and spelled the new address"
    assert proven[-1]["actor"] == "dpo"


def test_another_persons_address_is_never_written_and_the_requester_cannot_tell(shop: Shop,  # noqa: F811
                                                                                tmp_path: Path) -> None:
    """Bob's address is in the shop: Ana's request looks exactly as if it were free (a code goes to it,
    the same step), the DPO is told, and even Bob's code does not make garde write it on Ana's rows."""
    free = to_zoe(shop)
    waiting_run(shop, free, FileMailer(tmp_path / "free"))
    taken = verified(shop, "rectification", {"email": "ana@example.org"},
                     corrections={"contact.email": "bob@example.org"})
    told = waiting_run(shop, taken, FileMailer(tmp_path / "taken"))
    assert "already belongs to another person" in told
    assert [m["To"] for m in FileMailer(tmp_path / "taken").messages()] == ["bob@example.org"]
    with shop.store.connect() as conn:
        views = [request_view(get_request(conn, r), steps=True) for r in (free, taken)]
        in_use = list(audit.entries(conn, kind="request.identity_in_use"))
    assert [(s["status"], s["note"]) for s in views[0]["steps"]] == [(s["status"], s["note"])
                                                                    for s in views[1]["steps"]]
    assert {k: v for k, v in views[0].items() if k not in ("id", "steps", "received_at", "verified_at")} == \
        {k: v for k, v in views[1].items() if k not in ("id", "steps", "received_at", "verified_at")}
    assert in_use and in_use[0]["subject_id"] is None  # in no one's access answer
    with shop.store.begin() as conn:
        assert check_code(conn, taken, mailed_code(tmp_path / "taken"), kind="new_email").verified
    with pytest.raises(GardeError, match="already belongs to another person"):
        run(shop.store, taken, shop.deployment)
    assert emails(shop) == ("ana@example.org", "ana@example.org")


def test_a_rectified_name_runs_at_once(shop: Shop) -> None:  # noqa: F811
    request_id = verified(shop, "rectification", {"email": "ana@example.org"},
                          corrections={"identity.name": "Ana Lima-Costa"})
    assert run(shop.store, request_id, shop.deployment).status == "completed"


def test_the_privacy_center_says_it_waits_and_takes_the_code(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    request_id = to_zoe(shop)
    waiting_run(shop, request_id, FileMailer(tmp_path / "zoe"))
    page = f"/privacy/me/requests/{request_id}"
    url = shop.store.url.render_as_string(hide_password=False)
    with web_client(url, tmp_path / "web") as (client, _):
        _sign_in(client, "ana@example.org", tmp_path / "web" / "outbox")
        shown = client.get(page)
        assert "Waiting for your new contact details to be confirmed" in shown.text and ZOE not in shown.text
        code = mailed_code(tmp_path / "zoe")
        wrong = client.post(page + "/confirm", data={"csrf": csrf_of(shown.text),
                                                     "code": f"{(int(code) + 1) % 10**6:06d}"})
        assert wrong.status_code == 400 and "This code was not accepted" in wrong.text
        right = client.post(page + "/confirm", data={"csrf": csrf_of(shown.text), "code": code})
        assert right.status_code == 303, right.text
        assert "Being prepared" in client.get(page).text
    assert run(shop.store, request_id, shop.deployment).status == "completed"
    assert emails(shop) == (ZOE, ZOE)


def test_the_privacy_centers_code_form_for_a_new_value_is_rate_limited_as_the_apis(shop: Shop,  # noqa: F811
                                                                                    tmp_path: Path) -> None:
    """Before, ``POST /api/v1/me/requests/{id}/confirm`` was limited per address (``session.confirm``,
    30 an hour, with the sign-in's codes) but the privacy center's form taking the same code was not:
    one address could post it without end (each wrong code still counted, the request locked at 5).
    Now the form counts in the same limit, and says so (429)."""
    request_id = to_zoe(shop)
    waiting_run(shop, request_id, FileMailer(tmp_path / "zoe"))
    page = f"/privacy/me/requests/{request_id}"
    url = shop.store.url.render_as_string(hide_password=False)
    with web_client(url, tmp_path / "web") as (client, _):
        _sign_in(client, "ana@example.org", tmp_path / "web" / "outbox")  # one code of the 30
        token = csrf_of(client.get(page).text)
        answers = [client.post(page + "/confirm", data={"csrf": token, "code": "000000"}) for _ in range(30)]
    assert [answer.status_code for answer in answers] == [400] * 29 + [429]
    assert "Too many attempts" in answers[-1].text


def test_the_dpo_sees_what_waits_and_a_value_in_use(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    taken = verified(shop, "rectification", {"email": "ana@example.org"},
                     corrections={"contact.email": "bob@example.org"})
    waiting_run(shop, taken, FileMailer(tmp_path / "taken"))
    url = shop.store.url.render_as_string(hide_password=False)
    with web_client(url, tmp_path / "web") as (client, keys):
        log_in(client, keys["dpo"])
        queue = client.get("/dpo/requests").text
        page = client.get(f"/dpo/requests/{taken}").text
    assert "waits for a new contact to be confirmed" in queue and "new value in use" in queue
    assert "the new value of email to be confirmed" in page and "already belongs to another person" in page


def test_an_account_opened_with_the_new_address_before_it_is_written_stops_the_write(shop: Shop) -> None:  # noqa: F811
    """Zoe opens her shop account with zoe@... after the run checked the address was free, and before
    its UPDATE: the check in the writing transaction sees her row, and no database keeps the change."""
    request_id = to_zoe(shop)
    with shop.store.begin() as conn:
        verify_out_of_band(conn, request_id, "Ana spelled the new address on the phone", actor="dpo",
                           identities=["new_email"])
    other = sa.create_engine(shop.urls["shop"])
    opened: list[str] = []

    def zoe_signs_up(conn: sa.Connection, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and not opened:
            opened.append(statement)
            with other.begin() as elsewhere:  # another connection, committed before the UPDATE runs
                elsewhere.execute(sa.text("INSERT INTO customers (id, email) VALUES (99, :e)"), {"e": ZOE})

    sa.event.listen(shop.deployment.engines["shop"], "before_cursor_execute", zoe_signs_up)
    try:
        with pytest.raises(GardeError, match="must be looked at by staff"):
            run(shop.store, request_id, shop.deployment)
    finally:
        sa.event.remove(shop.deployment.engines["shop"], "before_cursor_execute", zoe_signs_up)
        other.dispose()
    assert opened and emails(shop) == ("ana@example.org", "ana@example.org")  # the CRM's too: rolled back
    with shop.store.connect() as conn:
        (told,) = [e for e in audit.entries(conn, kind="request.identity_in_use")
                   if e["payload"]["request"] == request_id]
        request = get_request(conn, request_id)
    assert told["subject_id"] is None and told["payload"]["identities"] == ["email"]
    assert request.status == "failed" and ZOE not in str(request_view(request, steps=True))


def _ana_waiting_for_zoe_bob_known(shop: Shop, tmp_path: Path) -> tuple[str, str, Settings]:  # noqa: F811
    """Ana's rectification to Zoe's address waiting for the code mailed to it (returned), Bob known to
    garde (he can sign in), and the deployment's settings for an app."""
    request_id = to_zoe(shop)
    verified(shop, "access", {"email": "bob@example.org"})  # Bob is known to garde: he can sign in
    waiting_run(shop, request_id, FileMailer(tmp_path / "zoe"))
    url = shop.store.url.render_as_string(hide_password=False)
    settings = deployment_settings(url, tmp_path / "web").model_copy(
        update={"datasets": tmp_path / "datasets", "results": tmp_path / "results"})
    return request_id, mailed_code(tmp_path / "zoe"), settings


def test_the_subjects_api_takes_the_code_for_the_new_address_and_only_from_them(shop: Shop,  # noqa: F811
                                                                                tmp_path: Path) -> None:
    from garde.api.app import create_app

    request_id, code, settings = _ana_waiting_for_zoe_bob_known(shop, tmp_path)
    confirm = f"/api/v1/me/requests/{request_id}/confirm"
    with Client(create_app(settings)).running() as client:
        bob = bearer(subject_token(client, "bob@example.org", tmp_path / "web" / "outbox"))
        refused = client.post(confirm, json={"code": code}, headers=bob)
        assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
        ana = bearer(subject_token(client, "ana@example.org", tmp_path / "web" / "outbox"))
        assert client.post(confirm, json={"code": "1" * 17}, headers=ana).status_code == 422  # bounded
        wrong = client.post(confirm, json={"code": f"{(int(code) + 1) % 10**6:06d}"}, headers=ana)
        assert wrong.status_code == 400 and wrong.headers["content-type"] == "application/problem+json"
        right = client.post(confirm, json={"code": code}, headers=ana)
        assert right.status_code == 200, right.text
        assert right.json()["awaiting"] == []
        again = client.post(confirm, json={"code": code}, headers=ana)
        # Nothing waits any more: nothing runs twice. Run at once (SQLite), the rectification moved
        # Ana's link to Zoe's address: her session with the old one no longer opens the request.
        assert again.status_code == (404 if shop.store.dialect.name == "sqlite" else 400)
    if shop.store.dialect.name == "sqlite":  # run at once
        assert right.json()["status"] == "completed" and emails(shop) == (ZOE, ZOE)
    else:  # queued for the workers, once
        with shop.store.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                        "'requests.run'")).scalar_one() == 1


def test_two_subjects_rectifying_to_one_new_address_at_once_write_it_once(shop: Shop) -> None:  # noqa: F811
    """Ana and Bob both rectify their e-mail to zoe@..., each proven, run at the same moment. Both
    UPDATEs are made, then neither commits before both checks in the writing transactions have read (a
    barrier): before, on PostgreSQL (read committed), each check read the other's row as it was before
    its uncommitted UPDATE, both passed and Zoe's address was written on two people's rows. Now the check
    holds an advisory lock on the address's keyed digest until the commit: one writes it, the other
    sees that row and fails, the state the DPO is told of. On SQLite the second UPDATE waits for the
    first's commit (the database's write lock): the same outcome, without a lock of garde's."""
    ana = to_zoe(shop)
    bob = verified(shop, "rectification", {"email": "bob@example.org"}, corrections={"contact.email": ZOE})
    for request_id in (ana, bob):
        with shop.store.begin() as conn:
            verify_out_of_band(conn, request_id, "spelled the new address on the phone", actor="dpo",
                               identities=["new_email"])
    # Each run, its check read, waits for the other's check to have read too before it commits. Without
    # a lock both reads see the address free; with one, the second check cannot read before the first
    # commits: the wait ends after its timeout (caught), and the first commits.
    both_checked = threading.Barrier(2, timeout=2)
    state = threading.local()

    def after_both_checks(conn: sa.Connection, cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            state.updated = True
        elif getattr(state, "updated", False) and "lower(" in statement.lower():  # the check's read
            state.updated = False
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait()

    def running(request_id: str) -> str:
        try:
            return run(shop.store, request_id, shop.deployment).status
        except GardeError as error:
            return str(error)

    engine = shop.deployment.engines["shop"]
    sa.event.listen(engine, "after_cursor_execute", after_both_checks)
    try:
        with ThreadPoolExecutor(2) as pool:
            outcomes = dict(zip((ana, bob), pool.map(running, (ana, bob)), strict=True))
    finally:
        sa.event.remove(engine, "after_cursor_execute", after_both_checks)
    with engine.connect() as conn:
        holders = conn.execute(sa.text("SELECT id FROM customers WHERE email = :e"), {"e": ZOE}).scalars()
        holders = list(holders)
    assert len(holders) == 1, (holders, outcomes)
    winner, loser = (ana, bob) if holders == [1] else (bob, ana)
    assert outcomes[winner] == "completed"
    assert "must be looked at by staff" in outcomes[loser]
    with shop.store.connect() as conn:
        assert get_request(conn, loser).status == "failed"
        told = [entry for entry in audit.entries(conn, kind="request.identity_in_use")
                if entry["payload"]["request"] == loser]
    assert told and told[-1]["subject_id"] is None and told[-1]["payload"]["when"] == "written"


@pytest.mark.parametrize("proof", ["code", "out-of-band"])
def test_a_proof_recorded_by_staff_resumes_the_run_as_the_subjects_code_does(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proof: str) -> None:  # noqa: F811
    """Before, ``garde request verify`` with the code Zoe read out, or staff's own check of the new
    address, left the request waiting until someone ran it again, while the subject's code ran it. Now
    both go the same way: run here on SQLite, one job queued on PostgreSQL."""
    from typer.testing import CliRunner

    from garde.cli import app
    from garde.settings import get_settings

    request_id = to_zoe(shop)
    waiting_run(shop, request_id, FileMailer(tmp_path / "zoe"))
    settings = {"GARDE_DATABASE_URL": shop.store.url.render_as_string(hide_password=False),
                "GARDE_DATASETS": str(tmp_path / "datasets"), "GARDE_MAILER": "file",
                "GARDE_RESULTS": str(tmp_path / "results"), "GARDE_OUTBOX": str(tmp_path / "outbox")}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    if proof == "code":
        args = ["--code", mailed_code(tmp_path / "zoe"), "--identity", "new_email"]
    else:
        args = ["--out-of-band", "Ana spelled the new address on the phone", "--checked", "new_email"]
    try:
        said = CliRunner().invoke(app, ["request", "verify", request_id[:8], *args, "--actor", "agent:marie"])
    finally:
        get_settings.cache_clear()
    assert said.exit_code == 0, said.output
    if shop.store.dialect.name == "sqlite":  # run at once
        assert "was waiting for this proof: it ran, completed" in said.output
        assert emails(shop) == (ZOE, ZOE)
        with shop.store.connect() as conn:
            assert get_request(conn, request_id).status == "completed"
    else:  # queued for the workers, once
        assert "was waiting for this proof: queued as job" in said.output
        with shop.store.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                        "'requests.run'")).scalar_one() == 1


def test_an_agents_check_through_the_api_resumes_the_run_too(shop: Shop, tmp_path: Path) -> None:  # noqa: F811
    """The staff API's verify route records the same check as the CLI, and now resumes the same way."""
    from garde.api.app import create_app
    from tests.api_support import new_key

    request_id = to_zoe(shop)
    waiting_run(shop, request_id, FileMailer(tmp_path / "zoe"))
    url = shop.store.url.render_as_string(hide_password=False)
    settings = deployment_settings(url, tmp_path / "web").model_copy(
        update={"datasets": tmp_path / "datasets", "results": tmp_path / "results"})
    agent = bearer(new_key(url, "agent"))
    with Client(create_app(settings)).running() as client:
        checked = client.post(f"/api/v1/requests/{request_id}/verify", headers=agent, json={
            "out_of_band": "Ana spelled the new address on the phone", "checked": ["new_email"]})
    assert checked.status_code == 200, checked.text
    if url.startswith("sqlite"):
        assert checked.json()["status"] == "completed" and emails(shop) == (ZOE, ZOE)
    else:
        with shop.store.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = "
                                        "'requests.run'")).scalar_one() == 1


def test_the_new_value_code_routes_hold_against_another_subject_and_hostile_input(shop: Shop,  # noqa: F811
                                                                                 tmp_path: Path) -> None:
    """Red team of the routes added last: Bob, signed in on both surfaces, aims at Ana's waiting
    rectification; Ana herself sends hostile input. Every refusal leaves the request waiting."""
    from garde.api.app import create_app

    request_id, code, settings = _ana_waiting_for_zoe_bob_known(shop, tmp_path)
    confirm = f"/api/v1/me/requests/{request_id}/confirm"
    page = f"/privacy/me/requests/{request_id}"
    with Client(create_app(settings)).running() as client:
        bob = bearer(subject_token(client, "bob@example.org", tmp_path / "web" / "outbox"))
        made_up = client.post(f"/api/v1/me/requests/{uuid.uuid4()}/confirm", json={"code": code}, headers=bob)
        theirs = client.post(confirm, json={"code": code}, headers=bob)
        assert made_up.status_code == theirs.status_code == 404 and made_up.json() == {
            **theirs.json(), "detail": made_up.json()["detail"]}
        for odd in ("%00", "x" * 64, "..%2F..%2Fetc"):
            assert client.post(f"/api/v1/me/requests/{odd}/confirm", json={"code": code},
                               headers=bob).status_code in (404, 422)
        ana = bearer(subject_token(client, "ana@example.org", tmp_path / "web" / "outbox"))
        deep = "[" * 5_000 + "]" * 5_000  # past the decoder's nesting, within the route's 16 kB
        hostile = [client.post(confirm, content=deep, headers={**ana, "Content-Type": "application/json"}),
                   client.post(confirm, content=b'{"code": "' + b"1" * 3_000_000 + b'"}',
                               headers={**ana, "Content-Type": "application/json"}),
                   client.post(confirm, json={"code": [code]}, headers=ana),
                   client.post(confirm, json={"code": code, "identity": "email"}, headers=ana)]
        assert [answer.status_code for answer in hostile] == [400, 413, 422, 422]
        _sign_in(client, "bob@example.org", tmp_path / "web" / "outbox")
        token = csrf_of(client.get("/privacy/me").text)
        assert client.get(page).status_code == 404  # Ana's page, to Bob
        assert client.post(page + "/confirm", data={"csrf": token, "code": code}).status_code == 404
        assert client.post(page + "/confirm", data={"code": code}).status_code == 403  # no CSRF token
    with shop.store.connect() as conn:
        request = get_request(conn, request_id)
    assert request.status == "verified" and request.awaiting == ["email"] and request.wrong_attempts == 0
    assert emails(shop) == ("ana@example.org", "ana@example.org")


def test_a_staff_proof_whose_run_cannot_start_says_so(shop: Shop, tmp_path: Path,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The run resumed by ``verify`` cannot start here (no data map where the settings say): the
    proof stands, the command says the request did not complete. Before, the data map's error
    escaped the resumption (an InputError, not a GardeError): exit 2 after the proof was committed,
    and a 500 on the privacy center's or the API's code routes."""
    from typer.testing import CliRunner

    from garde.cli import app
    from garde.settings import get_settings

    if shop.store.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL the run is queued: the worker's own data map decides")
    request_id = to_zoe(shop)
    waiting_run(shop, request_id, None)
    monkeypatch.setenv("GARDE_DATABASE_URL", shop.store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("GARDE_DATASETS", str(tmp_path / "no-such-datasets"))
    get_settings.cache_clear()
    try:
        said = CliRunner().invoke(app, ["request", "verify", request_id, "--out-of-band", "on the phone",
                                        "--checked", "new_email", "--format", "json"])
    finally:
        get_settings.cache_clear()
    assert said.exit_code == 0, said.output
    assert json.loads(said.output)["resumed"] == {"job_id": None, "queued": False, "status": "verified"}
    assert emails(shop) == ("ana@example.org", "ana@example.org")
