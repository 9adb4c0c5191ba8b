"""Checkpoints of the audit log's head, kept outside the store.

A checkpoint is one JSON line: when it was taken, how many entries the log
had, the head's sequence number and hash, and (with the audit key) the key
id and an HMAC of those fields. The file is only ever appended to and is
created owner-only (0600) whatever the umask. ``garde audit verify
--against FILE`` then checks that the log still holds, at every
checkpointed position, the entry with the checkpointed hash: a truncation, a
rewrite or a deletion of the whole log is caught even by someone who holds
no key, as long as the file itself is out of the attacker's reach (another
host, another account, append-only storage).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde.audit.keys import Keyring
from garde.problems import GardeError

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "at": str, "entries": int, "seq": int, "hash": str, "key": (str, type(None)), "mac": (str, type(None))}


@dataclass(frozen=True)
class Checkpoint:
    """The log's head at ``at``: ``entries`` entries, the last one ``seq`` hashed ``hash``."""

    at: str
    entries: int
    seq: int
    hash: str
    key: str | None = None  # the audit key's id, when the checkpoint is MAC'd
    mac: str | None = None
    source: str = field(default="", compare=False)  # "FILE, line N", for messages

    @property
    def message(self) -> str:
        """What the MAC covers."""
        return f"checkpoint:{self.at}:{self.entries}:{self.seq}:{self.hash}"

    def line(self) -> str:
        data = {"at": self.at, "entries": self.entries, "seq": self.seq, "hash": self.hash,
                "key": self.key, "mac": self.mac}
        return json.dumps(data, separators=(",", ":")) + "\n"


def make_checkpoint(entries: int, seq: int, head_hash: str, keyring: Keyring) -> Checkpoint:
    """A checkpoint of the head ``seq``, ``head_hash``, MAC'd with the current key if there is one."""
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    unsigned = Checkpoint(at, entries, seq, head_hash)
    key = keyring.current
    if key is None:
        return unsigned
    return Checkpoint(at, entries, seq, head_hash, key.id, key.mac(unsigned.message))


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append ``checkpoint`` to ``path`` in one write, synced; the file is made 0600 (created so, or
    tightened: the heads are worth only where nobody else can rewrite them); a symlink is refused."""
    data = checkpoint.line().encode()
    try:
        nofollow = getattr(os, "O_NOFOLLOW", 0)  # a symlink there would have us append elsewhere
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | nofollow, 0o600)
        except FileExistsError:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | nofollow)
        if hasattr(os, "fchmod"):  # the umask, or a file made by hand that others could rewrite
            try:
                os.fchmod(fd, 0o600)
            except OSError:
                os.close(fd)
                raise
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise GardeError(f"audit checkpoint file {path}: cannot be written ({exc.strerror or exc})") from None


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint of ``path``, in file order; a bad line is an error naming the line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GardeError(f"audit checkpoint file {path}: does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GardeError(f"audit checkpoint file {path}: cannot be read ({exc})") from None
    checkpoints = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            checkpoints.append(_parse(line, f"{path}, line {number}"))
    return checkpoints


def _parse(line: str, source: str) -> Checkpoint:
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GardeError(f"{source}: not a JSON object ({exc.msg})") from None
    if not isinstance(data, dict):
        raise GardeError(f"{source}: not a JSON object")
    for name, kind in _FIELDS.items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise GardeError(f"{source}: field {name!r} is missing or not a {_type_name(kind)}")
    if data["seq"] < 0 or data["entries"] < 0 or len(data["hash"]) != 64:
        raise GardeError(f"{source}: field 'seq', 'entries' or 'hash' is out of range")
    return Checkpoint(data["at"], data["entries"], data["seq"], data["hash"], data["key"], data["mac"],
                      source)


def _type_name(kind: type | tuple[type, ...]) -> str:
    return kind.__name__ if isinstance(kind, type) else f"{kind[0].__name__} or null"


def current_head(conn: sa.Connection) -> tuple[int, str]:
    """The head (seq, hash), checked against the log's entry at that seq and the log's end (a
    checkpoint must not record a head the log contradicts); ``(0, GENESIS)`` for an empty log.

    The log's end is read first: an append committed in between moves the head with its entries,
    so it never looks like an entry past the head."""
    from garde.audit import GENESIS, audit_head, audit_log
    from garde.audit.batches import last_link, link_hash

    rows = conn.execute(sa.select(sa.func.max(audit_log.c.seq))).scalar()
    batched = last_link(conn)
    end = None if rows is None and batched is None else max(rows or 0, batched or 0)
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is None or head.seq == 0:
        if end is None and (head is None or head.hash == GENESIS):
            return 0, GENESIS
    elif link_hash(conn, int(head.seq)) == head.hash and (end or 0) <= head.seq:
        return int(head.seq), str(head.hash)
    raise GardeError("the audit log's head does not match its entries: run `garde audit verify`")


def checkpoint_configured(engine: sa.Engine) -> Checkpoint | None:
    """Append the current head to the ``audit_checkpoint_file`` setting's file, if it is set.

    Called at the end of destructive jobs (retention sweep, erasure): cheap (two indexed reads and
    one line), so the chain is not verified here; ``garde audit checkpoint`` verifies first.
    """
    from garde.audit.keys import configured_keyring
    from garde.settings import get_settings

    path = get_settings().audit_checkpoint_file
    if path is None:
        return None
    with engine.connect() as conn:
        seq, digest = current_head(conn)
    checkpoint = make_checkpoint(seq, seq, digest, configured_keyring())
    append_checkpoint(path, checkpoint)
    return checkpoint


class CheckpointWarning(UserWarning):
    """A job finished (its changes committed), but its checkpoint could not be written."""


def checkpoint_after_job(engine: sa.Engine) -> Checkpoint | None:
    """:func:`checkpoint_configured` at the end of a committed destructive job: a checkpoint that
    cannot be written is a loud warning, never a failure of a job whose changes are committed."""
    try:
        return checkpoint_configured(engine)
    except (GardeError, OSError) as exc:
        warnings.warn(CheckpointWarning(f"the job is done, but its audit checkpoint was not written: {exc}"),
                      stacklevel=2)
        return None
