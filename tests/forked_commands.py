"""`garde` commands to kill, forked from one process that has garde imported already: each starts in a
few milliseconds where a new `python -m garde` spends a second importing, so a crash test's twenty
kills cost their own work, not twenty start-ups. A command runs as the CLI runs it (``garde.cli.app``
with its arguments, its settings read from the environment), in a process of its own that a SIGKILL
ends as it would end `python -m garde`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEADLINE = 120.0  # seconds: a bound for a loaded machine, never a measure

# On each line read (a JSON list of arguments), a child that runs `garde ARGS` with its output in
# FOLDER/PID.log and, when the command returns, its exit code in FOLDER/PID.exit (written whole: a
# file renamed into place); its pid is written back. Killed children are reaped by the system.
ZYGOTE = """
import importlib, json, os, signal, sys, traceback
for module in sys.argv[2:]:
    importlib.import_module(module)
from garde.cli import app
folder = sys.argv[1]
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # no terminal: nothing asks
        sys.stdin = open(0, closefd=False)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        me = os.getpid()
        log = os.open(os.path.join(folder, f"{me}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(log, 2)
        code = 0
        try:
            app(args=json.loads(line), prog_name="garde")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        with open(os.path.join(folder, f"{me}.part"), "w") as written:
            written.write(str(code))
        os.rename(os.path.join(folder, f"{me}.part"), os.path.join(folder, f"{me}.exit"))
        os._exit(code)
    print(pid, flush=True)
"""


@dataclass(frozen=True)
class Command:
    """A forked `garde` command: poll it, wait for it, kill it, read its output."""

    pid: int
    folder: Path

    def poll(self) -> int | None:
        """Its exit code once it has ended (``-SIGKILL`` if killed), else None."""
        ended = self.folder / f"{self.pid}.exit"
        if ended.exists():
            return int(ended.read_text())
        if _exists(self.pid):
            return None
        return int(ended.read_text()) if ended.exists() else -signal.SIGKILL

    def wait(self, timeout: float = DEADLINE) -> int:
        end = time.monotonic() + timeout
        while (code := self.poll()) is None:
            assert time.monotonic() < end, f"garde command {self.pid} still runs after {timeout} s"
            time.sleep(0.01)
        while _exists(self.pid):  # its exit code is written just before it ends
            time.sleep(0.001)
        return code

    def kill(self) -> None:
        """SIGKILL, and return once it is gone."""
        os.kill(self.pid, signal.SIGKILL)
        while _exists(self.pid):
            time.sleep(0.001)

    def output(self) -> str:
        return (self.folder / f"{self.pid}.log").read_text(encoding="utf-8", errors="replace")


class Commands:
    def __init__(self, zygote: subprocess.Popen[str], folder: Path) -> None:
        self.zygote = zygote
        self.folder = folder

    def start(self, arguments: Sequence[str]) -> Command:
        """`garde ARGUMENTS`, started."""
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.write(json.dumps(list(arguments)) + "\n")
        self.zygote.stdin.flush()
        return Command(int(self.zygote.stdout.readline()), self.folder)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def forked_garde(env: Mapping[str, str], folder: Path, preload: Sequence[str] = ()) -> Iterator[Commands]:
    """Start `garde` commands with ``env`` by forking; ``preload``: modules the commands import
    lazily, imported once before (their outputs and exit codes are kept in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen([sys.executable, "-c", ZYGOTE, str(folder), *preload], env=dict(env),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as zygote:
        try:
            yield Commands(zygote, folder)
        finally:
            assert zygote.stdin is not None
            zygote.stdin.close()
            zygote.wait(timeout=60)
