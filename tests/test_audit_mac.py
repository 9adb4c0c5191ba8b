"""The audit key seals the chain: a rewrite or a forged entry made without the key fails verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.settings import get_settings
from tests.audit_tampering import forge_entry, recompute_chain, rows, truncate_tail

KEY = "k3y-for-the-audit-tests-0123456789"
OLD_KEY = "an-older-audit-key-retired-2025"


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GARDE_AUDIT_KEY", KEY)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def use_key(monkeypatch: pytest.MonkeyPatch, key: str | None = None, key_file: Path | None = None) -> None:
    for name, value in (("GARDE_AUDIT_KEY", key), ("GARDE_AUDIT_KEY_FILE", key_file)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()


def fill(engine: sa.Engine, appends: int = 3, per_append: int = 4) -> None:
    for n in range(appends):
        with engine.begin() as conn:
            audit.record_many(conn, [audit.Event("decision", {"allowed": i % 2 == 0, "append": n, "i": i},
                                                 subject_id=f"s{i}") for i in range(per_append)])


def seals(engine: sa.Engine) -> list[str | None]:
    with engine.connect() as conn:
        return [row.get("seal") for row in rows(conn)]


def verify(engine: sa.Engine) -> audit.Verification:
    with engine.connect() as conn:
        return audit.verify(conn)


def test_a_sealed_chain_verifies(engine: sa.Engine, keyed: None) -> None:
    fill(engine)
    with engine.begin() as conn:
        audit.record(conn, "consent.given", {"activity": "newsletter"}, subject_id="s1")
    result = verify(engine)
    assert result == audit.Verification(True, 13) and result.sealed and result.warnings == ()
    sealed = seals(engine)
    assert [seq for seq, seal in enumerate(sealed, 1) if seal] == [4, 8, 12, 13]  # one per append
    assert KEY not in str(sealed)


@pytest.mark.parametrize("attack", [recompute_chain, lambda conn: recompute_chain(conn, strip_seals=True)],
                         ids=["seals kept", "seals stripped"])
def test_a_recomputed_chain_fails_against_the_key(engine: sa.Engine, keyed: None, attack: object) -> None:
    fill(engine)
    with engine.begin() as conn:
        attack(conn)  # type: ignore[operator]
    result = verify(engine)
    assert not result.ok and result.first_bad == 1 and "seal" in (result.reason or "")


def test_a_forged_entry_fails_against_the_key(engine: sa.Engine, keyed: None) -> None:
    fill(engine)
    with engine.begin() as conn:
        forge_entry(conn)
    result = verify(engine)
    assert (result.ok, result.first_bad) == (False, 13) and "not sealed" in (result.reason or "")


def test_a_forged_entry_stays_caught_after_later_appends(engine: sa.Engine, keyed: None) -> None:
    """A legitimate append after the forgery seals only its own entries: the gap shows."""
    fill(engine)
    with engine.begin() as conn:
        forge_entry(conn)
    fill(engine, appends=1)
    result = verify(engine)
    assert (result.ok, result.first_bad) == (False, 13)


def test_a_tail_cut_inside_an_append_fails_against_the_key(engine: sa.Engine, keyed: None) -> None:
    fill(engine)
    with engine.begin() as conn:
        truncate_tail(conn, 10)  # entries 9-10 of the third append stay: its seal (on 12) is gone
    assert (verify(engine).ok, verify(engine).first_bad) == (False, 9)


def test_without_a_key_the_chain_verifies_with_a_loud_warning(engine: sa.Engine,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch)
    fill(engine)
    result = verify(engine)
    assert result.ok and not result.sealed
    assert any("chain not keyed" in w and "full rewrite" in w for w in result.warnings)


def test_an_unkeyed_log_is_sealed_by_the_first_append_with_the_key(engine: sa.Engine,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch)
    fill(engine, appends=2)
    use_key(monkeypatch, KEY)
    result = verify(engine)
    assert not result.ok and "no entry is sealed" in (result.reason or "")
    fill(engine, appends=1)
    result = verify(engine)
    assert result.ok and result.sealed
    assert any("entries 1-8 were written before the audit key" in w for w in result.warnings)


def test_a_process_without_the_key_writing_after_sealed_entries_fails(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch, KEY)
    fill(engine, appends=2)
    use_key(monkeypatch)
    fill(engine, appends=1)
    use_key(monkeypatch, KEY)
    result = verify(engine)
    assert (result.ok, result.first_bad) == (False, 9) and "GARDE_AUDIT_KEY" in (result.reason or "")


def test_a_rotated_key_keeps_verifying_what_it_sealed(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    use_key(monkeypatch, OLD_KEY)
    fill(engine, appends=2)
    keys = tmp_path / "audit.keys"
    keys.write_text(f"# current first, retired after\n{KEY}\n{OLD_KEY}\n")
    use_key(monkeypatch, key_file=keys)
    fill(engine, appends=1)
    assert verify(engine).ok
    seal_keys = {seal.split(":")[0] for seal in seals(engine) if seal}
    assert len(seal_keys) == 2
    use_key(monkeypatch, KEY)  # the retired key dropped: its seals can no longer be checked
    result = verify(engine)
    assert not result.ok and "not configured" in (result.reason or "")


def test_the_writer_process_seals_with_the_parents_key(sqlite_url: str, keyed: None) -> None:
    from garde.store import connect, migrate

    engine = connect(sqlite_url, create=True)
    migrate(engine)
    with audit.ProcessAuditWriter(engine, batch_size=5, max_delay=30, flush_at_exit=False) as writer:
        assert isinstance(writer._child, audit._ChildSink)
        for i in range(12):
            writer.add(audit.Event("decision", {"i": i}))
    result = verify(engine)
    engine.dispose()
    assert result.ok and result.sealed and result.checked == 12


@pytest.mark.parametrize("setting", ["short", "file"])
def test_a_bad_key_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            setting: str) -> None:
    if setting == "short":
        use_key(monkeypatch, "secret")
        message = "GARDE_AUDIT_KEY: an audit key needs at least 16 characters"
    else:
        use_key(monkeypatch, key_file=tmp_path / "missing.keys")
        message = "missing.keys: cannot be read"
    with pytest.raises(GardeError, match=message):
        audit.keys.configured_keyring()
    get_settings.cache_clear()


def test_a_verification_during_appends_sees_no_break(engine: sa.Engine, keyed: None) -> None:
    """Entries committed while verify streams the log (a scheduled checkpoint on a busy store) are
    left for the next verification, not taken for removed entries."""
    import threading

    fill(engine, appends=5)
    stop = threading.Event()

    def append() -> None:
        while not stop.is_set():
            fill(engine, appends=1, per_append=20)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        results = [verify(engine) for _ in range(15)]
    finally:
        stop.set()
        writer.join()
    assert [r.reason for r in results if not r.ok] == []
    assert verify(engine).ok


@pytest.mark.parametrize("seal", ["", "garbage", "{id}:0:x", "{id}:99:x", "{id}:1:é", "k:1:x", "::::"])
def test_a_malformed_seal_is_a_break_not_a_crash(engine: sa.Engine, keyed: None, seal: str) -> None:
    fill(engine, appends=1)
    key_id = audit.keys.AuditKey.from_secret(KEY.encode()).id
    with engine.begin() as conn:
        conn.execute(audit.audit_log.update().where(audit.audit_log.c.seq == 4)
                     .values(seal=seal.replace("{id}", key_id)))
    result = verify(engine)
    assert (result.ok, result.first_bad is not None) == (False, True)
