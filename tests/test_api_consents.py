"""``/consents``: a subject's history (paginated), receipts, and the Global Privacy Control signal."""

from __future__ import annotations

import base64
import importlib
from typing import get_type_hints

import pytest

from garde.consent.ledger import LedgerEvent, public_fields
from garde.consent.state import ConsentState
from tests.api_support import Client, api_client, audit_actors, bearer
from tests.conftest import REGISTERS

ANA = {"email": "ana@example.com"}


def _record(client: Client, headers: dict[str, str], action: str, activity: str, channel: str | None) -> str:
    answer = client.post(f"/api/v1/consents/{action}", headers=headers,
                         json={"activity": activity, "subject": ANA, "channel": channel})
    assert answer.status_code == 201, answer.text
    event_id: str = answer.json()["event_id"]
    return event_id


def test_history_pages_through_every_event_in_order(migrated_url: str) -> None:
    with api_client(migrated_url) as (client, keys):
        agent = bearer(keys["agent"])
        recorded = [_record(client, agent, action, activity, "email") for action, activity in (
            ("give", "newsletter"), ("give", "events"), ("withdraw", "newsletter"), ("give", "newsletter"),
            ("withdraw", "events"))]
        seen, cursor, pages = [], None, 0
        while True:
            answer = client.post("/api/v1/consents/history", headers=agent, json={"subject": ANA},
                                 params={"limit": 2, **({"cursor": cursor} if cursor else {})})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            seen += [event["event_id"] for event in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == recorded and pages == 3
        newsletter = client.post("/api/v1/consents/history", headers=agent,
                                 json={"subject": ANA, "activity": "newsletter"}).json()
        assert [e["action"] for e in newsletter["items"]] == ["given", "withdrawn", "given"]
        assert newsletter["next_cursor"] is None
        assert all(e["actor"] == "key:agent-key" for e in newsletter["items"])
        nobody = client.post("/api/v1/consents/history", headers=agent,
                             json={"subject": {"email": "nobody@example.com"}})
        assert nobody.status_code == 404


@pytest.mark.parametrize("cursor", [
    "not a cursor!", "%%%", base64.urlsafe_b64encode(b"[1]").decode(),  # another list's key (a hold's)
    base64.urlsafe_b64encode(b'["2026-01-01T00:00:00", "1"]').decode(),  # a part of the wrong type
    base64.urlsafe_b64encode(b'["yesterday", 1]').decode(), base64.urlsafe_b64encode(b"{}").decode(),
    base64.urlsafe_b64encode(b'["2026-01-01T00:00:00", 99999999999999999999999]').decode(),
    base64.urlsafe_b64encode(b'["2026-01-01\\u0000", 1]').decode(), "A" * 512])
def test_a_bad_cursor_is_a_400_naming_it(sqlite_url: str, cursor: str) -> None:
    with api_client(sqlite_url) as (client, keys):
        agent = bearer(keys["agent"])
        _record(client, agent, "give", "newsletter", "email")
        answer = client.post("/api/v1/consents/history", headers=agent, json={"subject": ANA},
                             params={"cursor": cursor})
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == "query.cursor"
        for limit in (0, 201):
            assert client.post("/api/v1/consents/history", headers=agent, json={"subject": ANA},
                               params={"limit": limit}).status_code == 422


def test_receipt_of_an_event_for_those_who_serve_subjects(migrated_url: str) -> None:
    with api_client(migrated_url) as (client, keys):
        event_id = _record(client, bearer(keys["service"]), "give", "newsletter", "email")
        answer = client.get(f"/api/v1/consents/receipts/{event_id}", headers=bearer(keys["agent"]))
        assert answer.status_code == 200, answer.text
        receipt = answer.json()
        assert receipt["header"]["record_id"] == event_id
        assert receipt["processing"]["activity"] == "newsletter"
        assert "ana@example.com" not in answer.text  # the subject by garde's id, never an address
        assert client.get(f"/api/v1/consents/receipts/{event_id}", headers=bearer(keys["service"])
                          ).status_code == 403
        assert client.get("/api/v1/consents/receipts/" + "0" * 32, headers=bearer(keys["agent"])
                          ).status_code == 404
        assert client.get("/api/v1/consents/receipts/../../keys", headers=bearer(keys["agent"])
                          ).status_code == 404
        assert client.get("/api/v1/consents/receipts/XYZ", headers=bearer(keys["agent"])).status_code == 422


def test_gpc_objects_to_the_activities_the_register_marks(migrated_url: str) -> None:
    """online-shop's `publicite-pertinente` is marked `targeted_advertising: true`: a GPC signal
    stops it, and nothing else."""
    with api_client(migrated_url, registers=REGISTERS / "online-shop.yaml") as (client, keys):
        service = bearer(keys["service"])
        asked = {"activity": "publicite-pertinente", "subject": ANA}
        assert client.post("/api/v1/decisions", headers=service, json=asked).json()["allowed"] is True
        unsignalled = client.post("/api/v1/consents/gpc", headers=service, json={"subject": ANA})
        assert unsignalled.status_code == 400 and "Sec-GPC" in unsignalled.json()["detail"]
        off = client.post("/api/v1/consents/gpc", headers={**service, "Sec-GPC": "0"}, json={"subject": ANA})
        assert off.status_code == 400
        signalled = client.post("/api/v1/consents/gpc", headers={**service, "Sec-GPC": "1"},
                                json={"subject": ANA})
        assert signalled.status_code == 200, signalled.text
        assert signalled.json() == {"recorded": True, "scope": "targeted_advertising",
                                    "activities": ["publicite-pertinente"]}
        again = client.post("/api/v1/consents/gpc", headers={**service, "Sec-GPC": "1"},
                            json={"subject": ANA})
        assert again.json()["recorded"] is False
        decision = client.post("/api/v1/decisions", headers=service, json=asked).json()
        assert decision["allowed"] is False and "objection" in {r["code"] for r in decision["reasons"]}
        other = client.post("/api/v1/decisions", headers=service, json={
            "activity": "analyses-donnees", "subject": ANA}).json()
        assert "objection" not in {r["code"] for r in other["reasons"]}
        assert client.post("/api/v1/consents/gpc", headers={**bearer(keys["agent"]), "Sec-GPC": "1"},
                           json={"subject": ANA}).status_code == 403
    assert audit_actors(migrated_url, "objection") == ["key:service-key"]


def test_the_event_answered_is_the_ledger_event(sqlite_url: str) -> None:
    """The API's consent event is declared once, by the ledger: its schema and the answers carry
    the fields a ledger event shows, no more, no fewer (a consent given, with what waits for its
    holders' confirmation: docs/consent.md, *Identities the shop did not check*)."""
    with api_client(sqlite_url) as (client, keys):
        spec = client.get("/api/v1/openapi.json").json()
        given = client.post("/api/v1/consents/give", headers=bearer(keys["agent"]),
                            json={"activity": "newsletter", "subject": ANA}).json()
    names = {f.name for f in public_fields()}
    assert set(spec["components"]["schemas"]["ConsentEventOut"]["properties"]) == names
    waiting = {"pending", "unconfirmable"}
    assert set(spec["components"]["schemas"]["GivenOut"]["properties"]) == names | waiting
    assert set(given) == names | waiting and given["pending"] == given["unconfirmable"] == []


STATE = {"activity": "activity", "channel": "channel", "status": "status", "since": "since",
         "expires_at": "expires_at", "receipt": "event_id"}
MY_EVENT = {"receipt": "event_id", **{name: name for name in ("activity", "channel", "action", "at", "method",
                                                               "notice_version", "expires_at")}}


@pytest.mark.parametrize(("model", "source", "shown"), [
    ("garde.api.routers.consents:ConsentEventOut", LedgerEvent, {f.name: f.name for f in public_fields()}),
    ("garde.api.routers.consents:ConsentStateOut", ConsentState, {**STATE, "dpv": "dpv"}),
    ("garde.api.routers.me:ConsentNowOut", ConsentState, STATE),
    ("garde.api.routers.me:MyConsentEventOut", LedgerEvent, MY_EVENT),
])
def test_consent_answers_show_the_ledger_field_by_field(model: str, source: type,
                                                        shown: dict[str, str]) -> None:
    """Each consent answer of the API shows these attributes of the library's dataclass, each with
    the dataclass's own type: a field added, renamed or narrowed there cannot drift here."""
    module, name = model.split(":")
    answer = getattr(importlib.import_module(module), name)
    hints = get_type_hints(source)
    for attribute in shown.values():
        if attribute not in hints:  # a property
            hints[attribute] = get_type_hints(getattr(source, attribute).fget)["return"]
    assert {field: info.annotation for field, info in answer.model_fields.items()} == \
        {field: hints[attribute] for field, attribute in shown.items()}
