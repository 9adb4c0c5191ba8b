"""The identifier key: what subject identifiers are hashed with, kept with the store it protects.

Subject identifiers (e-mail, phone, customer number, loyalty card) are stored as
HMAC-SHA256 digests only. The HMAC key is not the operator's setting itself but a
*data key*, generated at random the first time a store is opened and kept in
``store_keys``, encrypted (AES-256-GCM) under a key derived from the operator's
``GARDE_IDENTIFIER_KEY``. The operator's key is therefore a key-encryption key:

- the store records its fingerprint (HMAC-SHA256 of a fixed label under the key, never
  the key), so a process started with another key is refused, at its first use of the
  store, instead of silently hashing everyone anew: objections, suppressions and consents
  would no longer match anyone, and an objector would be back in the audiences;
- rotating it (:func:`rotate_identifier_key`) re-encrypts the data key under the new key
  in one audited transaction: no stored digest changes, so nothing is lost, nothing the
  audit chain committed to is rewritten, and the old key opens nothing any more.

A store written before the data key existed (migration 0008) keeps the digests it holds:
its data key *is* the identifier key it was written with, now kept encrypted like any
other. See ``docs/keys.md`` for what rotation does and does not protect against.
"""

from __future__ import annotations

import hmac
import json
import os
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from garde import audit
from garde.problems import GardeError
from garde.settings import Settings, get_settings
from garde.store import is_postgres, metadata

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: The default of ``GARDE_IDENTIFIER_KEY``: public, for the demo only.
DEMO_KEY: str = Settings.model_fields["identifier_key"].default
#: A new identifier key must be at least this long (``secrets.token_urlsafe(32)`` gives 43).
MIN_KEY_LENGTH = 32
IDENTIFIER = "identifier"

_FINGERPRINT_LABEL = b"garde identifier key fingerprint v1"
_WRAPPING_LABEL = b"garde identifier key wrapping v1"

store_keys = sa.Table(
    "store_keys",
    metadata,
    sa.Column("purpose", sa.String(32), primary_key=True),
    # HMAC-SHA256(operator key, fixed label), hex: names the key, never reveals it.
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # nonce (12 bytes) + AES-256-GCM ciphertext and tag of the data key, hex.
    sa.Column("wrapped", sa.Text, nullable=False),
    # "generated" (random) or "legacy" (the identifier key the store was written with before 0008)
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rotated_at", sa.DateTime(timezone=True)),
)


class DemoKeyWarning(UserWarning):
    """The store is used with the public demo identifier key."""


def fingerprint(key: str) -> str:
    """HMAC-SHA256 of a fixed label under ``key``, hex. Anyone holding a candidate key can test
    it against a fingerprint (as against any digest the key made): keys must be long and random."""
    return hmac.digest(key.encode(), _FINGERPRINT_LABEL, "sha256").hex()


def short(fingerprint_hex: str) -> str:
    """The first 16 hex digits, enough to tell keys apart in a message."""
    return fingerprint_hex[:16]


def _aead(key: str) -> AESGCM:
    """AES-256-GCM under a key derived from the operator's (another label than the fingerprint's)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # loaded only when a store is opened

    return AESGCM(hmac.digest(key.encode(), _WRAPPING_LABEL, "sha256"))


def wrap(data_key: bytes, key: str, purpose: str = IDENTIFIER) -> str:
    """``data_key`` encrypted under ``key`` (AES-256-GCM, fresh nonce, the purpose as associated data)."""
    nonce = os.urandom(12)
    return (nonce + _aead(key).encrypt(nonce, data_key, purpose.encode())).hex()


def unwrap(wrapped: str, key: str, purpose: str = IDENTIFIER) -> bytes:
    """The data key ``wrap`` encrypted; a wrong key or an altered record is refused."""
    from cryptography.exceptions import InvalidTag

    raw = bytes.fromhex(wrapped)
    try:
        return _aead(key).decrypt(raw[:12], raw[12:], purpose.encode())
    except InvalidTag:
        raise GardeError("the store's identifier data key does not decrypt under the configured key "
                         "although its fingerprint matches: the store_keys table was altered") from None


@dataclass(frozen=True)
class StoreKey:
    """The store's identifier key record, without its secret."""

    fingerprint: str
    origin: str
    created_at: datetime
    rotated_at: datetime | None

    def to_data(self) -> dict[str, object]:
        return {"purpose": IDENTIFIER, "fingerprint": self.fingerprint, "origin": self.origin,
                "created_at": self.created_at.isoformat(),
                "rotated_at": self.rotated_at.isoformat() if self.rotated_at else None}


def _row(conn: sa.Connection, lock: bool = False) -> sa.Row[tuple[object, ...]] | None:
    query = sa.select(store_keys).where(store_keys.c.purpose == IDENTIFIER)
    return conn.execute(query.with_for_update() if lock and is_postgres(conn) else query).first()


def store_key(conn: sa.Connection) -> StoreKey | None:
    """The identifier key record of the store, if it has one."""
    row = _row(conn)
    if row is None:
        return None
    return StoreKey(row.fingerprint, row.origin, row.created_at, row.rotated_at)


@dataclass(frozen=True)
class KeyStatus:
    """The store's key record beside the configured key's fingerprint (``garde keys show``)."""

    stored: StoreKey | None
    configured_fingerprint: str
    demo_key: bool

    @property
    def matches(self) -> bool:
        return self.stored is not None and self.stored.fingerprint == self.configured_fingerprint

    def to_data(self) -> dict[str, object]:
        return {"store": self.stored.to_data() if self.stored else None,
                "configured_fingerprint": self.configured_fingerprint, "matches": self.matches,
                "demo_key": self.demo_key}


def key_status(engine: sa.Engine) -> KeyStatus:
    """What the store records of its identifier key, and whether ``GARDE_IDENTIFIER_KEY`` opens it."""
    key = get_settings().identifier_key
    with engine.connect() as conn:
        stored = store_key(conn)
    return KeyStatus(stored, fingerprint(key), key == DEMO_KEY)


def _refuse_demo_key(bind: sa.Engine | sa.Connection, key: str) -> None:
    """The public demo key protects nothing: refused on PostgreSQL (a production store) unless
    ``allow_demo_key`` says it is a throw-away database."""
    if key == DEMO_KEY and is_postgres(bind) and not get_settings().allow_demo_key:
        raise GardeError(
            "GARDE_IDENTIFIER_KEY is the public demo key, which protects nothing, and the store is "
            "PostgreSQL: set your own key (python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
            "or GARDE_ALLOW_DEMO_KEY=true for a throw-away database. See docs/keys.md.")


def _warn_demo_key(key: str) -> None:
    """Anywhere the demo key is allowed, a loud warning (the CLI prints it on stderr)."""
    if key != DEMO_KEY:
        return
    import warnings

    warnings.warn(DemoKeyWarning(
        "GARDE_IDENTIFIER_KEY is the public demo key: anyone holding a copy of the store can test "
        "which e-mail addresses and phone numbers it holds. Set your own key before real data goes "
        "in (docs/keys.md)."), stacklevel=2)


def _already_written(conn: sa.Connection) -> bool:
    """Whether the store holds digests made before it had a data key (a store older than 0008)."""
    from garde.rights.tables import requests
    from garde.subjects import subject_identifiers
    from garde.suppression import suppression_list

    return any(conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None
               for table in (subject_identifiers, suppression_list, requests))


def _check_legacy_key(conn: sa.Connection, key: bytes) -> None:
    """A store older than 0008 records no fingerprint; an open request still holds its raw
    identities beside their digests, which tells whether ``key`` is the one it was written with."""
    from garde.rights.tables import requests
    from garde.subjects import identifier_hash

    rows = conn.execute(sa.select(requests.c.identities, requests.c.identity_hashes)
                        .where(requests.c.identities.is_not(None)).limit(20))
    for row in rows:
        identities, hashes = json.loads(row.identities or "{}"), json.loads(row.identity_hashes)
        for kind, value in identities.items():
            if kind in hashes and isinstance(value, str):
                if identifier_hash(kind, value, key) != hashes[kind]:
                    raise GardeError(
                        "this store's identifiers were hashed with another key than GARDE_IDENTIFIER_KEY "
                        "(checked against a stored request): set the key the store was written with; "
                        "rotate it afterwards with `garde keys rotate-identifier` (docs/keys.md)")
                return


def ensure_store_key(conn: sa.Connection, key: str) -> None:
    """Give the store its identifier data key if it has none: a random one for a new store; for a
    store already written before 0008, the key it was written with, so that no digest changes.
    :func:`garde.store.migrate` calls it; nothing hashes an identifier before it did
    (:func:`identifier_data_key` refuses a store without a key)."""
    if _row(conn) is not None:
        return
    _refuse_demo_key(conn, key)
    origin, data_key = "generated", os.urandom(32)
    if _already_written(conn):
        origin, data_key = "legacy", key.encode()
        _check_legacy_key(conn, data_key)
    from garde.subjects import now

    conn.execute(store_keys.insert().values(purpose=IDENTIFIER, fingerprint=fingerprint(key),
                                            wrapped=wrap(data_key, key), origin=origin, created_at=now()))


def _refusal(stored: str, key: str) -> GardeError:
    return GardeError(
        f"this store was written with another identifier key (the store's key has fingerprint "
        f"{short(stored)}, GARDE_IDENTIFIER_KEY has {short(fingerprint(key))}): its objections, "
        "suppressions and consents would match no one. Set GARDE_IDENTIFIER_KEY back to the store's key; "
        "to change keys, run `garde keys rotate-identifier --new-key-env VAR` with the old key still "
        "set and the new one in VAR, then switch. See docs/keys.md.")


# The data key of each engine, opened once: (the operator key it was opened with, the data key).
_opened: weakref.WeakKeyDictionary[sa.Engine, tuple[str, bytes]] = weakref.WeakKeyDictionary()


def _open(conn: sa.Connection, key: str) -> bytes:
    row = _row(conn)
    if row is None:
        raise GardeError("the store has no identifier key yet: open it with garde.open_store() "
                         "(or garde.store.migrate()) first")
    if not hmac.compare_digest(row.fingerprint, fingerprint(key)):
        raise _refusal(row.fingerprint, key)
    _refuse_demo_key(conn, key)
    _warn_demo_key(key)
    return unwrap(row.wrapped, key)


def identifier_data_key(bind: sa.Engine | sa.Connection) -> bytes:
    """The HMAC key of the store's identifier digests, opened with ``GARDE_IDENTIFIER_KEY``.

    Checked against the store once per engine (and again if the setting changes): a key the
    store was not written with is refused with a :class:`GardeError`."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    key = get_settings().identifier_key
    opened = _opened.get(engine)
    if opened is not None and opened[0] == key:
        return opened[1]
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            data_key = _open(conn, key)
    else:
        data_key = _open(bind, key)
    _opened[engine] = (key, data_key)
    return data_key


def check_new_key(new_key: str, old_key: str) -> None:
    """Refuse a new identifier key that would protect nothing."""
    if new_key == DEMO_KEY:
        raise GardeError("the new identifier key is the public demo key")
    if new_key == old_key:
        raise GardeError("the new identifier key is the key already in use")
    if new_key != new_key.strip():
        # a secret store, .env file or shell that trims it would leave a store no key opens
        raise GardeError("the new identifier key begins or ends with a blank (a space, tab or line "
                         "break): remove it, so that the key stays the same wherever it is kept")
    if len(new_key) < MIN_KEY_LENGTH or len(set(new_key)) < 8:
        raise GardeError(f"the new identifier key is too weak: use at least {MIN_KEY_LENGTH} random "
                         "characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")


@dataclass(frozen=True)
class Rotation:
    """A rotation done: the fingerprints before and after, and its audit entry."""

    old_fingerprint: str
    new_fingerprint: str
    audit_seq: int

    def to_data(self) -> dict[str, object]:
        return {"old_fingerprint": self.old_fingerprint, "new_fingerprint": self.new_fingerprint,
                "audit_seq": self.audit_seq}


def rotate_identifier_key(engine: sa.Engine, new_key: str, *, old_key: str | None = None,
                          actor: str = "garde") -> Rotation:
    """Re-encrypt the store's identifier data key under ``new_key``, in one audited transaction.

    ``old_key`` (default: ``GARDE_IDENTIFIER_KEY``) must be the store's key. No digest changes:
    objections, suppressions, consents and requests keep matching their subjects, and the audit
    chain's commitments stand; from the commit on, only ``new_key`` opens the store."""
    from garde.subjects import now

    old_key = get_settings().identifier_key if old_key is None else old_key
    check_new_key(new_key, old_key)
    with engine.begin() as conn:
        row = _row(conn, lock=True)
        if row is None:
            raise GardeError("the store has no identifier key yet: nothing to rotate")
        if not hmac.compare_digest(row.fingerprint, fingerprint(old_key)):
            raise _refusal(row.fingerprint, old_key)
        data_key = unwrap(row.wrapped, old_key)
        new_fingerprint = fingerprint(new_key)
        # Audited before the change, in the same transaction: both or neither.
        seq = audit.record(conn, "keys.identifier_rotated", {
            "old_fingerprint": row.fingerprint, "new_fingerprint": new_fingerprint, "origin": row.origin},
            actor=actor)
        conn.execute(store_keys.update().where(store_keys.c.purpose == IDENTIFIER).values(
            fingerprint=new_fingerprint, wrapped=wrap(data_key, new_key), rotated_at=now()))
    return Rotation(row.fingerprint, new_fingerprint, seq)
