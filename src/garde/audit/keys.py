"""The audit key: an HMAC-SHA256 key kept outside the store, so that a rewrite of the log fails.

Anyone who can write to the database can recompute every SHA-256 of the
chain; nobody without the key can recompute the **seals**: each append
(a batch, or one :func:`garde.audit.record`) seals its last entry with
``HMAC-SHA256(key, "entry:<first seq of the append>:<entry hash>")`` and
the id of the key (a fingerprint). The key comes from the settings
(``GARDE_AUDIT_KEY``, or ``GARDE_AUDIT_KEY_FILE``, a file of keys, one a
line: the first writes, all verify, so a rotated key keeps verifying the
entries it sealed). The store never holds a key, only key ids.

This module imports no settings at load time: the audit writer's child
process receives its key through its pipe.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from garde.problems import GardeError

MIN_KEY_LENGTH = 16  # characters; `python -c "import secrets; print(secrets.token_hex(32))"` gives 64
_PAD = 64  # SHA-256's block size, the HMAC pad length


@dataclass(frozen=True)
class AuditKey:
    """One key: its fingerprint ``id`` (safe to store and print) and the HMAC's two prepared states."""

    id: str
    _inner: Any = field(repr=False, compare=False)
    _outer: Any = field(repr=False, compare=False)
    secret: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> AuditKey:
        # RFC 2104 by hand, the pads hashed once: a seal then costs two SHA-256 blocks, not four.
        block = hashlib.sha256(secret).digest() if len(secret) > _PAD else secret
        block = block.ljust(_PAD, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        key_id = hmac.new(secret, b"garde audit key id", hashlib.sha256).hexdigest()[:16]
        return cls(key_id, inner, outer, secret)

    def mac(self, message: str) -> str:
        """HMAC-SHA256 of ``message`` (UTF-8), in hex."""
        inner = self._inner.copy()
        inner.update(message.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return str(outer.hexdigest())

    def seal(self, first_seq: int, entry_hash: str) -> str:
        """The seal of an append covering entries ``first_seq`` up to the one hashed ``entry_hash``."""
        return self.mac(f"entry:{first_seq}:{entry_hash}")


@dataclass(frozen=True)
class Keyring:
    """The key that seals new entries (``None``: entries are written unsealed) and every key that verifies."""

    current: AuditKey | None = None
    by_id: Mapping[str, AuditKey] = field(default_factory=dict)

    @classmethod
    def of(cls, secrets: Iterable[bytes]) -> Keyring:
        keys = [AuditKey.from_secret(s) for s in secrets]
        return cls(keys[0] if keys else None, {k.id: k for k in keys})

    def __bool__(self) -> bool:
        return bool(self.by_id)


NO_KEYS = Keyring()


def _checked(secret: str, where: str) -> bytes:
    secret = secret.strip()
    if len(secret) < MIN_KEY_LENGTH:
        raise GardeError(f"{where}: an audit key needs at least {MIN_KEY_LENGTH} characters "
                         f"(this one has {len(secret)}); make one with "
                         "python -c \"import secrets; print(secrets.token_hex(32))\"")
    return secret.encode()


def load_keyring(key: str | None, key_file: Path | None) -> Keyring:
    """The keyring of ``key`` (sealing) and ``key_file``'s keys (one a line, ``#`` comments; the
    first one seals when ``key`` is unset). Errors name the setting, the file and the line."""
    secrets: list[bytes] = []
    if key:
        secrets.append(_checked(key, "GARDE_AUDIT_KEY"))
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GardeError(f"GARDE_AUDIT_KEY_FILE {key_file}: cannot be read ({exc})") from None
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                secrets.append(_checked(line, f"{key_file}, line {number}"))
        if not secrets:
            raise GardeError(f"GARDE_AUDIT_KEY_FILE {key_file}: holds no key")
    return Keyring.of(dict.fromkeys(secrets))  # one key twice (the setting and the file) counts once


_cache: tuple[object, Keyring] | None = None


def configured_keyring() -> Keyring:
    """The keyring of the current settings (read once per settings object)."""
    global _cache
    from garde.settings import get_settings

    settings = get_settings()
    cached = _cache
    if cached is not None and cached[0] is settings:
        return cached[1]
    keyring = load_keyring(settings.audit_key, settings.audit_key_file)
    _cache = (settings, keyring)
    return keyring
