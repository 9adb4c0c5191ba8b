"""A data subject's own text never acts on the operator's terminal (red team of 2026-12-07, red22).

A customer signed in to the subject API names the fields of a rectification as they like (200
characters each): a field that matches nothing fails the run, and the failure's reason quotes it.
`garde request show` printed that reason through Rich, so the DPO's terminal ran what it held: an
escape sequence clearing the screen or setting the window's title, an OSC 8 link, Rich's own markup
(``[link=…]``, ``[bold]``), a right-to-left override reordering the rest of the line. Now every
command prints through :class:`garde.cli.output.Terminal` (controls shown as escapes) and
`request show` escapes the markup of every value it quotes. Driven the way it happens: the subject
over real HTTP against `garde serve`, staff running it over the API (a real worker on
PostgreSQL), the DPO's `garde request show` and `garde request run` as processes on a colour terminal.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from garde.cli.output import terminal_text
from tests.web_support import mailed_code_to, mails_to

#: What a field name may hold to act on a terminal: clear the screen, set the window's title (OSC 0,
#: ended by BEL), an OSC 8 link, a carriage return writing over the line, CSI in one C1 byte and a
#: right-to-left override; then Rich's markup (a link, bold), behind a backslash that made Rich read
#: the rest as unbalanced tags (`request show` was a traceback).
CONTROLS_TEXT = "\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]8;;https://evil.example/\x1b\\ok\r\x9b31m\u202egnp.exe"
MARKUP_TEXT = "\x1b\\[link=https://evil.example/][bold]contact.email[/bold][/link]"
SHOWN = {CONTROLS_TEXT: (r"\x1b[2J\x1b[H\x1b]0;owned\x07", r"ok\x0d\x9b31m\u202egnp.exe"),
         MARKUP_TEXT: ("[link=https://evil.example/][bold]contact.email[/bold][/link]",)}
#: What a colour terminal may receive from garde itself: SGR (colours, bold) and nothing else.
OWN_SEQUENCE = re.compile(r"\x1b\[[0-9;]*m")
#: What must never reach it from a value (Rich's own line ends are line feeds).
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _subject_session(client: httpx.Client, email: str, served: Any) -> dict[str, str]:
    before = len(mails_to(served.outbox, email))
    started = client.post("/me/session", json={"email": email})
    assert started.status_code == 202, started.text
    code = mailed_code_to(served.outbox, email, before)
    confirmed = client.post("/me/session/confirm", json={"session": started.json()["session"], "code": code})
    assert confirmed.status_code == 200, confirmed.text
    return {"Authorization": f"Bearer {confirmed.json()['token']}"}


def _garde(served: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """A `garde` command as the DPO runs it, on a colour terminal (Rich writes its styles)."""
    env = {**served.env, "FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "garde", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _only_text(output: str, hostile: str) -> None:
    """``output`` holds no control but garde's own colours, and shows the hostile text as text."""
    bare = OWN_SEQUENCE.sub("", output)
    assert not CONTROLS.search(bare), repr(output)
    for shown in SHOWN[hostile]:
        assert shown in bare, bare


@pytest.mark.parametrize("hostile", [CONTROLS_TEXT, MARKUP_TEXT], ids=["controls", "markup"])
def test_a_subjects_field_name_reaches_the_dpos_terminal_as_text(served_module: Any, hostile: str) -> None:
    served = served_module
    email = served.customers[15 + (hostile == MARKUP_TEXT)]
    with httpx.Client(base_url=f"{served.url}/api/v1", timeout=60) as client:
        session = _subject_session(client, email, served)
        submitted = client.post("/me/requests", headers=session, json={
            "type": "rectification", "details": {"corrections": {hostile: "x"}, "reason": hostile}})
        assert submitted.status_code == 201, submitted.text
    request_id = submitted.json()["id"]
    with served.client("agent") as staff:
        served.run(staff, request_id)  # 400 on SQLite (run here), 202 then polled on PostgreSQL (a worker)
        assert staff.get(f"/requests/{request_id}").json()["status"] == "failed"

    shown = _garde(served, "request", "show", request_id)
    assert shown.returncode == 0, shown.stderr
    assert "failed" in shown.stdout and "\x1b[1m" in shown.stdout  # a colour terminal: garde's bold id
    _only_text(shown.stdout, hostile)

    as_json = _garde(served, "request", "show", request_id, "--format", "json")
    assert as_json.returncode == 0 and not CONTROLS.search(as_json.stdout), repr(as_json.stdout)
    assert hostile in json.loads(as_json.stdout)["steps"][-1]["note"]  # the same data, escaped as JSON

    exported = _garde(served, "audit", "export", "--kind", "request.failed")
    assert exported.returncode == 0 and not CONTROLS.search(exported.stdout), repr(exported.stdout)
    assert any(hostile in json.loads(line)["payload"]["note"] for line in exported.stdout.splitlines())

    again = _garde(served, "request", "run", request_id, "--inline", "--yes")
    assert again.returncode == 2, again.stdout + again.stderr
    _only_text(again.stderr, hostile)


@given(st.text().filter(lambda text: "\\" not in text))
def test_what_a_terminal_would_act_on_is_written_as_an_escape_and_nothing_else_changes(text: str) -> None:
    shown = terminal_text(text)
    assert not CONTROLS.search(shown)
    # every other character kept, in order: a name in any script, a zero-width joiner, a tab, a line
    assert re.sub(r"\\x[0-9a-f]{2}|\\u20[26][0-9a-f]", "", shown) == CONTROLS.sub("", text)


def test_real_names_are_printed_as_they_are() -> None:
    for name in ("Ørsted +44", "-Nadia", "=Zoé", "@amir", "مهرداد\u200cی", "👩\u200d💻 Ada", "Ana\tBé\nline"):
        assert terminal_text(name) == name
