"""Decision batches as one row of the audit log (issue 14; docs/audit.md, "Decision batches as one row").

The audit writer's decision entries are stored as **batch rows** of at most :data:`MOST` entries in
``audit_batches``, in the same sequence as ``audit_log``'s rows and in the same chain: a batch's
``prev_hash`` is the hash of the link before it (a row's or a batch's), its ``hash`` SHA-256 over
``"garde-batch-1\\n" first_seq "\\n" last_seq "\\n" at "\\n" prev_hash "\\n"`` and its body, hashed once.

The body is one canonical byte string (:func:`encode`): a version byte, the number of strings and
of records; the batch's distinct strings once (kinds, actors, the decisions' payload heads and
tails, in the order the records first name them, each UTF-8 with its length); one record an entry
(the index of its kind and actor; its subject: absent, a UUID's 16 bytes when the id is that UUID's
canonical lower-case text, any other text with its length; its payload: a head's and a tail's index
and the decision's time in microseconds, or its canonical JSON with its length); then each record's
offset, so one entry is cut out without decoding the others (:func:`entry_at`). Only one encoding of
given records is valid: :func:`decode` then :func:`encode` must give the same bytes, which
verification checks.

An entry of a batch reads as a row's (``seq``, ``at``, ``kind``, ``subject_id``, ``actor``,
``payload``: the same text a row holds); its ``at`` is the batch's, as the entries of one append
share one time.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from garde.store import metadata

#: Entries a batch row holds at most: ≈ 4 KB of body for decisions, one page (docs/audit.md).
MOST = 128
#: The kinds the audit writer stores in batch rows: the entries decide() produces.
BATCHED_KINDS = frozenset({"decision"})
VERSION = 1

audit_batches = sa.Table(
    "audit_batches",
    metadata,
    sa.Column("first_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("seal", sa.String(128)),
)

#: PostgreSQL: the subjects of the batches' entries, indexed (SQLite indexes them in its runs,
#: :mod:`garde.audit.runs`, and leaves this table empty).
audit_batch_subjects = sa.Table(
    "audit_batch_subjects",
    metadata,
    sa.Column("subject_id", sa.String(36), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
)

_HEADER = struct.Struct("<BHH")  # version, strings, records
_LENGTH = struct.Struct("<I")
_SHORT = struct.Struct("<H")
_OFFSET = struct.Struct("<I")
_MICROS = struct.Struct("<HHq")  # head's index, tail's index, µs
_KIND_ACTOR = struct.Struct("<HH")
# the usual record whole: kind, actor, tag 1 + UUID, tag 0 + head, tail, µs
_DECISION = struct.Struct("<HHB16sBHHq")
_NO_SUBJECT, _UUID, _TEXT_SUBJECT = 0, 1, 2
_PARTS, _TEXT_PAYLOAD = 0, 1
#: 2100-01-01 UTC: below it a float's microseconds are exact (as garde.audit.utc_isoformat).
UNTIL = 4_102_444_800.0
_modf = math.modf

# a record as decoded: (kind, subject_id, actor, payload) where payload is (head, tail, µs) or a str
Record = tuple[str, "str | None", str, "tuple[str, str, int] | str"]


def micros(seconds: float) -> int | None:
    """The POSIX microseconds :func:`garde.audit.utc_isoformat` writes for ``seconds`` (rounded as
    ``datetime.fromtimestamp`` rounds), or None outside the range it formats itself."""
    if not 0.0 <= seconds < UNTIL:
        return None
    fraction, whole = _modf(seconds)
    return int(whole) * 1_000_000 + round(fraction * 1e6)


_CLOCKS: dict[int, str] = {}


def isoformat_micros(value: int) -> str:
    """``datetime.fromtimestamp(value / 1e6, UTC).isoformat()`` for POSIX microseconds, exactly."""
    second, micro = divmod(value, 1_000_000)
    clock = _CLOCKS.get(second)
    if clock is None:
        if len(_CLOCKS) >= 4096:
            _CLOCKS.clear()
        clock = _CLOCKS[second] = datetime.fromtimestamp(second, UTC).isoformat()[:19]
    return f"{clock}.{micro:06d}+00:00" if micro else f"{clock}+00:00"


def payload_of(payload: tuple[str, str, int] | str) -> str:
    """A record's payload as the canonical JSON a row holds."""
    if isinstance(payload, str):
        return payload
    head, tail, value = payload
    return f'{head}"{isoformat_micros(value)}"{tail}'


#: Subjects met lately and their encoding (a UUID's 16 bytes, or None): a writer meets the same
#: subjects again and again. Emptied when full.
_RAW: dict[str, bytes | None] = {}


def _uuid_bytes(subject: str) -> bytes | None:
    """The 16 bytes of ``subject`` when it is a UUID's canonical lower-case text, else None."""
    try:
        return _RAW[subject]
    except KeyError:
        pass
    if len(_RAW) >= 65536:
        _RAW.clear()
    raw = _RAW[subject] = _uuid_bytes_of(subject)
    return raw


def _uuid_bytes_of(subject: str) -> bytes | None:
    if len(subject) != 36 or subject[8] != "-" or subject[13] != "-" or subject[23] != "-":
        return None
    try:
        raw = bytes.fromhex(subject.replace("-", ""))
    except ValueError:
        return None
    if len(raw) != 16 or _uuid_text(raw) != subject:
        return None
    return raw


def _uuid_text(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def record_of(kind: str, data: Any, subject_id: str | None, actor: str, text: Any) -> Record:
    """An item's record: a decision's payload in parts ``(head, POSIX seconds, tail)`` kept as parts
    with its microseconds; any other payload as its canonical JSON (``text(data)``)."""
    if type(data) is tuple and type(data[1]) is float and type(data[0]) is str and type(data[2]) is str:
        value = micros(data[1])
        if value is not None:
            return (kind, subject_id, actor, (data[0], data[2], value))
    return (kind, subject_id, actor, data if type(data) is str else text(data))


def encode(records: Sequence[Record]) -> bytes:
    """The canonical body of ``records`` (at most :data:`MOST`)."""
    strings: dict[str, int] = {}
    parts: list[bytes] = []
    offsets: list[int] = []
    at = 0
    pack_decision, pack_pair = _DECISION.pack, _KIND_ACTOR.pack
    # a string's index is its first mention's rank; each pair (kind and actor, head and tail) looked up once
    indexes: dict[tuple[str, str], tuple[int, int]] = {}
    index, raw_of = indexes.get, _RAW.get
    for kind, subject, actor, payload in records:
        k, a = index((kind, actor)) or _indexes(strings, indexes, kind, actor)
        raw = None if subject is None else (raw_of(subject) or _uuid_bytes(subject))
        if type(payload) is tuple:
            head, tail, value = payload
            h, t = index((head, tail)) or _indexes(strings, indexes, head, tail)
            if raw is not None:
                record = pack_decision(k, a, _UUID, raw, _PARTS, h, t, value)
            else:
                record = pack_pair(k, a) + _subject(subject) + bytes((_PARTS,)) + _MICROS.pack(h, t, value)
        else:
            text = payload.encode()  # type: ignore[union-attr]
            record = (pack_pair(k, a) + (bytes((_UUID,)) + raw if raw is not None else _subject(subject))
                      + bytes((_TEXT_PAYLOAD,)) + _LENGTH.pack(len(text)) + text)
        offsets.append(at)
        parts.append(record)
        at += len(record)
    table = b"".join(_LENGTH.pack(len(encoded)) + encoded for encoded in (s.encode() for s in strings))
    start = _HEADER.size + len(table)
    return b"".join((_HEADER.pack(VERSION, len(strings), len(records)), table, *parts,
                     struct.pack(f"<{len(offsets)}I", *(start + offset for offset in offsets))))


def _indexes(strings: dict[str, int], indexes: dict[tuple[str, str], tuple[int, int]], first: str,
             second: str) -> tuple[int, int]:
    """The indexes of two strings, each added to ``strings`` at its first mention."""
    found = []
    for text in (first, second):
        number = strings.get(text)
        if number is None:
            number = strings[text] = len(strings)
        found.append(number)
    pair = indexes[(first, second)] = (found[0], found[1])
    return pair


def needle_of(subject: str) -> bytes:
    """Bytes every body naming ``subject`` holds (its UUID's 16 bytes, or its UTF-8 text): a body
    without them names it nowhere, and need not be decoded."""
    raw = _uuid_bytes(subject)
    return raw if raw is not None else subject.encode()


def _subject(subject: str | None) -> bytes:
    if subject is None:
        return bytes((_NO_SUBJECT,))
    text = subject.encode()
    return bytes((_TEXT_SUBJECT,)) + _SHORT.pack(len(text)) + text


class Malformed(ValueError):
    """A body that does not decode."""


def _strings(body: bytes) -> tuple[list[str], int, int]:
    """The strings table, the number of records and where the records begin."""
    try:
        version, count, records = _HEADER.unpack_from(body, 0)
        if version != VERSION:
            raise Malformed(f"version {version}")
        at, strings = _HEADER.size, []
        for _ in range(count):
            (length,) = _LENGTH.unpack_from(body, at)
            at += 4
            if at + length > len(body):
                raise Malformed("a string past the end")
            strings.append(body[at:at + length].decode())
            at += length
    except (struct.error, UnicodeDecodeError) as exc:
        raise Malformed(str(exc)) from exc
    return strings, records, at


def _record(body: bytes, at: int, strings: list[str]) -> tuple[Record, int]:
    """The record at ``at`` and where it ends."""
    kind_index, actor_index = _KIND_ACTOR.unpack_from(body, at)
    at += 4
    tag = body[at]
    at += 1
    subject: str | None
    if tag == _NO_SUBJECT:
        subject = None
    elif tag == _UUID:
        subject = _uuid_text(body[at:at + 16])
        at += 16
    elif tag == _TEXT_SUBJECT:
        (length,) = _SHORT.unpack_from(body, at)
        subject = body[at + 2:at + 2 + length].decode()
        at += 2 + length
    else:
        raise Malformed(f"subject tag {tag}")
    tag = body[at]
    at += 1
    payload: tuple[str, str, int] | str
    if tag == _PARTS:
        head, tail, value = _MICROS.unpack_from(body, at)
        payload = (strings[head], strings[tail], value)
        at += _MICROS.size
    elif tag == _TEXT_PAYLOAD:
        (length,) = _LENGTH.unpack_from(body, at)
        payload = body[at + 4:at + 4 + length].decode()
        at += 4 + length
    else:
        raise Malformed(f"payload tag {tag}")
    return (strings[kind_index], subject, strings[actor_index], payload), at


def decode(body: bytes) -> list[Record]:
    """Every record of ``body``, in order; :class:`Malformed` when it does not decode."""
    strings, count, at = _strings(body)
    records = []
    try:
        for _ in range(count):
            record, at = _record(body, at, strings)
            records.append(record)
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise Malformed(str(exc)) from exc
    if at + 4 * count != len(body):
        raise Malformed("the offsets do not end the body")
    return records


def canonical(body: bytes) -> list[Record] | None:
    """``body``'s records when it is their one valid encoding, else None."""
    try:
        records = decode(body)
    except Malformed:
        return None
    return records if encode(records) == body else None


def entry_at(body: bytes, index: int) -> Record:
    """The ``index``-th record of ``body``, cut out by its offset."""
    strings, count, _ = _strings(body)
    if not 0 <= index < count:
        raise Malformed(f"no record {index}")
    (at,) = _OFFSET.unpack_from(body, len(body) - 4 * (count - index))
    return _record(body, at, strings)[0]


def subjects_of(body: bytes, first_seq: int) -> Iterator[tuple[str, int]]:
    """(subject_id, seq) of each entry of the batch naming a subject."""
    for offset, record in enumerate(decode(body)):
        if record[1] is not None:
            yield record[1], first_seq + offset


#: The subject pairs of the batches this process appended lately, by first seq, with the batch's
#: hash: the subject runs built on SQLite take them from here rather than decode the bodies (a pair
#: is used only when the stored batch has that hash: a batch of a transaction rolled back and
#: written again otherwise, or another process's, is decoded). Emptied when full.
WRITTEN: dict[int, tuple[str, list[tuple[str, int]]]] = {}


def remember(first_seq: int, digest: str, pairs: list[tuple[str, int]]) -> None:
    if len(WRITTEN) >= 8192:
        WRITTEN.clear()
    WRITTEN[first_seq] = (digest, pairs)


_sha256 = hashlib.sha256


def batch_hash(first_seq: int, last_seq: int, at: str, prev_hash: str, body: bytes) -> str:
    """The batch's link in the chain."""
    return _sha256(f"garde-batch-1\n{first_seq}\n{last_seq}\n{at}\n{prev_hash}\n".encode() + body).hexdigest()


def entry_data(first_seq: int, at: str, offset: int, record: Record) -> dict[str, Any]:
    """An entry of a batch as :func:`garde.audit.entries` gives it (``payload`` still JSON text)."""
    kind, subject, actor, payload = record
    return {"seq": first_seq + offset, "at": at, "kind": kind, "subject_id": subject, "actor": actor,
            "payload": payload_of(payload)}


def last_link(conn: sa.Connection) -> int | None:
    """The last ``seq`` the batch rows hold (None: none), read by the key."""
    if not has_batches(conn):
        return None
    found = conn.execute(sa.select(audit_batches.c.last_seq).order_by(audit_batches.c.first_seq.desc())
                         .limit(1)).scalar()
    return None if found is None else int(found)


def link_hash(conn: sa.Connection, seq: int) -> str | None:
    """The hash of the link that ends at ``seq``: its row's, or the batch's ending there (None: no
    link ends there)."""
    from garde.audit import audit_log

    found = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar()
    if found is not None:
        return str(found)
    if not has_batches(conn):
        return None
    batch = conn.execute(sa.select(audit_batches.c.last_seq, audit_batches.c.hash)
                         .where(audit_batches.c.first_seq <= seq)
                         .order_by(audit_batches.c.first_seq.desc()).limit(1)).first()
    return str(batch.hash) if batch is not None and batch.last_seq == seq else None


def has_batches(conn: sa.Connection) -> bool:
    """Whether the store has the batch table (migration 0037): a store downgraded below it has none,
    and its log is rows only."""
    return sa.inspect(conn).has_table("audit_batches")
