"""``garde keys show|rotate-identifier``: the key that protects the store's hashed identifiers
(``garde keys create|list|revoke``, the API keys, are in :mod:`garde.cli.api_keys`).

A new key is read from an environment variable, a file or a hidden prompt, never from the
command line, which other users of the machine and the shell history can read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from garde.cli.confirm import YesOption, confirm
from garde.cli.output import Format, FormatOption, Terminal, emit
from garde.keys import key_status, rotate_identifier_key, short
from garde.problems import GardeError
from garde.store import connect, migrate

keys_app = typer.Typer(help="Keys: the API keys of `garde serve` (create, list, revoke) and the "
                       "identifier key (show it, rotate it without losing anyone).",
                       no_args_is_help=True)
out = Terminal(highlight=False, soft_wrap=True, emoji=False, markup=False)


@keys_app.command("show")
def show(format: FormatOption = Format.text) -> None:
    """Show the store's identifier key record and whether GARDE_IDENTIFIER_KEY opens it.

    Shows fingerprints (HMAC of a fixed label under the key), where the data key came from
    and when it was last rotated; never a key.

    Exits 1 when it is not.

    Example: garde keys show --format json
    """
    engine = connect(_url())
    migrate(engine)
    status = key_status(engine)
    engine.dispose()
    if format is Format.json:
        emit(status.to_data())
    else:
        stored = status.stored
        if stored is not None:
            rotated = stored.rotated_at.isoformat() if stored.rotated_at else "never"
            out.print(f"store key:      {short(stored.fingerprint)} ({stored.origin}, created "
                      f"{stored.created_at.isoformat()}, rotated {rotated})")
        out.print(f"configured key: {short(status.configured_fingerprint)}"
                  + (" (the public demo key)" if status.demo_key else ""))
        out.print("the configured key opens the store" if status.matches
                  else "the configured key does NOT open the store")
    if not status.matches:
        raise typer.Exit(1)


def _url() -> str:
    from garde.settings import get_settings

    return get_settings().database_url


def _new_key(env: str | None, file: Path | None) -> str:
    if env is not None and file is not None:
        raise GardeError("give the new key by --new-key-env or by --new-key-file, not both")
    if env is not None:
        key = os.environ.get(env)
        if not key:
            raise GardeError(f"--new-key-env {env}: the environment variable {env} is not set or empty")
        return key
    if file is not None:
        try:
            key = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise GardeError(f"--new-key-file {file}: {exc.strerror}") from None
        if not key:
            raise GardeError(f"--new-key-file {file}: the file is empty")
        return key
    return str(typer.prompt("New identifier key", hide_input=True, confirmation_prompt=True))


@keys_app.command("rotate-identifier")
def rotate_identifier(
    new_key_env: Annotated[str | None, typer.Option(
        "--new-key-env", metavar="VAR", help="Name of the environment variable holding the new key")] = None,
    new_key_file: Annotated[Path | None, typer.Option(
        "--new-key-file", help="File holding the new key (one line)")] = None,
    actor: Annotated[str, typer.Option("--actor", help="Who does this (in the audit log)")] = "garde",
    yes: YesOption = False,
    format: FormatOption = Format.text,
) -> None:
    """Move the store to a new identifier key, in one audited transaction, losing no one.

    GARDE_IDENTIFIER_KEY must still be the store's current key; the new key comes from an
    environment variable, a file or a hidden prompt (never the command line). The store's data
    key is re-encrypted under the new key: every stored digest, objection, suppression and
    consent still applies. Then set GARDE_IDENTIFIER_KEY to the new key everywhere: from now
    on the old one is refused.

    Example: GARDE_NEW_IDENTIFIER_KEY=... garde keys rotate-identifier --new-key-env GARDE_NEW_IDENTIFIER_KEY
    """
    new_key = _new_key(new_key_env, new_key_file)
    confirm("Rewrite every hashed identifier of the store under the new key? Keep the old key until "
            "every process uses the new one.", yes)
    engine = connect(_url())
    migrate(engine)
    rotation = rotate_identifier_key(engine, new_key, actor=actor)
    engine.dispose()
    if format is Format.json:
        emit(rotation.to_data())
        return
    old, new = short(rotation.old_fingerprint), short(rotation.new_fingerprint)
    out.print(f"identifier key rotated: {old} -> {new} (audit entry {rotation.audit_seq}). "
              "Set GARDE_IDENTIFIER_KEY to the new key now: the old one no longer opens this store.")


def install(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")

