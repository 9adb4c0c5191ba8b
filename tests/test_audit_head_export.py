"""The audit log's head exported outside the store (issue 15, scheduled work): to an append-only
owner-only file and/or POSTed to an outside address, once a day per head; a rewrite of the whole
chain then fails ``garde audit verify --against FILE``. On SQLite and PostgreSQL, with a real HTTP
server for the outside address.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from garde import audit
from garde.audit.head_export import export_head
from garde.cli import app
from garde.problems import GardeError
from garde.settings import Settings
from tests.audit_tampering import rewrite, rows
from tests.conftest import cli_store, mode

TODAY = date(2026, 3, 2)


class Collector(ThreadingHTTPServer):
    """An outside log service: keeps each body POSTed; answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = status
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/heads?token=s3cret"


class _Handler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.bodies.append({"type": self.headers["Content-Type"],
                                   "body": json.loads(self.rfile.read(length))})
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def activity(engine: sa.Engine, count: int = 3) -> None:
    with engine.begin() as conn:
        for number in range(count):
            audit.record(conn, "register.changed", {"n": number})


def settings(**values: Any) -> Settings:
    return Settings(**values)


def test_the_head_goes_to_an_owner_only_file_once_a_day_and_a_rewrite_is_caught(
        engine: sa.Engine, tmp_path: Path, umask_022: None) -> None:
    heads = tmp_path / "outside" / "heads.jsonl"
    heads.parent.mkdir()
    activity(engine)
    first = export_head(engine, settings(), today=TODAY, to=heads)
    assert first.written and first.checkpoint is not None and first.checkpoint.seq == 3
    assert mode(heads) == 0o600
    [line] = heads.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["seq"] == 3 and json.loads(line)["hash"] == first.checkpoint.hash

    again = export_head(engine, settings(), today=TODAY, to=heads)
    assert not again.written and again.why_not == "already exported today" and again.seq == 3
    assert again.verification is None  # the head was read, the log not verified again
    assert len(heads.read_text(encoding="utf-8").splitlines()) == 1
    activity(engine, 2)  # the head moves: the same day, the new head is exported
    assert export_head(engine, settings(), today=TODAY, to=heads).checkpoint.seq == 5  # type: ignore[union-attr]
    assert len(heads.read_text(encoding="utf-8").splitlines()) == 2

    assert audit.verify_store(engine, heads).ok
    with engine.begin() as conn:  # someone with write access rewrites the whole chain
        entries = rows(conn)
        entries[1]["payload"] = json.dumps({"n": 99})
        rewrite(conn, entries)
    broken = audit.verify_store(engine, heads)
    assert not broken.ok and broken.checkpoints == 0 and broken.first_bad is not None
    refused = export_head(engine, settings(), today=TODAY + timedelta(days=1), to=heads)
    assert refused.checkpoint is None and refused.why_not == "the log does not verify"
    assert len(heads.read_text(encoding="utf-8").splitlines()) == 2  # nothing exported from a bad log


def test_a_head_that_disagrees_with_the_log_is_verified_and_not_exported(engine: sa.Engine,
                                                                         tmp_path: Path) -> None:
    heads = tmp_path / "heads.jsonl"
    activity(engine)
    assert export_head(engine, settings(), today=TODAY, to=heads).written
    with engine.begin() as conn:  # the head row rewritten to another hash
        conn.execute(audit.audit_head.update().values(hash="f" * 64))
    refused = export_head(engine, settings(), today=TODAY, to=heads)
    assert refused.why_not == "the log does not verify" and refused.verification is not None
    assert not refused.verification.ok and len(heads.read_text(encoding="utf-8").splitlines()) == 1


def test_the_head_is_posted_to_the_outside_address(engine: sa.Engine, tmp_path: Path,
                                                   collector: Collector) -> None:
    activity(engine)
    config = settings(audit_head_url=collector.url)
    exported = export_head(engine, config, today=TODAY)
    assert exported.posted and not exported.written and exported.file is None
    assert exported.url == collector.url.split("?")[0]  # the report never shows the query (a token)
    [posted] = collector.bodies
    assert posted["type"] == "application/json"
    assert (posted["body"]["seq"], posted["body"]["hash"]) == (3, exported.checkpoint.hash)  # type: ignore[union-attr]
    assert not export_head(engine, config, today=TODAY).posted and len(collector.bodies) == 1
    assert export_head(engine, config, today=TODAY + timedelta(days=1)).posted  # a new day: again


def test_a_refused_post_fails_clearly_and_the_next_run_exports_again(engine: sa.Engine, tmp_path: Path,
                                                                     collector: Collector) -> None:
    heads = tmp_path / "heads.jsonl"
    activity(engine)
    collector.status = 503
    config = settings(audit_head_url=collector.url, audit_checkpoint_file=heads)
    refused = r"not accepted by http://127\.0\.0\.1:\d+/heads: HTTP 503"
    with pytest.raises(GardeError, match=refused) as raised:
        export_head(engine, config, today=TODAY)
    assert "s3cret" not in str(raised.value)
    collector.status = 200
    retried = export_head(engine, config, today=TODAY)
    assert retried.posted and len(collector.bodies) == 2
    assert not retried.written  # the file already ended with this head: no second line
    assert len(heads.read_text(encoding="utf-8").splitlines()) == 1


def test_an_address_that_does_not_answer_times_out(engine: sa.Engine) -> None:
    activity(engine)
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/heads"
        with pytest.raises(GardeError, match=r"no answer within 0\.5 s \(audit_head_timeout\)"):
            export_head(engine, settings(audit_head_url=url, audit_head_timeout=0.5), today=TODAY)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(GardeError, match="audit head not sent to"):
        export_head(engine, settings(audit_head_url=f"http://127.0.0.1:{port}/"), today=TODAY)


@pytest.mark.parametrize("url", ["http://logs.example.com/heads", "ftp://logs.example.com/",
                                 "logs.example.com"])
def test_only_https_leaves_this_machine(engine: sa.Engine, url: str) -> None:
    with pytest.raises(GardeError, match="audit_head_url"):
        export_head(engine, settings(audit_head_url=url), today=TODAY)


def test_nowhere_to_export_to_is_an_error(engine: sa.Engine) -> None:
    with pytest.raises(GardeError, match="where to"):
        export_head(engine, settings(), today=TODAY)


def test_garde_audit_export_head(cli_env: Path) -> None:
    with cli_store(cli_env) as engine:
        activity(engine)
    heads = cli_env / "heads.jsonl"
    runner = CliRunner()
    done = runner.invoke(app, ["audit", "export-head", "--to", str(heads)])
    assert done.exit_code == 0, done.output
    said = "".join(done.output.split())  # the console wraps long lines
    assert "head:entry3(" in said and f"exportedto{heads}" in said
    again = runner.invoke(app, ["audit", "export-head", "--to", str(heads), "--format", "json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["why_not"] == "already exported today"
    verified = runner.invoke(app, ["audit", "verify", "--against", str(heads)])
    assert verified.exit_code == 0 and "consistentwith1checkpoints" in "".join(verified.output.split())
    nowhere = runner.invoke(app, ["audit", "export-head"])
    assert nowhere.exit_code == 2 and "where to?" in nowhere.output


@pytest.mark.parametrize("url", [
    "https://user:s3cret@127.0.0.1/heads",  # urllib would take "s3cret@127.0.0.1" for a port
    "https://user:s3cret@127.0.0.1:99999/heads",  # a bad port
    "http://127.0.0.1:9/pa th?token=s3cret",  # a space: http.client refuses it, echoing the query
    "http://127.0.0.1:9/heads\r\nX-Injected: s3cret",  # a header smuggled into the request
])
def test_a_bad_address_fails_clearly_and_never_echoes_its_secrets(engine: sa.Engine, url: str) -> None:
    """Red team: the address's user, password and query are secrets (a token); an address urllib
    cannot use is a GardeError (the CLI's clear message), never a traceback showing them."""
    activity(engine)
    with pytest.raises(GardeError, match=r"audit_head_url|audit head not sent") as raised:
        export_head(engine, settings(audit_head_url=url), today=TODAY)
    assert "s3cret" not in str(raised.value)


def test_the_head_file_is_not_followed_through_a_symlink(engine: sa.Engine, tmp_path: Path) -> None:
    """Red team: a symlink put where the head file goes (a shared folder) would have garde append
    to whatever file it points to; the export refuses it."""
    activity(engine)
    victim = tmp_path / "victim.log"  # empty: it reads as a head file with no heads yet
    victim.touch()
    heads = tmp_path / "heads.jsonl"
    heads.symlink_to(victim)
    with pytest.raises(GardeError, match="audit checkpoint file"):
        export_head(engine, settings(), today=TODAY, to=heads)
    assert victim.read_text(encoding="utf-8") == ""


def test_a_head_file_others_could_write_is_made_owner_only(engine: sa.Engine, tmp_path: Path) -> None:
    """Red team: the heads are kept where the store's writers cannot write; an existing file
    writable by group or others (created by hand, a wide umask) is tightened to 0600 on append."""
    activity(engine)
    heads = tmp_path / "heads.jsonl"
    heads.touch()
    heads.chmod(0o666)
    assert export_head(engine, settings(), today=TODAY, to=heads).written
    assert mode(heads) == 0o600


def test_an_answer_that_trickles_in_is_cut_at_the_timeout(engine: sa.Engine) -> None:
    """Red team: a collector answering one byte at a time (each within the socket's timeout) held
    the daily export for as long as it liked; the whole exchange now has ``audit_head_timeout``."""
    activity(engine)
    stop = threading.Event()
    with socket.socket() as slow:
        slow.bind(("127.0.0.1", 0))
        slow.listen(1)

        def trickle() -> None:  # 60 s of header, a byte every 0.2 s, unless the test is over
            connection, _ = slow.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 204 No Content\r\n")
                for _ in range(300):
                    if stop.wait(0.2):
                        return
                    try:
                        connection.sendall(b"X")
                    except OSError:  # the client gave up
                        return
                connection.sendall(b"-Slow: 1\r\nContent-Length: 0\r\n\r\n")

        server = threading.Thread(target=trickle, daemon=True)
        server.start()
        url = f"http://127.0.0.1:{slow.getsockname()[1]}/heads"
        try:
            with pytest.raises(GardeError, match=r"no answer within 1 s \(audit_head_timeout\)"):
                export_head(engine, settings(audit_head_url=url, audit_head_timeout=1), today=TODAY)
        finally:
            stop.set()
            server.join()


@contextlib.contextmanager
def answering(raw: bytes) -> Iterator[str]:
    """An address that reads one request and answers ``raw`` bytes, whatever they are; its URL."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)

        def answer() -> None:
            connection, _ = listening.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(raw)

        server = threading.Thread(target=answer, daemon=True)
        server.start()
        yield f"http://127.0.0.1:{listening.getsockname()[1]}/heads"
        server.join()


def test_a_collectors_reason_cannot_write_to_the_operators_terminal(engine: sa.Engine) -> None:
    """Red team: the reason phrase of a refusal is the collector's text, shown on the operator's
    terminal; its control characters (an escape sequence retitling or clearing it) are dropped."""
    activity(engine)
    with answering(b"HTTP/1.1 503 \x1b]0;pwned\x07Busy\r\nContent-Length: 0\r\n\r\n") as url, \
            pytest.raises(GardeError, match="HTTP 503") as raised:
        export_head(engine, settings(audit_head_url=url), today=TODAY)
    assert "\x1b" not in str(raised.value) and "\x07" not in str(raised.value)


def test_an_answer_that_is_not_http_is_a_clear_error(engine: sa.Engine) -> None:
    """Red team: a collector (or whatever listens there) answering garbage: http.client's own
    error (not an OSError) escaped as a traceback; it is a GardeError, and nothing counts as sent."""
    activity(engine)
    with answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as url, \
            pytest.raises(GardeError, match="the answer is not HTTP"):
        export_head(engine, settings(audit_head_url=url), today=TODAY)
