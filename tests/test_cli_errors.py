"""Bad input at the CLI is one clear line and a non-zero exit, never a traceback.

Each case is something a user typed or a file a user gave that used to end
in a Python traceback (or, worse, in silence): malformed YAML, a folder or a
hostile file as a register, a database URL that is not one or does not
answer, an e-mail address that is not one.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from garde.cli import app
from garde.settings import get_settings

from .conftest import ROOT
from .test_yaml_limits import billion_laughs

runner = CliRunner()


@pytest.fixture
def env(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return cli_env


def refused(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.mark.parametrize(("content", "expected"), [
    (b"controller:\n  name: [x\n", "broken.yaml:3"),
    (b"controller:\n\tname: x\n", "broken.yaml:2"),
    (b"controller:\n  name: \xff\xfe\n", "not UTF-8 text"),
    (bytes(range(256)) * 3, "broken.yaml"),
    (billion_laughs().encode(), "more than 200,000 values"),
    (b"controller:\n  name: " + b"[" * 990 + b"]" * 990 + b"\n", "nested more than 50 levels"),
    (b"a: &a [*a]\n", "a loop"),
])
def test_a_broken_register_is_a_clear_error_in_lint_and_register_show(tmp_path: Path, content: bytes,
                                                                       expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(content)
    for command in (["lint", str(path)], ["register", "show", str(path)], ["datasets", "check", str(path)]):
        result = refused(*command)
        assert expected in result.output.replace("\n", ""), (command, result.output)


def test_a_folder_given_as_a_register_is_a_clear_error(tmp_path: Path) -> None:
    result = refused("register", "show", str(tmp_path))
    assert f"{tmp_path}: is a folder, not a file" in result.output.replace("\n", "")


@pytest.mark.parametrize(("url", "expected"), [
    ("nonsense", "'nonsense' is not a database URL"),
    ("mysql://user:secret@127.0.0.1/shop", "no database driver for 'mysql'"),
    ("postgresql+psycopg://garde:secret@127.0.0.1:{port}/garde", "cannot open the store"),
])
def test_a_bad_store_url_is_a_clear_error_without_the_password(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                               url: str, expected: str) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("GARDE_DATABASE_URL", url.format(port=port))
    get_settings.cache_clear()
    result = refused("request", "list")
    output = result.output.replace("\n", "")
    assert expected in output
    assert "secret" not in output


def test_a_store_url_whose_folder_cannot_be_made_is_a_clear_error(env: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "a-file").write_text("not a folder")
    monkeypatch.setenv("GARDE_DATABASE_URL", f"sqlite:///{env / 'a-file' / 'garde.db'}")
    get_settings.cache_clear()
    result = refused("request", "list")
    assert "cannot create the folder" in result.output.replace("\n", "")


@pytest.mark.parametrize("address", ["a@", "@@", "x", "@example.com", "a b@example.com", "a@[192.0.2.1]"])
def test_a_malformed_email_is_refused_with_the_reason(env: Path, address: str) -> None:
    result = refused("request", "submit", "--type", "access", "--email", address)
    assert result.exit_code == 2
    assert f"{address!r} is not an e-mail address: " in result.output.replace("\n", "")
    assert not (env / "outbox").exists() or not list((env / "outbox").iterdir())


def test_a_dataset_url_naming_a_missing_sqlite_file_is_an_error_and_creates_nothing(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shop, crm = env / "shop-typo.db", env / "missing" / "crm.db"
    monkeypatch.setenv("GARDE_SHOP_URL", f"sqlite:///{shop}")
    monkeypatch.setenv("GARDE_CRM_URL", f"sqlite:///{crm}")
    result = refused("datasets", "find", "email=ada@example.com", "--datasets", str(ROOT / "datasets"))
    output = result.output.replace("\n", "")
    assert f"error dataset 'crm': no database file at sqlite:///{crm}: check the URL" in output
    assert not shop.exists() and not crm.parent.exists()


def test_a_dataset_file_removed_after_it_was_opened_is_not_created_again(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from garde.problems import GardeError
    from garde.store import connect

    path = tmp_path / "shop.db"
    with pytest.raises(GardeError, match="no database file at"):
        connect(f"sqlite:///{path}")
    assert not path.exists()
    created = connect(f"sqlite:///{path}", create=True)
    with created.begin() as conn:
        conn.exec_driver_sql("create table customers (id integer primary key)")
    created.dispose()
    engine = connect(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar() == 1
    engine.dispose()
    path.unlink()
    with pytest.raises(sa.exc.OperationalError), engine.connect():
        pass
    assert not path.exists()


@pytest.mark.parametrize(("content", "expected"), [
    (b"email,activity\n\xff\xfe,newsletter\n", "line 2: not UTF-8 text"),
    (bytes(range(256)) * 4, "not UTF-8 text"),
    (b"email,activity\na@example.com," + b"x" * 200_000 + b"\n", "field larger than field limit"),
])
def test_a_broken_consent_csv_is_a_clear_error(env: Path, content: bytes, expected: str) -> None:
    path = env / "export.csv"
    path.write_bytes(content)
    register = str(ROOT / "registers" / "reference-shop.yaml")
    result = refused("consent", "import", str(path), "--register", register)
    assert expected in result.output.replace("\n", "")


def test_a_data_map_url_that_is_not_one_is_a_clear_error_in_datasets_check(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARDE_SHOP_URL", "nonsense")
    result = refused("datasets", "check", str(ROOT / "datasets"))
    assert "'nonsense' is not a database URL" in result.output.replace("\n", "")


# One bad input per command: each is a usage or input error, exit status 2, one clear message.
# Every command of the CLI must have one here, so a new command is swept too.
BAD_INPUT: dict[str, list[str]] = {
    "taxonomy": ["taxonomy", "colours"],
    "register show": ["register", "show", "registers/no-such-register.yaml"],
    "register export": ["register", "export", "registers/negomarkets.yaml", "--format", "docx"],
    "lint": ["lint", "registers/negomarkets.yaml", "--lang", "de"],  # a missing file is GL000, exit 1
    "notice": ["notice", "registers/no-such-register.yaml"],
    "analyse": ["analyse", "no-such-notice.pdf"],
    "datasets check": ["datasets", "check", "no-such-datasets.yaml"],
    "datasets show": ["datasets", "show", "no-such-datasets.yaml"],
    "datasets graph": ["datasets", "graph", "no-such-datasets.yaml"],
    "datasets find": ["datasets", "find", "email"],
    "shop generate": ["shop", "generate", "--as-of", "2026-13-45", "--yes"],
    "shop sample": ["shop", "sample", "--count", "0"],
    "request submit": ["request", "submit", "--type", "complaint", "--email", "ana@example.org"],
    "request verify": ["request", "verify", "deadbeef", "--code", "123456"],
    "request send-code": ["request", "send-code", "deadbeef"],
    "request unlock": ["request", "unlock", "deadbeef", "--reason", "called back"],
    "request list": ["request", "list", "--format", "yaml"],
    "request remind": ["request", "remind", "--within", "-1"],
    "request show": ["request", "show", "deadbeef"],
    "request run": ["request", "run", "deadbeef", "--yes"],
    "request extend": ["request", "extend", "deadbeef", "--reason", "complex"],
    "request reject": ["request", "reject", "deadbeef", "--reason", "unfounded"],
    "request forward": ["request", "forward", "deadbeef", "--controller", "Distributor SA"],
    "request instruct-erasure": ["request", "instruct-erasure", "deadbeef", "--controller", "Distributor SA",
                                 "--instruction", "mail of 2026-12-07", "--instructed-by", "its DPO",
                                 "--yes"],
    "request instruct-restriction": ["request", "instruct-restriction", "deadbeef", "--controller",
                                     "Distributor SA", "--instruction", "mail of 2026-12-07",
                                     "--instructed-by", "its DPO"],
    "request lift-restriction": ["request", "lift-restriction", "deadbeef", "--controller",
                                 "Distributor SA", "--instruction", "mail of 2026-12-08",
                                 "--instructed-by", "its DPO"],
    "consent give": ["consent", "give", "no-such-activity", "--email", "ana@example.org"],
    "consent withdraw": ["consent", "withdraw", "no-such-activity", "--email", "ana@example.org"],
    "consent show": ["consent", "show"],
    "consent history": ["consent", "history"],
    "consent receipt": ["consent", "receipt", "deadbeef"],
    "consent import": ["consent", "import", "no-such-export.csv"],
    "consent gpc": ["consent", "gpc"],
    "consent renewals": ["consent", "renewals", "--today", "yesterday"],
    "decide": ["decide", "no-such-activity", "--email", "ana@example.org"],
    "audience": ["audience", "no-such-activity", "--channel", "email"],
    "audit verify": ["audit", "verify", "--against", "no-such-checkpoints.jsonl"],
    "audit checkpoint": ["audit", "checkpoint"],
    "audit export-head": ["audit", "export-head", "--url", "http://logs.example.com/heads"],
    "audit export": ["audit", "export", "--format", "csv"],
    "retention plan": ["retention", "plan", "--today", "yesterday"],
    "retention sweep": ["retention", "sweep", "--today", "yesterday", "--yes"],
    "retention runs": ["retention", "runs", "--limit", "0"],
    "hold place": ["hold", "place", "--scope", "planet", "earth", "--reason", "why not"],
    "hold list": ["hold", "list", "--format", "yaml"],
    "hold release": ["hold", "release", "42"],
    "keys show": ["keys", "show", "--format", "yaml"],
    "keys rotate-identifier": ["keys", "rotate-identifier", "--new-key-env", "GARDE_NO_SUCH_VARIABLE"],
    "keys create": ["keys", "create", "--role", "admin", "--name", "shop"],
    "keys list": ["keys", "list", "--format", "yaml"],
    "keys revoke": ["keys", "revoke", "no-such-key"],
    "serve": ["serve", "--port", "0"],
    "demo": ["demo", "--customers", "1"],
    "db upgrade": ["db", "upgrade", "--format", "yaml"],
    "worker": ["worker"],  # SQLite: no queue, the work runs inline
    "jobs list": ["jobs", "list", "--status", "stuck"],
    "jobs show": ["jobs", "show", "0"],
    "jobs retry": ["jobs", "retry", "1"],  # SQLite: no job is named
    "jobs cancel": ["jobs", "cancel", "1"],
    "jobs prune": ["jobs", "prune", "--days", "0"],
}


def test_every_command_is_swept_with_a_bad_input() -> None:
    import typer

    from tests.test_cli_meta import _commands

    assert set(BAD_INPUT) == {name for name, _ in _commands(typer.main.get_command(app))}


@pytest.mark.parametrize("command", list(BAD_INPUT))
def test_a_bad_input_is_exit_status_2_with_a_message_and_no_traceback(env: Path, command: str) -> None:
    result = refused(*BAD_INPUT[command])
    assert result.exit_code == 2, (command, result.output)
    assert result.output.strip(), command
