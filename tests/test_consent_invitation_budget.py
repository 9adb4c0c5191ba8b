"""The consent API's invitations count on the calling key's mail budget (red team of 2026-12-07, red29).

Since sec28 a consent the consent API receives for an identity the shop did not check mails (or texts)
its holder an invitation to confirm it. The mailbox limits (3 an hour, 5 a day) bound what one address
receives, but nothing bounded how many addresses one key had mailed: a visitor submitting a shop's
newsletter form in a loop with a new address each time (or whoever holds a leaked ``service`` key) made
garde send mail, or SMS through a paid gateway, in the controller's name without end, where every other
route that mails someone counts on the key's ``api_key_mail_and_requests_per_hour``. Now an invitation
counts on that budget too: past it the confirmation is kept (shown when its holder signs in) and only
the mail is not sent, the answer unchanged, the audit log saying why (docs/security.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from garde.rights import FileMailer
from tests.api_support import Served, served_shop

BUDGET = 3


@pytest.fixture
def served_small_budget(migrated_url: str, tmp_path: Path, request: pytest.FixtureRequest,
                        monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A real `garde serve` whose keys may have mail sent three times an hour."""
    monkeypatch.setenv("GARDE_API_KEY_MAIL_AND_REQUESTS_PER_HOUR", str(BUDGET))
    admin = None if migrated_url.startswith("sqlite") else request.getfixturevalue("postgres_admin_url")
    with served_shop(migrated_url, tmp_path, admin) as running:
        yield running


def _sent(outbox: Path) -> list[str]:
    return [str(message["To"]) for message in FileMailer(outbox).messages()] if outbox.exists() else []


def test_a_key_cannot_have_invitations_mailed_without_end(served_small_budget: Served) -> None:
    """Against a real `garde serve` (SQLite, PostgreSQL): a shop form relays ten addresses a visitor
    typed (``checked: false``); every call is answered alike (202, the consent pending), but only the
    key's budget of invitations leaves. Before: ten mails, one per address, however many the key sent."""
    served = served_small_budget
    addresses = [f"target-{index}-{uuid.uuid4().hex[:6]}@example.org" for index in range(10)]
    with served.client("service") as shop:
        answers = [shop.post("/consents/give", json={
            "activity": "newsletter", "subject": {"email": address}, "channel": "email",
            "checked": {"email": False}}) for address in addresses]
    assert {(answer.status_code, answer.content) for answer in answers} == {
        (202, b'{"pending":["email"],"unconfirmable":[]}')}
    deadline = time.monotonic() + 60
    while len(_sent(served.outbox)) < BUDGET:  # a real server mails after its answer
        assert time.monotonic() < deadline, _sent(served.outbox)
        time.sleep(0.05)
    time.sleep(2)  # what would leave past the budget has had time to
    sent = _sent(served.outbox)
    assert sorted(sent) == sorted(addresses[:BUDGET]), sent
