"""No mail garde sends takes anything from the request's ``Host`` or forwarded headers.

Red team of 2026-12-08 (red31), tried and held. Host-header poisoning: an attacker asks a code for
the victim's address with ``Host: evil.example`` (or ``X-Forwarded-Host``, ``Forwarded: host=``),
hoping the victim's mail links to the attacker's site with the code or a token in it. garde's mails
carry codes to type, never a link built from the request: the only address a mail gives is the
register's ``privacy_center_url`` (consent invitations, answered requests). Checked against a real
`garde serve` with and without `GARDE_TRUSTED_PROXIES`: the sign-in code (subject API and privacy
center), a request's code (staff API) and a consent invitation (consent API) mailed after such
requests name no host of the caller's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from garde.rights.mailer import FileMailer
from tests.api_support import REGISTER, bearer, garde_serve, new_keys

EVIL = "evil.example"
# (no forwarded https: the cookies would then be Secure, which this client over http does not send back)
POISON = {"Host": EVIL, "X-Forwarded-Host": EVIL, "X-Forwarded-For": "10.9.9.9", "Forwarded": f"host={EVIL}",
          "X-Original-Host": EVIL, "X-Host": EVIL}


def _mails(outbox: Path, wanted: int) -> list[str]:
    import time

    deadline = time.monotonic() + 60
    while True:
        texts = [message.as_string() for message in FileMailer(outbox).messages()] if outbox.exists() else []
        if len(texts) >= wanted or time.monotonic() > deadline:
            return texts
        time.sleep(0.05)


@pytest.mark.parametrize("proxies", ["[]", "[\"127.0.0.1\"]"])
def test_no_mail_carries_the_callers_host(sqlite_url: str, tmp_path: Path, proxies: str) -> None:
    keys = new_keys(sqlite_url)
    outbox = tmp_path / "outbox"
    env = {**os.environ, "GARDE_DATABASE_URL": sqlite_url, "GARDE_REGISTERS": str(REGISTER),
           "GARDE_OUTBOX": str(outbox), "GARDE_RESULTS": str(tmp_path / "results"),
           "GARDE_CONSENT_UNCHECKED_IDENTITIES": "confirm", "GARDE_TRUSTED_PROXIES": proxies}
    with garde_serve(env, tmp_path) as base, httpx.Client(base_url=base, timeout=30) as http:
        started = http.post("/api/v1/me/session", json={"email": "ana@example.org"}, headers=POISON)
        assert started.status_code == 202, started.text
        home = http.get("/privacy/", headers=POISON)
        csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
        assert csrf, home.text
        signed = http.post("/privacy/", data={"csrf": csrf[1], "email": "bea@example.org"}, headers=POISON)
        assert signed.status_code == 303, signed.text
        asked = http.post("/api/v1/requests", headers={**POISON, **bearer(keys["agent"])},
                          json={"type": "access", "subject": {"email": "cid@example.org"}})
        assert asked.status_code in (201, 202), asked.text
        given = http.post("/api/v1/consents/give", headers={**POISON, **bearer(keys["service"])}, json={
            "activity": "newsletter", "channel": "email", "subject": {"email": "dan@example.org"},
            "checked": {"email": False}})
        assert given.status_code in (200, 201, 202), given.text
        mails = _mails(outbox, 4)
    assert len(mails) == 4, mails
    assert not [mail for mail in mails if EVIL in mail or "http://127.0.0.1" in mail], mails
