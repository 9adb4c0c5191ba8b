"""What `make demo` serves, as a real process: `garde demo --serve --port 0` in a temporary folder.

The demo runs on a small shop and publishes one register (the reference shop's) so that it is
ready in seconds; everything else is what `make demo` runs. The process prints its URLs and the
demo DPO key once it listens; :class:`RunningDemo` reads them from its output.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REGISTERS, ROOT

READY = "Ctrl-C stops the server."
STARTUP_LIMIT = 300  # seconds: a guard against a hang, not a measure (the batch part runs first)
URL = re.compile(r"^(?P<what>[^:]+):\s+(?P<url>http://\S+)$")


def demo_env(folder: Path) -> dict[str, str]:
    """The demo's environment, every file it writes under ``folder``."""
    return {**os.environ, "GARDE_DATABASE_URL": f"sqlite:///{folder / 'garde.db'}",
            "GARDE_SHOP_URL": f"sqlite:///{folder / 'shop.db'}",
            "GARDE_CRM_URL": f"sqlite:///{folder / 'crm.db'}", "GARDE_DATASETS": str(ROOT / "datasets"),
            "GARDE_REGISTERS": str(REGISTERS / "reference-shop.yaml"),
            "GARDE_RESULTS": str(folder / "results"), "GARDE_OUTBOX": str(folder / "outbox"),
            "GARDE_MAILER": "file", "GARDE_AUDIT_KEY": "garde-demo-audit-key-change-me",  # as `make demo`
            "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


def demo_command(folder: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "garde", "demo", "--out", str(folder / "out"), "--customers", "40",
            "--registers", str(REGISTERS / "reference-shop.yaml"), *options]


@dataclass
class RunningDemo:
    """A `garde demo --serve` process and what it printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if READY in line:
                self.ready.set()
        self.ready.set()  # the process ended: whoever waits looks at why

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def urls(self) -> dict[str, str]:
        return {m["what"].strip(): m["url"] for line in self.lines if (m := URL.match(line.strip()))}

    def dpo_key(self) -> str:
        found = re.search(r"demo DPO key \(role dpo\):\s+(gk_\S+)", self.output)
        assert found, self.output
        return found[1]

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it; the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


@contextmanager
def running_demo(folder: Path) -> Iterator[RunningDemo]:
    """`garde demo --serve --port 0` in ``folder``, once it printed its URLs; stopped at the end."""
    command = demo_command(folder, "--serve", "--port", "0")
    process = subprocess.Popen(command, cwd=folder, env=demo_env(folder), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    demo = RunningDemo(process)
    reader = threading.Thread(target=demo.read, daemon=True)
    reader.start()
    try:
        if not demo.ready.wait(STARTUP_LIMIT) or process.poll() is not None:
            pytest.fail(f"garde demo --serve did not print its URLs:\n{demo.output}")
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
