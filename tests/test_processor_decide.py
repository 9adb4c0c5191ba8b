"""decide() and restriction for activities carried out as a processor (GDPR Art. 18, 28(3)(a), 29).

The hub (``tests.test_processor_forwarding``) keeps its own customers (``accounts``, a controller
activity) and, as a processor, Brand SpA's parcels (``parcels``, with its contract) and Other Brand
GmbH's repairs (``repairs``, named without a contract). decide() answers a processor activity from
the controllers' instructions the register records, never from the hub's own ledger or the
subject's requests to the hub; a subject's restriction restricts the hub's own activities and is
forwarded; the restriction a controller instructs restricts what the hub does for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde import audit, consent
from garde.audience import audience
from garde.cli import app
from garde.consent.state import ConsentEvent
from garde.decide import DecisionModel, DecisionPoint, SubjectFacts, evaluate
from garde.decide.model import ActivityRules
from garde.problems import GardeError
from garde.register import parse_register
from garde.rights import forwarding, submit, verify_out_of_band
from garde.rights.instructed_erasure import instruct_erasure
from garde.rights.instructed_restriction import instruct_restriction, lift_restriction
from garde.rights.running import run
from garde.settings import get_settings
from garde.subjects import instructed_erasure_scope, instructed_restriction_scope, record_objection
from tests.api_support import Client, bearer
from tests.test_processor_forwarding import (  # noqa: F401  (the fixtures)
    ME,
    REGISTER,
    Hub,
    _privacy_request,
    _verified,
    hub,
    served_hub,
)
from tests.web_support import log_in

runner = CliRunner()
API = "/api/v1/requests"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _model() -> DecisionModel:
    return DecisionModel(parse_register(REGISTER).register)


def _start_relationship(store: sa.Engine) -> None:
    with store.begin() as conn:
        conn.execute(sa.text("UPDATE subjects SET relationship_started_at = :at"),
                     {"at": T0 - timedelta(days=30)})


def _decide(point: DecisionPoint, activity: str, sid: str) -> tuple[bool, list[str], str]:
    decision = point.decide(activity, sid)
    return decision.allowed, decision.codes(), " ".join(r.message for r in decision.reasons)


def test_decide_answers_a_processor_activity_from_its_controllers_instructions(hub: Hub) -> None:  # noqa: F811
    request_id = _verified(hub.store, "access", "alice@example.org")
    with hub.store.connect() as conn:
        sid = str(conn.execute(sa.text("SELECT subject_id FROM requests WHERE id = :id"),
                               {"id": request_id}).scalar())
    _start_relationship(hub.store)
    with hub.store.begin() as conn:
        # the subject's objection to the hub and the hub's own ledger: not Brand SpA's instructions
        record_objection(conn, sid, "parcels", "asked the hub")
        consent.refuse(conn, sid, "parcels")
        consent.give(conn, sid, "repairs")  # given to the hub as a controller: no instruction
    with DecisionPoint(_model(), hub.store, audit=False, clock=lambda: T0) as point:
        allowed, codes, words = _decide(point, "parcels", sid)
        assert allowed and codes == ["processor_for"], words
        assert "processor for Brand SpA" in words and "legal basis" not in words
        # named without a contract: no documented instructions to act on
        allowed, codes, words = _decide(point, "repairs", sid)
        assert not allowed and codes == ["processor_no_instructions"], words
        allowed, codes, _ = _decide(point, "accounts", sid)
        assert allowed and codes == ["legal_basis"]


def test_a_subjects_restriction_restricts_the_own_activities_and_an_instructed_one_the_processor_one(
        hub: Hub) -> None:  # noqa: F811
    _start_relationship(hub.store)
    request_id = _verified(hub.store, "restriction", "alice@example.org")
    _start_relationship(hub.store)
    model = _model()
    with hub.store.connect() as conn:
        sid = str(conn.execute(sa.text("SELECT subject_id FROM requests WHERE id = :id"),
                               {"id": request_id}).scalar())
    # a point that keeps the subject's facts from before every write below: it must see each one
    kept = DecisionPoint(model, hub.store, audit=False, clock=lambda: T0)
    try:
        assert kept.decide("accounts", sid).allowed and kept.decide("parcels", sid).allowed
        done = run(hub.store, request_id, hub.deployment)
        assert done.status == "completed"
        assert done.result["state"] == "restricted"
        assert done.result["forwarded"] == [
            {"controller": "Brand SpA", "found": {"hub.customers": 1, "hub.parcels": 2}}]
        [note] = done.result["processed_for"]
        assert note["controller"] == "Brand SpA" and "pass your request on to Brand SpA" in note["text"]
        # the hub's own activity restricted; the one it carries out for Brand SpA not (yet)
        allowed, codes, _ = _decide(kept, "accounts", sid)
        assert not allowed and "subject_restricted" in codes
        allowed, codes, _ = _decide(kept, "parcels", sid)
        assert allowed and codes == ["processor_for"]
        with hub.store.connect() as conn:
            [listed] = forwarding.listed(conn, request_id)
        assert listed["status"] == "to_forward"

        # Brand SpA instructs the restriction: after the forwarding only, with who gave it
        registers = [model.registers[0]]
        with pytest.raises(GardeError, match="forwarding to Brand SpA first"):
            instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 7",
                                 instructed_by="Brand SpA DPO", actor="dpo:test")
        with pytest.raises(GardeError, match="who gave it"):
            instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 7",
                                 instructed_by=" ", actor="dpo:test")
        forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:test")
        restricted = instruct_restriction(hub.store, registers, request_id, "Brand SpA",
                                          instruction="mail ref. 7", instructed_by="Brand SpA DPO",
                                          actor="dpo:test")
        assert restricted["status"] == "restricted" and restricted["instructed_by"] == "Brand SpA DPO"
        again = instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction="other",
                                     instructed_by="someone", actor="dpo:test")
        assert again["instruction"] == "mail ref. 7"  # once
        allowed, codes, words = _decide(kept, "parcels", sid)
        assert not allowed and codes == ["processor_for", "restricted_by_controller"], words
        assert "on the instruction of Brand SpA" in words
        # a fresh point reads the same
        with DecisionPoint(model, hub.store, audit=False, clock=lambda: T0, cache_size=0) as cold:
            assert _decide(cold, "parcels", sid)[1] == ["processor_for", "restricted_by_controller"]
    finally:
        kept.close()
    with hub.store.connect() as conn:
        kinds = [k for (k,) in conn.execute(sa.text(
            "SELECT kind FROM audit_log WHERE kind LIKE 'request.forward%' ORDER BY seq"))]
        payload = conn.execute(sa.text("SELECT payload FROM audit_log WHERE kind = "
                                       "'request.forwarding_restricted'")).scalar()
        assert audit.verify(conn).ok
    assert kinds == ["request.forwarding_due", "request.forwarded", "request.forwarding_restricted"]
    assert '"activities": ["parcels"]' in str(payload) or '"activities":["parcels"]' in str(payload)
    # an access answer does not list the controller's instruction among the subject's own objections
    access = _verified(hub.store, "access", "alice@example.org")
    run(hub.store, access, hub.deployment)
    text = (hub.deployment.results / access / "access.json").read_text()
    assert "instructed_restriction" not in text


def test_an_objection_to_a_processor_activity_is_passed_on_to_its_controller(hub: Hub) -> None:  # noqa: F811
    _start_relationship(hub.store)
    model = _model()
    with hub.store.begin() as conn:
        own = submit(conn, "objection", {"email": "alice@example.org"}, details={"scope": "accounts"})
        verify_out_of_band(conn, own.id, "ID card", actor="agent:test", identities=["email"])
        theirs = submit(conn, "objection", {"email": "alice@example.org"}, language="fr",
                        details={"scope": "parcels"})
        verify_out_of_band(conn, theirs.id, "ID card", actor="agent:test", identities=["email"])
    # to the organisation's own activity: recorded, nothing passed on
    assert "forwarded" not in run(hub.store, own.id, hub.deployment).result
    done = run(hub.store, theirs.id, hub.deployment)
    assert done.result["objection"] == "parcels"
    assert done.result["forwarded"] == [
        {"controller": "Brand SpA", "found": {"hub.customers": 1, "hub.parcels": 2}}]
    [note] = done.result["processed_for"]
    assert note["controller"] == "Brand SpA" and "pour le compte de Brand SpA" in note["text"]  # in French
    sid = str(done.subject_id)
    with DecisionPoint(model, hub.store, audit=False, clock=lambda: T0) as point:
        assert not point.decide("accounts", sid).allowed  # the subject's own objection
        assert _decide(point, "parcels", sid)[:2] == (True, ["processor_for"])  # Brand SpA's to decide
        forwarding.mark_forwarded(hub.store, theirs.id, "Brand SpA", actor="dpo:test")
        upheld = instruct_restriction(hub.store, model.registers, theirs.id, "Brand SpA",
                                      instruction="objection upheld, ticket 9", instructed_by="Brand DPO",
                                      actor="dpo:test")
        assert upheld["status"] == "restricted"
        assert _decide(point, "parcels", sid)[:2] == (False, ["processor_for", "restricted_by_controller"])


def test_an_instructed_restriction_follows_a_restriction_or_objection_request_only(hub: Hub) -> None:  # noqa: F811
    request_id = _verified(hub.store, "access", "alice@example.org")
    run(hub.store, request_id, hub.deployment)
    forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:test")
    with pytest.raises(GardeError, match="access request"):
        instruct_restriction(hub.store, _model().registers, request_id, "Brand SpA", instruction="x",
                             instructed_by="y", actor="dpo:test")


def _subject_of(store: sa.Engine, request_id: str) -> str:
    with store.connect() as conn:
        return str(conn.execute(sa.text("SELECT subject_id FROM requests WHERE id = :id"),
                                {"id": request_id}).scalar())


def test_a_controllers_restriction_is_lifted_on_its_instruction(hub: Hub) -> None:  # noqa: F811
    _start_relationship(hub.store)
    request_id = _verified(hub.store, "restriction", "alice@example.org")
    _start_relationship(hub.store)
    model = _model()
    registers = [model.registers[0]]
    sid = _subject_of(hub.store, request_id)
    run(hub.store, request_id, hub.deployment)
    forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:test")
    # a point that keeps the subject's facts across the writes below: it must see each one
    kept = DecisionPoint(model, hub.store, audit=False, clock=lambda: T0)
    try:
        with pytest.raises(GardeError, match="no restriction instructed by Brand SpA"):
            lift_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 9",
                             instructed_by="Brand SpA DPO", actor="dpo:test")
        instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 7",
                             instructed_by="Brand SpA DPO", actor="dpo:test")
        assert _decide(kept, "parcels", sid)[:2] == (False, ["processor_for", "restricted_by_controller"])
        with pytest.raises(GardeError, match="who gave it"):
            lift_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 9",
                             instructed_by=" ", actor="dpo:test")
        lifted = lift_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 9",
                                  instructed_by="Brand SpA DPO", actor="dpo:test")
        assert lifted["status"] == "lifted" and lifted["lifted_at"] is not None
        assert lifted["lift_instruction"] == "mail ref. 9" and lifted["lifted_by"] == "Brand SpA DPO"
        assert lifted["instruction"] == "mail ref. 7"  # the restriction's own record stays
        again = lift_restriction(hub.store, registers, request_id, "Brand SpA", instruction="other",
                                 instructed_by="someone", actor="dpo:test")
        assert again == lifted  # once
        # the kept facts see the lift at the next decision; the subject's own restriction stays
        allowed, codes, words = _decide(kept, "parcels", sid)
        assert allowed and codes == ["processor_for"], words
        assert "subject_restricted" in _decide(kept, "accounts", sid)[1]
        with DecisionPoint(model, hub.store, audit=False, clock=lambda: T0, cache_size=0) as cold:
            assert _decide(cold, "parcels", sid)[:2] == (True, ["processor_for"])
        # the controller restricts again (before: refused in silence, the forwarding stayed lifted)
        with pytest.raises(GardeError, match="who gave it"):
            instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction="mail ref. 12",
                                 instructed_by="", actor="dpo:test")
        again_restricted = instruct_restriction(hub.store, registers, request_id, "Brand SpA",
                                                instruction="mail ref. 12", instructed_by="Brand SpA DPO",
                                                actor="dpo:test")
        assert again_restricted["status"] == "restricted" and again_restricted["lifted_at"] is None
        assert again_restricted["instruction"] == "mail ref. 12"
        assert _decide(kept, "parcels", sid)[:2] == (False, ["processor_for", "restricted_by_controller"])
        assert instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction="x",
                                    instructed_by="y", actor="dpo:test") == again_restricted  # once
        # and lifts it again
        lifted_twice = lift_restriction(hub.store, registers, request_id, "Brand SpA",
                                        instruction="mail ref. 13", instructed_by="Brand SpA DPO",
                                        actor="dpo:test")
        assert lifted_twice["status"] == "lifted" and lifted_twice["lift_instruction"] == "mail ref. 13"
        assert _decide(kept, "parcels", sid)[:2] == (True, ["processor_for"])
    finally:
        kept.close()
    with hub.store.connect() as conn:
        kinds = [k for (k,) in conn.execute(sa.text(
            "SELECT kind FROM audit_log WHERE kind LIKE 'request.forward%' ORDER BY seq"))]
        payload = str(conn.execute(sa.text("SELECT payload FROM audit_log WHERE kind = "
                                           "'request.forwarding_restriction_lifted'")).scalar())
        assert audit.verify(conn).ok
    assert kinds == ["request.forwarding_due", "request.forwarded", "request.forwarding_restricted",
                     "request.forwarding_restriction_lifted", "request.forwarding_restricted",
                     "request.forwarding_restriction_lifted"]  # each restriction and lift, in order
    assert "Brand SpA DPO" in payload and "mail ref. 9" in payload and "parcels" in payload


def test_a_lift_ends_the_controllers_restriction_of_the_subject_whichever_request_carried_it(
        hub: Hub) -> None:  # noqa: F811
    _start_relationship(hub.store)
    model = _model()
    registers = [model.registers[0]]
    first = _verified(hub.store, "restriction", "alice@example.org")
    run(hub.store, first, hub.deployment)
    second = _verified(hub.store, "restriction", "alice@example.org")
    run(hub.store, second, hub.deployment)
    sid = _subject_of(hub.store, first)
    for request_id in (first, second):
        forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:test")
        instruct_restriction(hub.store, registers, request_id, "Brand SpA", instruction=f"ref {request_id}",
                             instructed_by="Brand DPO", actor="dpo:test")
    lift_restriction(hub.store, registers, second, "Brand SpA", instruction="lifted, ref. 3",
                     instructed_by="Brand DPO", actor="dpo:test")
    with hub.store.connect() as conn:
        statuses = [forwarding.listed(conn, r)[0] for r in (first, second)]
    # one restriction of the subject by the controller: both forwardings say it is lifted
    assert [s["status"] for s in statuses] == ["lifted", "lifted"]
    assert {s["lift_instruction"] for s in statuses} == {"lifted, ref. 3"}
    with DecisionPoint(model, hub.store, audit=False, clock=lambda: T0) as point:
        assert _decide(point, "parcels", sid)[:2] == (True, ["processor_for"])


def test_after_an_instructed_erasure_decide_allows_what_the_controller_sends_and_says_so(
        hub: Hub) -> None:  # noqa: F811
    _start_relationship(hub.store)
    request_id = _verified(hub.store, "erasure", "alice@example.org")
    model = _model()
    sid = _subject_of(hub.store, request_id)
    kept = DecisionPoint(model, hub.store, audit=False, clock=lambda: T0)
    try:
        assert _decide(kept, "parcels", sid)[:2] == (True, ["processor_for"])
        run(hub.store, request_id, hub.deployment)
        forwarding.mark_forwarded(hub.store, request_id, "Brand SpA", actor="dpo:test")
        assert _decide(kept, "parcels", sid)[:2] == (True, ["processor_for"])
        instruct_erasure(hub.store, hub.deployment, request_id, "Brand SpA", instruction="mail ref. 118",
                         instructed_by="Brand SpA DPO", actor="dpo:test")
        # the kept facts see it at the next decision: still Brand SpA's processing (what it sends
        # from now on is its new instruction), told that what was held for it is erased
        allowed, codes, words = _decide(kept, "parcels", sid)
        assert allowed and codes == ["processor_for", "erased_on_instruction"], words
        assert "erased on the instruction of Brand SpA" in words
        # only Brand SpA's activities: the repairs are Other Brand GmbH's
        assert "erased_on_instruction" not in _decide(kept, "repairs", sid)[1]
        with DecisionPoint(model, hub.store, audit=False, clock=lambda: T0, cache_size=0) as cold:
            assert _decide(cold, "parcels", sid)[1] == ["processor_for", "erased_on_instruction"]
        # run again, nothing more is recorded
        instruct_erasure(hub.store, hub.deployment, request_id, "Brand SpA", instruction="again",
                         instructed_by="someone", actor="dpo:test")
        with hub.store.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM subject_objections WHERE scope LIKE "
                                        "'instructed_erasure:%'")).scalar() == 1
        # the controller who wants no more processing instructs a restriction: that refuses
        with hub.store.begin() as conn:
            record_objection(conn, sid, instructed_restriction_scope("Brand SpA"))
        assert _decide(kept, "parcels", sid)[:2] == (
            False, ["processor_for", "erased_on_instruction", "restricted_by_controller"])
    finally:
        kept.close()
    # an access answer does not list the controller's erasure among the subject's own objections
    access = _verified(hub.store, "access", "alice@example.org")
    run(hub.store, access, hub.deployment)
    assert "instructed_erasure" not in (hub.deployment.results / access / "access.json").read_text()


def _cli_settings(monkeypatch: pytest.MonkeyPatch, hub: Hub, tmp_path: Path) -> None:  # noqa: F811
    """The CLI's settings: the served hub's store, data map, register and results."""
    monkeypatch.setenv("GARDE_DATABASE_URL", str(hub.store.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("GARDE_DATASETS", str(tmp_path / "datasets"))
    monkeypatch.setenv("GARDE_REGISTERS", str(tmp_path / "register.yaml"))
    monkeypatch.setenv("GARDE_RESULTS", str(tmp_path / "results"))
    get_settings.cache_clear()


def _api_decide(client: Client, key: dict[str, str], activity: str) -> dict[str, Any]:
    answer = client.post("/api/v1/decisions", headers=key,
                         json={"activity": activity, "subject": {"email": "alice@example.org"}})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_privacy_center_the_api_and_the_cli_restrict_and_forward(
        served_hub: tuple[Client, dict[str, str], Hub], tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, keys, hub = served_hub  # noqa: F811
    outbox = tmp_path / "outbox"
    dpo, agent = bearer(keys["dpo"]), bearer(keys["agent"])
    alice = client.from_address("10.9.0.1")
    restriction = _privacy_request(alice, "alice@example.org", outbox, "restriction")
    ran = client.post(f"{API}/{restriction}/run", headers=agent)
    assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text
    assert ran.json()["result"]["forwarded"][0]["controller"] == "Brand SpA"
    # the subject is told, on the request's page, which controller it is passed on to (no file)
    told = alice.get(f"{ME}/requests/{restriction}").text
    assert "pass your request on to Brand SpA" in told and "privacy@brand.example" in told
    assert "to_forward" not in told and "parcels" not in told
    [shown] = client.get(f"{API}/{restriction}", headers=agent).json()["forwardings"]
    assert shown["status"] == "to_forward"
    decided = _api_decide(client, dpo, "parcels")
    assert decided["allowed"] and [r["code"] for r in decided["reasons"]] == ["processor_for"], decided
    own = _api_decide(client, dpo, "accounts")
    assert not own["allowed"] and "subject_restricted" in [r["code"] for r in own["reasons"]]

    # the API: the DPO records the forwarding and the instruction; an agent may not
    assert client.post(f"{API}/{restriction}/forward", headers=dpo,
                       json={"controller": "Brand SpA"}).status_code == 200
    body = {"controller": "Brand SpA", "instruction": "ticket 12", "instructed_by": "Brand DPO"}
    assert client.post(f"{API}/{restriction}/instructed-restriction", headers=agent,
                       json=body).status_code == 403
    done = client.post(f"{API}/{restriction}/instructed-restriction", headers=dpo, json=body)
    assert done.status_code == 200 and done.json()["status"] == "restricted", done.text
    decided = _api_decide(client, dpo, "parcels")
    assert not decided["allowed"]
    assert [r["code"] for r in decided["reasons"]] == ["processor_for", "restricted_by_controller"]

    # the CLI, on a restriction submitted through the API for Bob
    submitted = client.post(API, headers=agent, json={
        "type": "restriction", "subject": {"email": "bob@example.org"}, "send_code": False,
    }).json()["request"]["id"]
    client.post(f"{API}/{submitted}/verify", headers=agent,
                json={"out_of_band": "ID card", "checked": ["email"]})
    assert client.post(f"{API}/{submitted}/run", headers=agent).json()["status"] == "completed"
    _cli_settings(monkeypatch, hub, tmp_path)
    try:
        shown_text = runner.invoke(app, ["request", "show", submitted])
        assert "TO FORWARD to Brand SpA" in shown_text.output
        assert "TO FORWARD to Other Brand GmbH" in shown_text.output
        forwarded = runner.invoke(app, ["request", "forward", submitted, "--controller", "Other Brand GmbH"])
        assert forwarded.exit_code == 0, forwarded.output
        restricted = runner.invoke(app, ["request", "instruct-restriction", submitted, "--controller",
                                         "Other Brand GmbH", "--instruction", "letter of 2026-12-07",
                                         "--instructed-by", "its DPO", "--format", "json"])
        assert restricted.exit_code == 0, restricted.output
        assert '"status": "restricted"' in restricted.output
        again = runner.invoke(app, ["request", "show", submitted])
        assert "restricted" in again.output and "letter of 2026-12-07" in again.output
    finally:
        get_settings.cache_clear()
    # the DPO's dashboard: Bob's forwarding to Brand SpA recorded, then its instructed restriction
    csrf = log_in(client, keys["dpo"])
    client.post(f"/dpo/requests/{submitted}/forward", data={"csrf": csrf, "controller": "Brand SpA"})
    page = client.get(f"/dpo/requests/{submitted}").text
    assert f'action="/dpo/requests/{submitted}/instructed-restriction"' in page
    assert f'action="/dpo/requests/{submitted}/instructed-erasure"' not in page
    assert "restricted on its instruction" in page and "letter of 2026-12-07" in page  # Other Brand's
    restricted_page = client.post(f"/dpo/requests/{submitted}/instructed-restriction", follow_redirects=False,
                                  data={"csrf": csrf, "controller": "Brand SpA", "instruction": "ticket 13",
                                        "instructed_by": "Brand DPO"})
    assert restricted_page.status_code == 303, restricted_page.text
    french = client.get(f"/dpo/requests/{submitted}?lang=fr").text
    assert "restreint sur son instruction" in french and "ticket 13" in french


def test_the_api_the_cli_and_the_dashboard_lift_a_controllers_restriction(
        served_hub: tuple[Client, dict[str, str], Hub], tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, keys, hub = served_hub  # noqa: F811
    dpo, agent = bearer(keys["dpo"]), bearer(keys["agent"])
    ids = []
    for email in ("alice@example.org", "bob@example.org"):
        submitted = client.post(API, headers=agent, json={
            "type": "restriction", "subject": {"email": email}, "send_code": False}).json()["request"]["id"]
        client.post(f"{API}/{submitted}/verify", headers=agent,
                    json={"out_of_band": "ID card", "checked": ["email"]})
        assert client.post(f"{API}/{submitted}/run", headers=agent).json()["status"] == "completed"
        assert client.post(f"{API}/{submitted}/forward", headers=dpo,
                           json={"controller": "Brand SpA"}).status_code == 200
        restricted = client.post(f"{API}/{submitted}/instructed-restriction", headers=dpo, json={
            "controller": "Brand SpA", "instruction": "ticket 12", "instructed_by": "Brand DPO"})
        assert restricted.status_code == 200, restricted.text
        ids.append(submitted)
    alice, bob = ids
    assert not _api_decide(client, dpo, "parcels")["allowed"]

    # the API: the DPO records the controller's lift; an agent may not
    body = {"controller": "Brand SpA", "instruction": "ticket 14", "instructed_by": "Brand DPO"}
    assert client.post(f"{API}/{alice}/restriction-lifted", headers=agent, json=body).status_code == 403
    done = client.post(f"{API}/{alice}/restriction-lifted", headers=dpo, json=body)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "lifted" and done.json()["lift_instruction"] == "ticket 14"
    assert done.json()["lifted_by"] == "Brand DPO" and done.json()["instruction"] == "ticket 12"
    decided = _api_decide(client, dpo, "parcels")
    assert decided["allowed"] and [r["code"] for r in decided["reasons"]] == ["processor_for"], decided
    again = client.post(f"{API}/{alice}/restriction-lifted", headers=dpo, json={**body, "instruction": "x"})
    assert again.json()["lift_instruction"] == "ticket 14"
    # no forwarding to that controller: 404; one it did not restrict (Bob's, to forward): 400, said
    missing = client.post(f"{API}/{alice}/restriction-lifted", headers=dpo,
                          json={**body, "controller": "Other Brand GmbH"})
    assert missing.status_code == 404, missing.text
    refused = client.post(f"{API}/{bob}/restriction-lifted", headers=dpo,
                          json={**body, "controller": "Other Brand GmbH"})
    assert refused.status_code == 400 and "no restriction instructed by" in refused.text, refused.text

    # the dashboard shows the lift form for a restricted forwarding (Bob's) and records it
    csrf = log_in(client, keys["dpo"])
    page = client.get(f"/dpo/requests/{bob}").text
    assert f'action="/dpo/requests/{bob}/restriction-lifted"' in page
    lifted_page = client.post(f"/dpo/requests/{bob}/restriction-lifted", follow_redirects=False,
                              data={"csrf": csrf, "controller": "Brand SpA", "instruction": "ticket 15",
                                    "instructed_by": "Brand DPO"})
    assert lifted_page.status_code == 303, lifted_page.text
    page = client.get(f"/dpo/requests/{bob}").text
    assert "restriction lifted on its instruction" in page and "ticket 15" in page
    assert f'action="/dpo/requests/{bob}/restriction-lifted"' not in page
    french = client.get(f"/dpo/requests/{bob}?lang=fr").text
    assert "limitation levée sur son instruction" in french
    # the controller restricts again: the lifted forwarding shows the restriction form, which records it
    assert f'action="/dpo/requests/{bob}/instructed-restriction"' in page
    again_page = client.post(f"/dpo/requests/{bob}/instructed-restriction", follow_redirects=False,
                             data={"csrf": csrf, "controller": "Brand SpA", "instruction": "ticket 16",
                                   "instructed_by": "Brand DPO"})
    assert again_page.status_code == 303, again_page.text
    page = client.get(f"/dpo/requests/{bob}").text
    assert "ticket 16" in page and f'action="/dpo/requests/{bob}/restriction-lifted"' in page
    assert client.get(f"{API}/{bob}", headers=dpo).json()["forwardings"][0]["status"] == "restricted"

    # the CLI, on Bob's forwarding to Other Brand GmbH
    _cli_settings(monkeypatch, hub, tmp_path)
    try:
        command = ["request", "lift-restriction", bob, "--controller", "Other Brand GmbH", "--instruction",
                   "letter of 2026-12-08", "--instructed-by", "its DPO"]
        refused_cli = runner.invoke(app, command)
        assert refused_cli.exit_code != 0
        assert "no restriction instructed by Other Brand GmbH" in refused_cli.output
        forwarded = runner.invoke(app, ["request", "forward", bob, "--controller", "Other Brand GmbH"])
        assert forwarded.exit_code == 0, forwarded.output
        assert runner.invoke(app, ["request", "instruct-restriction", bob, "--controller", "Other Brand GmbH",
                                   "--instruction", "letter of 2026-12-07", "--instructed-by",
                                   "its DPO"]).exit_code == 0
        lifted = runner.invoke(app, [*command, "--format", "json"])
        assert lifted.exit_code == 0, lifted.output
        assert '"status": "lifted"' in lifted.output
        shown = runner.invoke(app, ["request", "show", bob])
        assert "restriction lifted" in shown.output and "letter of 2026-12-08" in shown.output
    finally:
        get_settings.cache_clear()
    with hub.store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE kind = "
                                    "'request.forwarding_restriction_lifted'")).scalar() == 3
        assert audit.verify(conn).ok


# The rule's edges, on the pure function.

CONTROLLERS = ["Brand SpA", "Other Brand GmbH", "Third Co"]


def _rules(role: str, contracts: list[bool], legal_claims: bool) -> ActivityRules:
    served = "".join(f"\n      - {{name: {name}{', contract: DPA' if signed else ''}}}"
                     for name, signed in zip(CONTROLLERS, contracts, strict=False))
    register = f"""
controller: {{name: Hub SAS}}
activities:
  - id: work
    name: Work
    role: {role}
    data_categories: [contact{', legal.claim' if legal_claims else ''}]
    {'legal_bases: [consent]' if role == 'controller' else 'on_behalf_of:' + (served or ' []')}
"""
    return _model_of(register).activities["work"]


def _model_of(text: str) -> DecisionModel:
    return DecisionModel(parse_register(text).register)


@settings(max_examples=150, deadline=None)
@given(role=st.sampled_from(["controller", "processor"]),
       contracts=st.lists(st.booleans(), max_size=3),
       legal_claims=st.booleans(),
       state=st.sampled_from(["active", "restricted", "erased"]),
       own_objections=st.sets(st.sampled_from(["work", "direct_marketing"])),
       instructed=st.sets(st.sampled_from(CONTROLLERS)),
       erased=st.sets(st.sampled_from(CONTROLLERS)),
       suppressed=st.booleans(),
       consent=st.sampled_from([None, "given", "withdrawn"]))
def test_a_processor_activity_is_decided_by_its_controllers_instructions_only(
        role: str, contracts: list[bool], legal_claims: bool, state: str, own_objections: set[str],
        instructed: set[str], erased: set[str], suppressed: bool, consent: str | None) -> None:
    rules = _rules(role, contracts, legal_claims)
    scopes = ({instructed_restriction_scope(name) for name in instructed}
              | {instructed_erasure_scope(name) for name in erased})
    events = () if consent is None else (ConsentEvent("work", None, consent, T0 - timedelta(days=1)),)
    facts = SubjectFacts("s1", state, T0 - timedelta(days=9), objections=frozenset(own_objections | scopes),
                         suppressed=suppressed, consent_events=events)
    decision = evaluate("work", rules, facts, None, None, T0)
    if role == "controller":
        # a controller's instruction to its processor never reaches the organisation's own activity
        without = SubjectFacts("s1", state, T0 - timedelta(days=9), objections=frozenset(own_objections),
                               suppressed=suppressed, consent_events=events)
        assert decision == evaluate("work", rules, without, None, None, T0)
        return
    signed = [name for name, ok in zip(CONTROLLERS, contracts, strict=False) if ok]
    restricting = [name for name in signed if name in instructed]
    expected = bool(signed) and (legal_claims or not restricting)
    assert decision.allowed is expected
    codes = decision.codes()
    # never the organisation's own facts: its state, ledger, suppression list, objections
    assert not {"subject_erased", "subject_restricted", "subject_suppressed", "objection", "legal_basis",
                "consent_missing", "consent_withdrawn"} & set(codes)
    assert codes[0] == ("processor_for" if signed else "processor_no_instructions")
    assert ("restricted_by_controller" in codes) is bool(restricting and not legal_claims)
    # an instructed erasure never changes the answer: it is said, for the controllers with a contract
    erasing = [name for name in signed if name in erased]
    assert ("erased_on_instruction" in codes) is bool(erasing)
    told = next((r for r in decision.reasons if r.code == "erased_on_instruction"), None)
    assert told is None or (not told.blocks and all(name in told.message for name in erasing))
    for name in signed:
        assert name in decision.reasons[0].message


def test_one_activity_id_with_two_roles_is_refused() -> None:
    head = "controller: {name: Hub SAS}\nactivities:\n  - "
    own = parse_register(head + "{id: work, name: W, legal_bases: [contract]}\n").register
    other = parse_register(head + "{id: work, name: W, role: processor, "
                                  "on_behalf_of: [{name: A, contract: DPA}]}\n").register
    with pytest.raises(GardeError, match="declared by two registers"):
        DecisionModel([own, other])


def test_an_audience_of_a_processor_activity_is_its_controllers(engine: sa.Engine) -> None:
    with engine.connect() as conn, pytest.raises(GardeError, match="carried out as a processor"):
        next(audience(conn, _model(), "parcels", "email"))
