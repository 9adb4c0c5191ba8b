"""Bad input is a 4xx problem+json (RFC 9457) naming the field, in the caller's language; never
a 500 or a traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garde.api.problems import Problem
from tests.api_support import Client, api_client, bearer

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'garde.db'}"
    with api_client(url) as running:
        yield running


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and "type" in body
    assert "Traceback" not in response.text
    return body


def test_a_missing_field_is_named(api: tuple[Client, dict[str, str]]) -> None:
    client, keys = api
    body = _problem(client.post("/api/v1/decisions", json={"subject": {"email": "a@example.com"}},
                                headers=bearer(keys["service"])), 422)
    assert body["errors"] == [{"field": "body.activity", "reason": "required"}]


def test_errors_are_worded_in_the_language_asked(api: tuple[Client, dict[str, str]]) -> None:
    client, keys = api
    for asked, lang, title, reason in (("fr-FR,fr;q=0.9", "fr", "Saisie invalide", "obligatoire"),
                                       ("it", "it", "Dati non validi", "obbligatorio"),
                                       ("de, it;q=0.2, en;q=0.5", "en", "Invalid input", "required")):
        response = client.post("/api/v1/decisions", json={}, headers={
            **bearer(keys["service"]), "Accept-Language": asked})
        body = _problem(response, 422)
        assert body["title"] == title and body["errors"][0]["reason"] == reason
        assert response.headers["content-language"] == lang
    refused = _problem(client.get("/api/v1/registers", headers={"Accept-Language": "fr"}), 401)
    assert refused["title"] == "Authentification requise" and "Bearer" in refused["detail"]
    assert "WWW-Authenticate" in client.get("/api/v1/registers").headers


def test_the_count_of_invalid_fields_takes_the_languages_plural(api: tuple[Client, dict[str, str]]) -> None:
    """"1 field is invalid", "2 fields are invalid": no "field(s)" (French: 0 and 1 are singular)."""
    client, keys = api
    for asked, body, detail in (("en", {"subject": {"email": "a@example.com"}}, "1 field is invalid"),
                                ("en", {}, "2 fields are invalid"),
                                ("fr", {"subject": {"email": "a@example.com"}}, "1 champ invalide"),
                                ("fr", {}, "2 champs invalides"),
                                ("it", {}, "2 campi non validi")):
        problem = _problem(client.post("/api/v1/decisions", json=body, headers={
            **bearer(keys["service"]), "Accept-Language": asked}), 422)
        assert problem["detail"] == detail, (asked, problem)


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"activity": "newsleter", "subject": {"email": "a@example.com"}}, 404, "did you mean 'newsletter'"),
    ({"activity": "newsletter", "subject": {}}, 400, "name the subject"),
    ({"activity": "newsletter", "subject": {"email": "not an address"}}, 400, "mail"),
    ({"activity": "newsletter", "subject": {"phone": "12"}}, 400, "phone"),
    ({"activity": "newsletter", "subject": {"email": "a@example.com"}, "at": "2999-01-01T00:00:00Z"},
     400, "future"),
    ({"activity": "newsletter", "subject": {"email": "a@example.com"}, "method": "web\x00form"},
     400, "method"),
    ({"activity": "newsletter", "subject": {"email": "a@example.com"}, "channel": "pigeon"}, 400, "channel"),
    ({"activity": "newsletter", "subject": {"email": "a@example.com"}, "admin": True}, 422, "admin"),
    ({"activity": "x" * 500, "subject": {"email": "a@example.com"}}, 422, "activity"),
])
def test_bad_consents_are_refused_naming_the_field(api: tuple[Client, dict[str, str]], body: dict[str, Any],
                                                    status: int, words: str) -> None:
    client, keys = api
    problem = _problem(client.post("/api/v1/consents/give", json=body, headers=bearer(keys["agent"])), status)
    assert words.lower() in json.dumps(problem, ensure_ascii=False).lower()


def test_a_body_that_is_not_json_is_a_422(api: tuple[Client, dict[str, str]]) -> None:
    client, keys = api
    response = client.post("/api/v1/decisions", content=b"{not json", headers={
        **bearer(keys["service"]), "Content-Type": "application/json"})
    assert _problem(response, 422)["errors"][0]["reason"] == "not valid JSON"
    assert _problem(client.get("/api/v1/nothing-here", headers=bearer(keys["dpo"])), 404)
    assert _problem(client.request("DELETE", "/api/v1/decisions", headers=bearer(keys["dpo"])), 405)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=10)
SUBJECT = st.fixed_dictionaries({}, optional={"email": st.text(max_size=30), "phone": st.text(max_size=20),
                                              "customer_id": st.text(max_size=20)})
BODY = st.fixed_dictionaries({}, optional={
    "activity": st.sampled_from(["newsletter", "cctv", ""]) | st.text(max_size=10), "subject": SUBJECT | JSON,
    "channel": st.sampled_from(["email", "sms", "Email"]) | JSON, "categories": JSON,
    "subjects": st.lists(SUBJECT, max_size=3), "at": st.text(max_size=25), "method": st.text(max_size=10)})
ROUTES = ["/api/v1/decisions", "/api/v1/decisions/batch", "/api/v1/consents/give",
          "/api/v1/consents/withdraw", "/api/v1/consents/state", "/api/v1/consents/history",
          "/api/v1/consents/gpc", "/api/v1/audiences", "/api/v1/holds"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=BODY | JSON)
def test_no_input_makes_a_server_error(api: tuple[Client, dict[str, str]], route: str, body: Any) -> None:
    client, keys = api
    response = client.post(route, json=body, headers=bearer(keys["dpo"]))
    assert response.status_code < 500, (route, body, response.text)
    if response.status_code >= 400:
        _problem(response, response.status_code)


def test_a_body_too_large_is_refused_before_it_is_read(api: tuple[Client, dict[str, str]]) -> None:
    client, keys = api
    huge = b'{"activity": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/decisions", content=huge, headers={
        **bearer(keys["service"]), "Content-Type": "application/json"})
    assert _problem(response, 413)["detail"] == "the body is larger than 64 kB"  # a decision's limit

    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 100_000

    streamed = client.post("/api/v1/decisions", content=chunks(), headers={
        **bearer(keys["service"]), "Content-Type": "application/json"})
    _problem(streamed, 413)


def test_every_operation_documents_its_errors_as_problems() -> None:
    """The OpenAPI names every error an operation can answer, only as problem+json with the
    Problem schema: 400 (unreadable body, refused input), 404, 422, 503 where it takes input or a
    key; 401 and 403 where it needs a key; 413 on every one (garde.api.limits). FastAPI's own 422 model
    (``HTTPValidationError``) is not what the service answers, so it is not documented."""
    from garde.api import create_app

    spec = create_app().openapi()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            secured, body = bool(operation.get("security")), "requestBody" in operation
            if not (secured or body or operation.get("parameters")):
                assert "413" in operation["responses"], (method, path)  # a body sent anyway, past 1 kB
                continue
            expected = {"400", "404", "413", "422", "503"} | ({"401", "403"} if secured else set())
            documented = operation["responses"]
            assert expected <= set(documented), (method, path, sorted(expected - set(documented)))
            for status in expected:
                assert documented[status]["content"] == {PROBLEM: {"schema": problem}}, (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Problem"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/FieldError"}


def test_an_error_a_router_declares_itself_is_documented_as_a_problem() -> None:
    """A router's own error answer (a 429 of a rate limit, a 404 it words itself) is documented
    as the problem the handlers send, not also as application/json; its own words are kept."""
    from fastapi import APIRouter

    from garde.api import create_app

    router = APIRouter(responses={429: {"description": "too many codes asked for this identity"},
                                  404: {"model": Problem, "description": "no such request"}})

    @router.post("/limited")
    def limited() -> dict[str, str]:
        return {}

    app = create_app()
    app.include_router(router, prefix="/api/v1/test")
    answers = app.openapi()["paths"]["/api/v1/test/limited"]["post"]["responses"]
    for status, words in (("429", "too many codes asked for this identity"), ("404", "no such request")):
        assert answers[status] == {"description": words, "content": {
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}, status


def test_a_query_parameter_the_route_does_not_take_is_refused_by_name(
        api: tuple[Client, dict[str, str]]) -> None:
    """``?limt=10`` is a 422 naming ``query.limt``, not the default silently (bodies refuse unknown
    fields the same way); the parameters a route and its dependencies declare still pass."""
    client, keys = api
    dpo = bearer(keys["dpo"])
    body = _problem(client.get("/api/v1/retention/runs", params={"limt": "10"}, headers=dpo), 422)
    assert body["errors"] == [{"field": "query.limt", "reason": body["errors"][0]["reason"]}]
    assert client.get("/api/v1/registers/reference-shop/findings", params={"lang": "fr"},
                      headers=dpo).status_code == 200
    assert client.get("/api/v1/audit/export", params={"kind": "x"}, headers=dpo).status_code == 200


@pytest.mark.parametrize(("route", "role", "body", "given"), [
    ("/api/v1/me/session", None, {"email": "ana.dupont@gmailcom"}, "ana.dupont@gmailcom"),
    ("/api/v1/me/session", None, {"phone": "06 12 34 ana 78"}, "06 12 34 ana 78"),
    ("/api/v1/requests", "agent", {"type": "access", "subject": {"email": "bea.martin@@example.com"}},
     "bea.martin@"),
    ("/api/v1/consents/give", "service",
     {"activity": "newsletter", "channel": "email", "subject": {"phone": "+39 333 12 CALL ME"}}, "CALL ME"),
])
def test_a_refused_identity_is_not_echoed_in_the_problem(api: tuple[Client, dict[str, str]], route: str,
                                                          role: str | None, body: dict[str, Any],
                                                          given: str) -> None:
    """A problem's body lands in API clients' logs and error trackers: it says which identity kind is
    unreadable and why, never the value (a mistyped address is still someone's)."""
    client, keys = api
    headers = bearer(keys[role]) if role else {}
    problem = _problem(client.post(route, json=body, headers=headers), 400)
    assert given not in json.dumps(problem, ensure_ascii=False), problem
    assert "e-mail" in problem["detail"] or "telephone" in problem["detail"]


# Every address the docs page gives: attributes, the Swagger UI call's `url:`, any absolute URL.
LINKS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']|['"](https?://[^'"]+)""")


def test_the_docs_page_loads_nothing_from_another_origin(api: tuple[Client, dict[str, str]]) -> None:
    """The API's browsable page (``/api/v1/docs``), where staff paste a key into "Authorize", runs no
    script from elsewhere: FastAPI's default loads Swagger UI from a CDN (a floating ``@5``, no
    integrity), which would be handed every key pasted there the day it served something else. Its
    script and style are garde's own static files (``make vendor-swagger``); it has no icon. (Here
    beside the problems for their module's server: a server of its own costs seconds.)"""
    client, _ = api
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    links = [link for found in LINKS.findall(page.text)
             if (link := next(part for part in found if part)) != "data:,"]
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links), links
    assert {"/api/v1/openapi.json", "/static/swagger/swagger-ui-bundle.js",
            "/static/swagger/swagger-ui.css"} <= set(links)
    for link in links:  # the description is another test's; the files are served (HEAD: 2 MB)
        assert link.endswith("openapi.json") or client.request("HEAD", link).status_code == 200, link
    assert '"validatorUrl": null' in page.text  # no spec sent to swagger.io's validator either
