"""Checkpoints outside the store: a truncated, rewritten, forged or deleted log fails ``verify --against``."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde import audit
from garde.cli import app
from garde.legal_holds import place_hold
from garde.settings import get_settings
from garde.store import connect, migrate
from tests.audit_tampering import delete_log, forge_entry, recompute_chain, rewrite, rows, truncate_tail

KEY = "k3y-for-the-audit-tests-0123456789"


@pytest.fixture
def store(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """The CLI's store, no audit key, no checkpoint file configured."""
    monkeypatch.setenv("GARDE_DATABASE_URL", migrated_url)
    for name in ("GARDE_AUDIT_KEY", "GARDE_AUDIT_KEY_FILE", "GARDE_AUDIT_CHECKPOINT_FILE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    engine = connect(migrated_url, create=True)
    migrate(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


@pytest.fixture
def checkpointed(store: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store keyed with KEY, 12 entries, and a checkpoint of them in a file."""
    monkeypatch.setenv("GARDE_AUDIT_KEY", KEY)
    get_settings.cache_clear()
    fill(store)
    checkpoints = tmp_path / "audit.checkpoints"
    assert cli("checkpoint", "--to", str(checkpoints))[0] == 0
    return checkpoints


def fill(engine: sa.Engine, appends: int = 3, per_append: int = 4) -> None:
    for n in range(appends):
        with engine.begin() as conn:
            audit.record_many(conn, [audit.Event("decision", {"append": n, "i": i}, subject_id=f"s{i}")
                                     for i in range(per_append)])


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", *args])
    return result.exit_code, " ".join(result.output.split())  # as one line, whatever the wrapping


def tamper(engine: sa.Engine, attack: Callable[[sa.Connection], None]) -> None:
    with engine.begin() as conn:
        attack(conn)


ATTACKS = {
    "recompute the whole chain": recompute_chain,
    "truncate the tail, head updated": lambda conn: truncate_tail(conn, 8),
    "delete the whole log": delete_log,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_without_the_key_fails_against_a_checkpoint(store: sa.Engine, tmp_path: Path,
                                                              attack: str) -> None:
    fill(store)
    checkpoints = tmp_path / "audit.checkpoints"
    assert cli("checkpoint", "--to", str(checkpoints))[0] == 0
    tamper(store, ATTACKS[attack])
    assert cli("verify")[0] == 0 or attack == "delete the whole log"  # the chain alone is consistent
    code, output = cli("verify", "--against", str(checkpoints))
    assert code == 1 and "broken" in output and "ok:" not in output, output


def test_a_forged_entry_fails_against_the_key_and_a_checkpoint(store: sa.Engine, checkpointed: Path) -> None:
    checkpoints = checkpointed
    tamper(store, forge_entry)
    code, output = cli("verify", "--against", str(checkpoints))
    assert code == 1 and "entry 13 not sealed" in output, output
    assert cli("checkpoint", "--to", str(checkpoints))[0] == 1  # a broken log is not checkpointed
    assert len(checkpoints.read_text().splitlines()) == 1


def test_the_checkpoint_file_is_owner_only_whatever_the_umask(store: sa.Engine, tmp_path: Path) -> None:
    fill(store, appends=1)
    checkpoints = tmp_path / "audit.checkpoints"
    previous = os.umask(0o022)
    try:
        code, output = cli("checkpoint", "--to", str(checkpoints))
        fill(store, appends=1)
        assert cli("checkpoint", "--to", str(checkpoints))[0] == 0
    finally:
        os.umask(previous)
    assert code == 0 and "checkpoint: entry 4" in output, output
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    assert [(c["entries"], c["seq"], c["key"], c["mac"]) for c in lines] == [(4, 4, None, None),
                                                                              (8, 8, None, None)]
    with store.connect() as conn:
        assert lines[-1]["hash"] == rows(conn)[-1]["hash"]
    code, output = cli("verify", "--against", str(checkpoints))
    assert code == 0 and "consistent with 2 checkpoints" in output and "chain not keyed" in output


def test_an_empty_log_is_not_ok(store: sa.Engine) -> None:
    code, output = cli("verify")
    assert code == 0 and "nothing to verify" in output and "ok:" not in output


def test_a_deleted_log_fails_when_audited_rows_remain(store: sa.Engine) -> None:
    with store.begin() as conn:
        place_hold(conn, "subject", "email:ada@example.com", "litigation")
    fill(store)
    tamper(store, delete_log)
    code, output = cli("verify")
    assert code == 1 and "audit log is empty but the store holds legal_holds" in output, output


def test_an_edited_checkpoint_fails_its_mac(checkpointed: Path) -> None:
    checkpoints = checkpointed
    line = json.loads(checkpoints.read_text())
    assert line["key"] and line["mac"]
    checkpoints.write_text(json.dumps({**line, "entries": 4, "seq": 4}) + "\n")
    code, output = cli("verify", "--against", str(checkpoints))
    assert code == 1 and "line 1: its MAC does not match" in output, output


def test_a_bad_checkpoint_line_names_the_file_line_and_field(store: sa.Engine, tmp_path: Path) -> None:
    checkpoints = tmp_path / "audit.checkpoints"
    checkpoints.write_text('{"at":"x","entries":1,"seq":1,"hash":"' + "0" * 64 + '","key":null,"mac":null}\n'
                           '{"at":"x","entries":"2","seq":2}\n')
    code, output = cli("verify", "--against", str(checkpoints))
    assert code == 2 and "audit.checkpoints, line 2: field 'entries'" in output, output
    code, output = cli("verify", "--against", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in output


def test_the_checkpoint_setting_is_appended_to_and_verified_against(store: sa.Engine, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoints = tmp_path / "audit.checkpoints"
    monkeypatch.setenv("GARDE_AUDIT_CHECKPOINT_FILE", str(checkpoints))
    get_settings.cache_clear()
    fill(store)
    code, output = cli("verify")
    assert code == 0 and "no checkpoint yet" in output
    written = audit.checkpoint_configured(store)  # what a retention sweep or an erasure does at its end
    assert written is not None and written.seq == 12
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o600
    tamper(store, lambda conn: truncate_tail(conn, 4))
    code, output = cli("verify")
    assert code == 1 and "the log ends at entry 4 but" in output and "line 1 recorded 12 entries" in output


# -- any rewrite made without the key fails against the last checkpoint ---------------------------

N = 10
edits = st.one_of(
    st.tuples(st.just("payload"), st.integers(0, N - 1)),
    st.tuples(st.just("drop"), st.integers(0, N - 1)),
    st.tuples(st.just("swap"), st.integers(0, N - 2)),
    st.tuples(st.just("truncate"), st.integers(0, N - 1)),
    st.tuples(st.just("actor"), st.integers(0, N - 1)),
)


def _edit(entries: list[dict[str, object]], edit: tuple[str, int]) -> list[dict[str, object]]:
    what, at = edit
    if at >= len(entries):
        return entries
    if what == "payload":
        entries[at] = {**entries[at], "payload": json.dumps({"rewritten": at})}
    elif what == "actor":
        entries[at] = {**entries[at], "actor": "mallory"}
    elif what == "drop":
        del entries[at]
    elif what == "swap" and at + 1 < len(entries):
        entries[at], entries[at + 1] = entries[at + 1], entries[at]
    elif what == "truncate":
        del entries[at:]
    return entries


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(edits, min_size=1, max_size=4), st.booleans(), st.booleans())
def test_any_rewrite_without_the_key_fails_against_the_last_checkpoint(
        sqlite_url: str, changes: list[tuple[str, int]], keyed: bool, strip_seals: bool) -> None:
    keys = audit.Keyring.of([KEY.encode()]) if keyed else audit.Keyring()
    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(audit.audit_log.delete())
        conn.execute(audit.audit_head.delete())
        for start in range(0, N, 3):
            appended = [("decision", {"i": i}, f"s{i}", "garde") for i in range(start, min(N, start + 3))]
            audit._append(conn, appended, keys.current)
        original = rows(conn)
        result = audit.verify(conn, keys=keys)
        checkpoint = audit.checkpoints.make_checkpoint(result.checked, result.checked, result.head_hash, keys)
        entries = [dict(e) for e in original]
        for change in changes:
            entries = _edit(entries, change)
        rewrite(conn, entries, strip_seals=strip_seals)
        rewritten = rows(conn)
        verdicts = [audit.verify(conn, keys=keys, checkpoints=[checkpoint]),
                    audit.verify(conn, keys=audit.Keyring(), checkpoints=[checkpoint])]  # the file alone
    engine.dispose()
    if [(e["kind"], e["payload"], e["actor"]) for e in rewritten] == [
            (e["kind"], e["payload"], e["actor"]) for e in original]:
        return  # the edits cancelled out: nothing was rewritten
    assert [v.ok for v in verdicts] == [False, False], (changes, verdicts)


def test_a_tail_cut_below_a_recorded_register_version_fails_without_a_checkpoint(store: sa.Engine) -> None:
    from garde import load_register
    from garde.register.versions import note_register
    from tests.conftest import REGISTERS

    fill(store, appends=1)
    with store.begin() as conn:
        assert note_register(conn, load_register(REGISTERS / "reference-shop.yaml"), "reference-shop.yaml")
    fill(store, appends=1)
    tamper(store, lambda conn: truncate_tail(conn, 4))
    code, output = cli("verify")
    assert code == 1 and "register_versions records entry 5" in output, output


def test_what_an_attacker_wrote_is_printed_as_text_not_markup(checkpointed: Path, store: sa.Engine) -> None:
    with store.begin() as conn:
        conn.execute(audit.audit_log.update().where(audit.audit_log.c.seq == 12).values(seal="[bold]x:9:y"))
    code, output = cli("verify")
    assert code == 1 and "sealed by key [bold]x, which is not configured" in output, output
