"""What a data subject may submit for themselves: requests bounded in number per identity, whatever
the addresses they come from, and in each only what its type uses, bounded.

A session's holder is anyone with a mailbox. The staff's route types each detail (corrections,
scope, reason, each with a length); the subject's ``details`` was a free object, stored as given:
a 2 MB text on an access request, 500 levels of nesting, or an ``opendsr`` detail that makes the
request pass for one another privacy tool sent (``GET /opendsr/requests/{id}`` reads it). And
submissions were limited per client address only: one session's token, sent from a hundred
addresses, filled the DPO's queue with verified requests, each with its legal deadline.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api_support import api_client, bearer, known_subject, subject_token

ANA = "ana@example.com"
ME = "/api/v1/me/requests"
REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("access", {"x": "A" * 100_000}),
    ("access", {"reason": "A" * 2001}),
    ("access", {"reason": [[[[[]]]]]}),
    ("access", {"opendsr": {"regulation": "gdpr", "by": "key:another-tool", "callbacks": []}}),
    ("objection", {"scope": "newsletter" * 20}),
    ("rectification", {"corrections": {"contact.email": "A" * 2001}}),
    ("rectification", {"corrections": {"c" * 201: "x"}}),
    ("rectification", {"corrections": {"contact.email": {"nested": "object"}}}),
    ("rectification", {"corrections": "contact.email=x"}),
    ("erasure", {"corrections": {"contact.email": "eve@example.org"}}),
]


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("details")
    url = f"sqlite:///{folder / 'store.db'}"
    known_subject(url, ANA)
    # Each submission from an address of its own: the 10 an hour per address are not what is tested.
    with api_client(url, outbox=folder / "outbox", results=folder / "results",
                    trusted_proxies=["127.0.0.1/32"]) as (client, _):
        yield client, bearer(subject_token(client, ANA, folder / "outbox"))


def _from(headers: dict[str, str], n: int) -> dict[str, str]:
    return {**headers, "X-Forwarded-For": f"203.0.113.{n}"}


@pytest.mark.parametrize(("kind", "details"), REFUSED)
def test_a_subject_cannot_store_details_the_type_does_not_use(signed_in: Any, kind: str,
                                                                details: dict[str, Any]) -> None:
    client, headers = signed_in
    before = len(client.get(ME, headers=headers).json())
    answer = client.post(ME, headers=_from(headers, REFUSED.index((kind, details))),
                         json={"type": kind, "details": details})
    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert len(client.get(ME, headers=headers).json()) == before  # nothing recorded


def test_the_details_a_type_uses_are_kept(signed_in: Any) -> None:
    client, headers = signed_in
    for n, (kind, details) in enumerate((("objection", {"scope": "newsletter", "reason": "too many mails"}),
                          ("restriction", {"reason": "I contest the accuracy of my address"}),
                          ("rectification", {"corrections": {"contact.phone": "+33612345678"}}),
                          ("access", {}))):
        answer = client.post(ME, headers=_from(headers, 100 + n), json={"type": kind, "details": details})
        assert answer.status_code == 201, answer.text
        assert answer.json()["type"] == kind


def test_one_identity_submits_a_bounded_number_of_requests_from_any_number_of_addresses(
        signed_in: Any) -> None:
    from garde.rights.self_service import SUBMITS_PER_IDENTITY

    client, _ = signed_in
    folder_mail = client.app.state.garde.settings.outbox
    headers = bearer(subject_token(client, "cy@example.com", folder_mail))
    for n in range(SUBMITS_PER_IDENTITY.limit):
        accepted = client.post(ME, headers=_from(headers, 150 + n), json={"type": "access"})
        assert accepted.status_code == 201, accepted.text
    refused = client.post(ME, headers=_from(headers, 250), json={"type": "access"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0, refused.text
    assert len(client.get(ME, headers=headers).json()) == SUBMITS_PER_IDENTITY.limit
