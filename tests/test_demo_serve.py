"""`make demo` serves the privacy center, the DPO dashboard and the demo shop page until Ctrl-C;
`make demo SERVE=0` stops after the batch part. The real process, on a free port."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
from typer.testing import CliRunner

from garde.api import create_app
from garde.api.app import route_table
from garde.cli import app as cli
from tests.api_support import Client
from tests.conftest import ROOT
from tests.demo_support import demo_command, demo_env, running_demo
from tests.web_support import csrf_of, deployment_settings


def test_make_demo_serves_until_ctrl_c(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        urls = demo.urls()
        assert set(urls) >= {"privacy center", "DPO dashboard", "demo shop (cookie banner)"}, demo.output
        base = urls["privacy center"].removesuffix("/privacy/")
        assert base.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/privacy/").status_code == 200
            assert http.get("/healthz").json() == {"status": "ok", "detail": None}
            shop = http.get("/demo-shop/")
            assert shop.status_code == 200
            banner = '<script src="/banner/v1/banner.js" data-garde-register="reference-shop" defer>'
            assert banner in shop.text
            assert '<script type="text/plain" data-garde-category="cookie.analytics"' in shop.text
            # the printed key is a DPO's: it opens the dashboard through its login form
            login = http.get("/dpo/login")
            assert login.status_code == 200
            answer = http.post("/dpo/login", data={"csrf": csrf_of(login.text), "key": demo.dpo_key()})
            assert answer.status_code == 303 and answer.headers["location"] == "/dpo/"
            queue = http.get("/dpo/requests?closed=true")
            assert queue.status_code == 200 and "Access (Art. 15)" in queue.text  # the batch part's requests
        code = demo.interrupt()
    assert code == 0, demo.output
    assert "Traceback" not in demo.output and "Stopped." in demo.output


def _log_in(base: str, key: str) -> int:
    with httpx.Client(base_url=base, timeout=30) as http:
        login = http.get("/dpo/login")
        return http.post("/dpo/login", data={"csrf": csrf_of(login.text), "key": key}).status_code


def test_each_run_prints_a_new_dpo_key_and_revokes_the_last_ones(tmp_path: Path) -> None:
    with running_demo(tmp_path) as first:
        earlier = first.dpo_key()
        assert first.interrupt() == 0
    with running_demo(tmp_path) as second:
        base = second.urls()["DPO dashboard"].removesuffix("/dpo/")
        assert _log_in(base, earlier) == 401  # the earlier run's key opens nothing any more
        assert _log_in(base, second.dpo_key()) == 303
        assert second.interrupt() == 0


def test_serve_0_stops_after_the_batch_part(tmp_path: Path) -> None:
    done = subprocess.run(demo_command(tmp_path, "--no-serve"), cwd=tmp_path, env=demo_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "index.html").is_file()
    assert "http://" not in done.stdout and "Traceback" not in done.stderr


def test_the_makefile_passes_serve_and_port() -> None:
    def recipe(*variables: str) -> str:
        return subprocess.run(["make", "-n", "-C", str(ROOT), "demo", *variables], capture_output=True,
                              text=True, check=True).stdout

    assert "--serve --port 8000" in recipe()
    assert "--serve --port 8001" in recipe("PORT=8001")
    assert "--no-serve" in recipe("SERVE=0") and "--serve " not in recipe("SERVE=0")


def test_make_demo_without_a_terminal_stops_after_the_batch_part(tmp_path: Path) -> None:
    """Nobody can press Ctrl-C in a script or CI: there `make demo` says so and does not serve."""
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "demo"], capture_output=True, text=True,
                         check=True, stdin=subprocess.DEVNULL).stdout
    assert "[ ! -t 0 ]" in out and "serve=--no-serve" in out
    shell = out[out.index("serve="):].replace("set -x; ", "").split("GARDE_AUDIT_KEY=")[0] + 'echo "$serve"'
    chosen = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, check=True,
                            stdin=subprocess.DEVNULL).stdout
    assert chosen.strip().endswith("--no-serve") and "not run from a terminal" in chosen


def test_a_port_taken_is_a_clear_error_before_the_batch_part(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "out"), "--serve",
                                          "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is taken" in result.output and f"PORT={port + 1}" in result.output
    assert not (tmp_path / "out").exists()  # nothing written: said at once


def test_production_serve_has_no_demo_shop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'garde.db'}"
    app = create_app(deployment_settings(url, tmp_path))
    assert not [path for _, path, _ in route_table(app) if "demo-shop" in path]
    with Client(app).running() as client:
        assert client.get("/demo-shop/").status_code == 404
        assert client.get("/demo-shop/static/tracker.js").status_code == 404
