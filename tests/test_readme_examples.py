"""README.md's examples run as written, in a folder laid out as a fresh clone after `make demo`.

Every fenced block of the README is an example: a shell block runs in bash (``-e``, ``pipefail``: a
command that fails fails the example), a Python block in the virtualenv's python, both from the
clone's root with no ``GARDE_*`` setting but those a user has (the demo's audit key, as `make demo`
sets it). The demo store they run on is built once, by the `garde demo` that `make demo` runs (on a
smaller shop, one register published). A block is skipped only when it is in :data:`NOT_RUN`, with
its reason: a new example runs by default, and a block of another language fails until it is one
of the two or skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.xdist_group("readme_examples")  # one worker builds the demo once

README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<code>.*?)^```$", re.M | re.S)
SHELL = {"", "sh", "bash", "shell"}
PYTHON = {"python", "py"}
TIMEOUT = 300  # seconds: a guard against a hang, not a measure

# The blocks not run here, by a line of theirs, with why. Keep it short: anything else runs.
NOT_RUN = {
    "make test    #": "`make demo` builds a virtualenv (the demo store below is its `garde demo` run) and "
                      "`make test` is this whole suite: both are run as written by CI, not from a test",
}


@dataclass(frozen=True)
class Example:
    line: int  # of the opening fence in README.md
    lang: str
    code: str

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def readme_examples(text: str) -> list[Example]:
    return [Example(text.count("\n", 0, m.start()) + 1, m["lang"], m["code"]) for m in FENCE.finditer(text)]


def _skipped(example: Example) -> str | None:
    return next((why for line, why in NOT_RUN.items() if line in example.code), None)


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))


def test_every_block_is_an_example_that_runs_or_a_skip_that_says_why() -> None:
    assert len(EXAMPLES) >= 3, "README.md: its fenced blocks were not found"
    unknown = [f"{e} ```{e.lang}" for e in EXAMPLES if e.lang not in SHELL | PYTHON and not _skipped(e)]
    assert unknown == [], "README blocks neither shell nor Python: run them here or add them to NOT_RUN"
    stale = [line for line in NOT_RUN if sum(line in e.code for e in EXAMPLES) != 1]
    assert stale == [], "NOT_RUN names a line no longer in exactly one README block"


def user_env(**settings: str) -> dict[str, str]:
    """The environment of a user's shell: none of the tests' ``GARDE_*`` settings."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("GARDE_")}, "COLUMNS": "100",
            **settings}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone's layout (its registers, data map and virtualenv) after `make demo SERVE=0`."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file():
        pytest.skip(f"the tests do not run in a virtualenv ({venv}): the README's session activates one")
    folder = tmp_path_factory.mktemp("clone")
    for name in ("registers", "datasets"):
        (folder / name).symlink_to(ROOT / name)
    (folder / ".venv").symlink_to(venv)
    demo = [str(venv / "bin" / "garde"), "demo", "--out", "out", "--customers", "40",
            "--registers", "registers/reference-shop.yaml", "--no-serve"]
    done = subprocess.run(demo, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL,
                          env=user_env(GARDE_AUDIT_KEY="garde-demo-audit-key-change-me"))  # as `make demo`
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


@pytest.mark.parametrize("example", [e for e in EXAMPLES if not _skipped(e)], ids=str)
def test_readme_example_runs_as_written(example: Example, clone: Path) -> None:
    if example.lang in PYTHON:
        command = [str(clone / ".venv" / "bin" / "python"), "-c", example.code]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", example.code]
    done = subprocess.run(command, cwd=clone, capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL, env=user_env())
    said = f"{example} exited {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, said
    assert "Traceback" not in done.stderr + done.stdout, said
