"""The store's commits file (``<store>-commits``, garde.store.commits) as something another user or
a careless operator may have planted or changed: garde uses it only when it is its own (a regular
file of garde's user, owner-only, one link, of its size, in a folder others cannot write), never writes
through a link, and otherwise decides from the store, saying so once. A decision is never answered
from stale facts because of what someone else put at that path."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.decide import DecisionPoint
from garde.store import connect, migrate
from garde.store.commits import counter_for
from tests.test_decide import NOW, register
from tests.test_decide_buckets import new_subjects, write
from tests.test_decide_commits import WITHDRAW, allowed

NOBODY = 65534


def point_on(store: sa.Engine) -> DecisionPoint:
    """A point that looks at the store once an hour: within the test, only the commit word counts."""
    return DecisionPoint(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=3600)


def a_withdrawal_is_seen_at_once(folder: Path) -> None:
    store = store_at(folder)
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    with point_on(store) as point:
        assert allowed(point, sid) and allowed(point, sid)
        write(store, sid, "withdrawn", 1)
        assert not allowed(point, sid)
    store.dispose()


def store_at(folder: Path) -> sa.Engine:
    engine = connect(f"sqlite:///{folder}/garde.db", create=True)
    migrate(engine)
    return engine


def _another_users(path: Path) -> None:
    path.write_bytes(bytes(8))
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o600)


def _world_writable(path: Path) -> None:
    path.write_bytes(bytes(8))
    os.chmod(path, 0o666)


def _wrong_size(path: Path) -> None:
    path.write_bytes(bytes(16))
    os.chmod(path, 0o600)


def _hard_link(path: Path) -> None:
    other = path.with_name("elsewhere")
    other.write_bytes(bytes(8))
    os.chmod(other, 0o600)
    os.link(other, path)


PLANTED: dict[str, Callable[[Path], None]] = {
    "another user's file": _another_users, "a world-writable file": _world_writable,
    "a file of the wrong size": _wrong_size, "a hard link": _hard_link,
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "store"
    made.mkdir(mode=0o700)
    return made


@pytest.mark.parametrize("plant", PLANTED, ids=list(PLANTED))
def test_a_planted_commits_file_is_not_trusted_and_a_word_written_back_hides_no_withdrawal(
        folder: Path, plant: str, caplog: pytest.LogCaptureFixture) -> None:
    """Threat: whoever can write the word (its owner, anyone when it is world-writable) puts it back
    to the value a decision point noted after a withdrawal moved it; before, the point answered
    from the facts it kept (the consent), for up to ``outside_writes_within``."""
    path = folder / "garde.db-commits"
    PLANTED[plant](path)
    planted = path.read_bytes()
    with caplog.at_level(logging.WARNING, "garde.store.commits"):
        store = store_at(folder)
        sid, = new_subjects(store, ("abc",))
        write(store, sid, "given", 5)
        with point_on(store) as point:
            assert allowed(point, sid) and allowed(point, sid)
            noted = path.read_bytes()
            write(store, sid, "withdrawn", 1)
            path.write_bytes(noted)  # the word moved back
            assert not allowed(point, sid)
        store.dispose()
    assert path.read_bytes() == noted == planted  # garde never wrote into it
    warned = [r.getMessage() for r in caplog.records if r.name == "garde.store.commits"]
    assert len(warned) == 1 and "garde.db-commits" in warned[0], warned


def test_a_link_at_the_commits_file_is_never_written_through(folder: Path, tmp_path: Path) -> None:
    """Threat: a link planted at ``<store>-commits`` to a file of garde's user (the store itself, a
    key file): before, garde mapped the file the link names and wrote its word over its first 8
    bytes at every commit."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"SQLite format 3\x00 and what follows")
    os.chmod(victim, 0o600)
    (folder / "garde.db-commits").symlink_to(victim)
    a_withdrawal_is_seen_at_once(folder)
    assert victim.read_bytes() == b"SQLite format 3\x00 and what follows"
    assert counter_for(folder / "garde.db") is None


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_a_folder_at_the_commits_file_neither_hangs_nor_crashes(folder: Path, kind: str) -> None:
    path = folder / "garde.db-commits"
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    else:
        path.mkdir(mode=0o700)
    a_withdrawal_is_seen_at_once(folder)


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_store_in_a_folder_others_can_write_keeps_no_commits_file(tmp_path: Path, mode: int) -> None:
    """Threat: in a folder others can write (without the sticky bit), another user renames garde's
    file away and puts their own in its place, which processes started later would move while the
    running ones watch the old one."""
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, mode)
    store = store_at(folder)
    assert counter_for(folder / "garde.db") is None
    assert not (folder / "garde.db-commits").exists()
    store.dispose()


GIVE_WHEN_TOLD = """
import sys
from datetime import datetime
from garde import consent
from garde.store import connect
engine = connect(sys.argv[1])
sys.stdin.readline()
with engine.begin() as conn:
    consent.give(conn, sys.argv[2], "newsletter", channel="email", at=datetime.fromisoformat(sys.argv[3]))
engine.dispose()
print("given", flush=True)
"""


def test_a_commits_file_removed_while_garde_runs_is_followed_at_the_next_look(folder: Path) -> None:
    """The operator removes the file (what the module says to do after a process died inside a
    commit) while a decision point runs; processes started later move the new file. Before, the
    running point kept watching the removed one: past its next look at the store, a write made by
    another process was not seen until the look after."""
    store = store_at(folder)
    sid, = new_subjects(store, ("abc",))
    write(store, sid, "given", 5)
    url = store.url.render_as_string(hide_password=False)
    with DecisionPoint(register(), store, audit=False, clock=lambda: NOW, outside_writes_within=1.0) as point:
        assert allowed(point, sid) and allowed(point, sid)
        (folder / "garde.db-commits").unlink()
        subprocess.run([sys.executable, "-c", WITHDRAW, url, sid, (NOW - timedelta(hours=2)).isoformat()],
                       check=True, timeout=120)
        giver = subprocess.Popen([sys.executable, "-c", GIVE_WHEN_TOLD, url, sid,
                                  (NOW - timedelta(hours=1)).isoformat()],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(1.1)
        assert not allowed(point, sid)  # the look at the store
        assert not allowed(point, sid)
        out, _ = giver.communicate("go\n", timeout=120)
        assert out.strip() == "given"
        assert allowed(point, sid)  # at once: the point watches the new file
    store.dispose()


def test_garde_s_own_commits_file_is_owner_only_and_used(folder: Path) -> None:
    old = os.umask(0)
    try:
        store = store_at(folder)
    finally:
        os.umask(old)
    path = folder / "garde.db-commits"
    assert path.stat().st_mode & 0o777 == 0o600 and path.stat().st_size == 8 * (1 + 2 * 64)
    assert counter_for(folder / "garde.db") is not None
    store.dispose()



def test_the_word_alone_that_an_earlier_version_made_is_extended_and_used(folder: Path) -> None:
    """Before commits in flight were marked, the file was the word alone (8 bytes): an upgrade must
    not leave every decision reading the store."""
    path = folder / "garde.db-commits"
    path.write_bytes(bytes(8))
    path.chmod(0o600)
    a_withdrawal_is_seen_at_once(folder)
    assert path.stat().st_size == 8 * (1 + 2 * 64)
    assert counter_for(folder / "garde.db") is not None
