"""Register versions in the audit log: every change to the register the engine enforces is proven.

The engine enforces whatever register it loads; the DPO must be able to show
which version was in force when. :func:`note_register` hashes the normalised
register and, when the hash differs from the last one recorded for that
source, appends a ``register.changed`` audit entry saying which activities
were added, removed or changed. Loading the same register again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.register.model import Register


def register_hash(register: Register) -> str:
    """SHA-256 of the normalised register (its canonical JSON)."""
    canonical = json.dumps(register.to_data(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _activity_hashes(register: Register) -> dict[str, str]:
    return {
        a.id: hashlib.sha256(json.dumps(a.model_dump(mode="json"), sort_keys=True, default=str)
                             .encode()).hexdigest()
        for a in register.activities
    }


def last_version(conn: sa.Connection, source: str) -> dict[str, Any] | None:
    """The payload of the last ``register.changed`` entry for ``source``, if any."""
    log = audit.audit_log
    rows = conn.execute(
        sa.select(log.c.payload).where(log.c.kind == "register.changed").order_by(log.c.seq.desc())
    )
    for (payload,) in rows:
        data: dict[str, Any] = json.loads(payload)
        if data.get("source") == source:
            return data
    return None


def note_register(conn: sa.Connection, register: Register, source: str, *, actor: str = "garde") -> bool:
    """Audit the register if it changed since it was last recorded; returns whether it did."""
    digest = register_hash(register)
    previous = last_version(conn, source)
    if previous is not None and previous.get("hash") == digest:
        return False
    activities = _activity_hashes(register)
    before: dict[str, str] = previous.get("activities", {}) if previous else {}
    audit.record(conn, "register.changed", {
        "source": source,
        "controller": register.controller.name,
        "hash": digest,
        "previous_hash": previous.get("hash") if previous else None,
        "activities": activities,
        "added": sorted(set(activities) - set(before)),
        "removed": sorted(set(before) - set(activities)),
        "changed": sorted(a for a in set(activities) & set(before) if activities[a] != before[a]),
    }, actor=actor)
    return True
