"""Bulk import of consents exported by another tool (CSV), idempotent and resumable.

Each row becomes one ledger event. Its ``source_key`` is the SHA-256 of the
source name and the row's own id (or, without an id column, of the row's
content), unique in the ledger: re-running an import, or resuming one that
stopped half-way, adds only what is missing. Rows are written in batches,
one transaction each, with set-based look-ups: the identities of a batch are
resolved to subjects in one query per identifier kind, new subjects and
events are inserted with ``executemany``.

Each batch appends one audit entry, ``consent.imported``, listing every
event id with the digest of its content: the audit chain vouches for each
imported consent at the cost of one entry per batch, not one per row.
"""

from __future__ import annotations

import csv
import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from garde import audit
from garde.consent.ledger import consent_events, event_digest, hash_ip
from garde.consent.state import as_utc
from garde.periods import Period
from garde.problems import GardeError
from garde.subjects import IDENTIFIER_KINDS, identifier_hash, now, subject_identifiers, subjects

FIELDS = ("id", "activity", "channel", "action", "at", "method", "notice_version", "ip", "user_agent",
          "expires_at", *IDENTIFIER_KINDS)
ACTION_WORDS = {
    "given": ("given", "granted", "opt-in", "optin", "opted_in", "true", "yes", "1", "accepted",
              "subscribed", "consent_given", "allow"),
    "withdrawn": ("withdrawn", "revoked", "opt-out", "optout", "opted_out", "unsubscribed",
                  "consent_withdrawn"),
    "refused": ("refused", "denied", "rejected", "false", "no", "0", "declined", "deny"),
}
_ACTIONS = {word: action for action, words in ACTION_WORDS.items() for word in words}


@dataclass
class ImportReport:
    """What an import did; ``problems`` name the line and what is wrong with it."""

    read: int = 0
    added: int = 0
    already_there: int = 0
    new_subjects: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    source_key: str
    identities: tuple[tuple[str, str], ...]  # (kind, hash)
    values: dict[str, Any]


def parse_time(text: str) -> datetime:
    """ISO 8601 (naive means UTC) or seconds since the epoch."""
    text = text.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def _parse(line: int, record: Mapping[str, str], source: str, defaults: Mapping[str, str | None],
           activities: Mapping[str, Period | None] | None, key: str) -> _Row:
    def value(name: str) -> str | None:
        text = (record.get(name) or "").strip()
        return text or defaults.get(name)

    activity = value("activity")
    if not activity:
        raise ValueError("no activity (add an `activity` column or pass --activity)")
    if activities is not None and activity not in activities:
        raise ValueError(f"activity {activity!r} is not in the register")
    action_word = (value("action") or "").lower()
    if action_word not in _ACTIONS:
        raise ValueError(f"action {action_word!r} is not one of given, withdrawn, refused (or a synonym)")
    action = _ACTIONS[action_word]
    at_text = value("at")
    if not at_text:
        raise ValueError("no date (`at` column)")
    at = parse_time(at_text)
    identities = []
    for kind in IDENTIFIER_KINDS:
        raw = value(kind)
        if raw:
            identities.append((kind, identifier_hash(kind, raw, key)))
    if not identities:
        raise ValueError(f"no identity: one of {', '.join(IDENTIFIER_KINDS)} is needed")
    expires_text = value("expires_at")
    expires_at = parse_time(expires_text) if expires_text and action == "given" else None
    validity = activities.get(activity) if activities else None
    if validity is not None and action == "given":
        end = validity.after(at)
        expires_at = end if expires_at is None else min(expires_at, end)
    record_id = value("id")
    identity = record_id if record_id else "\x1f".join(f"{k}={record.get(k, '')}" for k in sorted(record))
    ip = value("ip")
    values = {
        "activity": activity, "channel": value("channel"), "action": action, "at": at,
        "method": value("method") or "import", "notice_version": value("notice_version"),
        "ip_hash": hash_ip(ip, key) if ip else None, "user_agent": value("user_agent"),
        "expires_at": expires_at,
    }
    source_key = hashlib.sha256(f"{source}\x1f{identity}".encode()).hexdigest()
    return _Row(line, source_key, tuple(identities), values)


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_rows(engine: sa.Engine, records: Iterable[Mapping[str, str]], *, source: str,
                defaults: Mapping[str, str | None] | None = None,
                activities: Mapping[str, Period | None] | None = None, batch_size: int = 5000,
                on_progress: Callable[[int], None] | None = None, actor: str = "garde") -> ImportReport:
    """Import consent records ({field: text}); see the module docstring. ``activities``: the
    register's activity ids and consent lifetimes, to refuse unknown activities and set expiries."""
    from garde.settings import get_settings

    key = get_settings().identifier_key
    report = ImportReport()
    defaults = defaults or {}
    for batch in _batches(enumerate(records, start=2), batch_size):  # line 1 is the header
        parsed: list[_Row] = []
        for line, record in batch:
            report.read += 1
            try:
                parsed.append(_parse(line, record, source, defaults, activities, key))
            except (ValueError, GardeError) as exc:
                report.problems.append(f"line {line}: {exc}")
        with engine.begin() as conn:
            _write_batch(conn, parsed, source, actor, report)
        if on_progress:
            on_progress(len(batch))
    return report


def _write_batch(conn: sa.Connection, rows: list[_Row], source: str, actor: str,
                 report: ImportReport) -> None:
    keys = list({r.source_key for r in rows})
    seen = set(conn.execute(sa.select(consent_events.c.source_key)
                            .where(consent_events.c.source_key.in_(keys))).scalars()) if keys else set()
    fresh: list[_Row] = []
    for row in rows:
        if row.source_key in seen:
            report.already_there += 1
        else:
            seen.add(row.source_key)
            fresh.append(row)
    if not fresh:
        return
    owners = _resolve_subjects(conn, fresh, report)
    recorded = now()
    events = []
    for row in fresh:
        events.append({**row.values, "event_id": uuid.uuid4().hex, "subject_id": owners[row.source_key],
                       "recorded_at": recorded, "actor": actor, "source": source,
                       "source_key": row.source_key})
    conn.execute(consent_events.insert(), events)
    audit.record(conn, "consent.imported", {
        "source": source, "count": len(events),
        "events": [[e["event_id"], event_digest(e)] for e in events]}, actor=actor)
    report.added += len(events)


def _resolve_subjects(conn: sa.Connection, rows: list[_Row],
                      report: ImportReport) -> dict[str, str]:
    """Each row's subject id (by ``source_key``), creating the subjects and links that are missing.

    A row whose identities belong to two subjects goes to the first one found,
    in the order of ``IDENTIFIER_KINDS``; merging subjects is not an import's job."""
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        for kind, digest in row.identities:
            by_kind.setdefault(kind, set()).add(digest)
    owners: dict[tuple[str, str], str] = {}
    for kind, digests in by_kind.items():
        query = sa.select(subject_identifiers.c.hash, subject_identifiers.c.subject_id).where(
            subject_identifiers.c.kind == kind, subject_identifiers.c.hash.in_(list(digests)))
        for digest, subject_id in conn.execute(query):
            owners[(kind, digest)] = subject_id
    new_subjects, new_links = [], []
    created = now()
    row_owner: dict[str, str] = {}
    for row in rows:
        subject_id = next((owners[i] for i in row.identities if i in owners), None)
        if subject_id is None:
            subject_id = uuid.uuid4().hex
            new_subjects.append({"id": subject_id, "kind": None, "state": "active", "language": None,
                                 "created_at": created})
        for identity in row.identities:
            if identity not in owners:
                owners[identity] = subject_id
                new_links.append({"subject_id": subject_id, "kind": identity[0], "hash": identity[1]})
        row_owner[row.source_key] = subject_id
    if new_subjects:
        conn.execute(subjects.insert(), new_subjects)
        report.new_subjects += len(new_subjects)
    if new_links:
        conn.execute(subject_identifiers.insert(), new_links)
    return row_owner


def import_csv(engine: sa.Engine, path: Path, *, source: str | None = None,
               columns: Mapping[str, str] | None = None, **options: Any) -> ImportReport:
    """Import a CSV export; ``columns`` maps garde's fields to the file's column names
    (``{"activity": "purpose", "at": "timestamp"}``); see :data:`FIELDS`."""
    columns = dict(columns or {})
    unknown = set(columns) - set(FIELDS)
    if unknown:
        raise GardeError(f"unknown field(s) {', '.join(sorted(unknown))}; fields are {', '.join(FIELDS)}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in columns.values() if c not in header]
        if missing:
            raise GardeError(f"{path}: no column {', '.join(missing)}; the columns are {', '.join(header)}")
        rename = {column: name for name, column in columns.items()}
        records = ({rename.get(k, k): v for k, v in record.items() if k is not None} for record in reader)
        return import_rows(engine, records, source=source or path.stem, **options)


def count_rows(path: Path) -> int:
    """Data rows in a CSV file (lines minus the header), for a progress bar's total."""
    with path.open("rb") as handle:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1)
