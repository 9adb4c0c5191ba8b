"""Personal data on disk is readable by its owner only (0600 files, 0700 folders), whatever the umask."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde.private_files import open_private, private_folder, write_private, write_private_files
from garde.rights.mailer import FileMailer
from garde.store import connect, migrate

from .conftest import mode

pytestmark = pytest.mark.usefixtures("umask_022")


def test_store_sqlite_file_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "state" / "garde.db"
    engine = connect(f"sqlite:///{database}", create=True)
    try:
        migrate(engine)
        with engine.begin() as conn:  # a write, so the WAL holds pages
            conn.execute(sa.text("CREATE TABLE probe (x TEXT)"))
            conn.execute(sa.text("INSERT INTO probe VALUES ('ana@example.org')"))
        with engine.connect():
            wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
            commits = Path(f"{database}-commits")  # garde.store.commits: a counter, owner-only too
            assert wal.exists() and shm.exists() and commits.exists()
            assert {p.name: mode(p) for p in (database, wal, shm, commits)} == {
                "garde.db": 0o600, "garde.db-wal": 0o600, "garde.db-shm": 0o600, "garde.db-commits": 0o600}
        assert mode(database.parent) == 0o700
    finally:
        engine.dispose()


def test_store_leaves_an_existing_folder_as_the_operator_set_it(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    engine = connect(f"sqlite:///{tmp_path / 'garde.db'}", create=True)
    engine.dispose()
    assert mode(tmp_path) == 0o755 and mode(tmp_path / "garde.db") == 0o600


def test_outbox_mail_is_owner_only(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "outbox"
    FileMailer(outbox).send("ana@example.org", "Your code", "123456")
    (message,) = outbox.glob("*.eml")
    assert (mode(tmp_path / "var"), mode(outbox), mode(message)) == (0o700, 0o700, 0o600)


def test_private_writers_tighten_a_file_written_before(tmp_path: Path) -> None:
    target = tmp_path / "audience.csv"
    target.write_text("old")
    target.chmod(0o644)
    with open_private(target) as handle:
        handle.write("email\n")
    assert mode(target) == 0o600 and target.read_text() == "email\n"
    write_private(tmp_path / "a" / "b" / "report.json", "{}")
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    assert mode(tmp_path / "a" / "b" / "report.json") == 0o600
    assert private_folder(tmp_path / "a") == tmp_path / "a"


def test_lock_files_beside_the_store_are_owner_only(tmp_path: Path, umask_022: None) -> None:
    """The sweep lock (who holds it) and the request run locks sit beside the store: owner-only too."""
    from garde.retention.lock import sweep_lock
    from garde.rights.run_lock import request_run_lock

    database = tmp_path / "garde.db"
    engine = connect(f"sqlite:///{database}", create=True)
    try:
        with sweep_lock(engine), request_run_lock(engine, "3f2a9c41-0000-4000-8000-000000000000"):
            pass
    finally:
        engine.dispose()
    assert mode(tmp_path / "garde.db.sweep-lock") == 0o600
    assert mode(tmp_path / "garde.db.run-locks") == 0o600


@pytest.mark.parametrize("writer", ["text", "bytes"])
def test_a_symlink_where_personal_data_is_written_is_not_followed(tmp_path: Path, writer: str) -> None:
    """Whoever can write a folder garde writes into (an exports folder shared with a team) could put a
    link at the next file's name (``<export>.csv.part``): the worker would write the data through it,
    into a file of the linker's choosing, or over a file of the worker's user (its store, its keys)."""
    victim = tmp_path / "victim"
    victim.write_text("the worker's own file", encoding="utf-8")
    planted = tmp_path / "exports" / "audience.csv.part"
    private_folder(planted.parent)
    planted.symlink_to(victim)
    with pytest.raises(OSError):
        if writer == "text":
            with open_private(planted) as handle:
                handle.write("ana@example.org\n")
        else:
            write_private(planted, b"ana@example.org\n")
    assert victim.read_text(encoding="utf-8") == "the worker's own file"


def test_a_private_folder_looks_up_only_to_the_first_folder_that_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's answer folder is made (and its files' folder checked) on every access request: the
    folders above the first existing one are not looked at (each ancestor up to ``/`` was, before)."""
    import os

    looked: list[str] = []
    real_stat = os.stat

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        looked.append(str(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    target = tmp_path / "results" / "request"
    monkeypatch.setattr(os, "stat", stat)
    private_folder(target)
    private_folder(target)
    monkeypatch.undo()
    assert looked == [str(target), str(target.parent), str(tmp_path), str(target)]
    assert mode(target) == mode(target.parent) == 0o700


@pytest.mark.parametrize("writer", ["text", "bytes"])
def test_a_symlinked_folder_within_garde_s_own_is_not_followed(tmp_path: Path, writer: str) -> None:
    """A link planted as the file's folder (a request's answer folder ``<results>/<id>`` made a link
    to a folder of the linker's choosing): the file is not written through it; a folder garde makes
    on the way is owner-only."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results = private_folder(tmp_path / "results")
    (results / "3f2a9c41").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError, match="symbolic link"):
        if writer == "text":
            with open_private(results / "3f2a9c41" / "access.json", within=results) as handle:
                handle.write("ana@example.org\n")
        else:
            write_private(results / "3f2a9c41" / "access.json", b"ana@example.org\n", within=results)
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(OSError, match="symbolic link"):  # the file's own name planted as a link
        write_private(results / "3f2a9c41", b"{}", within=results)
    write_private(results / "b" / "c" / "access.json", b"{}", within=results)
    assert mode(results / "b") == mode(results / "b" / "c") == 0o700
    assert mode(results / "b" / "c" / "access.json") == 0o600


def test_answer_files_written_together_are_owner_only_and_follow_no_link(tmp_path: Path) -> None:
    """A request's answer files written through one walk to their folder (``write_private_files``):
    the same rules as one file at a time: no link followed below the results folder (the request's
    folder, or a file's own name, planted as one), new folders 0700, files 0600, an older file's
    wider mode tightened and its content replaced."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results = private_folder(tmp_path / "results")
    (results / "3f2a9c41").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError, match="symbolic link"):
        write_private_files(results / "3f2a9c41", {"access.json": "{}", "access.html": b"<p>"},
                            within=results)
    assert list(elsewhere.iterdir()) == []
    folder = results / "b" / "c"
    folder.parent.mkdir(mode=0o755)
    folder.mkdir(mode=0o755)
    (folder / "access.html").symlink_to(elsewhere / "report.html")
    with pytest.raises(OSError, match="symbolic link"):
        write_private_files(folder, {"access.json": "{}", "access.html": "<p>"}, within=results)
    assert list(elsewhere.iterdir()) == []
    (folder / "access.html").unlink()
    (folder / "access.json").write_text("an older, longer answer")
    (folder / "access.json").chmod(0o644)
    written = write_private_files(folder, {"access.json": '{"é": 1}', "access.html": b"<p>"},
                                  within=results)
    assert written == [folder / "access.json", folder / "access.html"]
    assert (folder / "access.json").read_text(encoding="utf-8") == '{"é": 1}'
    assert (folder / "access.html").read_bytes() == b"<p>"
    assert mode(folder / "access.json") == mode(folder / "access.html") == 0o600
    assert mode(folder) == 0o755  # a folder that existed is left as it was set
    new = write_private_files(results / "d" / "e", {"access.json": "[]"}, within=results)
    assert mode(results / "d") == mode(results / "d" / "e") == 0o700 and mode(new[0]) == 0o600


def test_files_flushed_as_the_interpreter_exits_are_written_and_flushed_in_its_thread(tmp_path: Path) -> None:
    # At exit no thread takes new work (concurrent.futures refuses it): the flushes run in the caller.
    script = tmp_path / "at_exit.py"
    script.write_text(textwrap.dedent(f"""
        import atexit, os
        from pathlib import Path
        from garde.private_files import write_private_files

        flushed = []
        fsync = os.fsync

        def noted(descriptor):
            fsync(descriptor)
            flushed.append(descriptor)

        def at_exit():
            os.fsync = noted
            results = Path({str(tmp_path / "results")!r})
            write_private_files(results / "r1", {{"access.json": "{{}}", "words.json": "[]"}}, within=results,
                                durable=True)
            print(len(flushed))

        atexit.register(at_exit)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4"]  # both files, their folder and the results folder
    assert (tmp_path / "results" / "r1" / "access.json").read_text() == "{}"
