"""Files handed to a worker through the store: a consent import's CSV, encrypted, until its job ends.

A worker may run on another machine than the command that read the file, so the file's bytes go
into ``job_staging`` in chunks, each encrypted with AES-256-GCM under a key derived from the
store's identifier data key (which every worker opens with ``GARDE_IDENTIFIER_KEY``): the rows hold
identities (e-mail addresses, phone numbers) and must not sit in the store in clear. The job reads
them back into an owner-only temporary file, imports it with the same parser as the command, and
deletes them; a cancelled or failed job's chunks are deleted by :func:`discard`.
"""

from __future__ import annotations

import hmac
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from garde.keys import identifier_data_key
from garde.problems import GardeError
from garde.store import metadata
from garde.store.transactions import retried

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK = 1 << 20
_LABEL = b"garde job staging v2"  # v2: chunks sealed with their place

job_staging = sa.Table(
    "job_staging",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("staged", sa.String(36), nullable=False, index=True),  # one file
    sa.Column("seq", sa.Integer, nullable=False),
    # nonce (12 bytes) + AES-256-GCM ciphertext and tag of the chunk; associated data: the file's id, the
    # chunk's place and whether it is the last (:func:`_sealed_with`)
    sa.Column("chunk", sa.LargeBinary, nullable=False),
)


def _aead(store: Engine) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(hmac.digest(identifier_data_key(store), _LABEL, "sha256"))


def _sealed_with(staged: str, seq: int, last: bool) -> bytes:
    """A chunk's associated data: its file, its place and whether it ends the file, so that whoever can
    write the store can neither reorder a file's chunks nor drop its end (a consent export's last
    withdrawals) without the import failing."""
    return f"{staged}:{seq}:{'last' if last else 'more'}".encode()


def stage(store: Engine, path: Path) -> str:
    """Store ``path``'s bytes, encrypted; returns the id that names them."""
    staged = str(uuid.uuid4())
    aead = _aead(store)
    with path.open("rb") as handle, store.begin() as conn:
        chunk, seq = handle.read(CHUNK), 0
        while True:
            following = handle.read(CHUNK)
            nonce = os.urandom(12)
            conn.execute(job_staging.insert().values(staged=staged, seq=seq, chunk=nonce + aead.encrypt(
                nonce, chunk, _sealed_with(staged, seq, not following))))
            if not following:
                return staged
            chunk, seq = following, seq + 1


MAX_NAME = 255


def plain_name(name: str) -> str:
    """``name`` if it is a file name and nothing more: no folder, no ``..``, no NUL, at most 255 characters.

    The name comes from the job's arguments, a row anyone who can write the store can forge: with a
    path in it the decrypted file (the subjects' identities, in clear) would be written where the row
    says, with the worker's rights, and left there after the job."""
    if (not name or len(name) > MAX_NAME or "\x00" in name or name in (".", "..")
            or Path(name).name != name or "\\" in name):
        raise GardeError(f"{name[:MAX_NAME]!r} is not a file name (a staged file is named by a plain file "
                         "name, without folders)")
    return name


def unstaged(store: Engine, staged: str, name: str) -> bytes:
    """The staged file's content back, decrypted in memory (never written to disk in clear: a worker
    killed during the import leaves nothing readable behind)."""
    from cryptography.exceptions import InvalidTag

    plain_name(name)
    aead = _aead(store)
    with store.connect() as conn:
        rows = conn.execute(sa.select(job_staging.c.chunk).where(job_staging.c.staged == staged)
                            .order_by(job_staging.c.seq)).scalars().all()
    if not rows:
        raise GardeError(f"no staged file {staged} (already imported, or discarded)")
    try:
        return b"".join(aead.decrypt(raw[:12], raw[12:], _sealed_with(staged, seq, seq == len(rows) - 1))
                        for seq, raw in enumerate(rows))
    except InvalidTag:
        raise GardeError(f"staged file {staged} does not open with this identifier key, or its chunks were "
                         "changed, reordered or cut") from None


def discard(store: Engine, staged: str) -> int:
    """Delete a staged file's chunks; returns how many."""
    chunks = job_staging.delete().where(job_staging.c.staged == staged)
    return retried(store, lambda conn: conn.execute(chunks).rowcount, what=f"staged file {staged} discarded")
