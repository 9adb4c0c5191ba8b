"""Dates at the calendar's edges are a clear 4xx, never a 500 (red team of 2026-12-07, red29).

Python's datetimes run from year 1 to year 9999; a moment at either end given with an offset leaves
that range once moved to UTC. ``at: 0001-01-01T00:00:00+14:00`` on the consent API's give and
withdraw, and a legal hold's ``until: 9999-12-31`` (the hold ends at the next midnight), raised
``OverflowError`` in the route: a 500 and a traceback in the server's log, where garde answers bad
input with a problem naming the field (docs/security.md, *Inputs are bounded and errors are clear*).
"""

from __future__ import annotations

import pytest

from tests.api_support import api_client, bearer, problem_of

EDGES = ["0001-01-01T00:00:00+14:00", "0001-01-01T09:59:59+10:00"]


@pytest.mark.parametrize("action", ["give", "withdraw"])
def test_a_consent_dated_before_year_one_in_utc_is_a_clear_error(migrated_url: str, action: str) -> None:
    with api_client(migrated_url) as (client, keys):
        for at in EDGES:
            answer = client.post(f"/api/v1/consents/{action}", headers=bearer(keys["service"]), json={
                "activity": "newsletter", "subject": {"email": "edge@example.org"}, "channel": "email",
                "at": at})
            problem = problem_of(answer, 400)
            assert "at" in problem["detail"] and "cannot" in problem["detail"], problem


def test_a_hold_until_the_calendars_last_day_is_a_clear_error(migrated_url: str) -> None:
    with api_client(migrated_url) as (client, keys):
        answer = client.post("/api/v1/holds", headers=bearer(keys["dpo"]), json={
            "scope_kind": "subject", "scope": "email:edge@example.org", "reason": "litigation",
            "until": "9999-12-31"})
        problem = problem_of(answer, 400)
        assert "9999-12-31" in problem["detail"], problem
        later = client.post("/api/v1/holds", headers=bearer(keys["dpo"]), json={
            "scope_kind": "subject", "scope": "email:edge@example.org", "reason": "litigation",
            "until": "9999-12-30"})
        assert later.status_code == 201, later.text
