"""A date or a moment is ISO 8601 text, on every route and CLI option that takes one.

Pydantic reads a number (or a text of digits) given for a ``date`` or ``datetime`` as a Unix time:
``GET /retention/plan?today=1699920000`` planned as of 2023-11-14, ``?today=0`` as of 1970, and a
consent's ``"at": 1700000000`` was recorded at that moment (red29 noticed). Each is now a 422
problem+json naming the parameter (``garde.api.models.Day`` and ``Moment``: the API's answer to any
malformed parameter), and ``garde audit export --since`` refuses what is not an ISO date or time as
the other date options do (it compared any text with the log's times).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_support import Client, api_client, bearer
from tests.conftest import garde_here

SUBJECT = {"email": "ana@example.org"}
# (role, method, path, query, body, the field named): each date or moment the API takes
DATED: list[tuple[str, str, str, dict[str, Any], dict[str, Any], str]] = [
    ("auditor", "GET", "/api/v1/retention/plan", {"today": "{}"}, {}, "query.today"),
    ("dpo", "POST", "/api/v1/retention/sweep", {}, {"confirm": True, "today": "{}"}, "body.today"),
    ("dpo", "POST", "/api/v1/holds", {}, {"scope_kind": "subject", "scope": "email:ana@example.org",
                                          "reason": "litigation", "until": "{}"}, "body.until"),
    ("service", "POST", "/api/v1/consents/give", {},
     {"activity": "newsletter", "channel": "email", "subject": SUBJECT, "at": "{}"}, "body.at"),
    ("service", "POST", "/api/v1/consents/withdraw", {},
     {"activity": "newsletter", "channel": "email", "subject": SUBJECT, "at": "{}"}, "body.at"),
    ("opendsr", "POST", "/opendsr/requests", {},
     {"regulation": "gdpr", "subject_request_id": "6f0c1c9e-3a55-4d2e-9a40-0d7e6f1b2c3d",
      "subject_request_type": "access", "submitted_time": "{}",
      "subject_identities": [{"identity_type": "email", "identity_value": "ana@example.org"}]},
     "body.submitted_time"),
]


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dates') / 'garde.db'}"
    with api_client(url) as found:
        yield found


def _filled(template: Any, value: Any) -> Any:
    if isinstance(template, dict):
        return {k: _filled(v, value) for k, v in template.items()}
    if isinstance(template, list):
        return [_filled(v, value) for v in template]
    return value if template == "{}" else template


@pytest.mark.parametrize(("role", "method", "path", "query", "body", "field"), DATED,
                         ids=[f"{d[2]}:{d[5]}" for d in DATED])
@pytest.mark.parametrize("number", [1699920000, "1699920000", 0, "86400", 1.5e9])
def test_a_number_is_no_date(http: tuple[Client, dict[str, str]], role: str, method: str, path: str,
                             query: dict[str, Any], body: dict[str, Any], field: str, number: Any) -> None:
    client, keys = http
    if field.startswith("query.") and not isinstance(number, str):
        number = str(number)  # a query holds text
    answer = client.request(method, path, headers=bearer(keys[role]), params=_filled(query, number),
                            json=_filled(body, number) if body else None)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text
    assert "ISO 8601" in answer.json()["errors"][0]["reason"]


def test_an_iso_date_is_read(http: tuple[Client, dict[str, str]]) -> None:
    client, keys = http
    plan = client.get("/api/v1/retention/plan", headers=bearer(keys["auditor"]),
                      params={"today": "2025-03-01"})
    assert plan.status_code != 422 and plan.json().get("today", "2025-03-01") == "2025-03-01", plan.text
    given = client.post("/api/v1/consents/give", headers=bearer(keys["service"]), json={
        "activity": "newsletter", "channel": "email", "subject": SUBJECT, "at": "2025-03-01T10:00:00Z"})
    assert given.status_code == 201, given.text


@pytest.mark.parametrize("since", ["1700000000", "yesterday", "2025-13-01"])
def test_the_audit_exports_since_is_an_iso_date_or_time(cli_env: Path, since: str) -> None:
    done = garde_here({}, "audit", "export", "--since", since)
    assert done.returncode == 2 and "--since" in done.stderr, (done.stdout, done.stderr)


def test_the_audit_exports_since_compares_as_time(cli_env: Path) -> None:
    """An offset is read as the time it is (the log's times are UTC): +02:00 is two hours earlier."""
    assert garde_here({}, "audit", "export", "--since", "2025-01-01T10:00:00+02:00").returncode == 0
