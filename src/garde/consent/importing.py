"""Bulk import of consents exported by another tool (CSV), idempotent and resumable.

Each row becomes one ledger event. Idempotence rests on the row's content
and its source (``--source``; by default the file's name without its
extension, so name the exporting tool with ``--source`` when its files are
named by month): a row is already imported when the ledger holds
an event from the same source and row id (or, without an id column, the
same row content) with the same activity, channel, action and date. Its
``source_key``, unique in the ledger, is the SHA-256 of the source and the
row id; the same id with another event (next month's export of a record
whose consent was withdrawn since) is a new event, keyed by the SHA-256 of
that and the event (:meth:`_Row.event_key`), added beside the first and
noted — a withdrawal is never dropped as "already imported". The same event
with other evidence (method, notice version, IP, user agent, expiry) stays
as first imported, noted too. So re-running an import, or resuming one that
stopped half-way, adds only what is missing. Rows are written in batches,
one transaction each, with set-based look-ups: the identities of a batch are
resolved to subjects in one query per identifier kind, new subjects and
events are inserted with one driver-level ``executemany`` each
(:mod:`garde.store.bulk`). A first import does not look its rows up in the
ledger: the unique ``source_key`` would refuse a row already there, and
from the first such batch on (a re-run, a resumed import), the batch is
rolled back and every row is looked up before it is written.

Problems name the line of the file where the record starts (blank lines and
cells spanning lines counted); a file that is not UTF-8 CSV stops the
import with the line at fault, after the batches before it.

Each batch appends one audit entry, ``consent.imported``, listing every
event id with the digest of its content: the audit chain vouches for each
imported consent at the cost of one entry per batch, not one per row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import sqlalchemy as sa

from garde import audit
from garde.consent.ledger import (
    DIGEST_FIELDS,
    TEXT_LIMITS,
    consent_channel,
    consent_events,
    hash_ip,
    not_in_future,
    parse_time,
    text_problem,
    values_digest,
)
from garde.consent.state import as_utc
from garde.documents.spreadsheet import from_spreadsheet_text
from garde.keys import identifier_data_key
from garde.periods import Period
from garde.problems import GardeError
from garde.store.bulk import insert_rows, rows_where_in
from garde.store.transactions import retried
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
_HASHES_KEPT = 100_000  # identifier hashes remembered during an import (about 40 MB at most)
_EVENT_COLUMNS = (*DIGEST_FIELDS, "recorded_at", "actor", "source", "source_key")
_ACTIONS = {word: action for action, words in ACTION_WORDS.items() for word in words}


@dataclass
class ImportReport:
    """What an import did; ``problems`` name the line and what is wrong with it (rows refused),
    ``notes`` the line of each row imported or skipped that a DPO should know about (at most
    :data:`NOTES_KEPT`; ``changed`` and ``evidence_kept`` count them all)."""

    read: int = 0
    added: int = 0
    already_there: int = 0
    new_subjects: int = 0
    changed: int = 0  # added: an id imported before, now with another event (action, date...)
    set_aside: int = 0  # withdrawals listed after a consent dated later: they set it aside
    evidence_kept: int = 0  # already there: the same event with other evidence; the first is kept
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.notes) < NOTES_KEPT:
            self.notes.append(text)


_LIMITED = tuple((name, TEXT_LIMITS[name]) for name in ("activity", "channel", "method", "notice_version",
                                                         "user_agent"))
NOTES_KEPT = 1000  # notes an import report keeps (its counts go on)
_EVENT = 4  # values[:_EVENT] say what happened and when; values[_EVENT:] are its evidence
_EVIDENCE = ("method", "notice_version", "ip", "user_agent", "expires_at")


class _Row(NamedTuple):
    line: int
    source_key: str  # the row's first key: the source and the row's id (or its content)
    identities: tuple[tuple[str, str], ...]  # (kind, hash)
    values: tuple[Any, ...]  # DIGEST_FIELDS[2:]: activity, channel, action, at, ... expires_at

    def event_key(self) -> str:
        """The key of this row's event when its id was imported before with another event: the
        source, the id and what happened when (activity, channel, action, date)."""
        activity, channel, action, at = self.values[:_EVENT]
        return hashlib.sha256("\x1f".join((self.source_key, activity, "\x00" if channel is None else channel,
                                           action, at.isoformat())).encode()).hexdigest()


def _parse(line: int, record: Mapping[str, str], source: str, defaults: dict[str, str | None],
           activities: Mapping[str, Period | None] | None, key: bytes,
           hashes: dict[tuple[str, str], str], clock: datetime) -> _Row:
    """One record as a ledger row; ``defaults`` has every one of :data:`FIELDS`; ``key`` is the
    store's identifier data key; ``hashes`` keeps the identifiers already hashed (an export names
    most people more than once); ``clock``: now, for events dated in the future."""
    fields = defaults.copy()
    get = record.get
    for name in FIELDS:  # this runs for every row of exports of millions: kept to plain look-ups
        text = get(name)
        if text and (text := text.strip()):
            fields[name] = text
    activity = fields["activity"]
    if not activity:
        raise ValueError("no activity (add an `activity` column or pass --activity)")
    if activities is not None and activity not in activities:
        raise ValueError(f"activity {activity!r} is not in the register")
    action_word = (fields["action"] or "").lower()
    if action_word not in _ACTIONS:
        raise ValueError(f"action {action_word!r} is not one of given, withdrawn, refused (or a synonym)")
    action = _ACTIONS[action_word]
    for name, limit in _LIMITED:  # PostgreSQL would refuse it, and with it the whole batch
        text = fields[name]
        if text is not None and (len(text) > limit or "\x00" in text):
            raise ValueError(text_problem(name, text))
    at_text = fields["at"]
    if not at_text:
        raise ValueError("no date (`at` column)")
    at = parse_time(at_text)
    if at > clock:
        not_in_future(at, "field at", clock)
    identities = []
    for kind in IDENTIFIER_KINDS:
        raw = fields[kind]
        if raw:
            digest = hashes.get((kind, raw))
            if digest is None:
                digest = hashes[(kind, raw)] = identifier_hash(kind, raw, key)
            identities.append((kind, digest))
    if not identities:
        raise ValueError(f"no identity: one of {', '.join(IDENTIFIER_KINDS)} is needed")
    expires_text = fields["expires_at"]
    expires_at = parse_time(expires_text) if expires_text and action == "given" else None
    validity = activities.get(activity) if activities else None
    if validity is not None and action == "given":
        end = validity.after(at)
        expires_at = end if expires_at is None else min(expires_at, end)
    record_id = fields["id"]
    identity = record_id if record_id else "\x1f".join(f"{k}={record.get(k, '')}" for k in sorted(record))
    ip = fields["ip"]
    channel = fields["channel"]
    channel = channel if channel is None else _channel(channel)
    values = (activity, channel, action, at, fields["method"] or "import", fields["notice_version"],
              hash_ip(ip, key) if ip else None, fields["user_agent"], expires_at)
    source_key = hashlib.sha256(f"{source}\x1f{identity}".encode()).hexdigest()
    return _Row(line, source_key, tuple(identities), values)


def _uuid4_hexes(count: int) -> list[str]:
    """``count`` random version-4 UUIDs as hex, from one read of the system's random source:
    ``uuid.uuid4().hex`` row by row costs more than the insert of the row."""
    raw = bytearray(os.urandom(16 * count))
    for start in range(0, len(raw), 16):
        raw[start + 6] = (raw[start + 6] & 0x0F) | 0x40  # version 4
        raw[start + 8] = (raw[start + 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return [text[start:start + 32] for start in range(0, len(text), 32)]


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
    register's activity ids and consent lifetimes, to refuse unknown activities and set expiries.
    Problems name the record's line as if the records followed a header line."""
    return _import(engine, enumerate(records, start=2), source=source, defaults=defaults,
                   activities=activities, batch_size=batch_size, on_progress=on_progress, actor=actor)


def _import(engine: sa.Engine, records: Iterable[tuple[int, Mapping[str, str]]], *, source: str,
            defaults: Mapping[str, str | None] | None = None,
            activities: Mapping[str, Period | None] | None = None, batch_size: int = 5000,
            on_progress: Callable[[int], None] | None = None, actor: str = "garde") -> ImportReport:
    key = identifier_data_key(engine)
    for name, value in (("source", source), ("actor", actor)):
        problem = text_problem(name, value)
        if problem:
            raise GardeError(f"the import's {name}: {problem}")
    report = ImportReport()
    parsed_batches = _parsed(records, source, defaults or {}, activities, key, batch_size)
    careful = False  # a first import writes its rows at once; once one is already there, each is looked up
    consents: dict[tuple[Any, ...], tuple[datetime, int]] = {}
    for read, parsed, problems in parsed_batches:
        report.read += read
        report.problems.extend(problems)
        _note_set_aside(report, parsed, consents)
        written = None
        if not careful:
            try:
                written = _written(engine, parsed, source, actor, False)
            except sa.exc.IntegrityError:  # rolled back; written again below
                careful = True
        if written is None:
            written = _written(engine, parsed, source, actor, True)
        counts, attempt = written
        _merge_notes(report, attempt)
        report.added += counts[0]
        report.already_there += counts[1]
        report.new_subjects += counts[2]
        if on_progress:
            on_progress(read)
    return report


def _written(engine: sa.Engine, rows: list[_Row], source: str, actor: str,
             careful: bool) -> tuple[tuple[int, int, int], ImportReport]:
    """:func:`_write_batch` in a transaction of its own, run again if the database aborted it to
    break a deadlock (another import creating the same new people in another order): its counts,
    and the notes of the attempt that committed."""
    def write(conn: sa.Connection) -> tuple[tuple[int, int, int], ImportReport]:
        attempt = ImportReport()
        return _write_batch(conn, rows, source, actor, careful, attempt), attempt

    return retried(engine, write, what=f"consent import {source!r}, a batch of {len(rows)} rows")


def _note_set_aside(report: ImportReport, rows: list[_Row],
                    consents: dict[tuple[Any, ...], tuple[datetime, int]]) -> None:
    """Note each withdrawal or refusal listed after a consent it is dated before (same first
    identity, activity and channel): rows are recorded in the file's order, so it sets that
    consent aside (:func:`garde.consent.state.deciding_event`), which a file not sorted by date
    may not mean. ``consents``: the latest consent seen per key, forgotten past
    :data:`_HASHES_KEPT` keys (a note, not a rule)."""
    if len(consents) > _HASHES_KEPT:
        consents.clear()
    for row in rows:
        activity, channel, action, at = row.values[:_EVENT]
        key = (row.identities[0], activity, channel)
        seen = consents.get(key)
        if action == "given":
            if seen is None or at >= seen[0]:
                consents[key] = (at, row.line)
        elif seen is not None and seen[0] > at:
            report.set_aside += 1
            report.note(f"line {row.line}: {action} at {at.isoformat()}, listed after the consent of line "
                        f"{seen[1]} dated later ({seen[0].isoformat()}): recorded after it, it sets it aside "
                        "(if the consent came later, sort the export oldest first)")


def _merge_notes(report: ImportReport, batch: ImportReport) -> None:
    report.changed += batch.changed
    report.evidence_kept += batch.evidence_kept
    for text in batch.notes:
        report.note(text)


def _parsed(records: Iterable[tuple[int, Mapping[str, str]]], source: str,
            defaults: Mapping[str, str | None], activities: Mapping[str, Period | None] | None,
            key: bytes, size: int) -> Iterator[tuple[int, list[_Row], list[str]]]:
    """Batches of (rows read, rows parsed, problems naming their line)."""
    base = {name: defaults.get(name) for name in FIELDS}
    hashes: dict[tuple[str, str], str] = {}
    for batch in _batches(records, size):
        parsed: list[_Row] = []
        problems: list[str] = []
        if len(hashes) > _HASHES_KEPT:
            hashes.clear()
        clock = now()
        for line, record in batch:
            try:
                parsed.append(_parse(line, record, source, base, activities, key, hashes, clock))
            except (ValueError, GardeError) as exc:
                problems.append(f"line {line}: {exc}")
        yield len(batch), parsed, problems


def _write_batch(conn: sa.Connection, rows: list[_Row], source: str, actor: str, careful: bool,
                 report: ImportReport) -> tuple[int, int, int]:
    """Write one batch: (events added, rows already imported, new subjects); notes go to ``report``.

    A row is already imported when the ledger has its source and id (or content) with the same
    event: activity, channel, action and date. The same id with another event is a new event
    (next month's export of a record whose consent was withdrawn since): it is added beside the
    first, under :meth:`_Row.event_key`. ``careful``: look the rows' keys up in the ledger
    first; otherwise the unique ``source_key`` refuses a key already there with an
    ``IntegrityError``, and the caller writes the batch again carefully."""
    taken: dict[str, tuple[Any, ...]] = {}  # source key -> the values of the event under it
    if careful:  # the rows' first keys, then the event keys of the ids found with another event
        taken.update(_stored_events(conn, list({row.source_key for row in rows})))
        others = [row.event_key() for row in rows if (first := taken.get(row.source_key)) is not None
                  and first[:_EVENT] != row.values[:_EVENT]]
        taken.update(_stored_events(conn, others))
    fresh: list[tuple[_Row, str]] = []
    for row in rows:
        key = row.source_key
        stored = taken.get(key)
        first = stored
        if stored is not None and stored[:_EVENT] != row.values[:_EVENT]:
            key = row.event_key()
            stored = taken.get(key)
        if stored is None:
            taken[key] = row.values
            fresh.append((row, key))
            if first is not None:
                report.changed += 1
                report.note(f"line {row.line}: its id was imported before with another event "
                            f"({_event_text(first)}); this one ({_event_text(row.values)}) is added "
                            "beside it")
        elif stored[_EVENT:] != row.values[_EVENT:]:
            report.evidence_kept += 1
            differ = [name for name, old, new in zip(_EVIDENCE, stored[_EVENT:], row.values[_EVENT:],
                                                     strict=True) if old != new]
            report.note(f"line {row.line}: already imported, with other evidence ({', '.join(differ)}): "
                        "the evidence first imported is kept")
    added, new_subjects = _write_events(conn, fresh, source, actor)
    return added, len(rows) - len(fresh), new_subjects


def _event_text(values: tuple[Any, ...]) -> str:
    activity, channel, action, at = values[:_EVENT]
    return f"{action} {activity}{' on ' + channel if channel else ''} at {at.isoformat()}"


_STORED = ("source_key", *DIGEST_FIELDS[2:])
_MOMENTS = tuple(i for i, name in enumerate(_STORED[1:]) if name in ("at", "expires_at"))


def _stored_events(conn: sa.Connection, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    """{source key: (activity, channel, action, at, ... expires_at)} of the events under ``keys``."""
    found = {}
    for key, *values in rows_where_in(conn, consent_events, _STORED, "source_key", keys):
        for index in _MOMENTS:
            value = values[index]
            if value is not None:  # SQLite gives the text it stores, always UTC
                values[index] = as_utc(datetime.fromisoformat(value) if type(value) is str else value)
        found[key] = tuple(values)
    return found


def _write_events(conn: sa.Connection, rows: list[tuple[_Row, str]], source: str,
                  actor: str) -> tuple[int, int]:
    """Insert ``rows`` (each with its source key) as events, with their subjects and one audit
    entry: (events, new subjects)."""
    if not rows:
        return 0, 0
    owners, new_subjects = _resolve_subjects(conn, [row for row, _ in rows])
    recorded = now()
    events = [(event_id, subject_id, *row.values, recorded, actor, source, key)
              for (row, key), subject_id, event_id in zip(rows, owners, _uuid4_hexes(len(rows)), strict=True)]
    insert_rows(conn, consent_events, _EVENT_COLUMNS, events)
    digested = len(DIGEST_FIELDS)
    audit.record(conn, "consent.imported", {
        "source": source, "count": len(events),
        "events": [[e[0], values_digest(e[:digested])] for e in events]}, actor=actor)
    return len(events), new_subjects


def _resolve_subjects(conn: sa.Connection, rows: list[_Row]) -> tuple[list[str], int]:
    """Each row's subject id, in order, creating the subjects and links that are missing; and
    how many subjects were created.

    A row whose identities belong to two subjects goes to the first one found,
    in the order of ``IDENTIFIER_KINDS``; merging subjects is not an import's job."""
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        for kind, digest in row.identities:
            by_kind.setdefault(kind, set()).add(digest)
    owners: dict[tuple[str, str], str] = {}
    for kind, digests in by_kind.items():
        for digest, subject_id in rows_where_in(conn, subject_identifiers, ["hash", "subject_id"], "hash",
                                                list(digests), kind=kind):
            owners[(kind, digest)] = subject_id
    new_subjects: list[tuple[Any, ...]] = []
    new_links: list[tuple[str, str, str]] = []
    created = now()
    row_owner: list[str] = []
    new_ids = iter(_uuid4_hexes(len(rows)))
    for row in rows:
        subject_id = next((owners[i] for i in row.identities if i in owners), None)
        if subject_id is None:
            subject_id = next(new_ids)
            new_subjects.append((subject_id, None, "active", None, created))
        for identity in row.identities:
            if identity not in owners:
                owners[identity] = subject_id
                new_links.append((subject_id, identity[0], identity[1]))
        row_owner.append(subject_id)
    insert_rows(conn, subjects, ("id", "kind", "state", "language", "created_at"), new_subjects)
    insert_rows(conn, subject_identifiers, ("subject_id", "kind", "hash"), new_links)
    return row_owner, len(new_subjects)


@lru_cache(maxsize=256)
def _channel(text: str) -> str:
    """:func:`consent_channel` of a row's channel (an export names a few channels millions of times)."""
    return str(consent_channel(text))


def import_csv(engine: sa.Engine, path: Path, *, source: str | None = None,
               columns: Mapping[str, str] | None = None, **options: Any) -> ImportReport:
    """Import a CSV export; ``columns`` maps garde's fields to the file's column names
    (``{"activity": "purpose", "at": "timestamp"}``); see :data:`FIELDS`."""
    with path.open("rb") as raw:
        return _import_from(engine, raw, str(path), source=source or path.stem, columns=columns, **options)


def import_csv_bytes(engine: sa.Engine, content: bytes, name: str, *, source: str | None = None,
                     columns: Mapping[str, str] | None = None, **options: Any) -> ImportReport:
    """:func:`import_csv` of a file's ``content`` held in memory (a worker's decrypted staged file,
    never written to disk in clear); ``name`` names it in problems."""
    return _import_from(engine, io.BytesIO(content), name, source=source or Path(name).stem,
                        columns=columns, **options)


def _import_from(engine: sa.Engine, raw: BinaryIO, name: str, *, source: str,
                 columns: Mapping[str, str] | None, **options: Any) -> ImportReport:
    columns = dict(columns or {})
    unknown = set(columns) - set(FIELDS)
    if unknown:
        raise GardeError(f"unknown field(s) {', '.join(sorted(unknown))}; fields are {', '.join(FIELDS)}")
    with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        # strict: a quote left open is an error, not a cell that swallows the rows after it
        lines = _Lines(handle)
        reader = csv.reader(lines, strict=True, delimiter=_separator(handle, {*FIELDS, *columns.values()}))
        try:
            header = next(reader, [])
            lines.taken = 0
            missing = [c for c in columns.values() if c not in header]
            if missing:
                raise GardeError(f"{name}: no column {', '.join(missing)}; "
                                 f"the columns are {', '.join(header)}")
            rename = {column: key for key, column in columns.items()}
            names = [rename.get(column, column) for column in header]
            return _import(engine, _records(reader, names, lines), source=source, **options)
        except _UnreadableRecord as exc:
            problem = str(exc)
        except csv.Error as exc:  # the header
            problem = f"line {reader.line_num}: {exc}"
        except UnicodeDecodeError as exc:
            raw.seek(0)
            problem = f"line {_first_line_not_utf8(raw)}: not UTF-8 text ({exc.reason})"
    raise GardeError(f"{name}: {problem}; the batches before it are imported, and importing the mended "
                     "file again adds only what is missing")


SEPARATORS = (",", ";", "\t")
# Characters of one record (a consent export's row is a few hundred): the CSV reader builds a whole
# record before it is looked at, and a line of 30 million commas was a list of 30 million cells.
MAX_RECORD = 1 << 20


class _RecordTooLong(csv.Error):
    def __init__(self) -> None:
        super().__init__(f"a record longer than {MAX_RECORD:,} characters (no consent export has one)")


class _Lines:
    """The file's lines as the CSV reader takes them, at most :data:`MAX_RECORD` characters for one
    record (whatever its lines); whoever reads the records sets ``taken`` back to 0 after each."""

    def __init__(self, handle: Any) -> None:
        self.handle, self.taken = handle, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line: str = self.handle.readline(MAX_RECORD + 1 - self.taken)
        if not line:
            raise StopIteration
        self.taken += len(line)
        if self.taken > MAX_RECORD:
            raise _RecordTooLong
        return line


def _separator(handle: Any, names: set[str]) -> str:
    """The separator that splits the header into the most known column names: a spreadsheet in a
    French or Italian locale saves CSV with ``;``. A comma unless another one names more fields."""
    try:
        first = handle.readline(1 << 16)  # a header, not a file without line breaks read whole
    except UnicodeDecodeError:
        first = ""
    handle.seek(0)
    found = {sep: len(names.intersection(next(csv.reader([first], delimiter=sep), []))) for sep in SEPARATORS}
    return max(SEPARATORS, key=lambda sep: found[sep])  # the first of the best: a comma on a tie


def _first_line_not_utf8(raw: BinaryIO) -> int:
    """The number of the first line of the file ``raw`` reads that is not UTF-8 (the text reader
    decodes the file by blocks, so its error does not say which line)."""
    for number, line in enumerate(raw, start=1):
        try:
            line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            return number
    return 0


class _UnreadableRecord(Exception):
    """A record the CSV reader cannot read, named by the line where it starts."""

    def __init__(self, start: int, end: int, error: csv.Error) -> None:
        reason = str(error)
        if reason == "unexpected end of data":
            message = (f"line {start}: a quote opened in the record that starts on this line is never "
                       f"closed (the rest of the file, to line {end}, would be read as one cell)")
        elif "expected after" in reason:
            message = (f"line {start}: {reason} on line {end}: a quote opened in the record that starts "
                       "on this line is not closed where its cell ends")
        else:
            message = f"line {start}: {reason}"
        super().__init__(message)


def _records(reader: Any, names: list[str], lines: _Lines) -> Iterator[tuple[int, dict[str, str]]]:
    """(line where the record starts, {field: text}) for each record: cells beyond the header are
    dropped, missing ones are none, blank lines are skipped (what ``csv.DictReader`` does, with the
    real line numbers, even after quoted cells spanning lines). A record the reader refuses (a
    quote left open...) raises :class:`_UnreadableRecord` with the line where it starts."""
    width = len(names)
    end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _UnreadableRecord(end + 1, reader.line_num, exc) from None
        lines.taken = 0
        start, end = end + 1, reader.line_num
        if not cells:
            continue
        # A leading ' that made a formula inert (garde's own exports, and tools doing the same) goes.
        cells = [from_spreadsheet_text(cell) for cell in cells]
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        yield start, dict(zip(names, cells, strict=False))  # longer rows: the extra cells dropped


def count_rows(path: Path) -> int:
    """Data rows in a CSV file (lines minus the header), for a progress bar's total."""
    with path.open("rb") as handle:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1)
