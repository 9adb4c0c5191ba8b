"""An audience stream killed mid-way leaves nothing usable, and not for long (red28's residual, sec29).

A stream keeps what it wrote on disk (a SQLite file of digests: bounded memory at any size). It
was a folder of the system's temporary folder holding unkeyed SHA-256 digests of the addresses,
left behind when the process was killed: a digest any list of likely addresses could be checked
against. Now the digests are keyed with 32 random bytes the process alone holds, the folder is
garde's own (a hidden folder of the exports folder, owner-only), and the next stream, ``garde
serve`` or ``garde worker`` removes a folder whose owner is gone (:mod:`garde.audience_seen`).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from garde.audience import contacts
from garde.settings import get_settings
from tests.conftest import garde_here
from tests.test_audience_contacts import ROOT, shop_urls, store_url, world  # noqa: F401  (the fixtures)

PREFIX = ".audience-"  # garde.audience_seen.PREFIX, spelled here: the test ran on the code before it
STREAM = """
import sys
from pathlib import Path
from garde.audience import contacts
from garde.datasets import connect_datamap, load_datamap
from garde.decide import DecisionModel
from garde.store import connect

root, store_url, shop, crm, exports = sys.argv[1:]
datamap = load_datamap(Path(root) / "datasets")
engines = connect_datamap(datamap, {"shop": shop, "crm": crm})
model = DecisionModel.load(Path(root) / "registers" / "reference-shop.yaml")
stream = contacts(connect(store_url), model, datamap, engines, "abandoned-basket", "email", batch=2,
                  exports=Path(exports))
first, _, _ = next(stream), next(stream), next(stream)  # the third from a later batch: the first one's kept
print(first.address["email"], flush=True)
sys.stdin.read()  # until killed
"""


def _streams(exports: Path) -> list[Path]:
    return sorted(exports.glob(f"{PREFIX}*")) if exports.is_dir() else []


def test_a_killed_streams_folder_is_useless_and_removed_at_the_next_start(
        world: dict[str, Any], shop_urls: dict[str, str], store_url: str, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A real process streams the abandoned-basket audience (soft opt-in; SQLite, PostgreSQL) and is
    killed (SIGKILL) after its third address: its folder is in garde's exports folder, owner-only,
    and holds neither its first address nor that address's SHA-256 (nor an unkeyed BLAKE2b); the
    next stream removes it, as ``garde worker`` removes another.
    Before: the folder was ``garde-audience-*`` in the system's temporary folder, with the SHA-256."""
    exports = tmp_path / "exports"
    monkeypatch.setenv("GARDE_EXPORTS", str(exports))
    get_settings.cache_clear()
    for round_ in ("next stream", "garde worker"):
        child = subprocess.Popen([sys.executable, "-c", STREAM, str(ROOT), store_url, shop_urls["shop"],
                                  shop_urls["crm"], str(exports)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "GARDE_EXPORTS": str(exports)})
        try:
            address = (child.stdout.readline() if child.stdout else "").strip()
            assert address, "the stream wrote no address"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(60)
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()
        left = _streams(exports)
        assert [p.name.removeprefix(PREFIX).split("-")[0] for p in left] == [str(child.pid)]
        assert stat.S_IMODE(left[0].stat().st_mode) == 0o700
        with sqlite3.connect(left[0] / "seen.db") as db:
            marks = [m for (m,) in db.execute("SELECT mark FROM seen")]
        plain = "\x1f".join(["email", address]).lower().encode()
        assert marks and all(isinstance(m, bytes) and len(m) == 32 for m in marks)
        assert hashlib.sha256(plain).digest() not in marks and hashlib.sha256(plain).hexdigest() not in marks
        assert hashlib.blake2b(plain, digest_size=32).digest() not in marks  # keyed: not without the key
        if round_ == "next stream":
            stream = contacts(world["store"], world["model"], world["datamap"], world["engines"],
                              "abandoned-basket", "email", exports=exports)
            assert next(stream).address["email"] == address
            assert left[0] not in _streams(exports) and len(_streams(exports)) == 1  # swept; its own
            stream.close()
            assert _streams(exports) == []
        else:
            done = garde_here({"GARDE_EXPORTS": str(exports), "GARDE_DATABASE_URL": f"sqlite:///{tmp_path}/w.db"},
                              "worker")
            assert done.returncode == 2, done  # no queue on SQLite: it sweeps, then says so
            assert _streams(exports) == []


def test_a_running_streams_folder_is_left_and_each_stream_keys_its_own(tmp_path: Path) -> None:
    """A live stream's folder is not swept (its owner runs and holds its lock); two streams key the
    same address differently; closing removes the folder, twice is nothing."""
    from garde.audience_seen import PREFIX as NAMED
    from garde.audience_seen import Seen, sweep

    assert NAMED == PREFIX
    first, second = Seen(tmp_path), Seen(tmp_path)
    try:
        assert sweep(tmp_path) == [] and len(_streams(tmp_path)) == 2
        address = {"email": "ana@example.org"}
        assert first.mark("email", address) != second.mark("email", address)
        assert first.mark("email", address) == first.mark("email", {"email": "ANA@example.org"})
        first.add([first.mark("email", address)])
        assert first.new([first.mark("email", address)]) == set()
    finally:
        first.close()
        first.close()
    assert _streams(tmp_path) == [second.folder]
    second.close()
    assert _streams(tmp_path) == []
    planted = tmp_path / f"{PREFIX}notapid-x"  # not garde's naming: left alone
    planted.mkdir()
    elsewhere = tmp_path / f"{PREFIX}999999999-0th3rh0s-x"  # another machine's stream (a shared folder)
    elsewhere.mkdir()
    assert sweep(tmp_path) == [] and planted.is_dir() and elsewhere.is_dir()


def test_a_stream_keeps_its_folder_where_its_edge_says(
        world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The exports folder is the edge's to give (the CLI's, the API's or the worker's settings), not
    read from the global settings deep in the library: a stream given one keeps its folder there,
    whatever ``GARDE_EXPORTS`` says (before: ``contacts`` read ``get_settings().exports`` itself)."""
    given, configured = tmp_path / "given", tmp_path / "configured"
    monkeypatch.setenv("GARDE_EXPORTS", str(configured))
    get_settings.cache_clear()
    stream = contacts(world["store"], world["model"], world["datamap"], world["engines"],
                      "abandoned-basket", "email", exports=given)
    try:
        next(stream)
        assert len(_streams(given)) == 1 and _streams(configured) == []
    finally:
        stream.close()
    assert _streams(given) == []
