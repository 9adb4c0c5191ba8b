"""The dashboard under test: the app of `garde serve` on a real store, its files in a temporary
folder, and a DPO logged in through the form as a browser does."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from garde.api import create_app
from garde.rights import FileMailer
from garde.settings import Settings
from tests.api_support import REGISTER, Client, Served, new_keys
from tests.conftest import ROOT

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def deployment_settings(url: str, folder: Path, registers: Path = REGISTER) -> Settings:
    return Settings(
        database_url=url,
        registers=registers,
        datasets=ROOT / "datasets",
        outbox=folder / "outbox",
        results=folder / "results",
        mailer="file",
    )


@contextmanager
def web_client(url: str, folder: Path, registers: Path = REGISTER) -> Iterator[tuple[Client, dict[str, str]]]:
    """A client of the app on the store at ``url`` (files under ``folder``), and a key per role."""
    keys = new_keys(url)
    with Client(create_app(deployment_settings(url, folder, registers))).running() as client:
        yield client, keys


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found[1]


def log_in(client: Client, key: str) -> str:
    """Log in through the form; the CSRF token of the session's forms."""
    form = client.get("/dpo/login")
    answer = client.post("/dpo/login", data={"csrf": csrf_of(form.text), "key": key})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/dpo/").text)


def mails_to(outbox: Path, email: str) -> list[str]:
    """The bodies of the mails the file mailer wrote to ``email``, oldest first."""
    return [body.get_content() for message in FileMailer(outbox).messages()
            if message["To"] == email and (body := message.get_body()) is not None]


def mailed_code_to(outbox: Path, email: str, before: int) -> str:
    """The code of the mail sent to ``email`` after the ``before`` it had. A real server answers
    before it writes the mail (it is sent after the answer): wait for it, up to a minute."""
    deadline = time.monotonic() + 60
    while len(mails := mails_to(outbox, email)) <= before:
        assert time.monotonic() < deadline, f"no code mailed to {email}"
        time.sleep(0.05)
    found = re.search(r"\b(\d{6})\b", mails[before])
    assert found, mails[before]
    return found[1]


def answer_files(staff: httpx.Client, request_id: str) -> set[str]:
    """The names of a request's answer files, as staff list them."""
    return {f["name"] for f in staff.get(f"/requests/{request_id}/files").json()}


def answered(served: Served, staff: httpx.Client, type: str, email: str) -> str:
    """A request of ``type`` for ``email`` made by staff, verified by the code mailed to it, run to its
    end."""
    before = len(mails_to(served.outbox, email))
    made = staff.post("/requests", json={"type": type, "subject": {"email": email}})
    assert made.status_code == 201, made.text
    request_id: str = made.json()["request"]["id"]
    verified = staff.post(f"/requests/{request_id}/verify",
                          json={"code": mailed_code_to(served.outbox, email, before)})
    assert verified.status_code == 200, verified.text
    ran = served.run(staff, request_id)
    assert ran.json()["status"] == "completed", ran.text
    return request_id


@contextmanager
def privacy_center(served: Served, email: str) -> Iterator[httpx.Client]:
    """A browser signed in to the privacy center of a real `garde serve` with the code mailed to ``email``."""
    with httpx.Client(base_url=served.url, timeout=60) as browser:
        home = browser.get("/privacy/")
        before = len(mails_to(served.outbox, email))
        assert browser.post("/privacy/", data={"csrf": csrf_of(home.text), "email": email}).status_code == 303
        form = browser.get("/privacy/code")
        code = mailed_code_to(served.outbox, email, before)
        confirmed = browser.post("/privacy/code", data={"csrf": csrf_of(form.text), "code": code})
        assert confirmed.status_code == 303, confirmed.text
        yield browser
