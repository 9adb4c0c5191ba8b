"""The identifier key: a store refuses another key, and rotating it loses no one (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from garde import audit, consent, subjects
from garde.cli import app
from garde.consent.ledger import Evidence
from garde.consent.objections import object_to
from garde.decide import DecisionPoint
from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.settings import get_settings
from garde.store import connect, is_postgres, migrate, open_store
from garde.suppression import is_suppressed, suppress
from tests.conftest import REGISTERS
from tests.test_decide import register

SHOP_REGISTER = str(REGISTERS / "reference-shop.yaml")
OLD_KEY = "old-identifier-key-Jx7q2V9mWk4LpR8tZc3N"
NEW_KEY = "new-identifier-key-Qe5bH1uYs6DfA0gTo9Mi"
UseKey = Callable[[str], None]


@pytest.fixture
def use_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseKey]:
    """Set GARDE_IDENTIFIER_KEY for the rest of the test, as an operator would."""
    def use(key: str) -> None:
        monkeypatch.setenv("GARDE_IDENTIFIER_KEY", key)
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


def people(engine: sa.Engine) -> dict[str, str]:
    """An objector, a consenting subject and an address on the suppression list only."""
    with engine.begin() as conn:
        ids = {name: subjects.ensure_subject(conn, {"email": f"{name}@example.com"})
               for name in ("objector", "consenter")}
        consent.give(conn, ids["objector"], "newsletter", channel="email")
        evidence = Evidence.from_request("192.0.2.1", "Firefox", key=identifier_data_key(conn))
        consent.give(conn, ids["consenter"], "newsletter", channel="email", evidence=evidence)
        object_to(conn, ids["objector"], "direct_marketing")
        suppress(conn, {"email": "complained@example.com"}, "complaint")
    return ids


def allowed(engine: sa.Engine, name: str) -> bool:
    with DecisionPoint(register(), engine, audit=False) as point:
        decision = point.decide("newsletter", {"email": f"{name}@example.com"}, ["contact.email"], "email")
    return decision.allowed


def test_changing_the_key_without_rotating_is_refused(database_url: str, use_key: UseKey) -> None:
    use_key(OLD_KEY)
    engine = open_store(database_url)
    people(engine)
    engine.dispose()
    use_key(NEW_KEY)
    with pytest.raises(GardeError, match="written with another identifier key") as refused:
        open_store(database_url)
    message = str(refused.value)
    from garde.keys import fingerprint, short

    assert short(fingerprint(OLD_KEY)) in message and short(fingerprint(NEW_KEY)) in message
    assert "garde keys rotate-identifier" in message and OLD_KEY not in message
    # an engine made without open_store is refused at its first look-up, before any digest is made
    engine = connect(database_url, create=True)
    with engine.connect() as conn, pytest.raises(GardeError, match="another identifier key"):
        subjects.find_subject(conn, {"email": "objector@example.com"})
    engine.dispose()


def test_the_store_keeps_a_fingerprint_never_the_key(engine: sa.Engine) -> None:
    key = get_settings().identifier_key
    with engine.connect() as conn:
        (row,) = conn.execute(sa.text("SELECT * FROM store_keys")).mappings().all()
    stored = " ".join(str(v) for v in row.values())
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() not in stored
    assert row["fingerprint"] == hmac.digest(key.encode(), b"garde identifier key fingerprint v1",
                                             "sha256").hex()
    assert row["origin"] == "generated"


def test_rotation_keeps_objections_suppressions_and_consents(database_url: str, use_key: UseKey) -> None:
    from garde.keys import rotate_identifier_key

    use_key(OLD_KEY)
    engine = open_store(database_url)
    ids = people(engine)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT kind, hash FROM subject_identifiers ORDER BY hash")).all()
    rotate_identifier_key(engine, NEW_KEY, actor="dpo@boutique.example")
    engine.dispose()

    use_key(NEW_KEY)
    engine = open_store(database_url)
    with engine.connect() as conn:
        assert subjects.find_subject(conn, {"email": "objector@example.com"}) == ids["objector"]
        assert is_suppressed(conn, {"email": "objector@example.com"})
        assert is_suppressed(conn, {"email": "Complained@example.com"})
        assert not is_suppressed(conn, {"email": "consenter@example.com"})
        # nothing was rehashed: the digests the audit chain and the requests refer to still stand
        after = conn.execute(sa.text("SELECT kind, hash FROM subject_identifiers ORDER BY hash")).all()
        assert after == before
        # and the consent evidence can still be checked against an IP address
        (ip_hash,) = conn.execute(sa.text("SELECT ip_hash FROM consent_events WHERE ip_hash <> ''")).one()
        assert ip_hash == consent.hash_ip("192.0.2.1", identifier_data_key(conn))
    assert not allowed(engine, "objector") and allowed(engine, "consenter")
    with engine.begin() as conn:  # a new subject on the new key is found like the old ones
        new_id = subjects.ensure_subject(conn, {"email": "newcomer@example.com"})
        assert subjects.find_subject(conn, {"email": "NEWCOMER@example.com"}) == new_id
    engine.dispose()

    use_key(OLD_KEY)
    with pytest.raises(GardeError, match="another identifier key"):
        open_store(database_url)


def test_rotation_is_audited(engine: sa.Engine) -> None:
    from garde.keys import fingerprint, rotate_identifier_key

    old_key = get_settings().identifier_key
    rotation = rotate_identifier_key(engine, NEW_KEY, actor="dpo@boutique.example")
    with engine.connect() as conn:
        (entry,) = list(audit.entries(conn, kind="keys.identifier_rotated"))
        assert audit.verify(conn).ok
        (rotated_at,) = conn.execute(sa.text("SELECT rotated_at FROM store_keys")).one()
    assert entry["seq"] == rotation.audit_seq and entry["actor"] == "dpo@boutique.example"
    assert entry["payload"]["old_fingerprint"] == fingerprint(old_key)
    assert entry["payload"]["new_fingerprint"] == fingerprint(NEW_KEY)
    assert old_key not in str(entry) and NEW_KEY not in str(entry)
    assert rotated_at is not None


def _fail_updates_of_store_keys(engine: sa.Engine) -> None:
    """A real database failure at the last step of the rotation (after its audit entry)."""
    with engine.begin() as conn:
        if is_postgres(conn):
            conn.execute(sa.text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"))
            conn.execute(sa.text("CREATE TRIGGER refuse BEFORE UPDATE ON store_keys "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse()"))
        else:
            conn.execute(sa.text("CREATE TRIGGER refuse BEFORE UPDATE ON store_keys "
                                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END"))


def test_a_failed_rotation_leaves_the_store_on_the_old_key(database_url: str, use_key: UseKey) -> None:
    from garde.keys import rotate_identifier_key

    use_key(OLD_KEY)
    engine = open_store(database_url)
    ids = people(engine)
    _fail_updates_of_store_keys(engine)
    with pytest.raises(sa.exc.DBAPIError, match="disk full"):
        rotate_identifier_key(engine, NEW_KEY)
    engine.dispose()
    engine = open_store(database_url)  # still the old key
    with engine.connect() as conn:
        assert list(audit.entries(conn, kind="keys.identifier_rotated")) == []
        assert audit.verify(conn).ok
        assert subjects.find_subject(conn, {"email": "objector@example.com"}) == ids["objector"]
    engine.dispose()
    use_key(NEW_KEY)
    with pytest.raises(GardeError, match="another identifier key"):
        open_store(database_url)


@pytest.mark.parametrize(("new_key", "refusal"), [
    ("garde-demo-key-change-me", "public demo key"),
    ("short-key", "too weak"),
    ("a" * 40, "too weak"),
    (OLD_KEY, "already in use"),
    # Blanks around a key are lost by many a secret store, .env file or shell: the store, which the
    # old key no longer opens, would then be locked for good (issue 9 red team).
    (f"  {NEW_KEY}", "begins or ends with a blank"),
    (f"{NEW_KEY}\n", "begins or ends with a blank"),
])
def test_rotation_refuses_a_key_that_protects_nothing(sqlite_url: str, use_key: UseKey, new_key: str,
                                                     refusal: str) -> None:
    from garde.keys import rotate_identifier_key

    use_key(OLD_KEY)
    engine = open_store(sqlite_url)
    with pytest.raises(GardeError, match=refusal):
        rotate_identifier_key(engine, new_key)
    engine.dispose()


def test_rotation_needs_the_store_current_key(sqlite_url: str, use_key: UseKey) -> None:
    from garde.keys import rotate_identifier_key

    use_key(OLD_KEY)
    engine = open_store(sqlite_url)
    with pytest.raises(GardeError, match="another identifier key"):
        rotate_identifier_key(engine, NEW_KEY, old_key="some-other-key-that-is-long-enough-0123")
    engine.dispose()


def _legacy_store(url: str, written_with: str) -> sa.Engine:
    """A store as garde wrote it before 0008: digests straight under the operator's key."""
    engine = connect(url, create=True)
    migrate(engine, "0005")

    def digest(value: str) -> str:
        return hmac.digest(written_with.encode(), f"email:{value}".encode(), "sha256").hex()

    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO subjects (id, state, created_at) VALUES ('s1', 'active', "
                             "CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO subject_identifiers (subject_id, kind, hash) VALUES "
                             "('s1', 'email', :h)"), {"h": digest("ada@example.com")})
        conn.execute(sa.text("INSERT INTO suppression_list (kind, hash, reason, added_at) VALUES "
                             "('email', :h, 'objection', CURRENT_TIMESTAMP)"),
                     {"h": digest("ada@example.com")})
        conn.execute(sa.text(
            "INSERT INTO requests (id, type, status, identities, identity_hashes, language, details, "
            "received_at, deadline) VALUES ('r1', 'access', 'received', :i, :ih, 'en', '{}', "
            "CURRENT_TIMESTAMP, CURRENT_DATE)"),
            {"i": '{"email": "ada@example.com"}', "ih": f'{{"email": "{digest("ada@example.com")}"}}'})
    return engine


def test_a_store_written_before_fingerprints_keeps_its_digests(database_url: str, use_key: UseKey) -> None:
    from garde.keys import rotate_identifier_key

    _legacy_store(database_url, OLD_KEY).dispose()
    use_key(OLD_KEY)
    engine = open_store(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT origin FROM store_keys")).scalar() == "legacy"
        assert subjects.find_subject(conn, {"email": "ada@example.com"}) == "s1"
        assert is_suppressed(conn, {"email": "ada@example.com"})
    rotate_identifier_key(engine, NEW_KEY)
    engine.dispose()
    use_key(NEW_KEY)
    engine = open_store(database_url)
    with engine.connect() as conn:
        assert subjects.find_subject(conn, {"email": "ada@example.com"}) == "s1"
    engine.dispose()


def test_a_store_written_before_fingerprints_refuses_another_key(database_url: str,
                                                                 use_key: UseKey) -> None:
    _legacy_store(database_url, OLD_KEY).dispose()
    use_key(NEW_KEY)
    with pytest.raises(GardeError, match="hashed with another key"):
        open_store(database_url)
    use_key(OLD_KEY)  # nothing was recorded: the right key still opens it
    open_store(database_url).dispose()


def test_rotate_identifier_cli_reads_the_new_key_from_the_environment(
        sqlite_url: str, use_key: UseKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARDE_DATABASE_URL", sqlite_url)
    use_key(OLD_KEY)
    engine = open_store()
    people(engine)
    engine.dispose()
    runner = CliRunner()
    result = runner.invoke(app, ["keys", "rotate-identifier", "--new-key-env", "UNSET_KEY_VARIABLE"])
    assert result.exit_code == 2 and "UNSET_KEY_VARIABLE" in result.output
    result = runner.invoke(app, ["keys", "rotate-identifier", "--new-key", NEW_KEY])
    assert result.exit_code == 2  # never a key on the command line
    monkeypatch.setenv("GARDE_NEW_IDENTIFIER_KEY", NEW_KEY)
    result = runner.invoke(app, ["keys", "rotate-identifier", "--new-key-env", "GARDE_NEW_IDENTIFIER_KEY",
                                 "--actor", "ops"])
    assert result.exit_code == 0, result.output
    assert "identifier key rotated" in result.output and NEW_KEY not in result.output
    result = runner.invoke(app, ["keys", "show"])
    assert result.exit_code == 1 and "does NOT open the store" in result.output
    result = runner.invoke(app, ["decide", "newsletter", "--email", "objector@example.com",
                                 "--register", SHOP_REGISTER])
    assert result.exit_code == 2 and "another identifier key" in result.output
    assert "Traceback" not in result.output
    use_key(NEW_KEY)
    result = runner.invoke(app, ["keys", "show", "--format", "json"])
    assert result.exit_code == 0 and '"matches": true' in result.output


def test_rotate_identifier_cli_reads_a_key_file_or_a_hidden_prompt(sqlite_url: str, use_key: UseKey,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("GARDE_DATABASE_URL", sqlite_url)
    use_key(OLD_KEY)
    open_store(sqlite_url).dispose()  # `keys` commands act on an existing store, never create one
    key_file = tmp_path / "new.key"  # type: ignore[operator]
    key_file.write_text(NEW_KEY + "\n")
    result = CliRunner().invoke(app, ["keys", "rotate-identifier", "--new-key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    use_key(NEW_KEY)
    third = "third-identifier-key-Vn3sK8pW2xL5rT0y"
    result = CliRunner().invoke(app, ["keys", "rotate-identifier"], input=f"{third}\n{third}\n")
    assert result.exit_code == 0, result.output
    assert third not in result.output  # the prompt hides what is typed
    use_key(third)
    open_store(sqlite_url).dispose()


def test_the_demo_key_is_refused_on_postgresql(postgres_url: str, use_key: UseKey,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from garde.keys import DEMO_KEY, DemoKeyWarning

    use_key(DEMO_KEY)
    with pytest.raises(GardeError, match="public demo key"):
        open_store(postgres_url)
    monkeypatch.setenv("GARDE_ALLOW_DEMO_KEY", "true")
    get_settings.cache_clear()
    with pytest.warns(DemoKeyWarning):
        open_store(postgres_url).dispose()


def test_the_demo_key_is_a_loud_warning_on_the_command_line(sqlite_url: str, use_key: UseKey,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from garde.keys import DEMO_KEY

    monkeypatch.setenv("GARDE_DATABASE_URL", sqlite_url)
    use_key(DEMO_KEY)
    result = CliRunner().invoke(app, ["decide", "newsletter", "--email", "ada@example.com",
                                      "--register", SHOP_REGISTER])
    assert "warning" in result.output and "public demo key" in result.output, result.output
    use_key(OLD_KEY)  # another store: no warning with a key of one's own
    monkeypatch.setenv("GARDE_DATABASE_URL", sqlite_url.replace("garde.db", "other.db"))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["decide", "newsletter", "--email", "ada@example.com",
                                      "--register", SHOP_REGISTER])
    assert "public demo key" not in result.output, result.output


@given(data_key=st.binary(min_size=1, max_size=64), key=st.text(min_size=1), other=st.text(min_size=1))
def test_a_data_key_opens_only_under_its_own_key(data_key: bytes, key: str, other: str) -> None:
    from garde.keys import fingerprint, unwrap, wrap

    wrapped = wrap(data_key, key)
    assert unwrap(wrapped, key) == data_key and wrap(data_key, key) != wrapped  # a fresh nonce each time
    if other != key:
        assert fingerprint(other) != fingerprint(key)
        with pytest.raises(GardeError):
            unwrap(wrapped, other)
