"""What an attacker with write access to the store (and no audit key) does to the audit log.

Each attack leaves a log whose hash chain and head are consistent: the plain
chain check passes; only the seals (the key) and the checkpoints can tell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from garde import audit

log, head = audit.audit_log, audit.audit_head


def rows(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.select(log).order_by(log.c.seq))]


def rewrite(conn: sa.Connection, entries: list[dict[str, Any]], *, strip_seals: bool = False) -> None:
    """Replace the log by ``entries`` renumbered from 1, every hash recomputed, the head moved."""
    conn.execute(log.delete())
    prev = audit.GENESIS
    for seq, entry in enumerate(entries, 1):
        entry = {**entry, "seq": seq, "prev_hash": prev}
        if strip_seals and "seal" in entry:
            entry["seal"] = None
        entry["hash"] = prev = audit.entry_hash(seq, entry["at"], entry["kind"], entry["subject_id"],
                                                entry["actor"], entry["payload"], prev)
        conn.execute(log.insert().values(entry))
    conn.execute(head.delete())
    if entries:
        conn.execute(head.insert().values(id=1, seq=len(entries), hash=prev))


def recompute_chain(conn: sa.Connection, strip_seals: bool = False) -> None:
    """Change entry 2's payload and recompute every hash after it."""
    entries = rows(conn)
    entries[1]["payload"] = '{"allowed":true,"rewritten":1}'
    rewrite(conn, entries, strip_seals=strip_seals)


def truncate_tail(conn: sa.Connection, keep: int) -> None:
    """Delete the entries after ``keep`` and move the head back to entry ``keep``."""
    rewrite(conn, rows(conn)[:keep])


def forge_entry(conn: sa.Connection) -> None:
    """Append a forged entry with a correct hash, the head moved to it."""
    entries = rows(conn)
    forged = {**entries[-1], "kind": "consent.given", "payload": '{"activity":"newsletter"}', "actor": "web"}
    forged.pop("seal", None)
    rewrite(conn, [*entries, forged])


def delete_log(conn: sa.Connection) -> None:
    """Delete every entry and the head."""
    conn.execute(log.delete())
    conn.execute(head.delete())


ATTACKS: dict[str, Callable[[sa.Connection], None]] = {
    "recompute the whole chain": recompute_chain,
    "recompute the chain, seals stripped": lambda conn: recompute_chain(conn, strip_seals=True),
    "forge an entry": forge_entry,
    "truncate the tail, head updated": lambda conn: truncate_tail(conn, 3),
    "delete the whole log": delete_log,
}
