"""Slow clients: connections that never finish their request hold a `garde serve` file descriptor each.

Red team of 2026-12-08 (red31, medium, not fixed: a residual in docs/security.md). uvicorn gives a
request no deadline for its headers or its body, and garde's body-size middleware waits for the body
as long as it comes. A client that opens connections and sends a request's first line, or its
headers and one byte of a declared body, and nothing more, keeps each one open for ever, without a
key (the public sign-in route, or any path: the headers alone do it). Past the process's open-file
limit (1,024 is systemd's default soft limit) the server accepts no one: `/healthz` fails while they
stay, and answers again once they close. Measured by hand: 1,100 such connections from one client
took down a `garde serve` at `ulimit -n 1024`, 900 did not. A buffering proxy in front with header
and body timeouts (nginx's `client_header_timeout`, `client_body_timeout`, request buffering on)
holds them instead; `garde serve` itself cannot set such timeouts on uvicorn.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api_support import REGISTER, free_port, ready

LIMIT = 256  # the server's open-file limit here: the same exhaustion as at 1,024, sooner


@pytest.mark.xfail(strict=True, reason="red31: uvicorn gives a request's headers and body no deadline; "
                   "slow clients exhaust garde serve's file descriptors (docs/security.md, residual risks)")
def test_connections_that_never_finish_their_request_do_not_keep_others_out(sqlite_url: str,
                                                                             tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "GARDE_DATABASE_URL": sqlite_url, "GARDE_REGISTERS": str(REGISTER),
           "GARDE_OUTBOX": str(tmp_path / "outbox"), "GARDE_RESULTS": str(tmp_path / "results")}
    command = f"ulimit -n {LIMIT}; exec {sys.executable} -m garde serve --port {port}"
    server = subprocess.Popen(["bash", "-c", command], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base, held = f"http://127.0.0.1:{port}", []
    try:
        assert ready(base, server), "garde serve did not start"
        for _ in range(LIMIT + 50):
            slow = socket.create_connection(("127.0.0.1", port))
            slow.sendall(b"POST /api/v1/me/session HTTP/1.1\r\nHost: garde\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            held.append(slow)
        time.sleep(1)
        with httpx.Client(timeout=5) as other:
            answer = other.get(f"{base}/healthz")
        assert answer.status_code == 200
    finally:
        for slow in held:
            slow.close()
        server.terminate()
        server.wait(timeout=30)
